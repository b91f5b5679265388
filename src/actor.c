/*-------------------------------------------------------------------------
 * src/actor.c
 *		Who the current transaction acts for: the setting access_control.actor,
 *		the typed actor read from it, and set_actor, set_portal_actor,
 *		clear_actor and current_actor.
 *
 * The actor lives in the setting access_control.actor, which only a
 * superuser may SET. The functions here set it LOCAL with their own
 * authority, so it ends with the transaction, is restored by ROLLBACK TO
 * SAVEPOINT and is copied into parallel workers like any other setting.
 * Its text is "staff:N", "staff:N:key:K" (a session authenticated with API
 * key K), "portal:N", "system" (act_as_system), or empty for nobody;
 * AcFormatActor writes it.
 *
 * Nobody has no authority: AcGetAuthority, which every management function
 * calls first, refuses nobody (but a superuser, who acts as system) and an
 * API-key session whose key may no longer be used.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "actor.h"
#include "owner.h"
#include "rule.h"

static char *actor_setting = NULL;

/* Counts changes of the setting, so a call site can tell the actor is the same. */
static uint64 actor_generation = 0;

/* Fills *actor, zeroed first so that it can serve as a hash key. */
void
AcMakeActor(AcActor *actor, AcActorKind kind, int64 id, int64 key_id)
{
	memset(actor, 0, sizeof(AcActor));
	actor->kind = kind;
	actor->id = id;
	actor->key_id = key_id;
}

/*
 * Returns actor as text, palloc'd: "staff:N", "staff:N:key:K" (an API-key
 * session, when with_key), "portal:N", or "system" for system and nobody.
 */
char *
AcFormatActor(const AcActor *actor, bool with_key)
{
	switch (actor->kind)
	{
		case AC_ACTOR_STAFF:
			if (with_key && actor->key_id != 0)
				return psprintf("staff:" INT64_FORMAT ":key:" INT64_FORMAT, actor->id, actor->key_id);
			return psprintf("staff:" INT64_FORMAT, actor->id);
		case AC_ACTOR_PORTAL:
			return psprintf("portal:" INT64_FORMAT, actor->id);
		default:
			return pstrdup("system");
	}
}

/*
 * Reads a number as %lld prints it (no sign, no leading zero, no
 * overflow) at *s into *n and moves *s past it. Returns false when there
 * is none.
 */
static bool
parse_number(const char **s, int64 *n)
{
	const char *p = *s;
	uint64		v = 0;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (v > ((uint64) PG_INT64_MAX - (uint64) (*p - '0')) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	*n = (int64) v;
	*s = p;
	return true;
}

/*
 * Parses "", "system", "staff:N", "staff:N:key:K" or "portal:N" (N > 0,
 * K >= 0, in that spelling only) into *actor. Returns false when the text
 * is none of those, with *actor nobody.
 */
static bool
parse_actor(const char *value, AcActor *actor)
{
	const char *p = value;
	AcActorKind kind;
	int64		id = 0,
				key = 0;

	AcMakeActor(actor, AC_ACTOR_NONE, 0, 0);
	if (value == NULL || value[0] == '\0')
		return true;
	if (strcmp(value, "system") == 0)
	{
		AcMakeActor(actor, AC_ACTOR_SYSTEM, 0, 0);
		return true;
	}
	if (strncmp(p, "staff:", 6) == 0)
	{
		kind = AC_ACTOR_STAFF;
		p += 6;
	}
	else if (strncmp(p, "portal:", 7) == 0)
	{
		kind = AC_ACTOR_PORTAL;
		p += 7;
	}
	else
		return false;
	if (!parse_number(&p, &id) || id <= 0)
		return false;
	if (kind == AC_ACTOR_STAFF && strncmp(p, ":key:", 5) == 0)
	{
		p += 5;
		if (!parse_number(&p, &key))
			return false;
	}
	if (*p != '\0')
		return false;
	AcMakeActor(actor, kind, id, key);
	return true;
}

/* Accepts only what parse_actor reads. */
static bool
check_actor(char **newval, void **extra, GucSource source)
{
	AcActor		actor;

	if (*newval == NULL || parse_actor(*newval, &actor))
		return true;
	GUC_check_errdetail("The actor is set only by access_control.set_actor, set_portal_actor, authenticate or act_as_system.");
	return false;
}

/* Every change of the actor (SET, set_actor, the end of a transaction) counts. */
static void
assign_actor(const char *newval, void *extra)
{
	actor_generation++;
}

/* Defines the setting access_control.actor; called once from _PG_init. */
void
AcDefineActorSetting(void)
{
	/*
	 * PGC_SUSET: only a superuser could SET it; everyone else goes through
	 * set_actor and friends, which set it LOCAL with their own authority,
	 * so it ends with the transaction, follows savepoints and travels to
	 * parallel workers with the other settings.
	 */
	DefineCustomStringVariable("access_control.actor",
							   "Who the current transaction acts for (staff:N, portal:N or system).",
							   "Set with access_control.set_actor(), set_portal_actor(), authenticate() or act_as_system().",
							   &actor_setting,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   check_actor, assign_actor, NULL);
}

/*
 * Fills *actor with the current transaction's actor (kind NONE when none).
 * Returns false, with nobody, when the setting does not parse.
 */
bool
AcTryGetActor(AcActor *actor)
{
	return parse_actor(actor_setting, actor);
}

/*
 * Fills *actor with the current transaction's actor (kind NONE when none);
 * raises an internal error when the setting does not parse.
 */
void
AcGetActor(AcActor *actor)
{
	if (!AcTryGetActor(actor))
		elog(ERROR, "access_control.actor holds an invalid value");
}

/* Returns a number that changes whenever the actor setting changes. */
uint64
AcActorGeneration(void)
{
	return actor_generation;
}

/* Acts as actor (nobody for kind NONE) until the end of the current transaction. */
void
AcSetActor(const AcActor *actor)
{
	(void) set_config_option("access_control.actor",
							 actor->kind == AC_ACTOR_NONE ? "" : AcFormatActor(actor, true),
							 PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/* Raises 22023 unless id is positive; what names the kind of id. */
static void
check_id(int64 id, const char *what)
{
	if (id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s id " INT64_FORMAT, what, id),
				 errhint("Ids are positive numbers.")));
}

/* Returns true when the staff member (any status) or login-capable portal user exists. */
static bool
principal_exists(AcActorKind kind, int64 id)
{
	AcOwnerScope scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		found;

	AcBeginAsOwner(&scope);
	values[0] = Int64GetDatum(id);
	AcRunQuery(kind == AC_ACTOR_STAFF
			   ? "SELECT 1 FROM access_control.staff WHERE id = $1"
			   : "SELECT 1 FROM access_control.portal_user WHERE id = $1 AND can_login",
			   1, types, values, true, SPI_OK_SELECT);
	found = SPI_processed > 0;
	AcEndAsOwner(&scope);
	return found;
}

/*
 * Acts as the staff member or portal user (kind) id until the end of the
 * transaction: set_actor and set_portal_actor. Raises 22023 for an unknown
 * staff member, an unknown portal user or a contact.
 */
static void
set_principal(AcActorKind kind, int64 id)
{
	bool		staff = (kind == AC_ACTOR_STAFF);
	AcActor		actor;

	check_id(id, staff ? "staff" : "portal user");
	if (!principal_exists(kind, id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 staff ? errmsg("staff member " INT64_FORMAT " does not exist", id) :
				 errmsg("portal user " INT64_FORMAT " does not exist or cannot log in", id),
				 errhint(staff ? "Staff ids are listed in access_control.staff." :
						 "Portal users are listed in access_control.portal_user; contacts never act.")));
	AcMakeActor(&actor, kind, id, 0);
	AcSetActor(&actor);
}

/* set_actor(staff_id): acts as the staff member (set_principal). */
PG_FUNCTION_INFO_V1(ac_set_actor);
Datum
ac_set_actor(PG_FUNCTION_ARGS)
{
	set_principal(AC_ACTOR_STAFF, PG_GETARG_INT64(0));
	PG_RETURN_VOID();
}

/* set_portal_actor(portal_user_id): acts as the portal user (set_principal). */
PG_FUNCTION_INFO_V1(ac_set_portal_actor);
Datum
ac_set_portal_actor(PG_FUNCTION_ARGS)
{
	set_principal(AC_ACTOR_PORTAL, PG_GETARG_INT64(0));
	PG_RETURN_VOID();
}

/* clear_actor(): acts as nobody for the rest of the transaction. */
PG_FUNCTION_INFO_V1(ac_clear_actor);
Datum
ac_clear_actor(PG_FUNCTION_ARGS)
{
	AcActor		nobody;

	AcMakeActor(&nobody, AC_ACTOR_NONE, 0, 0);
	AcSetActor(&nobody);
	PG_RETURN_VOID();
}

/*
 * act_as_system(): acts as system until the end of the transaction, with
 * the authority of the DBA. EXECUTE on it is the whole check: it is not
 * PUBLIC's, and the DBA grants it only to administrative roles.
 */
PG_FUNCTION_INFO_V1(ac_act_as_system);
Datum
ac_act_as_system(PG_FUNCTION_ARGS)
{
	AcActor		system;

	AcMakeActor(&system, AC_ACTOR_SYSTEM, 0, 0);
	AcSetActor(&system);
	PG_RETURN_VOID();
}

/*
 * Fills *actor with who acts, with authority, in this statement: the actor
 * set, or system for a superuser with no actor (the role in force outside
 * any SECURITY DEFINER function, so that a definer's rights never count).
 * Raises 42501 when nobody acts, and when an API-key session may no longer
 * act (key revoked or expired, member removed, programmatic access off):
 * the rule RLS applies through the access map, read afresh.
 */
void
AcGetAuthority(AcActor *actor)
{
	AcGetActor(actor);
	switch (actor->kind)
	{
		case AC_ACTOR_NONE:
			if (superuser_arg(GetOuterUserId()))
			{
				AcMakeActor(actor, AC_ACTOR_SYSTEM, 0, 0);
				return;
			}
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied: no actor is set"),
					 errdetail("Without an actor, the access_control functions have no authority; EXECUTE on them is not enough."),
					 errhint("Call access_control.set_actor(staff_id), set_portal_actor(portal_user_id) or authenticate(api_key) first in the transaction; DBA tooling calls access_control.act_as_system().")));
			break;
		case AC_ACTOR_STAFF:
			if (actor->key_id == 0)
				return;			/* the caller checks the member's status */
			switch (AcStaffSessionState(actor->id, actor->key_id))
			{
				case AC_SESSION_OK:
					return;
				case AC_SESSION_REMOVED:
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("permission denied: the API key of this session may no longer be used"),
							 errdetail("Staff member " INT64_FORMAT " has been removed.", actor->id)));
					break;
				case AC_SESSION_PROGRAMMATIC_OFF:
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("permission denied: the API key of this session may no longer be used"),
							 errdetail("Programmatic access of staff member " INT64_FORMAT " is switched off.", actor->id),
							 errhint("An owner or admin of the firm switches it on with access_control.set_programmatic_access.")));
					break;
				case AC_SESSION_KEY_UNUSABLE:
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("permission denied: the API key of this session may no longer be used"),
							 errdetail("API key " INT64_FORMAT " has been revoked or has expired.", actor->key_id),
							 errhint("Authenticate with a valid key in a new transaction.")));
					break;
			}
			break;
		default:
			return;
	}
}

/*
 * actor_authority(): 'staff:N', 'portal:N' or 'system', the actor with
 * authority in this statement (AcGetAuthority); raises 42501 when there is
 * none. The first call of every management function.
 */
PG_FUNCTION_INFO_V1(ac_actor_authority);
Datum
ac_actor_authority(PG_FUNCTION_ARGS)
{
	AcActor		actor;

	AcGetAuthority(&actor);
	PG_RETURN_TEXT_P(cstring_to_text(AcFormatActor(&actor, false)));
}

/* current_actor(): 'staff:N', 'portal:N', 'system' or NULL (no API key shown). */
PG_FUNCTION_INFO_V1(ac_current_actor);
Datum
ac_current_actor(PG_FUNCTION_ARGS)
{
	AcActor		actor;

	AcGetActor(&actor);
	if (actor.kind == AC_ACTOR_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(AcFormatActor(&actor, false)));
}

/* current_staff_id(): the acting staff member's id, or NULL for any other actor. */
PG_FUNCTION_INFO_V1(ac_current_staff_id);
Datum
ac_current_staff_id(PG_FUNCTION_ARGS)
{
	AcActor		actor;

	AcGetActor(&actor);
	if (actor.kind != AC_ACTOR_STAFF)
		PG_RETURN_NULL();
	PG_RETURN_INT64(actor.id);
}

/* current_portal_user_id(): the acting portal user's id, or NULL for any other actor. */
PG_FUNCTION_INFO_V1(ac_current_portal_user_id);
Datum
ac_current_portal_user_id(PG_FUNCTION_ARGS)
{
	AcActor		actor;

	AcGetActor(&actor);
	if (actor.kind != AC_ACTOR_PORTAL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(actor.id);
}
