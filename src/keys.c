/*-------------------------------------------------------------------------
 * src/keys.c
 *		API keys: issuing them, authenticating with them, and the secret
 *		hashing key they are hashed under.
 *
 * A key reads ac_<id>_<secret>: the id of its access_control.api_key row
 * and 32 random bytes in unpadded base64url. The row holds only the keyed
 * BLAKE2b hash of (id, secret) under one of the hashing keys of
 * access_control.secret_key, and which one. The clear secret exists only
 * in the result of create_api_key.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "actor.h"
#include "crypto.h"
#include "owner.h"
#include "tokens.h"

/* API keys read ac_<id>_<secret>; the domain string keeps them apart. */
static const AcTokenKind api_key = {"ac_", "access_control api key v1", "api key"};

/*
 * rotate_secret_key(): makes a new random hashing key, used for every API
 * key created from now on; returns its id. Keys made earlier keep the key
 * they were hashed under. Superusers only (no grant).
 */
PG_FUNCTION_INFO_V1(ac_rotate_secret_key);
Datum
ac_rotate_secret_key(PG_FUNCTION_ARGS)
{
	AcOwnerScope scope;
	Oid			types[2] = {INT8OID, BYTEAOID};
	Datum		values[2];
	int64		id;
	bytea	   *key = palloc(VARHDRSZ + AC_HASH_KEY_BYTES);

	do
	{
		AcRandomBytes(&id, sizeof(id));
		id &= INT64CONST(0x7FFFFFFFFFFFFFFF);
	} while (id == 0);
	SET_VARSIZE(key, VARHDRSZ + AC_HASH_KEY_BYTES);
	AcRandomBytes(VARDATA(key), AC_HASH_KEY_BYTES);

	values[0] = Int64GetDatum(id);
	values[1] = PointerGetDatum(key);
	AcBeginAsOwner(&scope);
	AcRunQuery("INSERT INTO access_control.secret_key (id, key) VALUES ($1, $2)",
			   2, types, values, false, SPI_OK_INSERT);
	AcEndAsOwner(&scope);
	AcWipe(VARDATA(key), AC_HASH_KEY_BYTES);
	PG_RETURN_INT64(id);
}

/*
 * _issue_api_key(staff_id, label, expires_at): stores a new key for the
 * staff member and returns it in clear, once. Internal: create_api_key
 * checks the arguments and the actor's authority first. Raises 22004 for a
 * NULL staff_id or label, 55000 when no hashing key exists.
 */
PG_FUNCTION_INFO_V1(ac_issue_api_key);
Datum
ac_issue_api_key(PG_FUNCTION_ARGS)
{
	AcOwnerScope scope;
	Oid			types[6] = {INT8OID, INT8OID, TEXTOID, BYTEAOID, TIMESTAMPTZOID, INT8OID};
	Datum		values[6];
	char		nulls[6] = "      ";
	AcTokenBuffers *b = AcGetTokenBuffers();
	int64		hash_key_id;
	int64		key_id;
	bool		isnull;
	bytea	   *hash;
	char	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "staff_id" : "label"),
				 errhint("Create API keys with access_control.create_api_key.")));

	AcBeginAsOwner(&scope);
	hash_key_id = AcLoadHashKey(&api_key, b, true, 0);
	if (hash_key_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no key for hashing API keys exists"),
				 errhint("A superuser creates one with access_control.rotate_secret_key().")));

	AcRunQuery("SELECT pg_catalog.nextval('access_control.api_key_id_seq'::pg_catalog.regclass)",
			   0, NULL, NULL, false, SPI_OK_SELECT);
	key_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	hash = AcIssueToken(&api_key, b, key_id, &result);

	values[0] = Int64GetDatum(key_id);
	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_GETARG_DATUM(1);
	values[3] = PointerGetDatum(hash);
	if (PG_ARGISNULL(2))
		nulls[4] = 'n';
	else
		values[4] = PG_GETARG_DATUM(2);
	values[5] = Int64GetDatum(hash_key_id);
	if (SPI_execute_with_args("INSERT INTO access_control.api_key"
							  " (id, staff_id, label, secret_hash, expires_at, secret_key_id)"
							  " VALUES ($1, $2, $3, $4, $5, $6)",
							  6, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the API key");
	AcEndAsOwner(&scope);

	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * authenticate(api_key): verifies a key made by create_api_key and acts as
 * its staff member until the end of the transaction; returns the staff id.
 * Raises 28P01, with one message for every cause, when the key is
 * malformed, unknown, wrong, revoked or expired, its staff member removed,
 * or the member's programmatic access off. Not SECURITY DEFINER: a
 * function with a SET clause would undo the actor on return.
 */
PG_FUNCTION_INFO_V1(ac_authenticate);
Datum
ac_authenticate(PG_FUNCTION_ARGS)
{
	AcOwnerScope scope;
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		values[2];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	AcTokenBuffers *b = AcGetTokenBuffers();
	int64		key_id = 0;
	int64		staff_id = 0;
	bool		well_formed = false;
	bool		found = false;
	bool		usable = false;
	bool		stale = false;
	bool		matches;
	bool		isnull;
	AcActor		actor;

	AcWipeTokenBuffers();
	if (!PG_ARGISNULL(0))
	{
		text	   *t = PG_GETARG_TEXT_PP(0);

		well_formed = AcParseToken(&api_key, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
								   &key_id, b->secret);
	}

	AcBeginAsOwner(&scope);
	if (well_formed)
	{
		values[0] = Int64GetDatum(key_id);
		values[1] = TimestampTzGetDatum(now);
		AcRunQuery("SELECT k.staff_id, k.secret_hash, sk.key,"
				   "       k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)"
				   "         AND s.status = 'active' AND s.programmatic_access,"
				   "       u.last_used_at IS NULL OR u.last_used_at < $2 - interval '1 minute'"
				   "  FROM access_control.api_key k"
				   "  JOIN access_control.staff s ON s.id = k.staff_id"
				   "  JOIN access_control.secret_key sk ON sk.id = k.secret_key_id"
				   "  LEFT JOIN access_control.api_key_usage u ON u.key_id = k.id"
				   " WHERE k.id = $1",
				   2, types, values, true, SPI_OK_SELECT);
		if (SPI_processed == 1)
		{
			staff_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			found = AcTakeBytes(2, b->expected, AC_HASH_BYTES) &&
				AcTakeBytes(3, b->hash_key, AC_HASH_KEY_BYTES);
			usable = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
			stale = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull));
		}
	}

	/*
	 * The same hashing and comparison whether or not the key was found or
	 * well formed (then under an all-zero key, against zeros), so a wrong
	 * id costs as much as a wrong secret.
	 */
	matches = AcVerifyToken(&api_key, b, key_id);

	if (!(well_formed && found && matches && usable))
	{
		AcEndAsOwner(&scope);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PASSWORD),
				 errmsg("invalid API key"),
				 errhidestmt(true),
				 errhint("Use a key returned by access_control.create_api_key that is still valid.")));
	}

	/* last use, at most once a minute per key; never on a standby */
	if (stale && !RecoveryInProgress() && !XactReadOnly)
	{
		values[0] = Int64GetDatum(key_id);
		values[1] = TimestampTzGetDatum(now);
		AcRunQuery("INSERT INTO access_control.api_key_usage AS u (key_id, last_used_at) VALUES ($1, $2)"
				   " ON CONFLICT (key_id) DO UPDATE SET last_used_at = excluded.last_used_at"
				   " WHERE u.last_used_at < excluded.last_used_at",
				   2, types, values, false, SPI_OK_INSERT);
	}
	AcEndAsOwner(&scope);

	AcMakeActor(&actor, AC_ACTOR_STAFF, staff_id, key_id);
	AcSetActor(&actor);
	PG_RETURN_INT64(staff_id);
}
