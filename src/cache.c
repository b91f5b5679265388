/*-------------------------------------------------------------------------
 * src/cache.c
 *		The backend cache of access maps and of the permission catalog, and
 *		the trigger that invalidates it in every session.
 *
 * Every write to an access table fires ac_invalidate_cache(), which queues a
 * relcache invalidation of access_control.cache_sentinel. PostgreSQL delivers
 * it to this backend at the next command (our own changes) and to every
 * other backend at commit, before COMMIT returns; the read helpers accept
 * pending invalidations on the first call of each statement. So a change is
 * honoured by the next statement everywhere.
 *
 * A map is kept across statements only when the snapshot that built it had
 * already seen every transaction completed before the last invalidation
 * arrived; otherwise (an older REPEATABLE READ snapshot, a parallel worker)
 * it serves its statement and transaction only. A committing transaction
 * becomes visible before it sends its invalidation, so a map built from a
 * snapshot that saw it stays right; the danger is a snapshot taken before a
 * commit whose invalidation this backend then processed. To rule that out
 * the callback remembers the latest completed xid when an invalidation
 * arrives, and a map is kept only when its snapshot sees every transaction
 * up to that xid (or the ones it does not see are still running, so their
 * own invalidation is still to come). Dropped entries are freed at the end
 * of the transaction, since a running statement may still hold them.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "fmgr.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "access_control.h"

#define MAX_CACHED_MAPS 4096

typedef struct MapEntry
{
	char		key[80];		/* hash key: "staff:N", "staff:N:key:K", "portal:N" */
	AcAccessMap *map;
	MemoryContext cxt;
} MapEntry;

static MemoryContext cache_cxt = NULL;
static HTAB *maps = NULL;
static AcCatalog *catalog = NULL;
static MemoryContext catalog_cxt = NULL;
static List *retired = NIL;		/* contexts to free at transaction end */
static Oid	sentinel_relid = InvalidOid;
static TransactionId last_inval_xid = InvalidTransactionId;	/* latest completed xid when an invalidation arrived */

static void
retire(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	retired = lappend(retired, cxt);
	MemoryContextSwitchTo(old);
}

/* Drops every cached map and the catalog (they stay readable until transaction end). */
static void
forget_all(void)
{
	HASH_SEQ_STATUS status;
	MapEntry   *e;

	if (maps != NULL)
	{
		hash_seq_init(&status, maps);
		while ((e = hash_seq_search(&status)) != NULL)
		{
			retire(e->cxt);
			hash_search(maps, e->key, HASH_REMOVE, NULL);
		}
	}
	if (catalog_cxt != NULL)
		retire(catalog_cxt);
	catalog = NULL;
	catalog_cxt = NULL;
}

static void
relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || (OidIsValid(sentinel_relid) && relid == sentinel_relid))
	{
		TransactionId latest;

		forget_all();
		LWLockAcquire(ProcArrayLock, LW_SHARED);
		latest = XidFromFullTransactionId(ShmemVariableCache->latestCompletedXid);
		LWLockRelease(ProcArrayLock);
		if (TransactionIdIsNormal(latest) &&
			(!TransactionIdIsValid(last_inval_xid) || TransactionIdFollows(latest, last_inval_xid)))
			last_inval_xid = latest;
	}
}

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
	ctl.keysize = 80;
	ctl.entrysize = sizeof(MapEntry);
	ctl.hcxt = cache_cxt;
	maps = hash_create("access_control maps", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
	RegisterXactCallback(xact_callback, NULL);
}

/*
 * Returns the oid of access_control.cache_sentinel; InvalidOid (or an
 * ERROR unless missing_ok) when the extension is not installed.
 */
Oid
AcSentinelRelid(bool missing_ok)
{
	Oid			nsp = get_namespace_oid("access_control", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("cache_sentinel", nsp) : InvalidOid;

	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"access_control\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION access_control.")));
	sentinel_relid = relid;
	return relid;
}

/* Returns the role that owns the extension's tables. */
Oid
AcExtensionOwner(void)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(AcSentinelRelid(false)));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for access_control.cache_sentinel");
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* True when xid, which snap does not see, may have completed before the last invalidation. */
static bool
unseen_and_done(TransactionId xid)
{
	return TransactionIdPrecedesOrEquals(xid, last_inval_xid) && !TransactionIdIsInProgress(xid);
}

/*
 * True when something built under the active snapshot may outlive its
 * statement: the snapshot saw every transaction that completed before the
 * last invalidation this backend processed (see the header comment).
 */
static bool
snapshot_is_fresh(void)
{
	Snapshot	snap;
	uint32		i;
	int32		j;

	if (!ActiveSnapshotSet() || IsParallelWorker())
		return false;
	snap = GetActiveSnapshot();
	if (snap->snapshot_type != SNAPSHOT_MVCC)
		return false;
	if (!TransactionIdIsValid(last_inval_xid))
		return true;
	if (!TransactionIdFollows(snap->xmax, last_inval_xid))
		return false;
	for (i = 0; i < snap->xcnt; i++)
		if (unseen_and_done(snap->xip[i]))
			return false;
	/* a standby's snapshot lists every running xid among the subxids */
	if (snap->takenDuringRecovery)
	{
		if (snap->suboverflowed)
			return false;
		for (j = 0; j < snap->subxcnt; j++)
			if (unseen_and_done(snap->subxip[j]))
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

	if (catalog != NULL)
		return catalog;
	AcSentinelRelid(false);
	cxt = AllocSetContextCreate(cache_cxt, "access_control catalog", ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(AcCatalog));
	AcLoadCatalog(c);
	if (snapshot_is_fresh() && catalog == NULL)
	{
		catalog = c;
		catalog_cxt = cxt;
	}
	else
		retire(cxt);
	return c;
}

static const AcAccessMap empty_map = {0, NULL, DT_NOEND};

/*
 * Returns everything the actor can see, from the backend cache when it
 * holds a valid map; an empty map for no actor.
 */
const AcAccessMap *
AcGetAccessMap(const AcActor *actor)
{
	char		key[80];
	MapEntry   *e;
	bool		found;
	MemoryContext cxt;
	AcAccessMap *map;
	const AcCatalog *cat;

	if (actor->kind == AC_ACTOR_NONE)
		return &empty_map;
	if (actor->kind == AC_ACTOR_PORTAL)
		snprintf(key, sizeof(key), "portal:" INT64_FORMAT, actor->id);
	else if (actor->key_id != 0)
		snprintf(key, sizeof(key), "staff:" INT64_FORMAT ":key:" INT64_FORMAT, actor->id, actor->key_id);
	else
		snprintf(key, sizeof(key), "staff:" INT64_FORMAT, actor->id);

	AcSentinelRelid(false);
	e = hash_search(maps, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		if (GetCurrentTransactionStartTimestamp() < e->map->valid_until)
			return e->map;
		retire(e->cxt);
		hash_search(maps, key, HASH_REMOVE, NULL);
	}

	cat = AcGetCatalog();
	cxt = AllocSetContextCreate(cache_cxt, "access_control map", ALLOCSET_SMALL_SIZES);
	if (actor->kind == AC_ACTOR_PORTAL)
		map = AcComputePortalAccess(actor->id, cat, cxt);
	else
		map = AcComputeStaffAccess(actor->id, actor->key_id, cat, cxt);

	if (!snapshot_is_fresh())
	{
		retire(cxt);
		return map;
	}
	if (hash_get_num_entries(maps) >= MAX_CACHED_MAPS)
		forget_all();
	e = hash_search(maps, key, HASH_ENTER, &found);
	if (found)
		retire(e->cxt);
	e->map = map;
	e->cxt = cxt;
	return map;
}

/*
 * Trigger on every access table: queues an invalidation that every session
 * (this one at the next command, the others at commit) acts on.
 */
PG_FUNCTION_INFO_V1(ac_invalidate_cache);
Datum
ac_invalidate_cache(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("invalidate_cache() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(AcSentinelRelid(false));
	return PointerGetDatum(NULL);
}
