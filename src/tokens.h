/*-------------------------------------------------------------------------
 * src/tokens.h
 *		The secret tokens of tokens.c, shared by API keys (keys.c) and
 *		invitation tokens (invitations.c).
 *-------------------------------------------------------------------------
 */
#ifndef AC_TOKENS_H
#define AC_TOKENS_H

#include "crypto.h"

#define AC_TOKEN_SECRET_BYTES 32

/* One kind of token: API keys or invitation tokens. */
typedef struct AcTokenKind
{
	const char *prefix;			/* text before the id, as "ac_" */
	const char *domain;			/* hashed first, with its NUL */
	const char *what;			/* names the kind in internal errors */
} AcTokenKind;

/* What hashing needs, kept in guarded memory and wiped after each use. */
typedef struct AcTokenBuffers
{
	unsigned char hash_key[AC_HASH_KEY_BYTES];
	unsigned char secret[AC_TOKEN_SECRET_BYTES];
	unsigned char expected[AC_HASH_BYTES];
	unsigned char computed[AC_HASH_BYTES];
} AcTokenBuffers;

extern AcTokenBuffers *AcGetTokenBuffers(void);
extern void AcWipeTokenBuffers(void);
extern bool AcTakeBytes(int col, unsigned char *dst, size_t len);
extern int64 AcLoadHashKey(const AcTokenKind *kind, AcTokenBuffers *b, bool newest, int64 key_id);
extern bytea *AcIssueToken(const AcTokenKind *kind, AcTokenBuffers *b, int64 id, char **token);
extern bool AcParseToken(const AcTokenKind *kind, const char *s, size_t len, int64 *id, unsigned char *secret);
extern bool AcVerifyToken(const AcTokenKind *kind, AcTokenBuffers *b, int64 id);

#endif							/* AC_TOKENS_H */
