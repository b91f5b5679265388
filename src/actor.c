/*-------------------------------------------------------------------------
 * src/actor.c
 *		Who the current transaction acts for: set_actor, set_portal_actor,
 *		clear_actor and current_actor.
 *
 * The actor lives in the setting access_control.actor, which only a
 * superuser may SET. The functions here set it LOCAL with their own
 * authority, so it ends with the transaction, is restored by ROLLBACK TO
 * SAVEPOINT and is copied into parallel workers like any other setting.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "access_control.h"

char	   *ac_actor_setting = NULL;

/* Counts changes of the setting, so a call site can tell the actor is the same. */
uint64		ac_actor_generation = 0;

/*
 * Parses "", "staff:N", "staff:N:key:K" or "portal:N" into *actor.
 * Returns false when the text is none of those.
 */
bool
AcParseActor(const char *value, AcActor *actor)
{
	long long	id = 0,
				key = 0;
	char		canonical[80];

	actor->kind = AC_ACTOR_NONE;
	actor->id = 0;
	actor->key_id = 0;
	if (value == NULL || value[0] == '\0')
		return true;
	if (sscanf(value, "staff:%lld:key:%lld", &id, &key) == 2)
	{
		snprintf(canonical, sizeof(canonical), "staff:%lld:key:%lld", id, key);
		actor->kind = AC_ACTOR_STAFF;
	}
	else if (sscanf(value, "staff:%lld", &id) == 1)
	{
		snprintf(canonical, sizeof(canonical), "staff:%lld", id);
		actor->kind = AC_ACTOR_STAFF;
	}
	else if (sscanf(value, "portal:%lld", &id) == 1)
	{
		snprintf(canonical, sizeof(canonical), "portal:%lld", id);
		actor->kind = AC_ACTOR_PORTAL;
	}
	else
		return false;
	/* only the canonical spelling counts: no signs, spaces or trailing text */
	if (strcmp(canonical, value) != 0 || id <= 0 || key < 0)
	{
		actor->kind = AC_ACTOR_NONE;
		return false;
	}
	actor->id = id;
	actor->key_id = key;
	return true;
}

/* Fills *actor with the current transaction's actor (kind NONE when none). */
void
AcGetActor(AcActor *actor)
{
	if (!AcParseActor(ac_actor_setting, actor))
		elog(ERROR, "access_control.actor holds an invalid value");
}

/* Sets the actor until the end of the current transaction. */
void
AcSetActorSetting(const char *value)
{
	(void) set_config_option("access_control.actor", value,
							 PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

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
 * set_actor(staff_id): acts as the staff member until the end of the
 * transaction. Raises 22023 for an unknown staff member.
 */
PG_FUNCTION_INFO_V1(ac_set_actor);
Datum
ac_set_actor(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	char		value[64];

	check_id(id, "staff");
	if (!AcPrincipalExists(AC_ACTOR_STAFF, id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("staff member " INT64_FORMAT " does not exist", id),
				 errhint("Staff ids are listed in access_control.staff.")));
	snprintf(value, sizeof(value), "staff:" INT64_FORMAT, id);
	AcSetActorSetting(value);
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
	char		value[64];

	check_id(id, "portal user");
	if (!AcPrincipalExists(AC_ACTOR_PORTAL, id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("portal user " INT64_FORMAT " does not exist or cannot log in", id),
				 errhint("Portal users are listed in access_control.portal_user; contacts never act.")));
	snprintf(value, sizeof(value), "portal:" INT64_FORMAT, id);
	AcSetActorSetting(value);
	PG_RETURN_VOID();
}

/* clear_actor(): acts as nobody for the rest of the transaction. */
PG_FUNCTION_INFO_V1(ac_clear_actor);
Datum
ac_clear_actor(PG_FUNCTION_ARGS)
{
	AcSetActorSetting("");
	PG_RETURN_VOID();
}

/* current_actor(): 'staff:N', 'portal:N' or NULL. */
PG_FUNCTION_INFO_V1(ac_current_actor);
Datum
ac_current_actor(PG_FUNCTION_ARGS)
{
	AcActor		actor;
	char		value[64];

	AcGetActor(&actor);
	switch (actor.kind)
	{
		case AC_ACTOR_STAFF:
			snprintf(value, sizeof(value), "staff:" INT64_FORMAT, actor.id);
			break;
		case AC_ACTOR_PORTAL:
			snprintf(value, sizeof(value), "portal:" INT64_FORMAT, actor.id);
			break;
		default:
			PG_RETURN_NULL();
	}
	PG_RETURN_TEXT_P(cstring_to_text(value));
}

/* Writes the cache key of actor: staff:N, staff:N:key:K, portal:N, or "". */
void
AcActorKey(const AcActor *actor, char *key, size_t len)
{
	switch (actor->kind)
	{
		case AC_ACTOR_STAFF:
			if (actor->key_id)
				snprintf(key, len, "staff:" INT64_FORMAT ":key:" INT64_FORMAT, actor->id, actor->key_id);
			else
				snprintf(key, len, "staff:" INT64_FORMAT, actor->id);
			break;
		case AC_ACTOR_PORTAL:
			snprintf(key, len, "portal:" INT64_FORMAT, actor->id);
			break;
		default:
			key[0] = '\0';
	}
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
