/*-------------------------------------------------------------------------
 * src/crypto.h
 *		The wrappers of crypto.c, the only file that includes <sodium.h>:
 *		random bytes, BLAKE2b, constant-time comparison, secret memory and
 *		text encodings.
 *-------------------------------------------------------------------------
 */
#ifndef AC_CRYPTO_H
#define AC_CRYPTO_H

#define AC_HASH_BYTES 32		/* BLAKE2b output */
#define AC_HASH_KEY_BYTES 32	/* BLAKE2b key */
#define AC_BASE64URL_LEN(len) (((len) * 4 + 2) / 3 + 1)	/* unpadded, with NUL */

extern void AcCryptoInit(void);
extern void AcRandomBytes(void *buf, size_t len);
extern void AcKeyedHash(unsigned char *out, const unsigned char *key,
						int nparts, const void *const *parts, const size_t *lens);
extern void AcHash(unsigned char *out, int nparts, const void *const *parts, const size_t *lens);
extern bool AcConstantTimeEqual(const void *a, const void *b, size_t len);
extern void AcWipe(void *buf, size_t len);
extern void *AcSecretAlloc(size_t len);
extern void AcSecretFree(void *p);
extern void AcBase64UrlEncode(char *out, const unsigned char *bin, size_t len);
extern bool AcBase64UrlDecode(unsigned char *bin, size_t binlen, const char *in, size_t inlen);
extern void AcHexEncode(char *out, const unsigned char *bin, size_t len);

#endif							/* AC_CRYPTO_H */
