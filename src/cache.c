/*-------------------------------------------------------------------------
 * src/cache.c
 *		The backend cache of access maps and of the permission catalog, and
 *		the trigger that invalidates it in every session.
 *
 * Every write to an access table queues a relcache invalidation of an
 * empty sentinel table, chosen to drop only the maps the change can
 * affect: ac_invalidate_cache(), before each statement, invalidates
 * access_control.cache_sentinel (every map) or, for team grants and client
 * roles, cache_sentinel_grants (members' maps; an owner's, an admin's or a
 * portal user's map does not depend on them); for direct grants and team
 * memberships, ac_invalidate_staff_cache(), after the statement, reads its
 * transition tables and invalidates cache_sentinel_staff_<bucket> for each
 * member named (the maps of the members in that bucket). PostgreSQL
 * delivers it to this backend at the next command and to every other
 * backend at commit, before COMMIT returns; the read helpers accept pending invalidations on the first call
 * of each statement. So a change is honoured by the next statement
 * everywhere. The writing transaction itself neither reads nor fills the
 * cache from its first such write on: its own triggers read the access
 * tables while the statement is still changing them.
 *
 * A map is kept across statements only when the snapshot that built it
 * sees every transaction that may have committed before the last
 * invalidation arrived; otherwise (an older REPEATABLE READ snapshot, a
 * parallel worker) it serves its statement and transaction only. Dropped
 * entries are freed at the end of the transaction, since a running
 * statement may still hold them.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "cache.h"

#define MAX_CACHED_MAPS 4096

typedef struct MapEntry
{
	AcActor		actor;			/* hash key, made with AcMakeActor */
	AcAccessMap *map;
	MemoryContext cxt;
	int			bucket;			/* a staff member's STAFF_BUCKETS bucket, or -1 */
} MapEntry;

/* The buckets of ac_invalidate_staff_cache(): staff id modulo 16. */
#define STAFF_BUCKETS 16
#define staff_bucket(staff_id) ((int) ((uint64) (staff_id) % STAFF_BUCKETS))

static MemoryContext cache_cxt = NULL;
static HTAB *maps = NULL;
static AcCatalog *catalog = NULL;
static MemoryContext catalog_cxt = NULL;
static List *retired = NIL;		/* contexts to free at transaction end */
static Oid	sentinel_relid = InvalidOid;
static Oid	grants_sentinel_relid = InvalidOid;
static Oid	staff_sentinel_relid[STAFF_BUCKETS];	/* InvalidOid before 1.1 */
static Oid	staff_sentinels_for = InvalidOid;	/* the sentinel_relid they were read for */
static TransactionId inval_next_xid = InvalidTransactionId;	/* next xid when the last
																 * invalidation arrived */
static bool xact_wrote_access = false;	/* this transaction wrote an access table */

/* Queues cxt to be deleted at the end of the transaction. */
static void
retire(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	retired = lappend(retired, cxt);
	MemoryContextSwitchTo(old);
}

#define EVERY_MAP		(-2)
#define MEMBER_MAPS		(-1)

/*
 * Drops cached maps (they stay readable until transaction end): every one
 * (EVERY_MAP); those read from grants, team memberships and client roles,
 * that is members' (MEMBER_MAPS); or those of the members in one staff
 * bucket. An owner's or admin's map, or a portal user's, does not depend
 * on grants.
 */
static void
forget_maps(int which)
{
	HASH_SEQ_STATUS status;
	MapEntry   *e;

	if (maps == NULL)
		return;
	hash_seq_init(&status, maps);
	while ((e = hash_seq_search(&status)) != NULL)
		if (which == EVERY_MAP ||
			(e->map->uses_grants && (which == MEMBER_MAPS || e->bucket == which)))
		{
			retire(e->cxt);
			hash_search(maps, &e->actor, HASH_REMOVE, NULL);
		}
}

/* Drops every cached map and the catalog. */
static void
forget_all(void)
{
	forget_maps(EVERY_MAP);
	if (catalog_cxt != NULL)
		retire(catalog_cxt);
	catalog = NULL;
	catalog_cxt = NULL;
}

/* Returns the staff bucket whose sentinel relid is, or -1. */
static int
staff_bucket_of_sentinel(Oid relid)
{
	int			i;

	if (!OidIsValid(staff_sentinels_for))
		return -1;
	for (i = 0; i < STAFF_BUCKETS; i++)
		if (staff_sentinel_relid[i] == relid)
			return i;
	return -1;
}

/*
 * Drops what an invalidation of relid (InvalidOid: of every relation)
 * makes stale, when relid is a sentinel; notes when it arrived.
 */
static void
relcache_callback(Datum arg, Oid relid)
{
	int			bucket;

	if (relid == InvalidOid || (OidIsValid(sentinel_relid) && relid == sentinel_relid))
		forget_all();
	else if (OidIsValid(grants_sentinel_relid) && relid == grants_sentinel_relid)
		forget_maps(MEMBER_MAPS);
	else if ((bucket = staff_bucket_of_sentinel(relid)) >= 0)
		forget_maps(bucket);
	else
		return;
	/* every transaction that committed before has an xid below this */
	inval_next_xid = ReadNextTransactionId();
}

/* At the end of a transaction, frees what was dropped and forgets its writes. */
static void
xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			xact_wrote_access = false;
			foreach(lc, retired)
				MemoryContextDelete((MemoryContext) lfirst(lc));
			list_free(retired);
			retired = NIL;
			break;
		default:
			break;
	}
}

/* Registers the callbacks; called once from _PG_init. */
void
AcCacheInit(void)
{
	HASHCTL		ctl;

	cache_cxt = AllocSetContextCreate(TopMemoryContext, "access_control cache",
									  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(AcActor);
	ctl.entrysize = sizeof(MapEntry);
	ctl.hcxt = cache_cxt;
	maps = hash_create("access_control maps", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
	RegisterXactCallback(xact_callback, NULL);
}

/*
 * Returns the oid of access_control_internal.cache_sentinel (before 1.2:
 * access_control.cache_sentinel); InvalidOid (or an ERROR unless
 * missing_ok) when the extension is not installed.
 */
Oid
AcSentinelRelid(bool missing_ok)
{
	Oid			nsp = get_namespace_oid("access_control_internal", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("cache_sentinel", nsp) : InvalidOid;

	if (!OidIsValid(relid))
	{
		nsp = get_namespace_oid("access_control", true);
		relid = OidIsValid(nsp) ? get_relname_relid("cache_sentinel", nsp) : InvalidOid;
	}

	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"access_control\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION access_control.")));
	sentinel_relid = relid;
	/* since 1.1; under 1.0 every change goes through cache_sentinel */
	if (relid != staff_sentinels_for)
	{
		int			i;
		char		name[NAMEDATALEN];

		grants_sentinel_relid = OidIsValid(nsp) ? get_relname_relid("cache_sentinel_grants", nsp) : InvalidOid;
		for (i = 0; i < STAFF_BUCKETS; i++)
		{
			snprintf(name, sizeof(name), "cache_sentinel_staff_%d", i);
			staff_sentinel_relid[i] = OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;
		}
		staff_sentinels_for = relid;
	}
	return relid;
}

/*
 * True when xid, which a snapshot takes as not yet committed, may have
 * committed before the last invalidation arrived: it is below
 * inval_next_xid and has committed by now (during recovery, where the
 * commit log is not consulted here: whenever it is below).
 */
static bool
may_have_committed_unseen(TransactionId xid)
{
	if (!TransactionIdPrecedes(xid, inval_next_xid))
		return false;
	return RecoveryInProgress() || TransactionIdDidCommit(xid);
}

/*
 * True when something built under the active snapshot may outlive its
 * statement: the snapshot sees every transaction that committed before
 * the last invalidation arrived, so that no change whose invalidation was
 * already taken in is missing from it. Later changes drop it when their
 * invalidation arrives. Never in a parallel worker.
 *
 * (The snapshot's snapXactCompletionCount cannot tell: an active snapshot
 * is a copy, and copies have it zero.)
 */
static bool
snapshot_is_fresh(void)
{
	Snapshot	snap;
	TransactionId xid;
	uint32		i;

	if (!ActiveSnapshotSet() || IsParallelWorker())
		return false;
	snap = GetActiveSnapshot();
	if (snap->snapshot_type != SNAPSHOT_MVCC)
		return false;
	if (!TransactionIdIsValid(inval_next_xid))
		return true;			/* none arrived since this backend started */

	/* transactions it takes as not yet started; a long list: give up */
	if (TransactionIdPrecedes(snap->xmax, inval_next_xid) &&
		inval_next_xid - snap->xmax > 64)
		return false;
	for (xid = snap->xmax; TransactionIdPrecedes(xid, inval_next_xid);)
	{
		if (may_have_committed_unseen(xid))
			return false;
		TransactionIdAdvance(xid);
	}

	/*
	 * Transactions it takes as running: the top-level ones are in xip, or
	 * during recovery all of them in subxip (of which a copied snapshot
	 * that overflowed keeps none).
	 */
	for (i = 0; i < snap->xcnt; i++)
		if (may_have_committed_unseen(snap->xip[i]))
			return false;
	if (snap->takenDuringRecovery)
	{
		if (snap->suboverflowed || (snap->subxcnt > 0 && snap->subxip == NULL))
			return false;
		for (i = 0; i < (uint32) Max(snap->subxcnt, 0); i++)
			if (may_have_committed_unseen(snap->subxip[i]))
				return false;
	}
	return true;
}

/* Returns the permission catalog, loading it when needed. */
const AcCatalog *
AcGetCatalog(void)
{
	MemoryContext cxt;
	AcCatalog  *c;

	if (catalog != NULL && !xact_wrote_access)
		return catalog;
	AcSentinelRelid(false);
	cxt = AllocSetContextCreate(cache_cxt, "access_control catalog", ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(AcCatalog));
	AcLoadCatalog(c);
	if (!xact_wrote_access && snapshot_is_fresh() && catalog == NULL)
	{
		catalog = c;
		catalog_cxt = cxt;
	}
	else
		retire(cxt);
	return c;
}

static const AcAccessMap empty_map = {0, NULL, DT_NOEND, false};

/*
 * Returns everything the actor can see, from the backend cache when it
 * holds a valid map; an empty map for no actor.
 */
const AcAccessMap *
AcGetAccessMap(const AcActor *actor)
{
	AcActor		key;
	MapEntry   *e;
	bool		found;
	MemoryContext cxt;
	AcAccessMap *map;
	const AcCatalog *cat;

	/* nobody, and system, see no business through the helpers */
	if (actor->kind == AC_ACTOR_NONE || actor->kind == AC_ACTOR_SYSTEM)
		return &empty_map;
	/* a copy made by AcMakeActor: no stray padding bytes in the hash key */
	AcMakeActor(&key, actor->kind, actor->id, actor->key_id);

	AcSentinelRelid(false);
	e = xact_wrote_access ? NULL : hash_search(maps, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		if (GetCurrentTransactionStartTimestamp() < e->map->valid_until)
			return e->map;
		retire(e->cxt);
		hash_search(maps, &key, HASH_REMOVE, NULL);
	}

	cat = AcGetCatalog();
	cxt = AllocSetContextCreate(cache_cxt, "access_control map", ALLOCSET_SMALL_SIZES);
	if (actor->kind == AC_ACTOR_PORTAL)
		map = AcComputePortalAccess(actor->id, cat, cxt);
	else
		map = AcComputeStaffAccess(actor->id, actor->key_id, cat, cxt);

	if (xact_wrote_access || !snapshot_is_fresh())
	{
		retire(cxt);
		return map;
	}
	if (hash_get_num_entries(maps) >= MAX_CACHED_MAPS)
		forget_all();
	e = hash_search(maps, &key, HASH_ENTER, &found);
	if (found)
		retire(e->cxt);
	e->map = map;
	e->cxt = cxt;
	e->bucket = actor->kind == AC_ACTOR_STAFF ? staff_bucket(actor->id) : -1;
	return map;
}

/*
 * Keeps the current transaction off the cache until it ends: it is about
 * to write an access table.
 */
void
AcNoteAccessWrite(void)
{
	xact_wrote_access = true;
}

/*
 * Trigger on every access table, BEFORE each statement: queues an
 * invalidation that every session (this one at the next command, the
 * others at commit) acts on, and keeps this transaction off the cache.
 */
PG_FUNCTION_INFO_V1(ac_invalidate_cache);
Datum
ac_invalidate_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("invalidate_cache() must be called as a trigger")));
	relid = AcSentinelRelid(false);
	if (trigdata->tg_trigger->tgnargs == 1 && OidIsValid(grants_sentinel_relid))
	{
		const char *scope = trigdata->tg_trigger->tgargs[0];

		/*
		 * grants and team memberships: invalidate_staff_cache() names the
		 * members' buckets once the statement has run, except for TRUNCATE
		 */
		if (strcmp(scope, "staff") == 0 && !TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
			relid = InvalidOid;
		/* team grants, client roles (and a TRUNCATE): every member's map */
		else if (strcmp(scope, "grants") == 0 || strcmp(scope, "staff") == 0)
			relid = grants_sentinel_relid;
	}
	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
	AcNoteAccessWrite();
	return PointerGetDatum(NULL);
}

/* Adds to *buckets the staff bucket of every row of a transition table. */
static void
note_staff_buckets(Tuplestorestate *rows, Relation rel, uint32 *buckets)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attnum = SPI_fnumber(desc, "staff_id");
	TupleTableSlot *slot;
	int			ptr;

	if (rows == NULL)
		return;
	if (attnum <= 0)
	{
		*buckets = (UINT32_C(1) << STAFF_BUCKETS) - 1;
		return;
	}
	ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(rows, ptr);
	tuplestore_rescan(rows);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, attnum, &isnull);

		if (!isnull)
			*buckets |= UINT32_C(1) << staff_bucket(DatumGetInt64(d));
	}
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_select_read_pointer(rows, 0);
}

/*
 * Trigger on grants and team memberships, AFTER ... FOR EACH STATEMENT
 * with transition tables: invalidates the staff bucket of every member
 * whose rows the statement changed, so only their cached maps are dropped.
 */
PG_FUNCTION_INFO_V1(ac_invalidate_staff_cache);
Datum
ac_invalidate_staff_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	uint32		buckets = 0;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("invalidate_staff_cache() must be an AFTER ... FOR EACH STATEMENT trigger")));
	AcSentinelRelid(false);
	note_staff_buckets(trigdata->tg_oldtable, trigdata->tg_relation, &buckets);
	note_staff_buckets(trigdata->tg_newtable, trigdata->tg_relation, &buckets);
	for (i = 0; i < STAFF_BUCKETS; i++)
		if (buckets & (UINT32_C(1) << i))
			CacheInvalidateRelcacheByRelid(OidIsValid(staff_sentinel_relid[i]) ?
										   staff_sentinel_relid[i] : sentinel_relid);
	AcNoteAccessWrite();
	return PointerGetDatum(NULL);
}
