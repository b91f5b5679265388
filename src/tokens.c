/*-------------------------------------------------------------------------
 * src/tokens.c
 *		The secret tokens shared by API keys (keys.c) and invitation tokens
 *		(invitations.c): making, formatting, parsing and checking them.
 *
 * A token reads <prefix><id>_<secret>: the id of its row and
 * AC_TOKEN_SECRET_BYTES random bytes in unpadded base64url. Rows hold only
 * the keyed BLAKE2b hash of (domain, id, secret) under one of the hashing
 * keys of access_control.secret_key. The prefix and the domain string come
 * from an AcTokenKind, so one kind's token never verifies as another's.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "crypto.h"
#include "tokens.h"

#define SECRET_CHARS (AC_BASE64URL_LEN(AC_TOKEN_SECRET_BYTES) - 1)
#define MAX_TOKEN_CHARS 100

static AcTokenBuffers *buffers = NULL;

/*
 * Returns the backend's token buffers, allocating them on first use.
 * Raises 53200 when no secret memory is left.
 */
AcTokenBuffers *
AcGetTokenBuffers(void)
{
	if (buffers == NULL)
		buffers = AcSecretAlloc(sizeof(AcTokenBuffers));
	return buffers;
}

/* Zeros the token buffers, if allocated. Returns nothing, raises nothing. */
void
AcWipeTokenBuffers(void)
{
	if (buffers != NULL)
		AcWipe(buffers, sizeof(AcTokenBuffers));
}

/*
 * Computes the stored hash of the kind's domain, id and b->secret under
 * b->hash_key into b->computed. Returns nothing, raises nothing.
 */
static void
hash_token(const AcTokenKind *kind, AcTokenBuffers *b, int64 id)
{
	unsigned char id_be[8];
	const void *parts[3];
	size_t		lens[3];
	int			i;

	for (i = 0; i < 8; i++)
		id_be[i] = (unsigned char) (((uint64) id) >> (56 - 8 * i));
	parts[0] = kind->domain;
	lens[0] = strlen(kind->domain) + 1;
	parts[1] = id_be;
	lens[1] = sizeof(id_be);
	parts[2] = b->secret;
	lens[2] = AC_TOKEN_SECRET_BYTES;
	AcKeyedHash(b->computed, b->hash_key, 3, parts, lens);
}

/*
 * Copies a bytea of exactly len bytes from column col of the first row of
 * the last SPI result into dst, wiping the source. Returns false when it is
 * NULL or of another length. Raises nothing of its own.
 */
bool
AcTakeBytes(int col, unsigned char *dst, size_t len)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);
	bytea	   *v;

	if (isnull)
		return false;
	v = DatumGetByteaPP(d);
	if (VARSIZE_ANY_EXHDR(v) != len)
		return false;
	memcpy(dst, VARDATA_ANY(v), len);
	AcWipe(VARDATA_ANY(v), len);
	return true;
}

/*
 * Loads a hashing key of access_control.secret_key into b->hash_key: the
 * newest one when newest is true, else the one with id key_id. Must run
 * inside SPI as a role that can read the table. Returns its id, or 0 (and
 * leaves b->hash_key as it was) when there is none. Raises an internal
 * error, naming the kind, when the query fails.
 */
int64
AcLoadHashKey(const AcTokenKind *kind, AcTokenBuffers *b, bool newest, int64 key_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	int			rc;
	int64		id = 0;
	bool		isnull;

	values[0] = Int64GetDatum(key_id);
	if (newest)
		rc = SPI_execute_with_args("SELECT id, key FROM access_control.secret_key"
								   " ORDER BY created_at DESC, id DESC LIMIT 1",
								   0, NULL, NULL, NULL, true, 0);
	else
		rc = SPI_execute_with_args("SELECT id, key FROM access_control.secret_key WHERE id = $1",
								   1, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "%s query failed: %s", kind->what, SPI_result_code_string(rc));
	if (SPI_processed == 1 && AcTakeBytes(2, b->hash_key, AC_HASH_KEY_BYTES))
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return id;
}

/*
 * Makes a new random secret for row id under the hashing key already in
 * b->hash_key, then wipes b. Returns the hash to store, and the clear token
 * "<prefix><id>_<secret>" in *token (palloc'd; the only copy of the
 * secret). Raises nothing of its own.
 */
bytea *
AcIssueToken(const AcTokenKind *kind, AcTokenBuffers *b, int64 id, char **token)
{
	bytea	   *hash;
	char		encoded[AC_BASE64URL_LEN(AC_TOKEN_SECRET_BYTES)];

	AcRandomBytes(b->secret, AC_TOKEN_SECRET_BYTES);
	hash_token(kind, b, id);
	hash = palloc(VARHDRSZ + AC_HASH_BYTES);
	SET_VARSIZE(hash, VARHDRSZ + AC_HASH_BYTES);
	memcpy(VARDATA(hash), b->computed, AC_HASH_BYTES);
	AcBase64UrlEncode(encoded, b->secret, AC_TOKEN_SECRET_BYTES);
	AcWipe(b, sizeof(AcTokenBuffers));

	*token = psprintf("%s" INT64_FORMAT "_%s", kind->prefix, id, encoded);
	AcWipe(encoded, sizeof(encoded));
	return hash;
}

/*
 * Splits "<prefix><id>_<secret>" of len characters at s into *id and, when
 * secret is not NULL, secret[AC_TOKEN_SECRET_BYTES]. Returns false for
 * anything else, with *id 0 and nothing of s in secret. Raises nothing.
 */
bool
AcParseToken(const AcTokenKind *kind, const char *s, size_t len, int64 *id,
			 unsigned char *secret)
{
	size_t		pos = strlen(kind->prefix);
	size_t		digits_at = pos;
	uint64		n = 0;
	unsigned char scratch[AC_TOKEN_SECRET_BYTES];
	bool		ok;

	*id = 0;
	if (len > MAX_TOKEN_CHARS || len < pos || memcmp(s, kind->prefix, pos) != 0)
		return false;
	while (pos < len && s[pos] >= '0' && s[pos] <= '9' && pos - digits_at < 18)
		n = n * 10 + (s[pos++] - '0');
	if (pos == digits_at || s[digits_at] == '0' || pos >= len || s[pos] != '_')
		return false;
	pos++;
	if (len - pos != SECRET_CHARS)
		return false;
	ok = AcBase64UrlDecode(secret ? secret : scratch, AC_TOKEN_SECRET_BYTES, s + pos, len - pos);
	AcWipe(scratch, sizeof(scratch));
	if (!ok)
		return false;
	*id = (int64) n;
	return true;
}

/*
 * Hashes b->secret for row id under b->hash_key and compares the result
 * with b->expected in constant time, then wipes b. Does the same work
 * whatever b holds, so callers call it for malformed and unknown tokens too
 * (with b zero). Returns true when they match. Raises nothing.
 */
bool
AcVerifyToken(const AcTokenKind *kind, AcTokenBuffers *b, int64 id)
{
	bool		matches;

	hash_token(kind, b, id);
	matches = AcConstantTimeEqual(b->computed, b->expected, AC_HASH_BYTES);
	AcWipe(b, sizeof(AcTokenBuffers));
	return matches;
}
