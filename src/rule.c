/*-------------------------------------------------------------------------
 * src/rule.c
 *		The rule of effective access: everything a staff member or portal
 *		user can see, with the effective permissions on each business.
 *
 * The rule itself is AcComputeStaffAccess(); its comment states it. Both
 * functions return an access map, which cache.c keeps per backend and the
 * row helpers (helpers.c) and the planner support (planner.c) answer from.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "owner.h"
#include "rule.h"

/* Orders granted businesses by business id, for qsort. */
static int
compare_business(const void *a, const void *b)
{
	int64		x = ((const AcGrantedBusiness *) a)->business_id;
	int64		y = ((const AcGrantedBusiness *) b)->business_id;

	return (x > y) - (x < y);
}

/*
 * Copies the first rows of the SPI result (business_id, mask, ceiling,
 * next_expiry) into a map in cxt. The mask is closed over implications and capped by the
 * ceiling; rows whose result is still visible stay even with no bit left.
 */
static AcAccessMap *
map_from_result(const AcCatalog *catalog, MemoryContext cxt, bool full_base, uint64 rows)
{
	AcAccessMap *map = MemoryContextAllocZero(cxt, sizeof(AcAccessMap));
	TupleDesc	desc = SPI_tuptable->tupdesc;
	bool		has_expiry = desc->natts >= 4 && TupleDescAttr(desc, 3)->atttypid == TIMESTAMPTZOID;
	int64		last_base = 0;
	int64		last_closure = 0;
	bool		sorted = true;
	uint64		i;

	map->valid_until = DT_NOEND;
	/* the count sizes an allocation and is kept in an int: bound it first */
	if (rows > (uint64) (MaxAllocSize / sizeof(AcGrantedBusiness)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("access map of " UINT64_FORMAT " businesses is too large", rows),
				 errdetail("One principal's access map holds at most %d businesses.",
						   (int) (MaxAllocSize / sizeof(AcGrantedBusiness)))));
	map->n = (int) rows;
	map->items = MemoryContextAllocZero(cxt, sizeof(AcGrantedBusiness) * Max(map->n, 1));
	if (full_base)
	{
		last_base = catalog->all;
		last_closure = AcClosure(catalog, last_base);
	}
	for (i = 0; i < rows; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;
		int64		base;
		int64		ceiling;
		Datum		d;

		map->items[i].business_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		base = full_base ? catalog->all : DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		/* a NULL base is a portal user's All Permissions: the whole catalog */
		if (!full_base && isnull)
			base = catalog->all;
		ceiling = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
		/* most rows share a base: close it over implications once */
		if (base != last_base || i == 0)
		{
			last_base = base;
			last_closure = AcClosure(catalog, base);
		}
		map->items[i].mask = last_closure & ceiling;
		if (i > 0 && map->items[i].business_id < map->items[i - 1].business_id)
			sorted = false;
		if (has_expiry)
		{
			d = SPI_getbinval(tuple, desc, 4, &isnull);
			if (!isnull && DatumGetTimestampTz(d) < map->valid_until)
				map->valid_until = DatumGetTimestampTz(d);
		}
	}
	if (!sorted)
		qsort(map->items, map->n, sizeof(AcGrantedBusiness), compare_business);
	return map;
}

/* Returns, in cxt, a map of no business, valid until valid_until. */
static AcAccessMap *
empty_map(MemoryContext cxt, TimestampTz valid_until)
{
	AcAccessMap *map = MemoryContextAllocZero(cxt, sizeof(AcAccessMap));

	map->valid_until = valid_until;
	return map;
}

/*
 * The rule's queries, prepared once per backend and kept (the plan cache
 * revalidates them when a table changes). Every name in them is
 * schema-qualified, operators included, so that they mean the same
 * whatever search_path is in force when they are prepared or re-analysed:
 * no search_path needs pinning, and no GUC nest level is paid per build.
 */
static SPIPlanPtr staff_plan = NULL;
static SPIPlanPtr manager_plan = NULL;
static SPIPlanPtr member_plan = NULL;
static SPIPlanPtr member_plan_11 = NULL;
static SPIPlanPtr portal_plan = NULL;
static SPIPlanPtr key_plan = NULL;
static SPIPlanPtr staff_exists_plan = NULL;
static SPIPlanPtr portal_exists_plan = NULL;

#define EQ " OPERATOR(pg_catalog.=) "

/*
 * Runs a kept plan read-only; the result is in SPI_tuptable. The plan is
 * generic: a build runs each query once, and planning it for the values
 * at hand would cost more than running it.
 */
static void
run_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_plan(AcKeepPlanWithOptions(plan, sql, nargs, types,
														   CURSOR_OPT_GENERIC_PLAN),
									  values, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "access_control query failed: %s", SPI_result_code_string(rc));
}

/*
 * A member's grants, $1 the firm, $2 the staff member, $3 now: the direct
 * and team grants (HEAD), any further branch of the same columns, then
 * (TAIL) each grant's role and active link, unexpired, OR-ed per business.
 */
#define MEMBER_GRANTS_HEAD \
	"SELECT g.business_id, pg_catalog.bit_or(r.permissions), fc.ceiling," \
	"       pg_catalog.min(g.expires_at)" \
	"  FROM (SELECT sg.business_id, sg.role_id, sg.expires_at" \
	"          FROM access_control.staff_grant sg WHERE sg.staff_id" EQ "$2" \
	"        UNION ALL" \
	"        SELECT tg.business_id, tg.role_id, tg.expires_at" \
	"          FROM access_control.team_member tm" \
	"          JOIN access_control.team_grant tg ON tg.team_id" EQ "tm.team_id" \
	"         WHERE tm.staff_id" EQ "$2"
/* one lookup of the link per grant, never the firm's every link */
#define MEMBER_GRANTS_TAIL \
	") g" \
	"  JOIN access_control.client_role r ON r.id" EQ "g.role_id" \
	"  CROSS JOIN LATERAL (SELECT l.ceiling FROM access_control.firm_client l" \
	"                       WHERE l.firm_id" EQ "$1 AND l.business_id" EQ "g.business_id" \
	"                         AND l.status" EQ "'active' OFFSET 0) fc" \
	" WHERE g.expires_at IS NULL OR g.expires_at OPERATOR(pg_catalog.>) $3" \
	" GROUP BY g.business_id, fc.ceiling"

/*
 * Returns true when the schema has the standing all-clients grant's table
 * (1.2 on): a backend running the new library over an older schema, until
 * ALTER EXTENSION UPDATE, reads the grants that schema has.
 */
static bool
all_clients_table_exists(void)
{
	Oid			nsp = get_namespace_oid("access_control", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("all_clients_grant", nsp));
}

/*
 * Returns true when API key key_id belongs to the staff member and is
 * neither revoked nor expired at now; *expiry gets its expiry (or DT_NOEND).
 * Runs inside an owner scope.
 */
static bool
api_key_usable(int64 key_id, int64 staff_id, TimestampTz now, TimestampTz *expiry)
{
	Oid			types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		values[3] = {Int64GetDatum(key_id), Int64GetDatum(staff_id), TimestampTzGetDatum(now)};
	bool		isnull;
	Datum		d;

	run_kept(&key_plan,
			 "SELECT k.expires_at FROM access_control.api_key k"
			 " WHERE k.id" EQ "$1 AND k.staff_id" EQ "$2 AND k.revoked_at IS NULL"
			 "   AND (k.expires_at IS NULL OR k.expires_at OPERATOR(pg_catalog.>) $3)",
			 3, types, values);
	if (SPI_processed != 1)
		return false;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*expiry = isnull ? DT_NOEND : DatumGetTimestampTz(d);
	return true;
}

/*
 * Whether a staff session may act at now, inside an owner scope: the
 * member is active, and a session authenticated with API key key_id (0:
 * none) also needs programmatic access on and the key the member's,
 * unrevoked and unexpired. On AC_SESSION_OK fills *firm_id, *manager
 * (owner or admin) and *key_expiry (DT_NOEND without a key or expiry).
 */
static AcSessionState
session_state(int64 staff_id, int64 key_id, TimestampTz now,
			  int64 *firm_id, bool *manager, TimestampTz *key_expiry)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(staff_id)};
	bool		isnull;
	bool		programmatic;

	*key_expiry = DT_NOEND;
	AcRunQuery("SELECT firm_id, role IN ('owner', 'admin'), programmatic_access"
			   "  FROM access_control.staff WHERE id = $1 AND status = 'active'",
			   1, types, values, true, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return AC_SESSION_REMOVED;
	*firm_id = AcResultInt64(0, 1, &isnull);
	*manager = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	programmatic = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	if (key_id == 0)
		return AC_SESSION_OK;
	if (!programmatic)
		return AC_SESSION_PROGRAMMATIC_OFF;
	if (!api_key_usable(key_id, staff_id, now, key_expiry))
		return AC_SESSION_KEY_UNUSABLE;
	return AC_SESSION_OK;
}

/*
 * Returns whether the staff member, in a session authenticated with API
 * key key_id (0: none), may act in this statement: the same conditions
 * under which AcComputeStaffAccess gives an empty map, read with the
 * active snapshot. The management functions' authority check uses it.
 */
AcSessionState
AcStaffSessionState(int64 staff_id, int64 key_id)
{
	AcOwnerScope scope;
	AcSessionState state;
	int64		firm_id;
	bool		manager;
	TimestampTz key_expiry;

	AcBeginAsOwner(&scope);
	state = session_state(staff_id, key_id, GetCurrentTransactionStartTimestamp(),
						  &firm_id, &manager, &key_expiry);
	AcEndAsOwner(&scope);
	return state;
}

/* Returns true when the portal user is active and may log in. */
bool
AcPortalUserActive(int64 portal_user_id)
{
	AcOwnerScope scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(portal_user_id)};
	bool		active;

	AcBeginAsOwner(&scope);
	AcRunQuery("SELECT 1 FROM access_control.portal_user"
			   " WHERE id = $1 AND status = 'active' AND can_login",
			   1, types, values, true, SPI_OK_SELECT);
	active = SPI_processed == 1;
	AcEndAsOwner(&scope);
	return active;
}

/*
 * THE RULE OF EFFECTIVE ACCESS.
 *
 * Returns, in cxt, every business the staff member can see with the
 * effective permissions there, read with the active snapshot:
 *   - a removed (or unknown) staff member sees nothing;
 *   - a session authenticated with API key key_id sees nothing unless the
 *     key is unrevoked and unexpired and the member's programmatic access
 *     is on;
 *   - a staff member of firm F sees business b only while the link F-b
 *     (access_control.firm_client) is active;
 *   - owners and admins: base = every permission in the catalog;
 *   - members: base = OR of the client roles of every unexpired grant, made
 *     directly, to a team the member is in, or as the member's standing
 *     all-clients grant (which reaches every active link of the firm,
 *     links made later included); no grant, no access;
 *   - effective = closure(base) & link ceiling, where the closure adds
 *     every permission the base implies.
 * A portal user sees only its own business, with its own permissions
 * closed over implications (AcComputePortalAccess).
 * The map's valid_until is the earliest time an included grant or the key
 * expires. The map also says whether the staff member exists (any
 * status), which firm it belongs to, and whether it is the map every
 * owner and admin of that firm shares (firm_wide: no key involved).
 * The queries run as owner, the extension's owner.
 */
AcAccessMap *
AcComputeStaffAccess(int64 staff_id, int64 key_id, const AcCatalog *catalog, Oid owner,
					 MemoryContext cxt)
{
	AcOwnerScope scope;
	Oid			types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		values[3];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz key_expiry = DT_NOEND;
	AcAccessMap *map;
	int64		firm_id;
	bool		isnull;
	bool		manager;
	bool		active;

	AcBeginAsOwnerQualified(&scope, owner);

	values[0] = Int64GetDatum(staff_id);
	run_kept(&staff_plan,
			 "SELECT s.firm_id, s.role" EQ "'owner' OR s.role" EQ "'admin',"
			 "       s.programmatic_access, s.status" EQ "'active'"
			 "  FROM access_control.staff s WHERE s.id" EQ "$1",
			 1, types, values);
	if (SPI_processed != 1)
	{
		AcEndAsOwnerQualified(&scope);
		return empty_map(cxt, DT_NOEND);
	}
	firm_id = AcResultInt64(0, 1, &isnull);
	manager = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	active = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	if (!active)
	{
		AcEndAsOwnerQualified(&scope);
		map = empty_map(cxt, DT_NOEND);
		map->exists = true;
		map->firm_id = firm_id;
		return map;
	}

	if (key_id != 0)
	{
		bool		programmatic = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc, 3, &isnull));

		if (!programmatic || !api_key_usable(key_id, staff_id, now, &key_expiry))
		{
			AcEndAsOwnerQualified(&scope);
			map = empty_map(cxt, DT_NOEND);
			map->exists = true;
			map->firm_id = firm_id;
			return map;
		}
	}

	values[0] = Int64GetDatum(firm_id);
	values[1] = Int64GetDatum(staff_id);
	values[2] = TimestampTzGetDatum(now);
	if (manager)
		run_kept(&manager_plan,
				 "SELECT fc.business_id, 0::pg_catalog.int8, fc.ceiling"
				 "  FROM access_control.firm_client fc"
				 " WHERE fc.firm_id" EQ "$1 AND fc.status" EQ "'active'",
				 1, types, values);
	else if (all_clients_table_exists())
		run_kept(&member_plan,
				 MEMBER_GRANTS_HEAD
				 "        UNION ALL"
				 /* the standing all-clients grant: every active link, today's and later ones */
				 "        SELECT al.business_id, a.role_id, a.expires_at"
				 "          FROM access_control.all_clients_grant a"
				 "          JOIN access_control.firm_client al ON al.firm_id" EQ "$1"
				 "                                            AND al.status" EQ "'active'"
				 "         WHERE a.staff_id" EQ "$2"
				 MEMBER_GRANTS_TAIL,
				 3, types, values);
	else
		/* the 1.0 and 1.1 schemas, until ALTER EXTENSION UPDATE: no standing grant */
		run_kept(&member_plan_11, MEMBER_GRANTS_HEAD MEMBER_GRANTS_TAIL,
				 3, types, values);
	map = map_from_result(catalog, cxt, manager, SPI_processed);
	map->uses_grants = !manager;
	map->exists = true;
	map->firm_id = firm_id;
	map->firm_wide = manager && key_id == 0;
	if (key_expiry < map->valid_until)
		map->valid_until = key_expiry;
	AcEndAsOwnerQualified(&scope);
	return map;
}

/*
 * Returns, in cxt, the one business a portal user sees with its own
 * permissions (closed over implications; NULL permissions, All
 * Permissions, are every permission of the catalog the map is built
 * from, so a permission defined later is held once the catalog change
 * drops the cached maps); empty when the user is removed
 * or is a contact without login (exists: the user can log in, whatever
 * its status). The query runs as owner, the extension's owner.
 */
AcAccessMap *
AcComputePortalAccess(int64 portal_user_id, const AcCatalog *catalog, Oid owner, MemoryContext cxt)
{
	AcOwnerScope scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	AcAccessMap *map;
	bool		exists;

	AcBeginAsOwnerQualified(&scope, owner);
	values[0] = Int64GetDatum(portal_user_id);
	run_kept(&portal_plan,
			 "SELECT p.business_id, p.permissions, '-1'::pg_catalog.int8, p.status" EQ "'active'"
			 "  FROM access_control.portal_user p"
			 " WHERE p.id" EQ "$1 AND p.can_login",
			 1, types, values);
	exists = SPI_processed > 0;
	if (exists)
	{
		bool		isnull;
		bool		active = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 4, &isnull));

		/* a removed user sees nothing */
		map = map_from_result(catalog, cxt, false, active ? SPI_processed : 0);
	}
	else
		map = map_from_result(catalog, cxt, false, 0);
	map->exists = exists;
	AcEndAsOwnerQualified(&scope);
	return map;
}

/*
 * Returns true when the staff member (any status) or the portal user who
 * can log in exists; the query runs as owner, the extension's owner.
 */
bool
AcPrincipalExists(AcActorKind kind, int64 id, Oid owner)
{
	AcOwnerScope scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	bool		found;

	AcBeginAsOwnerQualified(&scope, owner);
	if (kind == AC_ACTOR_STAFF)
		run_kept(&staff_exists_plan,
				 "SELECT 1 FROM access_control.staff s WHERE s.id" EQ "$1",
				 1, types, values);
	else
		run_kept(&portal_exists_plan,
				 "SELECT 1 FROM access_control.portal_user p WHERE p.id" EQ "$1 AND p.can_login",
				 1, types, values);
	found = SPI_processed > 0;
	AcEndAsOwnerQualified(&scope);
	return found;
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
