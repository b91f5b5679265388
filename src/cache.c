/*-------------------------------------------------------------------------
 * src/cache.c
 *		The backend cache of access maps and of the permission catalog, and
 *		the triggers that invalidate it in every session.
 *
 * Maps are kept by actor, least recently used first out, within
 * access_control.cache_size of memory; the owners and admins of a firm
 * share one map (their access is the firm's), which their own small
 * entries point to.
 *
 * Invalidation is by key: a row written to an access table queues, through
 * a row-level trigger (which logical replication's apply fires too, as it
 * is ENABLE ALWAYS), a relcache invalidation of an oid that stands for the
 * firm, the staff member or the portal user the row concerns (key_oid();
 * no relation has it, so the relation cache ignores it). An entry is
 * listed under the keys it depends on, and such an invalidation drops
 * only those entries: a change in one firm leaves other firms' maps alone.
 * A change to the permission catalog, a TRUNCATE or too many keys in one
 * transaction invalidate access_control's cache_sentinel (everything); a
 * change to a built-in client role, cache_sentinel_grants (every member's
 * map). PostgreSQL delivers an invalidation to this backend at the next
 * command and to every other backend at commit, before COMMIT returns;
 * the read helpers accept pending invalidations on the first call of each
 * statement. So a change is honoured by the next statement everywhere.
 * The writing transaction itself neither reads nor fills the cache from
 * its first such write on: its own triggers read the access tables while
 * the statement is still changing them.
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

#include <limits.h>

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/ilist.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "cache.h"
#include "owner.h"

/* access_control.cache_size, in kB */
int			ac_cache_size = 64 * 1024;

/*
 * Invalidation keys: an oid in [KEY_OID_BASE, 2^32) that hashes the kind
 * and the id. Another relation that happens to get such an oid only
 * costs a spurious drop of a few maps; two keys that collide, the same.
 */
#define KEY_OID_BASE	UINT32_C(0xC0000000)
#define KEY_FIRM		'F'
#define KEY_STAFF		'S'
#define KEY_PORTAL		'P'
#define is_key_oid(oid)	((uint32) (oid) >= KEY_OID_BASE)

/* How many keys one transaction sends before it invalidates everything once. */
#define MAX_XACT_KEYS	256

/* The hash key of a firm's shared map: an AcActor of this kind. */
#define MAP_FIRM		((AcActorKind) 100)

typedef struct MapEntry MapEntry;

/* An entry's place in the list of one invalidation key. */
typedef struct KeyLink
{
	dlist_node	node;
	MapEntry   *entry;			/* entries never move in their hash table */
	Oid			key;
} KeyLink;

struct MapEntry
{
	AcActor		actor;			/* hash key (zeroed, then filled) */
	AcAccessMap *map;			/* NULL in a manager's entry: see firm_id */
	MemoryContext cxt;			/* map's memory, or NULL */
	int64		firm_id;		/* a manager's entry: whose shared map */
	Size		bytes;			/* counted against cache_size */
	int			nkeys;
	KeyLink		keys[2];		/* the invalidation keys it is listed under */
	dlist_node	lru;			/* most recently used first */
};

/* The entries listed under one invalidation key. */
typedef struct KeyList
{
	Oid			key;			/* hash key */
	dlist_head	entries;
} KeyList;

static MemoryContext cache_cxt = NULL;
static HTAB *maps = NULL;
static HTAB *key_lists = NULL;
static dlist_head lru = DLIST_STATIC_INIT(lru);
static Size cache_bytes = 0;
static AcCatalog *catalog = NULL;
static MemoryContext catalog_cxt = NULL;
static List *retired = NIL;		/* contexts to free at transaction end */
static Oid	sentinel_relid = InvalidOid;
static Oid	grants_sentinel_relid = InvalidOid;
static Oid	owner = InvalidOid;	/* the extension's owner ... */
static Oid	owner_for = InvalidOid; /* ... read for this sentinel */
static TransactionId inval_next_xid = InvalidTransactionId;	/* next xid when the last
																 * invalidation arrived */
static bool xact_wrote_access = false;	/* this transaction wrote an access table */
static bool xact_wrote_permissions = false;	/* ... the permission catalog */
static AcCatalog *xact_catalog = NULL;	/* the catalog as of xact_catalog_cid */
static CommandId xact_catalog_cid = InvalidCommandId;
static Oid	xact_keys[MAX_XACT_KEYS];	/* keys this transaction has sent */
static int	xact_nkeys = 0;
static bool xact_sent_all = false;	/* ... or everything */

/* Queues cxt to be deleted at the end of the transaction. */
static void
retire(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	retired = lappend(retired, cxt);
	MemoryContextSwitchTo(old);
}

/* The invalidation key of a firm, a staff member or a portal user. */
static Oid
key_oid(char kind, int64 id)
{
	uint64		h = hash_bytes_uint32_extended((uint32) (id ^ (id >> 32)), (uint64) kind);

	return (Oid) (KEY_OID_BASE | (uint32) (h & ~KEY_OID_BASE));
}

/* Unlinks e from the cache and retires its map. */
static void
drop_entry(MapEntry *e)
{
	int			i;

	for (i = 0; i < e->nkeys; i++)
	{
		KeyList    *kl;

		dlist_delete(&e->keys[i].node);
		/* an emptied list goes too, so that the lists stay few */
		kl = hash_search(key_lists, &e->keys[i].key, HASH_FIND, NULL);
		if (kl != NULL && dlist_is_empty(&kl->entries))
			hash_search(key_lists, &e->keys[i].key, HASH_REMOVE, NULL);
	}
	dlist_delete(&e->lru);
	cache_bytes -= e->bytes;
	if (e->cxt != NULL)
		retire(e->cxt);
	hash_search(maps, &e->actor, HASH_REMOVE, NULL);
}

/* Lists e under key. */
static void
add_key(MapEntry *e, Oid key)
{
	KeyList    *kl;
	bool		found;

	kl = hash_search(key_lists, &key, HASH_ENTER, &found);
	if (!found)
		dlist_init(&kl->entries);
	e->keys[e->nkeys].entry = e;
	e->keys[e->nkeys].key = key;
	dlist_push_head(&kl->entries, &e->keys[e->nkeys].node);
	e->nkeys++;
}

/* Drops the entries listed under key. */
static void
forget_key(Oid key)
{
	KeyList    *kl = hash_search(key_lists, &key, HASH_FIND, NULL);

	while (kl != NULL && !dlist_is_empty(&kl->entries))
	{
		KeyLink    *link = dlist_container(KeyLink, node, dlist_head_node(&kl->entries));

		drop_entry(link->entry);	/* may remove kl: look it up again */
		kl = hash_search(key_lists, &key, HASH_FIND, NULL);
	}
}

/* Drops every members' map (those read from grants, teams and roles). */
static void
forget_member_maps(void)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &lru)
	{
		MapEntry   *e = dlist_container(MapEntry, lru, iter.cur);

		if (e->map != NULL && e->map->uses_grants)
			drop_entry(e);
	}
}

/* Drops every cached map and the catalog. */
static void
forget_all(void)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &lru)
		drop_entry(dlist_container(MapEntry, lru, iter.cur));
	if (catalog_cxt != NULL)
		retire(catalog_cxt);
	catalog = NULL;
	catalog_cxt = NULL;
	xact_catalog = NULL;
}

/* Drops the least recently used entries while the cache is over its size. */
static void
enforce_size(void)
{
	Size		limit = (Size) ac_cache_size * 1024;

	while (cache_bytes > limit && !dlist_is_empty(&lru))
		drop_entry(dlist_container(MapEntry, lru, dlist_tail_node(&lru)));
}

/*
 * Drops what an invalidation of relid (InvalidOid: of every relation)
 * makes stale, when relid is a sentinel or a key; notes when it arrived.
 */
static void
relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || (OidIsValid(sentinel_relid) && relid == sentinel_relid))
		forget_all();
	else if (OidIsValid(grants_sentinel_relid) && relid == grants_sentinel_relid)
		forget_member_maps();
	else if (is_key_oid(relid))
		forget_key(relid);
	else
		return;
	/* every transaction that committed before has an xid below this */
	inval_next_xid = ReadNextTransactionId();
}

/* Forgets what this transaction sent, or wrote. */
static void
reset_xact_state(void)
{
	xact_wrote_access = false;
	xact_wrote_permissions = false;
	xact_catalog = NULL;
	xact_catalog_cid = InvalidCommandId;
	xact_nkeys = 0;
	xact_sent_all = false;
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
			reset_xact_state();
			foreach(lc, retired)
				MemoryContextDelete((MemoryContext) lfirst(lc));
			list_free(retired);
			retired = NIL;
			break;
		default:
			break;
	}
}

/*
 * A subtransaction that rolls back takes its invalidations with it: send
 * every key again if it comes up (sending twice costs nothing).
 */
static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		xact_nkeys = 0;
		xact_sent_all = false;
		xact_catalog = NULL;
		xact_catalog_cid = InvalidCommandId;
	}
}

/*
 * Defines access_control.cache_size and registers the callbacks; called
 * once from _PG_init, before the prefix is reserved.
 */
void
AcCacheInit(void)
{
	HASHCTL		ctl;

	DefineCustomIntVariable("access_control.cache_size",
							"How much memory a session may keep access maps in.",
							"Beyond it, the least recently used maps are dropped.",
							&ac_cache_size,
							64 * 1024, 1, INT_MAX / 1024,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	cache_cxt = AllocSetContextCreate(TopMemoryContext, "access_control cache",
									  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(AcActor);
	ctl.entrysize = sizeof(MapEntry);
	ctl.hcxt = cache_cxt;
	maps = hash_create("access_control maps", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(KeyList);
	ctl.hcxt = cache_cxt;
	key_lists = hash_create("access_control invalidation keys", 256, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
	RegisterXactCallback(xact_callback, NULL);
	RegisterSubXactCallback(subxact_callback, NULL);
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
	if (relid != sentinel_relid)
	{
		sentinel_relid = relid;
		grants_sentinel_relid = OidIsValid(nsp) ? get_relname_relid("cache_sentinel_grants", nsp) : InvalidOid;
	}
	return relid;
}

/*
 * Returns the extension's owner, read once per installation of the
 * extension (a new installation has a new sentinel). Raises 55000 when
 * the extension is not installed.
 */
Oid
AcCachedExtensionOwner(void)
{
	Oid			relid = AcSentinelRelid(false);

	if (relid != owner_for)
	{
		owner = AcExtensionOwner();
		owner_for = relid;
	}
	return owner;
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

/*
 * Returns the permission catalog, loading it when needed. A transaction
 * that cannot use the backend's copy keeps one of its own, which it reads
 * again once per command after it wrote the permission table (its own
 * snapshot sees its changes).
 */
const AcCatalog *
AcGetCatalog(void)
{
	MemoryContext cxt;
	AcCatalog  *c;
	CommandId	cid;

	if (catalog != NULL && !xact_wrote_permissions)
		return catalog;
	cid = ActiveSnapshotSet() ? GetActiveSnapshot()->curcid : InvalidCommandId;
	/* this transaction's copy: good until it writes the permission table */
	if (xact_catalog != NULL &&
		(!xact_wrote_permissions || (cid == xact_catalog_cid && cid != InvalidCommandId)))
		return xact_catalog;
	AcSentinelRelid(false);
	cxt = AllocSetContextCreate(cache_cxt, "access_control catalog", ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(AcCatalog));
	AcLoadCatalog(c);
	/* only a write to the permission table makes this transaction's catalog its own */
	if (!xact_wrote_permissions && snapshot_is_fresh() && catalog == NULL)
	{
		catalog = c;
		catalog_cxt = cxt;
	}
	else
	{
		retire(cxt);
		xact_catalog = c;
		xact_catalog_cid = cid;
	}
	return c;
}

static const AcAccessMap empty_map = {0, NULL, DT_NOEND, false, false, false, 0};

/* Makes the hash key of actor, or of firm_id's shared map when firm_id > 0. */
static void
make_key(AcActor *key, const AcActor *actor, int64 firm_id)
{
	memset(key, 0, sizeof(AcActor));
	if (firm_id > 0)
	{
		key->kind = MAP_FIRM;
		key->id = firm_id;
	}
	else
	{
		key->kind = actor->kind;
		key->id = actor->id;
		key->key_id = actor->key_id;
	}
}

/* Counts e's memory against the cache and makes it the most recently used. */
static void
account(MapEntry *e)
{
	e->bytes = sizeof(MapEntry) * 2 + e->nkeys * sizeof(KeyList) * 2 +
		(e->cxt != NULL ? MemoryContextMemAllocated(e->cxt, true) : 0);
	cache_bytes += e->bytes;
	dlist_push_head(&lru, &e->lru);
}

/* Returns the valid cached map of key, marking it recently used; or NULL. */
static MapEntry *
find_entry(const AcActor *key)
{
	MapEntry   *e = hash_search(maps, key, HASH_FIND, NULL);

	if (e == NULL)
		return NULL;
	if (e->map != NULL && GetCurrentTransactionStartTimestamp() >= e->map->valid_until)
	{
		drop_entry(e);
		return NULL;
	}
	dlist_move_head(&lru, &e->lru);
	return e;
}

/* Enters a new entry for key (replacing any). */
static MapEntry *
enter_entry(const AcActor *key)
{
	bool		found;
	MapEntry   *e = hash_search(maps, key, HASH_FIND, NULL);

	if (e != NULL)
		drop_entry(e);
	e = hash_search(maps, key, HASH_ENTER, &found);
	e->map = NULL;
	e->cxt = NULL;
	e->firm_id = 0;
	e->nkeys = 0;
	e->bytes = 0;
	return e;
}

/*
 * Returns everything the actor can see, from the backend cache when it
 * holds a valid map; an empty map for no actor. The map also tells
 * whether the principal exists.
 */
/*
 * Returns the actor's valid map from the backend cache, marking it
 * recently used; NULL when there is none, or when this transaction may
 * not use the cache.
 */
static const AcAccessMap *
cached_map(const AcActor *actor)
{
	AcActor		key;
	MapEntry   *e;

	make_key(&key, actor, 0);
	if (xact_wrote_access || (e = find_entry(&key)) == NULL)
		return NULL;
	if (e->map != NULL)
		return e->map;
	/* an owner's or admin's entry: the firm's shared map, if still there */
	{
		AcActor		fkey;
		MapEntry   *f;

		make_key(&fkey, actor, e->firm_id);
		if ((f = find_entry(&fkey)) != NULL)
			return f->map;
	}
	return NULL;
}

const AcAccessMap *
AcGetAccessMap(const AcActor *actor)
{
	AcActor		key;
	MapEntry   *e;
	MemoryContext cxt;
	AcAccessMap *map;
	const AcCatalog *cat;

	/* nobody, and system, see no business through the helpers */
	if (actor->kind == AC_ACTOR_NONE || actor->kind == AC_ACTOR_SYSTEM)
		return &empty_map;
	make_key(&key, actor, 0);
	enforce_size();				/* access_control.cache_size may have shrunk */

	{
		const AcAccessMap *cached = cached_map(actor);

		if (cached != NULL)
			return cached;
	}

	cat = AcGetCatalog();
	cxt = AllocSetContextCreate(cache_cxt, "access_control map", ALLOCSET_SMALL_SIZES);
	if (actor->kind == AC_ACTOR_PORTAL)
		map = AcComputePortalAccess(actor->id, NULL, cat, cxt);
	else
		map = AcComputeStaffAccess(actor->id, actor->key_id, NULL, cat, cxt);

	if (xact_wrote_access || !snapshot_is_fresh())
	{
		retire(cxt);
		return map;
	}

	if (map->firm_wide)
	{
		/* the firm's map, shared by its owners and admins */
		AcActor		fkey;
		MapEntry   *f;

		make_key(&fkey, actor, map->firm_id);
		f = find_entry(&fkey);
		if (f != NULL)
		{
			retire(cxt);		/* another owner or admin's copy is kept */
			map = f->map;
		}
		else
		{
			f = enter_entry(&fkey);
			f->map = map;
			f->cxt = cxt;
			add_key(f, key_oid(KEY_FIRM, map->firm_id));
			account(f);
		}
		e = enter_entry(&key);
		e->firm_id = map->firm_id;
		add_key(e, key_oid(KEY_FIRM, map->firm_id));
		add_key(e, key_oid(KEY_STAFF, actor->id));
		account(e);
		/* the firm's map first out after its last user's entry, not before */
		dlist_move_head(&lru, &f->lru);
	}
	else
	{
		e = enter_entry(&key);
		e->map = map;
		e->cxt = cxt;
		if (actor->kind == AC_ACTOR_PORTAL)
			add_key(e, key_oid(KEY_PORTAL, actor->id));
		else
		{
			add_key(e, key_oid(KEY_STAFF, actor->id));
			if (map->firm_id > 0)
				add_key(e, key_oid(KEY_FIRM, map->firm_id));
		}
		account(e);
	}
	enforce_size();
	return map;
}

/*
 * True when the actor exists (a staff member of any status, a portal user
 * who can log in). Its cached map says so; otherwise one index probe of
 * its row answers, and no map is built: through a pool, most actors
 * check a row or two and are gone.
 */
bool
AcActorExists(const AcActor *actor)
{
	AcActor		key;
	MapEntry   *e;

	make_key(&key, actor, 0);
	if (!xact_wrote_access && (e = hash_search(maps, &key, HASH_FIND, NULL)) != NULL)
		return e->map != NULL ? e->map->exists : true;	/* a manager exists */
	return AcPrincipalExists(actor->kind, actor->id);
}

/*
 * The actor's cached map, or NULL when none is cached (nothing is built);
 * nobody's and system's, the empty map.
 */
const AcAccessMap *
AcCachedAccessMap(const AcActor *actor)
{
	if (actor->kind == AC_ACTOR_NONE || actor->kind == AC_ACTOR_SYSTEM)
		return &empty_map;
	enforce_size();				/* access_control.cache_size may have shrunk */
	return cached_map(actor);
}

/*
 * Single-business checks. An actor without a cached map whose statement
 * checks one business (a point lookup) is answered by the rule read for
 * that business alone, a few index probes, where building the map reads
 * every grant of the actor. Once an actor has been answered this way
 * PROBES_BEFORE_MAP times in this backend, the probes have cost about
 * what its map costs to build, and the map is built and kept. (A call
 * site that checks more than a few rows in one statement builds it at
 * once: helpers.c.) The counts are a hint, never part of an answer: at
 * MAX_PROBED_ACTORS actors they start again from nothing.
 */
#define PROBES_BEFORE_MAP	8
#define MAX_PROBED_ACTORS	16384

typedef struct ProbeCount
{
	AcActor		actor;			/* hash key */
	uint32		probes;
} ProbeCount;

static HTAB *probe_counts = NULL;

/* True when the actor's next single-business check should probe, not build the map. */
bool
AcProbeInsteadOfMap(const AcActor *actor)
{
	AcActor		key;
	ProbeCount *pc;
	bool		found;

	if (actor->kind == AC_ACTOR_NONE || actor->kind == AC_ACTOR_SYSTEM)
		return false;
	if (probe_counts != NULL && hash_get_num_entries(probe_counts) >= MAX_PROBED_ACTORS)
	{
		hash_destroy(probe_counts);
		probe_counts = NULL;
	}
	if (probe_counts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(AcActor);
		ctl.entrysize = sizeof(ProbeCount);
		ctl.hcxt = cache_cxt;
		probe_counts = hash_create("access_control probe counts", 1024, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	make_key(&key, actor, 0);
	pc = hash_search(probe_counts, &key, HASH_ENTER, &found);
	if (!found)
		pc->probes = 0;
	return ++pc->probes <= PROBES_BEFORE_MAP;
}

/*
 * The actor's access to business_id alone, by the rule read now for that
 * business: a map, in cxt, of that business or of none. Not kept.
 */
AcAccessMap *
AcComputeAccessTo(const AcActor *actor, int64 business_id, MemoryContext cxt)
{
	const AcCatalog *cat = AcGetCatalog();

	if (actor->kind == AC_ACTOR_PORTAL)
		return AcComputePortalAccess(actor->id, &business_id, cat, cxt);
	return AcComputeStaffAccess(actor->id, actor->key_id, &business_id, cat, cxt);
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

/* Queues an invalidation of relid for every session (this one at the next command). */
static void
send_relid(Oid relid)
{
	CacheInvalidateRelcacheByRelid(relid);
}

/* Invalidates every map and the catalog, once per transaction. */
static void
send_all(void)
{
	if (!xact_sent_all)
		send_relid(AcSentinelRelid(false));
	xact_sent_all = true;
}

/*
 * Queues an invalidation of key. It names no relation, so it goes out as
 * the invalidation of a pg_class row that has that oid: the relation
 * cache finds nothing to drop, and the relcache callbacks (cache.c's) get
 * the oid. After MAX_XACT_KEYS keys, the transaction invalidates
 * everything once instead.
 */
static void
send_key(char kind, int64 id)
{
	Oid			key = key_oid(kind, id);
	int			i;
	Size		hoff = MAXALIGN(SizeofHeapTupleHeader);
	HeapTupleHeader hdr;
	HeapTupleData tup;
	Form_pg_class form;

	if (xact_sent_all)
		return;
	for (i = 0; i < xact_nkeys; i++)
		if (xact_keys[i] == key)
			return;
	if (xact_nkeys == MAX_XACT_KEYS)
	{
		send_all();
		return;
	}
	xact_keys[xact_nkeys++] = key;

	hdr = palloc0(hoff + sizeof(FormData_pg_class));
	hdr->t_hoff = hoff;
	form = (Form_pg_class) ((char *) hdr + hoff);
	form->oid = key;
	form->relisshared = false;
	memset(&tup, 0, sizeof(tup));
	tup.t_len = hoff + sizeof(FormData_pg_class);
	tup.t_data = hdr;
	tup.t_tableOid = RelationRelationId;
	ItemPointerSetInvalid(&tup.t_self);
	CacheInvalidateRelcacheByTuple(&tup);
	pfree(hdr);
}

/*
 * Trigger on every access table, BEFORE each statement: keeps this
 * transaction off the cache (the row triggers below say what changed);
 * a TRUNCATE, which fires no row trigger, invalidates everything. Under
 * the 1.1 schema (no argument 'rows'), it invalidates everything for any
 * change, a coarser but correct behaviour until ALTER EXTENSION UPDATE.
 */
PG_FUNCTION_INFO_V1(ac_invalidate_cache);
Datum
ac_invalidate_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	bool		rows;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("invalidate_cache() must be called as a trigger")));
	rows = trigdata->tg_trigger->tgnargs == 1 &&
		strcmp(trigdata->tg_trigger->tgargs[0], "rows") == 0;
	AcNoteAccessWrite();
	if (strcmp(RelationGetRelationName(trigdata->tg_relation), "permission") == 0)
		xact_wrote_permissions = true;
	if (!rows || TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		send_all();
	return PointerGetDatum(NULL);
}

/* The 1.1 statement trigger on grants and team memberships: the above covers them. */
PG_FUNCTION_INFO_V1(ac_invalidate_staff_cache);
Datum
ac_invalidate_staff_cache(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("invalidate_staff_cache() must be called as a trigger")));
	AcNoteAccessWrite();
	send_all();
	return PointerGetDatum(NULL);
}

/* Returns the bigint column name of tuple (0 when NULL or absent). */
static int64
column_int8(HeapTuple tuple, TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);
	bool		isnull;
	Datum		d;

	if (tuple == NULL || attnum <= 0)
		return 0;
	d = heap_getattr(tuple, attnum, desc, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/* Returns the firm of team_id (0 when it is gone), read as the extension's owner. */
static int64
team_firm(int64 team_id)
{
	static SPIPlanPtr plan = NULL;
	AcOwnerScope scope;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(team_id)};
	int64		firm_id = 0;
	bool		isnull;

	AcBeginAsOwnerQualified(&scope, AcCachedExtensionOwner());
	if (SPI_execute_plan(AcKeepPlan(&plan,
									"SELECT t.firm_id FROM access_control.team t"
									" WHERE t.id OPERATOR(pg_catalog.=) $1", 1, types),
						 values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "access_control query failed");
	if (SPI_processed == 1)
		firm_id = AcResultInt64(0, 1, &isnull);
	AcEndAsOwnerQualified(&scope);
	return firm_id;
}

/* Sends the keys one version of a row of the table concerns. */
static void
send_row_keys(const char *table, HeapTuple tuple, TupleDesc desc)
{
	int64		id;

	if (tuple == NULL)
		return;
	if (strcmp(table, "permission") == 0)
		send_all();
	else if (strcmp(table, "staff") == 0)
	{
		send_key(KEY_FIRM, column_int8(tuple, desc, "firm_id"));
		send_key(KEY_STAFF, column_int8(tuple, desc, "id"));
	}
	else if (strcmp(table, "business") == 0)
		;						/* no map reads it: its links say who sees it */
	else if (strcmp(table, "firm") == 0)
		send_key(KEY_FIRM, column_int8(tuple, desc, "id"));
	else if (strcmp(table, "firm_client") == 0 || strcmp(table, "team") == 0)
		send_key(KEY_FIRM, column_int8(tuple, desc, "firm_id"));
	else if (strcmp(table, "staff_grant") == 0 || strcmp(table, "team_member") == 0 ||
			 strcmp(table, "all_clients_grant") == 0 || strcmp(table, "api_key") == 0)
		send_key(KEY_STAFF, column_int8(tuple, desc, "staff_id"));
	else if (strcmp(table, "team_grant") == 0)
	{
		/* the members of the team: every member's map of its firm */
		int64		firm_id = team_firm(column_int8(tuple, desc, "team_id"));

		if (firm_id > 0)
			send_key(KEY_FIRM, firm_id);
		else if (OidIsValid(grants_sentinel_relid))
			send_relid(grants_sentinel_relid);
		else
			send_all();
	}
	else if (strcmp(table, "client_role") == 0)
	{
		/* a firm's custom role, or a built-in one every member may hold */
		if ((id = column_int8(tuple, desc, "firm_id")) > 0)
			send_key(KEY_FIRM, id);
		else if (OidIsValid(grants_sentinel_relid))
			send_relid(grants_sentinel_relid);
		else
			send_all();
	}
	else if (strcmp(table, "portal_user") == 0)
		send_key(KEY_PORTAL, column_int8(tuple, desc, "id"));
	else
		send_all();
}

/*
 * Trigger on every access table, AFTER INSERT OR UPDATE OR DELETE FOR
 * EACH ROW, ENABLE ALWAYS (so that logical replication's apply, which
 * fires row triggers only, fires it too); its argument names the table.
 * Invalidates, in every session at commit, the maps the old and the new
 * row concern, and keeps this transaction off the cache.
 */
PG_FUNCTION_INFO_V1(ac_invalidate_row);
Datum
ac_invalidate_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	const char *table;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("invalidate_row() must be a FOR EACH ROW trigger naming its table")));
	AcNoteAccessWrite();
	AcSentinelRelid(false);
	desc = RelationGetDescr(trigdata->tg_relation);
	table = trigdata->tg_trigger->tgargs[0];
	if (strcmp(table, "permission") == 0)
		xact_wrote_permissions = true;
	send_row_keys(table, trigdata->tg_trigtuple, desc);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		send_row_keys(table, trigdata->tg_newtuple, desc);
	return PointerGetDatum(NULL);
}
