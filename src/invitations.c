/*-------------------------------------------------------------------------
 * src/invitations.c
 *		Invitation tokens: making them and checking them.
 *
 * A token reads ac_inv_<id>_<secret>: the id of its
 * access_control.invitation row and 32 random bytes in unpadded base64url.
 * The row holds only the keyed BLAKE2b hash of (id, secret) under one of
 * the keys of access_control.secret_key, and which one. The clear token
 * exists only in the result of invite_staff or resend_invitation; the SQL
 * functions there store the hash and decide what the invitation allows.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "access_control.h"

#define SECRET_BYTES 32
#define SECRET_CHARS (AC_BASE64URL_LEN(SECRET_BYTES) - 1)
#define TOKEN_PREFIX "ac_inv_"
#define MAX_TOKEN_CHARS 100

/* What hashing needs, kept in guarded memory and wiped after each use. */
typedef struct TokenBuffers
{
	unsigned char hash_key[AC_HASH_KEY_BYTES];
	unsigned char secret[SECRET_BYTES];
	unsigned char expected[AC_HASH_BYTES];
	unsigned char computed[AC_HASH_BYTES];
} TokenBuffers;

static TokenBuffers *buffers = NULL;

static TokenBuffers *
get_buffers(void)
{
	if (buffers == NULL)
		buffers = AcSecretAlloc(sizeof(TokenBuffers));
	return buffers;
}

/* Computes the stored hash of invitation id and secret into b->computed. */
static void
hash_token(TokenBuffers *b, int64 invitation_id)
{
	unsigned char id_be[8];
	const void *parts[3];
	size_t		lens[3];
	static const char domain[] = "access_control invitation v1";
	int			i;

	for (i = 0; i < 8; i++)
		id_be[i] = (unsigned char) (((uint64) invitation_id) >> (56 - 8 * i));
	parts[0] = domain;
	lens[0] = sizeof(domain);
	parts[1] = id_be;
	lens[1] = sizeof(id_be);
	parts[2] = b->secret;
	lens[2] = SECRET_BYTES;
	AcKeyedHash(b->computed, b->hash_key, 3, parts, lens);
}

/*
 * Loads the hashing key: the newest one when key_id is NULL, else that one.
 * Returns its id, or 0 (and leaves b->hash_key zero) when there is none.
 */
static int64
load_hash_key(TokenBuffers *b, bool newest, int64 key_id)
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
		elog(ERROR, "invitation key query failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull)
		{
			bytea	   *v = DatumGetByteaPP(d);

			if (VARSIZE_ANY_EXHDR(v) == AC_HASH_KEY_BYTES)
			{
				memcpy(b->hash_key, VARDATA_ANY(v), AC_HASH_KEY_BYTES);
				AcWipe(VARDATA_ANY(v), AC_HASH_KEY_BYTES);
				id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			}
		}
	}
	return id;
}

/*
 * Splits "ac_inv_<id>_<secret>" into *id and, when b is not NULL,
 * b->secret. Returns false for anything else.
 */
static bool
parse_token(const char *s, size_t len, int64 *id, TokenBuffers *b)
{
	size_t		pos = strlen(TOKEN_PREFIX);
	size_t		digits_at = pos;
	uint64		n = 0;
	unsigned char scratch[SECRET_BYTES];
	bool		ok;

	*id = 0;
	if (len > MAX_TOKEN_CHARS || len < pos || memcmp(s, TOKEN_PREFIX, pos) != 0)
		return false;
	while (pos < len && s[pos] >= '0' && s[pos] <= '9' && pos - digits_at < 18)
		n = n * 10 + (s[pos++] - '0');
	if (pos == digits_at || s[digits_at] == '0' || pos >= len || s[pos] != '_')
		return false;
	pos++;
	if (len - pos != SECRET_CHARS)
		return false;
	ok = AcBase64UrlDecode(b ? b->secret : scratch, SECRET_BYTES, s + pos, len - pos);
	AcWipe(scratch, sizeof(scratch));
	if (!ok)
		return false;
	*id = (int64) n;
	return true;
}

/*
 * _issue_invitation_token(invitation_id, OUT token, OUT token_hash,
 * OUT secret_key_id): a new random token for the invitation, its hash and
 * the hashing key's id. Stores nothing: the caller does. Internal. Raises
 * 55000 when no hashing key exists.
 */
PG_FUNCTION_INFO_V1(ac_issue_invitation_token);
Datum
ac_issue_invitation_token(PG_FUNCTION_ARGS)
{
	int64		invitation_id = PG_GETARG_INT64(0);
	AcOwnerScope scope;
	TokenBuffers *b = get_buffers();
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		key_id;
	bytea	   *hash;
	char		encoded[AC_BASE64URL_LEN(SECRET_BYTES)];
	char	   *token;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	AcWipe(b, sizeof(TokenBuffers));
	AcBeginAsOwner(&scope);
	key_id = load_hash_key(b, true, 0);
	AcEndAsOwner(&scope);
	if (key_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no key for hashing invitation tokens exists"),
				 errhint("A superuser creates one with access_control.rotate_secret_key().")));

	AcRandomBytes(b->secret, SECRET_BYTES);
	hash_token(b, invitation_id);
	hash = palloc(VARHDRSZ + AC_HASH_BYTES);
	SET_VARSIZE(hash, VARHDRSZ + AC_HASH_BYTES);
	memcpy(VARDATA(hash), b->computed, AC_HASH_BYTES);
	AcBase64UrlEncode(encoded, b->secret, SECRET_BYTES);
	AcWipe(b, sizeof(TokenBuffers));

	token = psprintf(TOKEN_PREFIX INT64_FORMAT "_%s", invitation_id, encoded);
	AcWipe(encoded, sizeof(encoded));
	values[0] = PointerGetDatum(cstring_to_text(token));
	values[1] = PointerGetDatum(hash);
	values[2] = Int64GetDatum(key_id);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * _invitation_token_id(token): the invitation id a well-formed token
 * names, or 0 for anything else (no row has id 0). Checks no secret.
 * Internal.
 */
PG_FUNCTION_INFO_V1(ac_invitation_token_id);
Datum
ac_invitation_token_id(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int64		id;

	if (!parse_token(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &id, NULL))
		id = 0;
	PG_RETURN_INT64(id);
}

/*
 * _check_invitation_token(token, token_hash, secret_key_id, usable):
 * returns nothing when the token hashes to token_hash under that key and
 * usable is true. Otherwise raises 28P01 with one message for every cause
 * (malformed, unknown, wrong, replaced, cancelled, accepted or expired),
 * after the same hashing and constant-time comparison, and without the
 * statement in the server log. Internal.
 */
PG_FUNCTION_INFO_V1(ac_check_invitation_token);
Datum
ac_check_invitation_token(PG_FUNCTION_ARGS)
{
	AcOwnerScope scope;
	TokenBuffers *b = get_buffers();
	int64		id = 0;
	bool		well_formed = false;
	bool		found = false;
	bool		usable = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	bool		matches;

	AcWipe(b, sizeof(TokenBuffers));
	if (!PG_ARGISNULL(0))
	{
		text	   *t = PG_GETARG_TEXT_PP(0);

		well_formed = parse_token(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &id, b);
	}
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		bytea	   *h = PG_GETARG_BYTEA_PP(1);

		if (VARSIZE_ANY_EXHDR(h) == AC_HASH_BYTES)
		{
			memcpy(b->expected, VARDATA_ANY(h), AC_HASH_BYTES);
			AcBeginAsOwner(&scope);
			found = load_hash_key(b, false, PG_GETARG_INT64(2)) != 0;
			AcEndAsOwner(&scope);
		}
	}

	/* the same work whether or not the token was well formed or known */
	hash_token(b, id);
	matches = AcConstantTimeEqual(b->computed, b->expected, AC_HASH_BYTES);
	AcWipe(b, sizeof(TokenBuffers));

	if (!(well_formed && found && matches && usable))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PASSWORD),
				 errmsg("invalid or expired invitation token"),
				 errhidestmt(true),
				 errhint("Invitation tokens work once, until they expire, are cancelled or are replaced by a resend. Ask for a new invitation.")));
	PG_RETURN_VOID();
}
