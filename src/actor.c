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
 * key K), "portal:N", or empty for nobody; AcFormatActor writes it.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "actor.h"
#include "cache.h"

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
 * session, when with_key), "portal:N", or "system" for nobody.
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
 * Parses "", "staff:N", "staff:N:key:K" or "portal:N" (N > 0, K >= 0, in
 * that spelling only) into *actor. Returns false when the text is none of
 * those, with *actor nobody.
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
	GUC_check_errdetail("The actor is set only by access_control.set_actor, set_portal_actor or authenticate.");
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
							   "Who the current transaction acts for (staff:N or portal:N).",
							   "Set with access_control.set_actor(), set_portal_actor() or authenticate().",
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

/*
 * Returns true when the staff member (any status) or login-capable portal
 * user exists.
 */
static bool
principal_exists(AcActorKind kind, int64 id)
{
	AcActor		actor;

	AcMakeActor(&actor, kind, id, 0);
	return AcActorExists(&actor);
}

/*
 * set_actor(staff_id): acts as the staff member until the end of the
 * transaction. Raises 22023 for an unknown staff member.
 */
PG_FUNCTION_INFO_V1(ac_set_actor);
Datum
ac_set_actor(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	AcActor		actor;

	check_id(id, "staff");
	if (!principal_exists(AC_ACTOR_STAFF, id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("staff member " INT64_FORMAT " does not exist", id),
				 errhint("Staff ids are listed in access_control.staff.")));
	AcMakeActor(&actor, AC_ACTOR_STAFF, id, 0);
	AcSetActor(&actor);
	PG_RETURN_VOID();
}

/*
 * set_portal_actor(portal_user_id): acts as the portal user until the end of
 * the transaction. Raises 22023 for an unknown portal user or a contact.
 */
PG_FUNCTION_INFO_V1(ac_set_portal_actor);
Datum
ac_set_portal_actor(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	AcActor		actor;

	check_id(id, "portal user");
	if (!principal_exists(AC_ACTOR_PORTAL, id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("portal user " INT64_FORMAT " does not exist or cannot log in", id),
				 errhint("Portal users are listed in access_control.portal_user; contacts never act.")));
	AcMakeActor(&actor, AC_ACTOR_PORTAL, id, 0);
	AcSetActor(&actor);
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

/* current_actor(): 'staff:N', 'portal:N' or NULL (no API key shown). */
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
