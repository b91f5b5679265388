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
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "rule.h"
#include "scan.h"

/*
 * The rule's reads run under the statement's snapshot (one is pushed when
 * none is active) in a memory context of their own, deleted at the end.
 */
typedef struct RuleRun
{
	bool		pushed;
	MemoryContext work;
	MemoryContext caller;
	Snapshot	snapshot;
	TimestampTz now;
} RuleRun;

static void
begin_run(RuleRun *run)
{
	run->pushed = !ActiveSnapshotSet();
	if (run->pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	run->snapshot = GetActiveSnapshot();
	run->now = GetCurrentTransactionStartTimestamp();
	run->work = AllocSetContextCreate(CurrentMemoryContext, "access_control rule",
									  ALLOCSET_SMALL_SIZES);
	run->caller = MemoryContextSwitchTo(run->work);
}

static void
end_run(RuleRun *run)
{
	MemoryContextSwitchTo(run->caller);
	MemoryContextDelete(run->work);
	if (run->pushed)
		PopActiveSnapshot();
}

/* True when a grant or key that expires at expires_at (DT_NOEND: never) still holds at now. */
#define UNEXPIRED(expires_at, now) ((expires_at) > (now))

/*
 * Whether staff member staff_id may act at run->now, in a session
 * authenticated with API key key_id (0: none): the member is active, and a
 * session with a key also needs programmatic access on and the key the
 * member's, unrevoked and unexpired. *exists tells whether the member
 * exists at all (any status); when it does, *firm_id and *manager (owner
 * or admin) are filled, and on AC_SESSION_OK *key_expiry (DT_NOEND without
 * a key or an expiry).
 */
static AcSessionState
session_state(RuleRun *run, int64 staff_id, int64 key_id, bool *exists,
			  int64 *firm_id, bool *manager, TimestampTz *key_expiry)
{
	AcScan		scan;
	bool		active = false;
	bool		programmatic = false;
	bool		usable;

	*key_expiry = DT_NOEND;
	AcScanOpen(&scan, AC_STAFF, 1, run->snapshot, false);
	AcScanStart(&scan, staff_id, 0);
	*exists = AcScanNext(&scan);
	if (*exists)
	{
		*firm_id = AcScanInt64(&scan, STAFF_FIRM_ID, 0);
		*manager = AcScanTextEquals(&scan, STAFF_ROLE, "owner") ||
			AcScanTextEquals(&scan, STAFF_ROLE, "admin");
		programmatic = AcScanBool(&scan, STAFF_PROGRAMMATIC_ACCESS, false);
		active = AcScanTextEquals(&scan, STAFF_STATUS, "active");
	}
	AcScanClose(&scan);
	if (!*exists || !active)
		return AC_SESSION_REMOVED;
	if (key_id == 0)
		return AC_SESSION_OK;
	if (!programmatic)
		return AC_SESSION_PROGRAMMATIC_OFF;

	AcScanOpen(&scan, AC_API_KEY, 1, run->snapshot, false);
	AcScanStart(&scan, key_id, 0);
	usable = AcScanNext(&scan) &&
		AcScanInt64(&scan, API_KEY_STAFF_ID, 0) == staff_id &&
		AcScanIsNull(&scan, API_KEY_REVOKED_AT) &&
		UNEXPIRED(AcScanTimestamp(&scan, API_KEY_EXPIRES_AT, DT_NOEND), run->now);
	if (usable)
		*key_expiry = AcScanTimestamp(&scan, API_KEY_EXPIRES_AT, DT_NOEND);
	AcScanClose(&scan);
	return usable ? AC_SESSION_OK : AC_SESSION_KEY_UNUSABLE;
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
	RuleRun		run;
	AcSessionState state;
	bool		exists;
	int64		firm_id;
	bool		manager;
	TimestampTz key_expiry;

	begin_run(&run);
	state = session_state(&run, staff_id, key_id, &exists, &firm_id, &manager, &key_expiry);
	end_run(&run);
	return state;
}

/*
 * Reads the portal user: true when it can log in (*active: and is
 * active), with its business and permissions (*all: NULL, All
 * Permissions).
 */
static bool
read_portal_user(RuleRun *run, int64 portal_user_id, bool *active, int64 *business_id,
				 int64 *permissions, bool *all)
{
	AcScan		scan;
	bool		found;

	AcScanOpen(&scan, AC_PORTAL_USER, 1, run->snapshot, false);
	AcScanStart(&scan, portal_user_id, 0);
	found = AcScanNext(&scan) && AcScanBool(&scan, PORTAL_USER_CAN_LOGIN, false);
	if (found)
	{
		*active = AcScanTextEquals(&scan, PORTAL_USER_STATUS, "active");
		*business_id = AcScanInt64(&scan, PORTAL_USER_BUSINESS_ID, 0);
		*all = AcScanIsNull(&scan, PORTAL_USER_PERMISSIONS);
		*permissions = AcScanInt64(&scan, PORTAL_USER_PERMISSIONS, 0);
	}
	AcScanClose(&scan);
	return found;
}

/* Returns true when the portal user is active and may log in. */
bool
AcPortalUserActive(int64 portal_user_id)
{
	RuleRun		run;
	bool		active = false;
	int64		business_id;
	int64		permissions;
	bool		all;
	bool		found;

	begin_run(&run);
	found = read_portal_user(&run, portal_user_id, &active, &business_id, &permissions, &all);
	end_run(&run);
	return found && active;
}

/*
 * The map a build is making: its businesses in ascending order, each with
 * closure(base) & ceiling, and the earliest expiry of what it includes.
 */
typedef struct MapBuild
{
	const AcCatalog *catalog;
	AcGrantedBusiness *items;
	int			n;
	int			max;
	TimestampTz valid_until;
	int64		last_base;		/* most rows share a base: its closure, once */
	int64		last_closure;
	bool		have_closure;
} MapBuild;

static void
add_business(MapBuild *b, int64 business_id, int64 base, int64 ceiling, TimestampTz expires_at)
{
	if (!b->have_closure || base != b->last_base)
	{
		b->last_base = base;
		b->last_closure = AcClosure(b->catalog, base);
		b->have_closure = true;
	}
	if (b->n == b->max)
	{
		/* the count sizes an allocation and is kept in an int: bound it first */
		if (b->max >= (int) (MaxAllocSize / sizeof(AcGrantedBusiness) / 2))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("access map of more than %d businesses is too large", b->max),
					 errdetail("One principal's access map holds at most %d businesses.",
							   b->max)));
		b->max = Max(b->max * 2, 16);
		b->items = b->items == NULL ? palloc(sizeof(AcGrantedBusiness) * b->max)
			: repalloc(b->items, sizeof(AcGrantedBusiness) * b->max);
	}
	b->items[b->n].business_id = business_id;
	b->items[b->n].mask = b->last_closure & ceiling;
	b->n++;
	if (expires_at < b->valid_until)
		b->valid_until = expires_at;
}

/* Orders granted businesses by business id, for qsort. */
static int
compare_business(const void *a, const void *b)
{
	int64		x = ((const AcGrantedBusiness *) a)->business_id;
	int64		y = ((const AcGrantedBusiness *) b)->business_id;

	return (x > y) - (x < y);
}

/*
 * Copies the build into a map in cxt, sorted by business id (an index
 * returns them sorted; a table read whole, in any order).
 */
static AcAccessMap *
finish_map(MapBuild *b, MemoryContext cxt)
{
	AcAccessMap *map = MemoryContextAllocZero(cxt, sizeof(AcAccessMap));
	int			i;

	for (i = 1; i < b->n; i++)
		if (b->items[i].business_id < b->items[i - 1].business_id)
		{
			qsort(b->items, b->n, sizeof(AcGrantedBusiness), compare_business);
			break;
		}

	map->valid_until = b->valid_until;
	map->n = b->n;
	map->items = MemoryContextAlloc(cxt, sizeof(AcGrantedBusiness) * Max(b->n, 1));
	if (b->n > 0)
		memcpy(map->items, b->items, sizeof(AcGrantedBusiness) * b->n);
	return map;
}

/* A member's grant: a business, its role's permissions, when it expires. */
typedef struct Grant
{
	int64		business_id;
	int64		permissions;
	TimestampTz expires_at;		/* DT_NOEND: never */
} Grant;

#define ROLES_KEPT 32

/* What a member's build has read: its grants, and the roles looked up. */
typedef struct GrantList
{
	RuleRun    *run;
	Grant	   *grants;
	int			n;
	int			max;
	AcScan		roles;			/* client_role by id, open */
	int			nroles;			/* the roles read so far (the first ROLES_KEPT) */
	int64		role_ids[ROLES_KEPT];
	int64		role_permissions[ROLES_KEPT];
} GrantList;

/* The permissions of client role role_id; false when there is no such role. */
static bool
role_permissions(GrantList *g, int64 role_id, int64 *permissions)
{
	int			i;

	for (i = 0; i < g->nroles; i++)
		if (g->role_ids[i] == role_id)
		{
			*permissions = g->role_permissions[i];
			return true;
		}
	AcScanStart(&g->roles, role_id, 0);
	if (!AcScanNext(&g->roles))
		return false;
	*permissions = AcScanInt64(&g->roles, CLIENT_ROLE_PERMISSIONS, 0);
	if (g->nroles < ROLES_KEPT)
	{
		g->role_ids[g->nroles] = role_id;
		g->role_permissions[g->nroles++] = *permissions;
	}
	return true;
}

/* Adds the unexpired grants the scan (staff_grant or team_grant, started) finds. */
static void
read_grants(GrantList *g, AcScan *scan)
{
	while (AcScanNext(scan))
	{
		TimestampTz expires_at = AcScanTimestamp(scan, GRANT_EXPIRES_AT, DT_NOEND);
		int64		permissions;

		if (!UNEXPIRED(expires_at, g->run->now) ||
			!role_permissions(g, AcScanInt64(scan, GRANT_ROLE_ID, 0), &permissions))
			continue;
		if (g->n == g->max)
		{
			g->max = Max(g->max * 2, 64);
			g->grants = g->grants == NULL ? palloc(sizeof(Grant) * g->max)
				: repalloc_huge(g->grants, sizeof(Grant) * g->max);
		}
		g->grants[g->n].business_id = AcScanInt64(scan, GRANT_BUSINESS_ID, 0);
		g->grants[g->n].permissions = permissions;
		g->grants[g->n].expires_at = expires_at;
		g->n++;
	}
}

static int
compare_grants(const void *a, const void *b)
{
	int64		x = ((const Grant *) a)->business_id;
	int64		y = ((const Grant *) b)->business_id;

	return (x > y) - (x < y);
}

/*
 * Sorts the grants by business and makes one of each business's: its
 * permissions OR-ed, its earliest expiry.
 */
static void
merge_grants(GrantList *g)
{
	int			i,
				n = 0;

	if (g->n == 0)
		return;
	qsort(g->grants, g->n, sizeof(Grant), compare_grants);
	for (i = 1; i < g->n; i++)
	{
		if (g->grants[i].business_id == g->grants[n].business_id)
		{
			g->grants[n].permissions |= g->grants[i].permissions;
			if (g->grants[i].expires_at < g->grants[n].expires_at)
				g->grants[n].expires_at = g->grants[i].expires_at;
		}
		else
			g->grants[++n] = g->grants[i];
	}
	g->n = n + 1;
}

/*
 * A member's grants (of business *only, when only is not NULL): direct, through
 * each team the member is in; *all_clients gets whether the member holds
 * an unexpired standing all-clients grant, with its role's permissions and
 * expiry in *all_permissions and *all_expiry.
 */
static void
read_member_grants(GrantList *g, int64 staff_id, const int64 *only,
				   bool *all_clients, int64 *all_permissions, TimestampTz *all_expiry)
{
	RuleRun    *run = g->run;
	int			nkeys = only != NULL ? 2 : 1;
	int64		business_id = only != NULL ? *only : 0;
	AcScan		scan;
	AcScan		teams;
	List	   *team_ids = NIL;
	ListCell   *lc;

	AcScanOpen(&g->roles, AC_CLIENT_ROLE, 1, run->snapshot, false);

	AcScanOpen(&scan, AC_STAFF_GRANT, nkeys, run->snapshot, false);
	AcScanStart(&scan, staff_id, business_id);
	read_grants(g, &scan);
	AcScanClose(&scan);

	AcScanOpen(&teams, AC_TEAM_MEMBER, 1, run->snapshot, false);
	AcScanStart(&teams, staff_id, 0);
	while (AcScanNext(&teams))
		team_ids = lappend(team_ids, DatumGetPointer(Int64GetDatum(AcScanInt64(&teams, TEAM_MEMBER_TEAM_ID, 0))));
	AcScanClose(&teams);
	if (team_ids != NIL)
	{
		AcScanOpen(&scan, AC_TEAM_GRANT, nkeys, run->snapshot, false);
		foreach(lc, team_ids)
		{
			AcScanStart(&scan, DatumGetInt64(PointerGetDatum(lfirst(lc))), business_id);
			read_grants(g, &scan);
		}
		AcScanClose(&scan);
	}

	/* the 1.0 and 1.1 schemas, until ALTER EXTENSION UPDATE, have no standing grant */
	*all_clients = false;
	if (AcScanOpen(&scan, AC_ALL_CLIENTS_GRANT, 1, run->snapshot, true))
	{
		AcScanStart(&scan, staff_id, 0);
		if (AcScanNext(&scan))
		{
			*all_expiry = AcScanTimestamp(&scan, ALL_CLIENTS_EXPIRES_AT, DT_NOEND);
			*all_clients = UNEXPIRED(*all_expiry, run->now) &&
				role_permissions(g, AcScanInt64(&scan, ALL_CLIENTS_ROLE_ID, 0), all_permissions);
		}
		AcScanClose(&scan);
	}
	AcScanClose(&g->roles);
	merge_grants(g);
}

/* True when the link between the firm and the business is active. */
static bool
link_active(RuleRun *run, int64 firm_id, int64 business_id)
{
	AcScan		links;
	bool		active;

	AcScanOpen(&links, AC_FIRM_CLIENT, 2, run->snapshot, false);
	AcScanStart(&links, firm_id, business_id);
	active = AcScanNext(&links) && AcScanTextEquals(&links, FIRM_CLIENT_STATUS, "active");
	AcScanClose(&links);
	return active;
}

/*
 * THE RULE OF EFFECTIVE ACCESS.
 *
 * Returns, in cxt, every business the staff member can see with the
 * effective permissions there (or only business *only, when only is not
 * NULL: the same rule, read for that one business), under the active
 * snapshot:
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
 * owner and admin of that firm shares (firm_wide: no key involved, the
 * whole firm read).
 */
AcAccessMap *
AcComputeStaffAccess(int64 staff_id, int64 key_id, const int64 *only,
					 const AcCatalog *catalog, MemoryContext cxt)
{
	RuleRun		run;
	MapBuild	build = {0};
	AcScan		links;
	AcAccessMap *map;
	TimestampTz key_expiry;
	AcSessionState state;
	int64		firm_id = 0;
	bool		exists;
	bool		manager = false;
	bool		may_see;

	begin_run(&run);
	build.catalog = catalog;
	build.valid_until = DT_NOEND;
	state = session_state(&run, staff_id, key_id, &exists, &firm_id, &manager, &key_expiry);
	/*
	 * Asked about one business that is not an active client of the firm
	 * (most are not), a member's grants need not be read: none can show it.
	 */
	may_see = state == AC_SESSION_OK &&
		(only == NULL || manager || link_active(&run, firm_id, *only));
	if (may_see && manager)
	{
		/* every active link of the firm */
		AcScanOpen(&links, AC_FIRM_CLIENT, only != NULL ? 2 : 1, run.snapshot, false);
		AcScanStart(&links, firm_id, only != NULL ? *only : 0);
		while (AcScanNext(&links))
			if (AcScanTextEquals(&links, FIRM_CLIENT_STATUS, "active"))
				add_business(&build, AcScanInt64(&links, FIRM_CLIENT_BUSINESS_ID, 0), catalog->all,
							 AcScanInt64(&links, FIRM_CLIENT_CEILING, 0), DT_NOEND);
		AcScanClose(&links);
	}
	else if (may_see)
	{
		GrantList	g = {0};
		bool		all_clients;
		int64		all_permissions = 0;
		TimestampTz all_expiry = DT_NOEND;
		int			i;

		g.run = &run;
		read_member_grants(&g, staff_id, only, &all_clients, &all_permissions, &all_expiry);
		if (all_clients)
		{
			/* every active link of the firm, with the grants on each beside the standing one */
			AcScanOpen(&links, AC_FIRM_CLIENT, only != NULL ? 2 : 1, run.snapshot, false);
			AcScanStart(&links, firm_id, only != NULL ? *only : 0);
			while (AcScanNext(&links))
			{
				Grant		key = {AcScanInt64(&links, FIRM_CLIENT_BUSINESS_ID, 0), 0, DT_NOEND};
				Grant	   *grant = g.n > 0 ? bsearch(&key, g.grants, g.n, sizeof(Grant), compare_grants) : NULL;
				int64		business_id = key.business_id;
				int64		base = all_permissions;
				TimestampTz expires_at = all_expiry;

				if (grant != NULL)
				{
					base |= grant->permissions;
					expires_at = Min(expires_at, grant->expires_at);
				}
				if (AcScanTextEquals(&links, FIRM_CLIENT_STATUS, "active"))
					add_business(&build, business_id, base,
								 AcScanInt64(&links, FIRM_CLIENT_CEILING, 0), expires_at);
			}
			AcScanClose(&links);
		}
		else if (g.n > 0)
		{
			/* one lookup of the link per granted business, never the firm's every link */
			AcScanOpen(&links, AC_FIRM_CLIENT, 2, run.snapshot, false);
			for (i = 0; i < g.n; i++)
			{
				AcScanStart(&links, firm_id, g.grants[i].business_id);
				if (AcScanNext(&links) && AcScanTextEquals(&links, FIRM_CLIENT_STATUS, "active"))
					add_business(&build, g.grants[i].business_id, g.grants[i].permissions,
								 AcScanInt64(&links, FIRM_CLIENT_CEILING, 0), g.grants[i].expires_at);
			}
			AcScanClose(&links);
		}
	}
	if (state == AC_SESSION_OK && key_expiry < build.valid_until)
		build.valid_until = key_expiry;

	map = finish_map(&build, cxt);
	map->uses_grants = state == AC_SESSION_OK && !manager;
	map->exists = exists;
	map->firm_id = exists ? firm_id : 0;
	map->firm_wide = state == AC_SESSION_OK && manager && key_id == 0 && only == NULL;
	end_run(&run);
	return map;
}

/*
 * Returns, in cxt, the one business a portal user sees (when only is not
 * NULL, only if it is *only) with its own permissions (closed over
 * implications; NULL permissions, All Permissions, are every permission
 * of the catalog the map is built from, so a permission defined later is
 * held once the catalog change drops the cached maps); empty when the
 * user is removed or is a contact without login (exists: the user can log
 * in, whatever its status).
 */
AcAccessMap *
AcComputePortalAccess(int64 portal_user_id, const int64 *only, const AcCatalog *catalog,
					  MemoryContext cxt)
{
	RuleRun		run;
	MapBuild	build = {0};
	AcAccessMap *map;
	bool		exists;
	bool		active = false;
	int64		business_id = 0;
	int64		permissions = 0;
	bool		all = false;

	begin_run(&run);
	build.catalog = catalog;
	build.valid_until = DT_NOEND;
	exists = read_portal_user(&run, portal_user_id, &active, &business_id, &permissions, &all);
	/* a removed user sees nothing */
	if (exists && active && (only == NULL || *only == business_id))
		add_business(&build, business_id, all ? catalog->all : permissions, ~INT64CONST(0), DT_NOEND);
	map = finish_map(&build, cxt);
	map->exists = exists;
	end_run(&run);
	return map;
}

/*
 * Returns true when the staff member (any status) or the portal user who
 * can log in exists.
 */
bool
AcPrincipalExists(AcActorKind kind, int64 id)
{
	RuleRun		run;
	AcScan		scan;
	bool		found;

	begin_run(&run);
	AcScanOpen(&scan, kind == AC_ACTOR_STAFF ? AC_STAFF : AC_PORTAL_USER, 1, run.snapshot, false);
	AcScanStart(&scan, id, 0);
	found = AcScanNext(&scan) &&
		(kind == AC_ACTOR_STAFF || AcScanBool(&scan, PORTAL_USER_CAN_LOGIN, false));
	AcScanClose(&scan);
	end_run(&run);
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
