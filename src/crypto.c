/*-------------------------------------------------------------------------
 * src/crypto.c
 *		The extension's only use of libsodium: random bytes, keyed BLAKE2b,
 *		constant-time comparison, secret memory and text encodings.
 *
 * Everything else calls these wrappers, so that no other file includes
 * <sodium.h> and every secret buffer is handled the same way.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "crypto.h"

StaticAssertDecl(AC_HASH_BYTES == crypto_generichash_BYTES,
				 "AC_HASH_BYTES must match libsodium's BLAKE2b default size");
StaticAssertDecl(AC_HASH_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
				 AC_HASH_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
				 "AC_HASH_KEY_BYTES must be a valid BLAKE2b key size");

/* Readies libsodium; raises 38000 when it cannot be initialised. */
void
AcCryptoInit(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not initialise libsodium"),
				 errhint("Check that the libsodium library installed matches the one the extension was built with.")));
}

/* Fills buf with len bytes from the operating system's random source. */
void
AcRandomBytes(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

/*
 * Keyed BLAKE2b of the concatenation of parts[0..nparts-1] into
 * out[AC_HASH_BYTES] under key[AC_HASH_KEY_BYTES]. Raises nothing.
 */
void
AcKeyedHash(unsigned char *out, const unsigned char *key,
			int nparts, const void *const *parts, const size_t *lens)
{
	crypto_generichash_state state;
	int			i;

	crypto_generichash_init(&state, key, AC_HASH_KEY_BYTES, AC_HASH_BYTES);
	for (i = 0; i < nparts; i++)
		crypto_generichash_update(&state, parts[i], lens[i]);
	crypto_generichash_final(&state, out, AC_HASH_BYTES);
	sodium_memzero(&state, sizeof(state));
}

/*
 * Unkeyed BLAKE2b of the concatenation of parts[0..nparts-1] into
 * out[AC_HASH_BYTES]; for hashes anyone may recompute. Raises nothing.
 */
void
AcHash(unsigned char *out, int nparts, const void *const *parts, const size_t *lens)
{
	crypto_generichash_state state;
	int			i;

	crypto_generichash_init(&state, NULL, 0, AC_HASH_BYTES);
	for (i = 0; i < nparts; i++)
		crypto_generichash_update(&state, parts[i], lens[i]);
	crypto_generichash_final(&state, out, AC_HASH_BYTES);
}

/* True when the len bytes at a and b are equal; time depends only on len. */
bool
AcConstantTimeEqual(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

/* Overwrites len bytes at buf with zeros in a way the compiler keeps. */
void
AcWipe(void *buf, size_t len)
{
	sodium_memzero(buf, len);
}

/*
 * Returns len bytes of guarded, locked memory for secrets (outside palloc);
 * raises 53200 when none is left. Free with AcSecretFree.
 */
void *
AcSecretAlloc(size_t len)
{
	void	   *p = sodium_malloc(len);

	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for secret storage"),
				 errhint("Raise the memory lock limit (ulimit -l) of the server.")));
	return p;
}

/* Wipes and frees memory from AcSecretAlloc; NULL is ignored. */
void
AcSecretFree(void *p)
{
	if (p != NULL)
		sodium_free(p);
}

/*
 * Writes bin[0..len-1] as unpadded base64url plus a NUL into out, which
 * must hold AC_BASE64URL_LEN(len) bytes.
 */
void
AcBase64UrlEncode(char *out, const unsigned char *bin, size_t len)
{
	sodium_bin2base64(out, AC_BASE64URL_LEN(len), bin, len,
					  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * Decodes exactly inlen characters of unpadded base64url into exactly
 * binlen bytes. Returns false (and zeros bin) for anything else.
 */
bool
AcBase64UrlDecode(unsigned char *bin, size_t binlen, const char *in, size_t inlen)
{
	size_t		got = 0;
	const char *end = NULL;

	if (sodium_base642bin(bin, binlen, in, inlen, NULL, &got, &end,
						  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		got != binlen || end != in + inlen)
	{
		sodium_memzero(bin, binlen);
		return false;
	}
	return true;
}

/* Writes bin[0..len-1] as lower-case hex plus a NUL into out[2 * len + 1]. */
void
AcHexEncode(char *out, const unsigned char *bin, size_t len)
{
	sodium_bin2hex(out, 2 * len + 1, bin, len);
}
