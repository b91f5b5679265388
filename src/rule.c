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
#include "catalog/pg_type.h"
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
	/* the count sizes an allocation and is kept in an int: bound it first */
	if (SPI_processed > (uint64) (MaxAllocSize / sizeof(AcGrantedBusiness)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("access map of " UINT64_FORMAT " businesses is too large", SPI_processed),
				 errdetail("One principal's access map holds at most %d businesses.",
						   (int) (MaxAllocSize / sizeof(AcGrantedBusiness)))));
	map->n = (int) SPI_processed;
	map->items = MemoryContextAllocZero(cxt, sizeof(AcGrantedBusiness) * Max(map->n, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		base;
		int64		ceiling;
		Datum		expiry;

		map->items[i].business_id = AcResultInt64(i, 1, &isnull);
		base = full_base ? catalog->all : AcResultInt64(i, 2, &isnull);
		ceiling = AcResultInt64(i, 3, &isnull);
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

/* Returns, in cxt, a map of no business, valid until valid_until. */
static AcAccessMap *
empty_map(MemoryContext cxt, TimestampTz valid_until)
{
	AcAccessMap *map = MemoryContextAllocZero(cxt, sizeof(AcAccessMap));

	map->valid_until = valid_until;
	return map;
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

	AcRunQuery("SELECT expires_at FROM access_control.api_key"
			   " WHERE id = $1 AND staff_id = $2 AND revoked_at IS NULL"
			   "   AND (expires_at IS NULL OR expires_at > $3)",
			   3, types, values, true, SPI_OK_SELECT);
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
 *     directly or to a team the member is in; no grant, no access;
 *   - effective = closure(base) & link ceiling, where the closure adds
 *     every permission the base implies.
 * A portal user sees only its own business, with its own permissions
 * closed over implications (AcComputePortalAccess).
 * The map's valid_until is the earliest time an included grant or the key
 * expires. Raises 55000 when the extension is not installed.
 */
AcAccessMap *
AcComputeStaffAccess(int64 staff_id, int64 key_id, const AcCatalog *catalog, MemoryContext cxt)
{
	AcOwnerScope scope;
	Oid			types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		values[3];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz key_expiry = DT_NOEND;
	AcAccessMap *map;
	int64		firm_id;
	bool		manager;

	AcBeginAsOwner(&scope);
	if (session_state(staff_id, key_id, now, &firm_id, &manager, &key_expiry) != AC_SESSION_OK)
	{
		AcEndAsOwner(&scope);
		return empty_map(cxt, DT_NOEND);
	}

	values[0] = Int64GetDatum(firm_id);
	values[1] = Int64GetDatum(staff_id);
	values[2] = TimestampTzGetDatum(now);
	if (manager)
		AcRunQuery("SELECT business_id, 0::int8, ceiling"
				   "  FROM access_control.firm_client"
				   " WHERE firm_id = $1 AND status = 'active'",
				   1, types, values, true, SPI_OK_SELECT);
	else
		AcRunQuery("SELECT fc.business_id, bit_or(r.permissions), fc.ceiling, min(g.expires_at)"
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
				   3, types, values, true, SPI_OK_SELECT);
	map = map_from_result(catalog, cxt, manager);
	map->uses_grants = !manager;
	if (key_expiry < map->valid_until)
		map->valid_until = key_expiry;
	AcEndAsOwner(&scope);
	return map;
}

/*
 * Returns, in cxt, the one business a portal user sees with its own
 * permissions (closed over implications); empty when the user is removed
 * or is a contact without login. Raises 55000 when the extension is not
 * installed.
 */
AcAccessMap *
AcComputePortalAccess(int64 portal_user_id, const AcCatalog *catalog, MemoryContext cxt)
{
	AcOwnerScope scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	AcAccessMap *map;

	AcBeginAsOwner(&scope);
	values[0] = Int64GetDatum(portal_user_id);
	AcRunQuery("SELECT business_id, permissions, -1::int8"
			   "  FROM access_control.portal_user"
			   " WHERE id = $1 AND status = 'active' AND can_login",
			   1, types, values, true, SPI_OK_SELECT);
	map = map_from_result(catalog, cxt, false);
	AcEndAsOwner(&scope);
	return map;
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
