/*-------------------------------------------------------------------------
 * src/helpers.c
 *		The SQL row helpers that policies call: can_see_business,
 *		has_permission, visible_business_ids and the staff_* variants, with
 *		what each call site keeps for the rest of its statement.
 *
 * A helper answers from the access map of the actor (cache.c), read once
 * per statement per call site and kept in fn_extra. A call site that
 * checks many rows against a large map also builds a bitmap of the
 * businesses that carry the permission it asks for.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "actor.h"
#include "cache.h"
#include "compat.h"
#include "permission_catalog.h"
#include "rule.h"

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
	bool		marked;			/* mark is set */
	StatementMark mark;
	Snapshot	snapshot;		/* the active snapshot when mark was taken */
	AcActor		actor;			/* whose map */
	const AcAccessMap *map;		/* NULL until read for this statement */
	uint64		actor_generation;	/* AcActorGeneration() when map was read */
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

	/* single-business checks answered without the map, in this statement */
	uint32		probes;
	MemoryContext probe_cxt;	/* the last one's map */

	/* the staff_* helpers: the statement and actor whose authority was checked */
	bool		authority_ok;
	StatementMark authority_mark;
	uint64		authority_generation;
} CallCache;

/* A bitmap is built for maps of at least this many businesses ... */
#define DENSE_MIN_BUSINESSES 64
/* ... after this many lookups against the same map and permission ... */
#define DENSE_AFTER_LOOKUPS 64
/* ... when it takes at most this many bits per business of the map. */
#define DENSE_MAX_BITS_PER_BUSINESS 64

/*
 * A call site checks at most this many rows of a statement against
 * single-business reads of the rule (cache.c's AcProbeInsteadOfMap); a
 * statement that checks more builds the actor's map.
 */
#define PROBES_PER_STATEMENT 4

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
 * The same test without filling a mark, for the rows after the first:
 * the active snapshot is the one the call site last saw (as a pointer and
 * by its fields, so a snapshot freed and another made at its address
 * does not pass unless it sees the same), in the same transaction.
 */
static inline bool
still_same_statement(const CallCache *cc)
{
	Snapshot	snap;

	if (!ActiveSnapshotSet())
		return false;
	snap = GetActiveSnapshot();
	return snap == cc->snapshot &&
		snap->curcid == cc->mark.cid && snap->xmin == cc->mark.xmin &&
		snap->xmax == cc->mark.xmax && snap->xcnt == cc->mark.xcnt &&
		snap->subxcnt == cc->mark.subxcnt &&
		AcMyLocalTransactionId() == cc->mark.lxid;
}

/*
 * Returns the access map of actor for this call site, computing it (or
 * taking it from the backend cache) once per statement. For a check of
 * one business (business_id not NULL) by an actor with no cached map, the
 * first rows of a statement may get a map of that business alone instead
 * (see AcProbeInsteadOfMap), good for that row only.
 */
static const AcAccessMap *
call_map(FunctionCallInfo fcinfo, const AcActor *actor, const int64 *business_id)
{
	CallCache  *cc = (CallCache *) fcinfo->flinfo->fn_extra;
	StatementMark mark;

	if (cc == NULL)
	{
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallCache));
		fcinfo->flinfo->fn_extra = cc;
	}
	if (!same_statement(cc, &mark) || !cc->marked)
	{
		/*
		 * A new statement: it sees what another session committed, or this
		 * transaction did, before it began. (The map of an earlier
		 * transaction may also have been freed.)
		 */
		AcceptInvalidationMessages();
		cc->marked = true;
		cc->mark = mark;
		cc->snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
		cc->map = NULL;
		cc->bit = -1;
		cc->probes = 0;
	}
	if (cc->map == NULL || !AcActorEqual(&cc->actor, actor))
	{
		const AcAccessMap *cached = AcCachedAccessMap(actor);

		if (cached == NULL && business_id != NULL && cc->probes < PROBES_PER_STATEMENT &&
			AcProbeInsteadOfMap(actor))
		{
			cc->probes++;
			if (cc->probe_cxt == NULL)
				cc->probe_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
													  "access_control probe",
													  ALLOCSET_SMALL_SIZES);
			else
				MemoryContextReset(cc->probe_cxt);
			cc->map = NULL;
			cc->dense_map = NULL;
			cc->lookups = 0;
			return AcComputeAccessTo(actor, *business_id, cc->probe_cxt);
		}
		cc->map = cached != NULL ? cached : AcGetAccessMap(actor);
		cc->actor = *actor;
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
current_map(FunctionCallInfo fcinfo, const int64 *business_id)
{
	CallCache  *cc = (CallCache *) fcinfo->flinfo->fn_extra;
	AcActor		actor;
	const AcAccessMap *map;
	StatementMark mark;

	if (cc != NULL && cc->map != NULL && cc->actor_generation == AcActorGeneration() &&
		(still_same_statement(cc) || same_statement(cc, &mark)))
		return cc->map;
	AcGetActor(&actor);
	map = call_map(fcinfo, &actor, business_id);
	((CallCache *) fcinfo->flinfo->fn_extra)->actor_generation = AcActorGeneration();
	return map;
}

/*
 * Raises 42501 unless an actor with authority (AcGetAuthority) acts in
 * this statement; checked once per statement and actor at a call site.
 */
static void
check_authority(FunctionCallInfo fcinfo)
{
	CallCache  *cc = (CallCache *) fcinfo->flinfo->fn_extra;
	StatementMark mark;
	AcActor		actor;

	statement_mark(&mark);
	if (cc != NULL && cc->authority_ok && cc->authority_generation == AcActorGeneration() &&
		memcmp(&mark, &cc->authority_mark, sizeof(StatementMark)) == 0)
		return;
	AcGetAuthority(&actor);
	if (cc == NULL)
	{
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallCache));
		fcinfo->flinfo->fn_extra = cc;
	}
	cc->authority_ok = true;
	cc->authority_mark = mark;
	cc->authority_generation = AcActorGeneration();
}

/*
 * The map of staff member staff_id (empty for an id <= 0) for this call
 * site. They tell anyone's access, so they need an actor with authority
 * (or system): without one, 42501.
 */
static const AcAccessMap *
staff_map(FunctionCallInfo fcinfo, int64 staff_id, const int64 *business_id)
{
	AcActor		actor;

	check_authority(fcinfo);
	if (staff_id > 0)
		AcMakeActor(&actor, AC_ACTOR_STAFF, staff_id, 0);
	else
		AcMakeActor(&actor, AC_ACTOR_NONE, 0, 0);
	return call_map(fcinfo, &actor, business_id);
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

	/*
	 * The items are sorted, so last - first is between 0 and UINT64_MAX:
	 * exact in uint64, whatever the ids (INT64_MIN and INT64_MAX included).
	 * Adding the 1 only after the size check keeps it from wrapping to 0;
	 * a span too large for a bitmap leaves the lookups binary searches.
	 */
	span = (uint64) map->items[map->n - 1].business_id - (uint64) map->items[0].business_id;
	if (span / DENSE_MAX_BITS_PER_BUSINESS >= (uint64) map->n)
		return false;
	span += 1;
	if (cc->dense != NULL)
		pfree(cc->dense);
	cc->dense = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, ((span + 63) / 64) * sizeof(uint64));
	cc->dense_min = map->items[0].business_id;
	cc->dense_bits = span;
	for (i = 0; i < map->n; i++)
		if ((map->items[i].mask & need) == need)
		{
			/* 0 <= off < span: business_id >= dense_min, as the items are sorted */
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

/*
 * True when map holds the business with the named permission (any
 * permission when NULL); raises 22023 for an unknown permission.
 */
static bool
map_has(FunctionCallInfo fcinfo, const AcAccessMap *map, int64 business_id, text *permission)
{
	int64		need = 0;

	/* resolve the name even when the answer is no, so a typo is an error */
	if (permission != NULL)
		need = INT64CONST(1) << permission_bit(fcinfo, permission);
	return map_holds_need(fcinfo, map, business_id, need);
}

/*
 * The rows after the first of a statement, at a call site whose bitmap
 * answers need for the map it keeps: the tests of current_map and
 * map_holds_need, in line. False when the long way must be taken.
 */
static inline bool
dense_answer(const CallCache *cc, int64 business_id, int64 need, bool *answer)
{
	uint64		off;

	if (cc == NULL || cc->dense_map == NULL || cc->dense_map != cc->map || cc->dense_need != need ||
		cc->actor_generation != AcActorGeneration() || !still_same_statement(cc))
		return false;
	off = (uint64) business_id - (uint64) cc->dense_min;
	*answer = business_id >= cc->dense_min && off < cc->dense_bits &&
		(cc->dense[off >> 6] >> (off & 63) & 1) != 0;
	return true;
}

/* can_see_business(business_id): true when the current actor can see it. */
PG_FUNCTION_INFO_V1(ac_can_see_business);
Datum
ac_can_see_business(PG_FUNCTION_ARGS)
{
	int64		business_id = PG_GETARG_INT64(0);
	const AcAccessMap *map;
	bool		answer;

	if (dense_answer((const CallCache *) fcinfo->flinfo->fn_extra, business_id, 0, &answer))
		PG_RETURN_BOOL(answer);
	map = current_map(fcinfo, &business_id);
	PG_RETURN_BOOL(map_has(fcinfo, map, business_id, NULL));
}

/*
 * has_permission(business_id, permission): true when the current actor
 * holds it there. Raises 22023 for an unknown permission.
 */
PG_FUNCTION_INFO_V1(ac_has_permission);
Datum
ac_has_permission(PG_FUNCTION_ARGS)
{
	int64		business_id = PG_GETARG_INT64(0);
	const AcAccessMap *map = current_map(fcinfo, &business_id);

	PG_RETURN_BOOL(map_has(fcinfo, map, business_id, PG_GETARG_TEXT_PP(1)));
}

/*
 * visible_business_ids([permission]): the sorted ids of every business the
 * current actor can see (and where it holds the permission, when given).
 */
PG_FUNCTION_INFO_V1(ac_visible_business_ids);
Datum
ac_visible_business_ids(PG_FUNCTION_ARGS)
{
	const AcAccessMap *map = current_map(fcinfo, NULL);
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

/* staff_can_see_business(staff_id, business_id): true when the staff member can see it. */
PG_FUNCTION_INFO_V1(ac_staff_can_see_business);
Datum
ac_staff_can_see_business(PG_FUNCTION_ARGS)
{
	int64		business_id = PG_GETARG_INT64(1);
	const AcAccessMap *map = staff_map(fcinfo, PG_GETARG_INT64(0), &business_id);

	PG_RETURN_BOOL(map_has(fcinfo, map, business_id, NULL));
}

/*
 * staff_has_permission(staff_id, business_id, permission): true when the
 * staff member holds it there. Raises 22023 for an unknown permission.
 */
PG_FUNCTION_INFO_V1(ac_staff_has_permission);
Datum
ac_staff_has_permission(PG_FUNCTION_ARGS)
{
	int64		business_id = PG_GETARG_INT64(1);
	const AcAccessMap *map = staff_map(fcinfo, PG_GETARG_INT64(0), &business_id);

	PG_RETURN_BOOL(map_has(fcinfo, map, business_id, PG_GETARG_TEXT_PP(2)));
}

/* staff_effective_permission_mask(staff_id, business_id): the mask, or NULL when it cannot see the business. */
PG_FUNCTION_INFO_V1(ac_staff_effective_mask);
Datum
ac_staff_effective_mask(PG_FUNCTION_ARGS)
{
	int64		business_id = PG_GETARG_INT64(1);
	const AcAccessMap *map = staff_map(fcinfo, PG_GETARG_INT64(0), &business_id);
	const AcGrantedBusiness *g = AcFindBusiness(map, business_id);

	if (g == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(g->mask);
}
