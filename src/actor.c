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
 *
 * On a Citus cluster the actor must also reach the workers that run the
 * transaction's shard queries. Citus forwards a SET LOCAL statement to
 * them (citus.propagate_set_commands = 'local'), but a SET LOCAL of
 * access_control.actor would need the privilege to set it on every node,
 * which would let that role act as anyone. So when Citus is installed,
 * AcSetActor also runs SET LOCAL access_control.actor_token, with
 * propagation switched on for that one statement. The token reads
 * "<actor>/<key id>/<gpid>/<number>/<stamp>/<mac>": the actor; the Citus
 * distributed transaction it is made for, which AcSetActor has Citus
 * assign at once (the global pid of the backend that began it, its
 * number and its timestamp in microseconds); and a keyed BLAKE2b of all
 * that and the acting role's name under one of the hashing keys of
 * access_control.secret_key, which the workers share with the coordinator
 * (citus/replicate_access.sql).
 *
 * Citus shows the forwarded SET to every session of the same role (in a
 * worker's pg_stat_activity, and so in citus_stat_activity), so the token
 * is no secret: what makes it useless elsewhere is its binding. A node
 * acts on a token only in a backend that Citus opened for a distributed
 * transaction (get_all_active_transactions() reports it as a worker
 * query) and only when the token verifies for that backend's role, global
 * pid, transaction number and timestamp; in a parallel worker, those of
 * its leader. Anything else is an error, never an actor. And a client's
 * own session cannot SET the token at all, except through the actor
 * functions: the setting's check hook accepts a value only from them or
 * on a connection that names itself a Citus internal one.
 *
 * Citus 13 identifies its internal connections and their distributed
 * transactions by what the connection says (its application_name, and
 * assign_distributed_transaction_id(), which PUBLIC may call), so a
 * session of the same role can pose as one of its connections. On the
 * node that made a token, that gets nothing: a token only ever acts on
 * another node of its transaction (the node that made it sets the actor
 * itself), so a node refuses, at SET and when reading it, a token whose
 * global pid names that node. What remains is a connection of one's own
 * to a worker; the README's Scaling section says how a deployment closes
 * that door.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "actor.h"
#include "cache.h"
#include "compat.h"
#include "crypto.h"
#include "owner.h"
#include "rule.h"
#include "tokens.h"

static char *actor_setting = NULL;
static char *actor_token_setting = NULL;

/* Domain of the actor token's hash: no other kind of token verifies as one. */
static const AcTokenKind actor_token = {"", "access_control actor token", "actor token"};

/*
 * The actor of the last token that verified, and the generation and local
 * transaction it was verified in: a token holds for one transaction only.
 */
static AcActor verified_actor;
static uint64 verified_generation = 0;
static LocalTransactionId verified_lxid = InvalidLocalTransactionId;
static bool verified_valid = false;

/* True while AcSetActor sets the token, which the check hook then accepts. */
static bool setting_token = false;

/* Citus names its executor's connections to other nodes so (backend_data.c). */
#define CITUS_INTERNAL_PREFIX "citus_internal gpid="

/* A Citus global pid is its node's id times this, plus the pid (backend_data.c). */
#define CITUS_GPID_NODE_MULTIPLIER INT64CONST(10000000000)

/* A Citus distributed transaction, as get_all_active_transactions() shows it. */
typedef struct CitusXact
{
	int64		gpid;			/* global pid of the backend that began it */
	int64		number;			/* its number on that node */
	int64		stamp;			/* when it was assigned (TimestampTz) */
	bool		internal;		/* this backend is a Citus connection (worker_query) */
} CitusXact;

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

/* True when Citus is loaded and installed in this database. */
static bool
citus_installed(void)
{
	return GetConfigOption("citus.propagate_set_commands", true, false) != NULL &&
		OidIsValid(get_extension_oid("citus", true));
}

/*
 * Returns this node's id in the Citus metadata, as the node part of the
 * global pids of the backends it starts (99999999, Citus's number for a
 * node outside its metadata, when it is not there). Call it in a
 * transaction, when citus_installed(). Raises 55000 when this Citus
 * offers no way to tell.
 */
static int64
citus_local_node_id(void)
{
	typedef int32 (*LocalNodeIdFn) (void);
	static LocalNodeIdFn local_node_id = NULL;

	if (local_node_id == NULL)
		local_node_id = (LocalNodeIdFn) load_external_function("$libdir/citus", "GetLocalNodeId",
															   false, NULL);
	if (local_node_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this version of Citus cannot tell which node this is"),
				 errhint("access_control is tested with Citus 13.2.")));
	return local_node_id();
}

/*
 * True when the global pid of the token text ("<actor>/<key id>/<gpid>/...")
 * names this node, which means the token was made here: a token only ever
 * acts on another node of its distributed transaction. False when the text
 * names no global pid (read_actor refuses such a token anyway) or when it
 * cannot be told here (outside a transaction, or without Citus installed,
 * where no token acts).
 */
static bool
token_from_this_node(const char *token)
{
	const char *p = strchr(token, '/');
	int64		key_id,
				gpid;

	if (p == NULL || !IsTransactionState() || !citus_installed())
		return false;
	p++;
	if (!parse_number(&p, &key_id) || *p != '/')
		return false;
	p++;
	if (!parse_number(&p, &gpid))
		return false;
	return gpid / CITUS_GPID_NODE_MULTIPLIER == citus_local_node_id();
}

/*
 * Accepts an empty token from anyone, and any other only from AcSetActor,
 * on a connection that names itself a Citus internal one (where Citus
 * forwards it), or as a parallel worker copies its leader's settings.
 * Whether it acts is decided when it is read (read_actor).
 */
static bool
check_actor_token(char **newval, void **extra, GucSource source)
{
	const char *app;

	if (*newval == NULL || (*newval)[0] == '\0' || setting_token || InitializingParallelWorker)
		return true;
	app = GetConfigOption("application_name", true, false);
	if (app != NULL && strncmp(app, CITUS_INTERNAL_PREFIX, strlen(CITUS_INTERNAL_PREFIX)) == 0)
	{
		if (!token_from_this_node(*newval))
			return true;
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("access_control.actor_token was made on this node");
		GUC_check_errdetail("An actor token acts only on the other nodes of its distributed transaction; on the node that made it, the actor functions set the actor itself.");
		GUC_check_errhint("Call access_control.set_actor(), set_portal_actor() or authenticate() instead.");
		return false;
	}
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("access_control.actor_token is set only by the actor functions");
	GUC_check_errdetail("set_actor, set_portal_actor and authenticate set it for the Citus workers of the transaction.");
	GUC_check_errhint("Call access_control.set_actor(), set_portal_actor() or authenticate() instead.");
	return false;
}

/* Defines the setting access_control.actor; called once from _PG_init. */
void
AcDefineActorSetting(void)
{
	const char *pending = GetConfigOption("access_control.actor_token", true, false);

	/*
	 * A session that SET the token before this library was loaded holds it
	 * as a placeholder, which the check hook would drop with a mere warning
	 * while Citus still forwards the SET to the workers: a token made here
	 * fails the statement that loads the library instead.
	 */
	if (pending != NULL && pending[0] != '\0' && token_from_this_node(pending))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("access_control.actor_token was made on this node"),
				 errdetail("An actor token acts only on the other nodes of its distributed transaction; on the node that made it, the actor functions set the actor itself."),
				 errhint("Call access_control.set_actor(), set_portal_actor() or authenticate() instead.")));

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

	/*
	 * The actor as the Citus workers of a transaction receive it (see the
	 * file header): PGC_USERSET, so that Citus's connections, which run as
	 * the application's role, may take it; its check hook and read_actor
	 * decide the rest. Superusers only may read it.
	 */
	DefineCustomStringVariable("access_control.actor_token",
							   "The current actor, signed for the Citus workers of the transaction.",
							   "Set by access_control.set_actor(), set_portal_actor() or authenticate() when Citus is loaded.",
							   &actor_token_setting,
							   "",
							   PGC_USERSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL |
							   GUC_NO_SHOW_ALL | GUC_SUPERUSER_ONLY,
							   check_actor_token, assign_actor, NULL);
}

/*
 * Fills *xact with the distributed transaction of this backend, or of its
 * leader in a parallel worker, as Citus's get_all_active_transactions()
 * shows it. Returns false when the backend is in none. Call it between
 * AcBeginAsOwner and AcEndAsOwner, where Citus shows every backend, when
 * citus_installed(). Raises nothing of its own.
 */
static bool
read_citus_xact(CitusXact *xact)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	bool		isnull[4];
	HeapTuple	row;
	TupleDesc	desc;

	values[0] = Int32GetDatum(MyProc->lockGroupLeader != NULL ? MyProc->lockGroupLeader->pid : MyProcPid);
	AcRunQuery("SELECT t.global_pid, t.transaction_number, t.transaction_stamp, t.worker_query"
			   " FROM pg_catalog.get_all_active_transactions() t WHERE t.process_id = $1",
			   1, types, values, true, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return false;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	xact->gpid = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull[0]));
	xact->number = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull[1]));
	xact->stamp = DatumGetTimestampTz(SPI_getbinval(row, desc, 3, &isnull[2]));
	xact->internal = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull[3]));
	return !isnull[0] && !isnull[1] && !isnull[2] && !isnull[3] &&
		xact->gpid > 0 && xact->number > 0;
}

/*
 * Has Citus give the current transaction its distributed transaction id
 * now, as it would at the first distributed statement, so that the actor
 * token can name it. Raises 55000 when this Citus offers no way to.
 */
static void
begin_citus_xact(void)
{
	typedef void (*EnsureXactFn) (void);
	static EnsureXactFn ensure = NULL;

	if (ensure == NULL)
		ensure = (EnsureXactFn) load_external_function("$libdir/citus", "EnsureDistributedTransactionId",
													   false, NULL);
	if (ensure == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this version of Citus cannot name the transaction the actor is signed for"),
				 errhint("access_control is tested with Citus 13.2.")));
	ensure();
}

/*
 * Hashes the signed text of a token (all but its mac) for the acting role
 * under b->hash_key into b->computed. Raises nothing.
 */
static void
hash_actor(AcTokenBuffers *b, const char *signed_text, size_t len)
{
	const char *role = GetUserNameFromId(GetOuterUserId(), false);
	const void *parts[3];
	size_t		lens[3];

	parts[0] = actor_token.domain;
	lens[0] = strlen(actor_token.domain) + 1;
	parts[1] = role;
	lens[1] = strlen(role) + 1;
	parts[2] = signed_text;
	lens[2] = len;
	AcKeyedHash(b->computed, b->hash_key, 3, parts, lens);
}

/*
 * Returns the token of the actor text for the acting role and the current
 * distributed transaction, which it has Citus assign, under the newest
 * hashing key, palloc'd. Raises 55000 when there is no hashing key or
 * Citus names no transaction.
 */
static char *
make_actor_token(const char *actor)
{
	AcOwnerScope scope;
	AcTokenBuffers *b = AcGetTokenBuffers();
	CitusXact	xact;
	int64		key_id;
	bool		in_xact;
	char	   *signed_text;
	char		mac[AC_BASE64URL_LEN(AC_HASH_BYTES)];

	begin_citus_xact();
	AcBeginAsOwner(&scope);
	key_id = AcLoadHashKey(&actor_token, b, true, 0);
	in_xact = read_citus_xact(&xact);
	AcEndAsOwner(&scope);
	if (key_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("there is no hashing key to sign the actor for the Citus workers"),
				 errhint("A superuser creates one with access_control.rotate_secret_key().")));
	if (!in_xact)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("Citus names no distributed transaction to sign the actor for"),
				 errhint("access_control is tested with Citus 13.2.")));
	signed_text = psprintf("%s/" INT64_FORMAT "/" INT64_FORMAT "/" INT64_FORMAT "/" INT64_FORMAT,
						   actor, key_id, xact.gpid, xact.number, xact.stamp);
	hash_actor(b, signed_text, strlen(signed_text));
	AcBase64UrlEncode(mac, b->computed, AC_HASH_BYTES);
	AcWipe(b, sizeof(AcTokenBuffers));
	return psprintf("%s/%s", signed_text, mac);
}

/*
 * Reads "/<number>" at *s into *n (a positive number) and moves *s past it.
 * Returns false when there is none.
 */
static bool
parse_field(const char **s, int64 *n)
{
	if (**s != '/')
		return false;
	(*s)++;
	return parse_number(s, n) && *n > 0;
}

/*
 * Fills *actor from the token text. Returns false, with nobody, when it is
 * malformed, names no hashing key of this node, was made for another role
 * or key, or for another distributed transaction than the one Citus runs
 * this backend (or its parallel leader) for, or when this backend is not
 * one that Citus opened. Raises nothing of its own.
 */
static bool
verify_actor_token(const char *token, AcActor *actor)
{
	const char *slash = strchr(token, '/');
	const char *p = slash;
	AcTokenBuffers *b;
	AcOwnerScope scope;
	CitusXact	xact;
	char	   *actor_text;
	int64		key_id = 0,
				gpid = 0,
				number = 0,
				stamp = 0;
	size_t		signed_len;
	bool		ok;

	AcMakeActor(actor, AC_ACTOR_NONE, 0, 0);
	if (slash == NULL || !citus_installed())
		return false;
	actor_text = pnstrdup(token, slash - token);
	if (!parse_field(&p, &key_id) || !parse_field(&p, &gpid) ||
		!parse_field(&p, &number) || !parse_field(&p, &stamp) || *p != '/' ||
		!parse_actor(actor_text, actor) || actor->kind == AC_ACTOR_NONE)
	{
		AcMakeActor(actor, AC_ACTOR_NONE, 0, 0);
		return false;
	}
	signed_len = p - token;

	b = AcGetTokenBuffers();
	ok = AcBase64UrlDecode(b->expected, AC_HASH_BYTES, p + 1, strlen(p + 1));
	if (ok)
	{
		AcBeginAsOwner(&scope);
		ok = AcLoadHashKey(&actor_token, b, false, key_id) == key_id &&
			read_citus_xact(&xact);
		AcEndAsOwner(&scope);
	}
	ok = ok && xact.internal && xact.gpid == gpid && xact.number == number && xact.stamp == stamp &&
		gpid / CITUS_GPID_NODE_MULTIPLIER != citus_local_node_id();
	if (ok)
	{
		hash_actor(b, token, signed_len);
		ok = AcConstantTimeEqual(b->computed, b->expected, AC_HASH_BYTES);
	}
	AcWipe(b, sizeof(AcTokenBuffers));
	if (!ok)
		AcMakeActor(actor, AC_ACTOR_NONE, 0, 0);
	return ok;
}

/*
 * Reads the current actor into *actor: access_control.actor, or when that
 * is empty, access_control.actor_token once it verifies (remembered until
 * either setting changes or the transaction ends). Returns false, with
 * nobody, when neither reads.
 */
static bool
read_actor(AcActor *actor)
{
	if ((actor_setting != NULL && actor_setting[0] != '\0') ||
		actor_token_setting == NULL || actor_token_setting[0] == '\0')
		return parse_actor(actor_setting, actor);
	if (!verified_valid || verified_generation != actor_generation ||
		verified_lxid != AcMyLocalTransactionId())
	{
		verified_valid = false;
		if (!verify_actor_token(actor_token_setting, &verified_actor))
		{
			AcMakeActor(actor, AC_ACTOR_NONE, 0, 0);
			return false;
		}
		verified_generation = actor_generation;
		verified_lxid = AcMyLocalTransactionId();
		verified_valid = true;
	}
	*actor = verified_actor;
	return true;
}

/*
 * Fills *actor with the current transaction's actor (kind NONE when none).
 * Returns false, with nobody, when the setting does not parse or the actor
 * token does not verify.
 */
bool
AcTryGetActor(AcActor *actor)
{
	return read_actor(actor);
}

/*
 * Fills *actor with the current transaction's actor (kind NONE when none).
 * Raises 42501 when the actor token does not verify, an internal error
 * when the actor setting does not parse.
 */
void
AcGetActor(AcActor *actor)
{
	if (read_actor(actor))
		return;
	if (actor_setting == NULL || actor_setting[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("access_control.actor_token does not verify"),
				 errdetail("An actor token acts only on a connection that Citus opened for the distributed transaction it was made for, by the role it was made for, under a hashing key of access_control.secret_key."),
				 errhint("Call access_control.set_actor(), set_portal_actor() or authenticate() on the coordinator; on a Citus cluster, run citus/replicate_access.sql there, so that the workers share its hashing keys.")));
	elog(ERROR, "access_control.actor holds an invalid value");
}

/* Returns a number that changes whenever the actor setting changes. */
uint64
AcActorGeneration(void)
{
	return actor_generation;
}

/*
 * Acts as actor (nobody for kind NONE) until the end of the current
 * transaction; with Citus installed, also sets the actor token, bound to
 * this distributed transaction, through the SET LOCAL that Citus forwards
 * to the workers of the transaction. Raises 55000 when Citus is installed
 * and there is no hashing key.
 */
void
AcSetActor(const AcActor *actor)
{
	const char *value = actor->kind == AC_ACTOR_NONE ? "" : AcFormatActor(actor, true);
	const char *token;
	int			nestlevel;

	(void) set_config_option("access_control.actor", value,
							 PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	if (!citus_installed())
		return;

	token = value[0] == '\0' ? "" : make_actor_token(value);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("citus.propagate_set_commands", "local",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	setting_token = true;
	PG_TRY();
	{
		if (SPI_execute(psprintf("SET LOCAL access_control.actor_token = %s", quote_literal_cstr(token)),
						false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "setting the actor token failed");
	}
	PG_FINALLY();
	{
		setting_token = false;
	}
	PG_END_TRY();
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
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
