/*-------------------------------------------------------------------------
 * src/actor.c
 *		Who the current transaction acts for: set_actor, set_portal_actor,
 *		clear_actor and current_actor.
 *
 * The actor lives in the setting access_control.actor, which only a
 * superuser may SET. The functions here set it LOCAL with their own
 * authority, so it ends with the transaction, is restored by ROLLBACK TO
 * SAVEPOINT and is copied into parallel workers like any other setting.
 *
 * On a Citus cluster the actor must also reach the workers that run the
 * transaction's shard queries. Citus forwards a SET LOCAL statement to
 * them (citus.propagate_set_commands = 'local'), but a SET LOCAL of
 * access_control.actor would need the privilege to set it on every node,
 * which would let that role forge any actor. So when Citus is loaded the
 * functions here also run SET LOCAL access_control.actor_token, with
 * propagation switched on for that one statement: the token is
 * "<actor>/<key id>/<mac>", a keyed BLAKE2b of the actor and the acting
 * role's name under one of the hashing keys of access_control.secret_key,
 * which the workers share with the coordinator (citus/replicate_access.sql).
 * Anyone may SET the token, but a node acts on it only when it verifies,
 * for the same role; a token that does not verify is an error.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "access_control.h"

char	   *ac_actor_setting = NULL;
char	   *ac_actor_token_setting = NULL;

/* Domain of the actor token's hash: no other kind of token verifies as one. */
static const AcTokenKind actor_token = {"", "access_control actor token", "actor token"};

/* The actor of the last token verified, and the generation it was read at. */
static AcActor verified_actor;
static uint64 verified_generation = 0;
static bool verified_valid = false;

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

/*
 * Hashes the actor text for the acting role under b->hash_key into
 * b->computed. Raises nothing.
 */
static void
hash_actor(AcTokenBuffers *b, const char *actor, size_t actor_len)
{
	const char *role = GetUserNameFromId(GetOuterUserId(), false);
	const void *parts[3];
	size_t		lens[3];

	parts[0] = actor_token.domain;
	lens[0] = strlen(actor_token.domain) + 1;
	parts[1] = role;
	lens[1] = strlen(role) + 1;
	parts[2] = actor;
	lens[2] = actor_len;
	AcKeyedHash(b->computed, b->hash_key, 3, parts, lens);
}

/*
 * Returns the token of the actor text value for the acting role, under the
 * newest hashing key (palloc'd). Raises 55000 when there is no hashing key.
 */
static char *
make_actor_token(const char *value)
{
	AcOwnerScope scope;
	AcTokenBuffers *b = AcGetTokenBuffers();
	int64		key_id;
	char		mac[AC_BASE64URL_LEN(AC_HASH_BYTES)];

	AcBeginAsOwner(&scope);
	key_id = AcLoadHashKey(&actor_token, b, true, 0);
	AcEndAsOwner(&scope);
	if (key_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("there is no hashing key to sign the actor for the Citus workers"),
				 errhint("A superuser creates one with access_control.rotate_secret_key().")));
	hash_actor(b, value, strlen(value));
	AcBase64UrlEncode(mac, b->computed, AC_HASH_BYTES);
	AcWipe(b, sizeof(AcTokenBuffers));
	return psprintf("%s/" INT64_FORMAT "/%s", value, key_id, mac);
}

/*
 * Fills *actor from the token value. Raises 42501 when it is malformed,
 * names an unknown hashing key, or was made for another role or key.
 */
static void
verify_actor_token(const char *value, AcActor *actor)
{
	const char *mac_at = strrchr(value, '/');
	const char *key_at = NULL;
	AcTokenBuffers *b = AcGetTokenBuffers();
	AcOwnerScope scope;
	char	   *actor_text = NULL;
	int64		key_id = 0;
	bool		ok = false;

	if (mac_at != NULL && mac_at > value)
	{
		key_at = mac_at - 1;
		while (key_at > value && *key_at != '/')
			key_at--;
	}
	if (key_at != NULL && *key_at == '/' && key_at > value)
	{
		char	   *end;

		actor_text = pnstrdup(value, key_at - value);
		key_id = strtoll(key_at + 1, &end, 10);
		ok = end == mac_at && key_id > 0 &&
			AcParseActor(actor_text, actor) && actor->kind != AC_ACTOR_NONE &&
			AcBase64UrlDecode(b->expected, AC_HASH_BYTES, mac_at + 1, strlen(mac_at + 1));
	}
	if (ok)
	{
		AcBeginAsOwner(&scope);
		ok = AcLoadHashKey(&actor_token, b, false, key_id) == key_id;
		AcEndAsOwner(&scope);
	}
	if (ok)
	{
		hash_actor(b, actor_text, strlen(actor_text));
		ok = AcConstantTimeEqual(b->computed, b->expected, AC_HASH_BYTES);
	}
	AcWipe(b, sizeof(AcTokenBuffers));
	if (!ok)
	{
		actor->kind = AC_ACTOR_NONE;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("access_control.actor_token does not verify"),
				 errdetail("The actor token is made by set_actor, set_portal_actor and authenticate for the role that calls them, under a hashing key of access_control.secret_key."),
				 errhint("On a Citus cluster, run citus/replicate_access.sql on the coordinator, so that the workers share its hashing keys.")));
	}
}

/*
 * Fills *actor with the current transaction's actor (kind NONE when none):
 * access_control.actor, or else a verified access_control.actor_token.
 * Raises 42501 for a token that does not verify.
 */
void
AcGetActor(AcActor *actor)
{
	if ((ac_actor_setting != NULL && ac_actor_setting[0] != '\0') ||
		ac_actor_token_setting == NULL || ac_actor_token_setting[0] == '\0')
	{
		if (!AcParseActor(ac_actor_setting, actor))
			elog(ERROR, "access_control.actor holds an invalid value");
		return;
	}
	if (verified_valid && verified_generation == ac_actor_generation)
	{
		*actor = verified_actor;
		return;
	}
	verified_valid = false;
	verify_actor_token(ac_actor_token_setting, actor);
	verified_actor = *actor;
	verified_generation = ac_actor_generation;
	verified_valid = true;
}

/*
 * Sets the actor until the end of the current transaction; with Citus
 * loaded, also its token, through the SET LOCAL that Citus forwards to the
 * workers of the transaction. Raises 55000 when Citus is loaded and there
 * is no hashing key.
 */
void
AcSetActorSetting(const char *value)
{
	char	   *token;
	char	   *command;
	int			nestlevel;

	(void) set_config_option("access_control.actor", value,
							 PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	if (GetConfigOption("citus.propagate_set_commands", true, false) == NULL)
		return;

	token = value[0] == '\0' ? "" : make_actor_token(value);
	command = psprintf("SET LOCAL access_control.actor_token = %s", quote_literal_cstr(token));
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("citus.propagate_set_commands", "local",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(command, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "setting the actor token failed");
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
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
