/*-------------------------------------------------------------------------
 * src/access.c
 *		The rule of effective access (DESIGN.md section 3), the permission
 *		catalog it uses, and the SQL-callable read helpers built on it.
 *
 * The rule itself is AcComputeStaffAccess(): everything a staff member can
 * see, with the effective permissions on each business. The helpers answer
 * from that map, which cache.c keeps per statement and per backend.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "access_control.h"
#include "compat.h"

/* The queries run as the extension's owner: PUBLIC cannot read these tables. */
typedef AcOwnerScope OwnerScope;

static void
begin_as_owner(OwnerScope *scope)
{
	Oid			owner = AcExtensionOwner();

	GetUserIdAndSecContext(&scope->save_userid, &scope->save_sec_context);
	SetUserIdAndSecContext(owner, scope->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	/*
	 * The queries below name operators and functions unqualified; pin
	 * search_path so that nothing the caller planted in an earlier schema
	 * runs with the owner's rights. GUC_ACTION_SAVE, as for a function's
	 * SET clause, so that this also works inside a parallel worker.
	 */
	scope->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
end_as_owner(OwnerScope *scope)
{
	SPI_finish();
	AtEOXact_GUC(true, scope->save_nestlevel);
	SetUserIdAndSecContext(scope->save_userid, scope->save_sec_context);
}

/*
 * Connects to SPI and acts as the extension's owner until AcEndAsOwner;
 * for other files that read the extension's tables on behalf of PUBLIC.
 */
void
AcBeginAsOwner(AcOwnerScope *scope)
{
	begin_as_owner(scope);
}

/* Disconnects from SPI and restores the caller's user id. */
void
AcEndAsOwner(AcOwnerScope *scope)
{
	end_as_owner(scope);
}

static void
run_query(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "access query failed: %s", SPI_result_code_string(rc));
}

static int64
get_int8(int row, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

static int
compare_business(const void *a, const void *b)
{
	int64		x = ((const AcGrantedBusiness *) a)->business_id;
	int64		y = ((const AcGrantedBusiness *) b)->business_id;

	return (x > y) - (x < y);
}

/*
 * Copies the SPI result (business_id, mask, ceiling, next_expiry) into a
 * map in cxt. The mask is closed over implications and capped by the
 * ceiling; rows whose result is still visible stay even with no bit left.
 */
static AcAccessMap *
map_from_result(const AcCatalog *catalog, MemoryContext cxt, bool full_base)
{
	AcAccessMap *map = MemoryContextAllocZero(cxt, sizeof(AcAccessMap));
	uint64		i;

	map->valid_until = DT_NOEND;
	map->n = (int) SPI_processed;
	map->items = MemoryContextAllocZero(cxt, sizeof(AcGrantedBusiness) * Max(map->n, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		base;
		int64		ceiling;
		Datum		expiry;

		map->items[i].business_id = get_int8(i, 1, &isnull);
		base = full_base ? catalog->all : get_int8(i, 2, &isnull);
		ceiling = get_int8(i, 3, &isnull);
		map->items[i].mask = AcClosure(catalog, base) & ceiling;
		if (SPI_tuptable->tupdesc->natts >= 4)
		{
			expiry = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4, &isnull);
			if (!isnull && DatumGetTimestampTz(expiry) < map->valid_until)
				map->valid_until = DatumGetTimestampTz(expiry);
		}
	}
	qsort(map->items, map->n, sizeof(AcGrantedBusiness), compare_business);
	return map;
}

static AcAccessMap *
empty_map(MemoryContext cxt, TimestampTz valid_until)
{
	AcAccessMap *map = MemoryContextAllocZero(cxt, sizeof(AcAccessMap));

	map->valid_until = valid_until;
	return map;
}

/*
 * THE RULE OF EFFECTIVE ACCESS (DESIGN.md section 3).
 *
 * Returns, in cxt, every business the staff member can see with the
 * effective permissions there, read with the active snapshot:
 *   - a removed (or unknown) staff member sees nothing;
 *   - a session authenticated with API key key_id sees nothing unless the
 *     key is unrevoked and unexpired and programmatic access is on;
 *   - only businesses whose link with the staff member's firm is active;
 *   - owners and admins: base = every permission in the catalog;
 *   - members: base = OR of the client roles of every unexpired grant, made
 *     directly or to a team the member is in; no grant, no access;
 *   - effective = closure(base) & link ceiling.
 * The map's valid_until is the earliest time an included grant or the key
 * expires.
 */
AcAccessMap *
AcComputeStaffAccess(int64 staff_id, int64 key_id, const AcCatalog *catalog, MemoryContext cxt)
{
	OwnerScope	scope;
	Oid			types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		values[3];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz key_expiry = DT_NOEND;
	AcAccessMap *map;
	int64		firm_id;
	bool		isnull;
	bool		manager;

	begin_as_owner(&scope);

	values[0] = Int64GetDatum(staff_id);
	run_query("SELECT firm_id, role IN ('owner', 'admin'), programmatic_access"
			  "  FROM access_control.staff WHERE id = $1 AND status = 'active'",
			  1, types, values);
	if (SPI_processed != 1)
	{
		end_as_owner(&scope);
		return empty_map(cxt, DT_NOEND);
	}
	firm_id = get_int8(0, 1, &isnull);
	manager = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	if (key_id != 0)
	{
		bool		programmatic = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc, 3, &isnull));

		if (!programmatic || !AcApiKeyUsable(key_id, staff_id, now, &key_expiry))
		{
			end_as_owner(&scope);
			return empty_map(cxt, DT_NOEND);
		}
	}

	values[0] = Int64GetDatum(firm_id);
	values[1] = Int64GetDatum(staff_id);
	values[2] = TimestampTzGetDatum(now);
	if (manager)
		run_query("SELECT business_id, 0::int8, ceiling"
				  "  FROM access_control.firm_client"
				  " WHERE firm_id = $1 AND status = 'active'",
				  1, types, values);
	else
		run_query("SELECT fc.business_id, bit_or(r.permissions), fc.ceiling, min(g.expires_at)"
				  "  FROM (SELECT business_id, role_id, expires_at"
				  "          FROM access_control.staff_grant WHERE staff_id = $2"
				  "        UNION ALL"
				  "        SELECT tg.business_id, tg.role_id, tg.expires_at"
				  "          FROM access_control.team_member tm"
				  "          JOIN access_control.team_grant tg ON tg.team_id = tm.team_id"
				  "         WHERE tm.staff_id = $2) g"
				  "  JOIN access_control.client_role r ON r.id = g.role_id"
				  "  JOIN access_control.firm_client fc"
				  "    ON fc.business_id = g.business_id AND fc.firm_id = $1 AND fc.status = 'active'"
				  " WHERE g.expires_at IS NULL OR g.expires_at > $3"
				  " GROUP BY fc.business_id, fc.ceiling",
				  3, types, values);
	map = map_from_result(catalog, cxt, manager);
	map->uses_grants = !manager;
	if (key_expiry < map->valid_until)
		map->valid_until = key_expiry;
	end_as_owner(&scope);
	return map;
}

/*
 * Returns, in cxt, the one business a portal user sees with its own
 * permissions (closed over implications); empty when the user is removed
 * or is a contact without login.
 */
AcAccessMap *
AcComputePortalAccess(int64 portal_user_id, const AcCatalog *catalog, MemoryContext cxt)
{
	OwnerScope	scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	AcAccessMap *map;

	begin_as_owner(&scope);
	values[0] = Int64GetDatum(portal_user_id);
	run_query("SELECT business_id, permissions, -1::int8"
			  "  FROM access_control.portal_user"
			  " WHERE id = $1 AND status = 'active' AND can_login",
			  1, types, values);
	map = map_from_result(catalog, cxt, false);
	end_as_owner(&scope);
	return map;
}

/* Returns true when the staff member (any status) or login-capable portal user exists. */
bool
AcPrincipalExists(AcActorKind kind, int64 id)
{
	OwnerScope	scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		found;

	begin_as_owner(&scope);
	values[0] = Int64GetDatum(id);
	run_query(kind == AC_ACTOR_STAFF
			  ? "SELECT 1 FROM access_control.staff WHERE id = $1"
			  : "SELECT 1 FROM access_control.portal_user WHERE id = $1 AND can_login",
			  1, types, values);
	found = SPI_processed > 0;
	end_as_owner(&scope);
	return found;
}

/*
 * Returns true when API key key_id belongs to the staff member and is
 * neither revoked nor expired at now; *expiry gets its expiry (or DT_NOEND).
 */
bool
AcApiKeyUsable(int64 key_id, int64 staff_id, TimestampTz now, TimestampTz *expiry)
{
	Oid			types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		values[3];
	bool		isnull;
	Datum		d;

	values[0] = Int64GetDatum(key_id);
	values[1] = Int64GetDatum(staff_id);
	values[2] = TimestampTzGetDatum(now);
	run_query("SELECT expires_at FROM access_control.api_key"
			  " WHERE id = $1 AND staff_id = $2 AND revoked_at IS NULL"
			  "   AND (expires_at IS NULL OR expires_at > $3)",
			  3, types, values);
	if (SPI_processed != 1)
		return false;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*expiry = isnull ? DT_NOEND : DatumGetTimestampTz(d);
	return true;
}

/*
 * Fills *catalog from access_control.permission, closing the implications
 * transitively once here rather than per row.
 */
void
AcLoadCatalog(AcCatalog *catalog)
{
	OwnerScope	scope;
	int64		implies[AC_MAX_PERMISSIONS] = {0};
	uint64		i;
	bool		changed;

	memset(catalog, 0, sizeof(AcCatalog));
	begin_as_owner(&scope);
	run_query("SELECT bit, name, read_only, implies FROM access_control.permission", 0, NULL, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			bit = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		bool		read_only = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));

		if (bit < 0 || bit >= AC_MAX_PERMISSIONS)
			continue;
		strlcpy(catalog->names[bit], name, NAMEDATALEN);
		catalog->all |= INT64CONST(1) << bit;
		if (read_only)
			catalog->read_only |= INT64CONST(1) << bit;
		implies[bit] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4, &isnull));
		catalog->n++;
	}
	end_as_owner(&scope);

	for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		catalog->closure[i] = (catalog->all & (INT64CONST(1) << i)) ? ((INT64CONST(1) << i) | implies[i]) : 0;
	do
	{
		changed = false;
		for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		{
			int			j;
			int64		c = catalog->closure[i];

			for (j = 0; j < AC_MAX_PERMISSIONS; j++)
				if (catalog->closure[i] & (INT64CONST(1) << j))
					c |= catalog->closure[j];
			c &= catalog->all;
			if (c != catalog->closure[i])
			{
				catalog->closure[i] = c;
				changed = true;
			}
		}
	} while (changed);
}

/* Returns mask with every implied permission added; unknown bits dropped. */
int64
AcClosure(const AcCatalog *catalog, int64 mask)
{
	int64		result = 0;
	int			i;

	for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		if (mask & (INT64CONST(1) << i))
			result |= catalog->closure[i];
	return result;
}

/* Returns the bit of the named permission, or -1 when there is none. */
int
AcPermissionBit(const AcCatalog *catalog, const char *name)
{
	int			i;

	for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		if (catalog->names[i][0] != '\0' && strcmp(catalog->names[i], name) == 0)
			return i;
	return -1;
}

/* ---------------------------------------------------------------------
 * SQL-callable helpers
 * ---------------------------------------------------------------------
 */

/*
 * Which statement a call site last served: its transaction, and the
 * command and in-progress transactions of its snapshot. Two snapshots of
 * one transaction with the same xmin, xmax and number of in-progress
 * transactions see the same other transactions (that set only shrinks
 * while xmax stays), so an equal mark means nothing new to see.
 */
typedef struct StatementMark
{
	LocalTransactionId lxid;
	CommandId	cid;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
} StatementMark;

/*
 * What a call site keeps for the rest of its statement (fn_extra).
 * PL/pgSQL keeps a simple expression, such as IF can_see_business(b), for
 * the whole transaction and evaluates it again under a new snapshot: a new
 * statement, which reads the map again.
 */
typedef struct CallCache
{
	StatementMark mark;
	char		key[80];
	const AcAccessMap *map;		/* NULL until read for this statement */
	uint64		actor_generation;	/* ac_actor_generation when map was read */
	char		permission[NAMEDATALEN];
	int			bit;

	/*
	 * A bitmap of the businesses of map that carry dense_need, indexed from
	 * dense_min, for a call site that checks many rows against a large map:
	 * one bit test instead of a binary search.
	 */
	const AcAccessMap *dense_map;
	int64		dense_need;
	int64		dense_min;
	uint64		dense_bits;
	uint64	   *dense;
	int64		lookups_need;	/* the need of the last binary searches ... */
	uint32		lookups;		/* ... and how many in a row */
} CallCache;

/* A bitmap is built for maps of at least this many businesses ... */
#define DENSE_MIN_BUSINESSES 64
/* ... after this many lookups against the same map and permission ... */
#define DENSE_AFTER_LOOKUPS 64
/* ... when it takes at most this many bits per business of the map. */
#define DENSE_MAX_BITS_PER_BUSINESS 64

/* Fills *mark with the statement being run now. */
static void
statement_mark(StatementMark *mark)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;

	memset(mark, 0, sizeof(StatementMark));
	mark->lxid = AcMyLocalTransactionId();
	if (snap != NULL)
	{
		mark->cid = snap->curcid;
		mark->xmin = snap->xmin;
		mark->xmax = snap->xmax;
		mark->xcnt = snap->xcnt;
		mark->subxcnt = snap->subxcnt;
	}
}

/* True when the call site last served this statement; *mark gets it. */
static bool
same_statement(const CallCache *cc, StatementMark *mark)
{
	statement_mark(mark);
	return memcmp(mark, &cc->mark, sizeof(StatementMark)) == 0;
}

/*
 * Returns the access map of actor for this call site, computing it (or
 * taking it from the backend cache) once per statement.
 */
static const AcAccessMap *
call_map(FunctionCallInfo fcinfo, const AcActor *actor)
{
	CallCache  *cc = (CallCache *) fcinfo->flinfo->fn_extra;
	StatementMark mark;
	char		key[80];

	if (cc == NULL)
	{
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallCache));
		fcinfo->flinfo->fn_extra = cc;
	}
	if (cc->map == NULL || !same_statement(cc, &mark))
	{
		/*
		 * A new statement: it sees what another session committed, or this
		 * transaction did, before it began. (The map of an earlier
		 * transaction may also have been freed.)
		 */
		AcceptInvalidationMessages();
		cc->mark = mark;
		cc->map = NULL;
		cc->bit = -1;
	}
	AcActorKey(actor, key, sizeof(key));
	if (cc->map == NULL || strcmp(cc->key, key) != 0)
	{
		cc->map = AcGetAccessMap(actor);
		strlcpy(cc->key, key, sizeof(cc->key));
		/* a bitmap belongs to the map it was built from, in this statement */
		cc->dense_map = NULL;
		cc->lookups = 0;
	}
	return cc->map;
}

/*
 * The current actor's map for this call site. Row after row of one
 * statement, with the actor setting unchanged, this is a few comparisons.
 */
static const AcAccessMap *
current_map(FunctionCallInfo fcinfo)
{
	CallCache  *cc = (CallCache *) fcinfo->flinfo->fn_extra;
	AcActor		actor;
	const AcAccessMap *map;
	StatementMark mark;

	if (cc != NULL && cc->map != NULL && cc->actor_generation == ac_actor_generation &&
		same_statement(cc, &mark))
		return cc->map;
	AcGetActor(&actor);
	map = call_map(fcinfo, &actor);
	((CallCache *) fcinfo->flinfo->fn_extra)->actor_generation = ac_actor_generation;
	return map;
}

static const AcAccessMap *
staff_map(FunctionCallInfo fcinfo, int64 staff_id)
{
	AcActor		actor;

	actor.kind = staff_id > 0 ? AC_ACTOR_STAFF : AC_ACTOR_NONE;
	actor.id = staff_id;
	actor.key_id = 0;
	return call_map(fcinfo, &actor);
}

/* Returns the map entry for the business, or NULL. */
const AcGrantedBusiness *
AcFindBusiness(const AcAccessMap *map, int64 business_id)
{
	int			lo = 0,
				hi = map->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int64		v = map->items[mid].business_id;

		if (v == business_id)
			return &map->items[mid];
		if (v < business_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Returns the bit of the permission named by the text; 22023 when unknown. */
static int
permission_bit(FunctionCallInfo fcinfo, text *name)
{
	CallCache  *cc = (CallCache *) fcinfo->flinfo->fn_extra;
	char	   *s;
	int			bit;

	/* the same name as on the last row: no copy, no lookup */
	if (cc->bit >= 0 && VARSIZE_ANY_EXHDR(name) == strlen(cc->permission) &&
		memcmp(VARDATA_ANY(name), cc->permission, VARSIZE_ANY_EXHDR(name)) == 0)
		return cc->bit;
	s = text_to_cstring(name);
	bit = AcPermissionBit(AcGetCatalog(), s);
	if (bit < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown permission \"%s\"", s),
				 errhint("Known permissions are listed in access_control.permission.")));
	strlcpy(cc->permission, s, sizeof(cc->permission));
	cc->bit = bit;
	pfree(s);
	return bit;
}

/*
 * Builds the call site's bitmap of the businesses of map carrying need;
 * false when the ids are too spread out for it to pay.
 */
static bool
build_dense(FunctionCallInfo fcinfo, CallCache *cc, const AcAccessMap *map, int64 need)
{
	uint64		span;
	int			i;

	if (map->n < DENSE_MIN_BUSINESSES)
		return false;
	span = (uint64) map->items[map->n - 1].business_id - (uint64) map->items[0].business_id + 1;
	if (span / DENSE_MAX_BITS_PER_BUSINESS > (uint64) map->n)
		return false;
	if (cc->dense != NULL)
		pfree(cc->dense);
	cc->dense = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, ((span + 63) / 64) * sizeof(uint64));
	cc->dense_min = map->items[0].business_id;
	cc->dense_bits = span;
	for (i = 0; i < map->n; i++)
		if ((map->items[i].mask & need) == need)
		{
			uint64		off = (uint64) map->items[i].business_id - (uint64) cc->dense_min;

			cc->dense[off >> 6] |= UINT64CONST(1) << (off & 63);
		}
	cc->dense_map = map;
	cc->dense_need = need;
	return true;
}

/* True when map holds the business with every bit of need. */
static bool
map_holds_need(FunctionCallInfo fcinfo, const AcAccessMap *map, int64 business_id, int64 need)
{
	CallCache  *cc = (CallCache *) fcinfo->flinfo->fn_extra;
	const AcGrantedBusiness *g;

	if (cc->dense_map != map || cc->dense_need != need)
	{
		if (cc->lookups_need != need)
		{
			cc->lookups_need = need;
			cc->lookups = 0;
		}
		if (++cc->lookups < DENSE_AFTER_LOOKUPS || !build_dense(fcinfo, cc, map, need))
		{
			g = AcFindBusiness(map, business_id);
			return g != NULL && (g->mask & need) == need;
		}
	}
	if (business_id < cc->dense_min)
		return false;
	{
		uint64		off = (uint64) business_id - (uint64) cc->dense_min;

		return off < cc->dense_bits && (cc->dense[off >> 6] >> (off & 63) & 1) != 0;
	}
}

static bool
map_has(FunctionCallInfo fcinfo, const AcAccessMap *map, int64 business_id, text *permission)
{
	int64		need = 0;

	/* resolve the name even when the answer is no, so a typo is an error */
	if (permission != NULL)
		need = INT64CONST(1) << permission_bit(fcinfo, permission);
	return map_holds_need(fcinfo, map, business_id, need);
}

/* can_see_business(business_id): true when the current actor can see it. */
PG_FUNCTION_INFO_V1(ac_can_see_business);
Datum
ac_can_see_business(PG_FUNCTION_ARGS)
{
	const AcAccessMap *map = current_map(fcinfo);

	PG_RETURN_BOOL(map_has(fcinfo, map, PG_GETARG_INT64(0), NULL));
}

/*
 * has_permission(business_id, permission): true when the current actor
 * holds it there. Raises 22023 for an unknown permission.
 */
PG_FUNCTION_INFO_V1(ac_has_permission);
Datum
ac_has_permission(PG_FUNCTION_ARGS)
{
	const AcAccessMap *map = current_map(fcinfo);

	PG_RETURN_BOOL(map_has(fcinfo, map, PG_GETARG_INT64(0), PG_GETARG_TEXT_PP(1)));
}

/*
 * visible_business_ids([permission]): the sorted ids of every business the
 * current actor can see (and where it holds the permission, when given).
 */
PG_FUNCTION_INFO_V1(ac_visible_business_ids);
Datum
ac_visible_business_ids(PG_FUNCTION_ARGS)
{
	const AcAccessMap *map = current_map(fcinfo);
	int64		need = 0;
	Datum	   *ids;
	int			i,
				n = 0;

	if (PG_NARGS() > 0)
		need = INT64CONST(1) << permission_bit(fcinfo, PG_GETARG_TEXT_PP(0));
	ids = palloc(sizeof(Datum) * Max(map->n, 1));
	for (i = 0; i < map->n; i++)
		if ((map->items[i].mask & need) == need)
			ids[n++] = Int64GetDatum(map->items[i].business_id);
	PG_RETURN_ARRAYTYPE_P(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* staff_can_see_business(staff_id, business_id) */
PG_FUNCTION_INFO_V1(ac_staff_can_see_business);
Datum
ac_staff_can_see_business(PG_FUNCTION_ARGS)
{
	const AcAccessMap *map = staff_map(fcinfo, PG_GETARG_INT64(0));

	PG_RETURN_BOOL(map_has(fcinfo, map, PG_GETARG_INT64(1), NULL));
}

/* staff_has_permission(staff_id, business_id, permission); 22023 for an unknown permission. */
PG_FUNCTION_INFO_V1(ac_staff_has_permission);
Datum
ac_staff_has_permission(PG_FUNCTION_ARGS)
{
	const AcAccessMap *map = staff_map(fcinfo, PG_GETARG_INT64(0));

	PG_RETURN_BOOL(map_has(fcinfo, map, PG_GETARG_INT64(1), PG_GETARG_TEXT_PP(2)));
}

/* staff_effective_permission_mask(staff_id, business_id): the mask, or NULL when it cannot see the business. */
PG_FUNCTION_INFO_V1(ac_staff_effective_mask);
Datum
ac_staff_effective_mask(PG_FUNCTION_ARGS)
{
	const AcAccessMap *map = staff_map(fcinfo, PG_GETARG_INT64(0));
	const AcGrantedBusiness *g = AcFindBusiness(map, PG_GETARG_INT64(1));

	if (g == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(g->mask);
}
