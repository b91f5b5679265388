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

#include "owner.h"
#include "tokens.h"

/* Invitation tokens read ac_inv_<id>_<secret>; never valid as API keys. */
static const AcTokenKind invitation = {"ac_inv_", "access_control invitation v1", "invitation key"};

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
	AcTokenBuffers *b = AcGetTokenBuffers();
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		key_id;
	bytea	   *hash;
	char	   *token;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	AcWipeTokenBuffers();
	AcBeginAsOwner(&scope);
	key_id = AcLoadHashKey(&invitation, b, true, 0);
	AcEndAsOwner(&scope);
	if (key_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no key for hashing invitation tokens exists"),
				 errhint("A superuser creates one with access_control.rotate_secret_key().")));

	hash = AcIssueToken(&invitation, b, invitation_id, &token);
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

	if (!AcParseToken(&invitation, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &id, NULL))
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
	AcTokenBuffers *b = AcGetTokenBuffers();
	int64		id = 0;
	bool		well_formed = false;
	bool		found = false;
	bool		usable = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	bool		matches;

	AcWipeTokenBuffers();
	if (!PG_ARGISNULL(0))
	{
		text	   *t = PG_GETARG_TEXT_PP(0);

		well_formed = AcParseToken(&invitation, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
								   &id, b->secret);
	}
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		bytea	   *h = PG_GETARG_BYTEA_PP(1);

		if (VARSIZE_ANY_EXHDR(h) == AC_HASH_BYTES)
		{
			memcpy(b->expected, VARDATA_ANY(h), AC_HASH_BYTES);
			AcBeginAsOwner(&scope);
			found = AcLoadHashKey(&invitation, b, false, PG_GETARG_INT64(2)) != 0;
			AcEndAsOwner(&scope);
		}
	}

	/* the same work whether or not the token was well formed or known */
	matches = AcVerifyToken(&invitation, b, id);

	if (!(well_formed && found && matches && usable))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PASSWORD),
				 errmsg("invalid or expired invitation token"),
				 errhidestmt(true),
				 errhint("Invitation tokens work once, until they expire, are cancelled or are replaced by a resend. Ask for a new invitation.")));
	PG_RETURN_VOID();
}
