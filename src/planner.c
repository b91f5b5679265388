/*-------------------------------------------------------------------------
 * src/planner.c
 *		Planner support for the row helpers can_see_business(business_id)
 *		and has_permission(business_id, p): an index condition, the
 *		fraction of rows they keep, and what a call costs.
 *
 * Index condition: for an index whose key is the helper's business
 * argument, the support function offers the condition
 *		business_id = ANY (access_control.visible_business_ids([p]))
 * which the executor evaluates once per scan. It is exact, not lossy: it
 * holds for a row exactly when the helper would return true (both read the
 * actor's map of the same statement, under the same snapshot), so an index
 * scan needs no per-row call of the helper (a bitmap heap scan keeps the
 * helper as its filter, as PostgreSQL does for a condition it derived).
 *
 * Selectivity: the fraction of rows whose business the current actor can
 * see (with p), estimated from the actor's access map and the business
 * column's statistics, the way the planner estimates business_id = ANY
 * of those ids written out. Only costs depend on it: a plan made for one
 * actor and reused for another (a generic plan) gives the other actor's
 * answers, perhaps more slowly. When the map cannot be read safely the
 * planner's default estimate stands.
 *
 * Cost: the functions' COST (a call costs about a cast and an int8 comparison),
 * plus the permission lookup when the permission varies from row to row.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "actor.h"
#include "cache.h"
#include "permission_catalog.h"
#include "rule.h"

/*
 * Extra cost of one call, in cpu_operator_cost units, when the permission
 * name changes from row to row: the name is looked up in the catalog
 * again. (The cost of a call with a fixed name is the function's COST.)
 */
#define PERMISSION_LOOKUP_COST 2.0

/* Returns the oid of access_control.visible_business_ids with nargs text arguments. */
static Oid
visible_ids_function(Oid helper, int nargs)
{
	Oid			argtypes[1] = {TEXTOID};
	char	   *nspname = get_namespace_name(get_func_namespace(helper));
	List	   *name = list_make2(makeString(nspname), makeString("visible_business_ids"));

	return LookupFuncName(name, nargs, argtypes, true);
}

/* True when the access tables can be read safely while planning. */
static bool
can_read_access(void)
{
	return ActiveSnapshotSet() && OidIsValid(AcSentinelRelid(true));
}

#define NOT_A_KNOWN_CONSTANT (-2)

/*
 * Returns the bit of the permission that the (simplified) expression
 * names: -1 when the catalog has no such permission, NOT_A_KNOWN_CONSTANT
 * when the expression is not a non-null text constant or the catalog
 * cannot be read here.
 */
static int
constant_permission_bit(Node *permission)
{
	Const	   *c = (Const *) permission;
	char	   *name;
	int			bit;

	if (!IsA(c, Const) || c->consttype != TEXTOID || c->constisnull || !can_read_access())
		return NOT_A_KNOWN_CONSTANT;
	name = TextDatumGetCString(c->constvalue);
	bit = AcPermissionBit(AcGetCatalog(), name);
	pfree(name);
	return bit;
}

static const AcAccessMap *planning_map(void);
static double business_count(void);

/*
 * An actor who sees more than this share of all businesses gets no index
 * condition: reading most of a table through the business_id index costs
 * far more than a sequential scan, but the planner, which prices an array
 * it cannot see as ten ids, would not know it.
 */
#define WIDE_ACTOR_SHARE 0.25

/*
 * Answers SupportRequestIndexCondition with the exact condition described
 * above; NULL when the index or the call does not fit, the permission is
 * unknown (the planner would evaluate the condition to estimate it, and
 * the error belongs to the query's run, not to its planning), or the
 * current actor sees most businesses.
 */
static List *
index_condition(SupportRequestIndexCondition *req)
{
	const AcAccessMap *map;
	FuncExpr   *call;
	Node	   *key;
	List	   *idsargs = NIL;
	Oid			idsfunc;
	Oid			eqop;
	FuncExpr   *ids;
	ScalarArrayOpExpr *saop;

	if (!IsA(req->node, FuncExpr) || req->indexarg != 0)
		return NIL;
	call = (FuncExpr *) req->node;
	if (list_length(call->args) < 1 || list_length(call->args) > 2)
		return NIL;
	key = (Node *) linitial(call->args);
	if (exprType(key) != INT8OID || req->index->relam != BTREE_AM_OID)
		return NIL;
	eqop = get_opfamily_member(req->opfamily, INT8OID, INT8OID, BTEqualStrategyNumber);
	if (!OidIsValid(eqop))
		return NIL;
	if (list_length(call->args) == 2)
	{
		Node	   *permission = (Node *) lsecond(call->args);

		/* the permission must be known before the scan starts */
		if (contain_var_clause(permission) || contain_volatile_functions(permission))
			return NIL;
		if (constant_permission_bit(permission) == -1)
			return NIL;
		idsargs = list_make1(copyObject(permission));
	}
	map = planning_map();
	if (map != NULL && map->n > WIDE_ACTOR_SHARE * business_count())
		return NIL;
	idsfunc = visible_ids_function(call->funcid, list_length(idsargs));
	if (!OidIsValid(idsfunc))
		return NIL;

	ids = makeFuncExpr(idsfunc, INT8ARRAYOID, idsargs, InvalidOid, InvalidOid,
					   COERCE_EXPLICIT_CALL);
	saop = makeNode(ScalarArrayOpExpr);
	saop->opno = eqop;
	saop->opfuncid = get_opcode(eqop);
	saop->hashfuncid = InvalidOid;
	saop->negfuncid = InvalidOid;
	saop->useOr = true;
	saop->inputcollid = InvalidOid;
	saop->args = list_make2(copyObject(key), ids);
	saop->location = -1;

	req->lossy = false;
	return list_make1(saop);
}

/*
 * Returns the current actor's access map, or NULL when it cannot be read
 * safely while planning: no active snapshot to read it with, the
 * extension's tables missing, or an actor setting that does not parse.
 * No actor, or one that is unknown or removed, gives an empty map. Goes
 * through the backend cache, as the helpers do.
 */
static const AcAccessMap *
planning_map(void)
{
	AcActor		actor;

	if (!can_read_access())
		return NULL;
	if (!AcTryGetActor(&actor))
		return NULL;
	return AcGetAccessMap(&actor);
}

/* True when the map holds the business with every bit of need. */
static bool
map_holds(const AcAccessMap *map, int64 business_id, int64 need)
{
	const AcGrantedBusiness *g = AcFindBusiness(map, business_id);

	return g != NULL && (g->mask & need) == need;
}

/*
 * Returns the estimated number of businesses: the planner's row count of
 * access_control.business when it has one, else DEFAULT_NUM_DISTINCT.
 */
static double
business_count(void)
{
	Oid			nsp = get_namespace_oid("access_control", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("business", nsp) : InvalidOid;
	double		n = DEFAULT_NUM_DISTINCT;
	HeapTuple	tup;

	if (!OidIsValid(relid))
		return n;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		float4		reltuples = ((Form_pg_class) GETSTRUCT(tup))->reltuples;

		if (reltuples >= 1)
			n = reltuples;
		ReleaseSysCache(tup);
	}
	return n;
}

/*
 * Returns the fraction of rows whose business, the int8 expression key, is
 * one of the k businesses in map that carry need: what scalararraysel()
 * estimates for key = ANY ('{those ids}'). A visible most common value
 * counts with its own frequency; every other visible id with the average
 * frequency of the values outside the MCV list. Without statistics each
 * business is assumed to have the same share of rows.
 *
 * The statistics are used even where the table's row security would hide
 * them from the user's own functions: only this estimate leaves here, and
 * it is the one the planner makes with the leakproof int8eq operator for
 * the index condition above.
 */
static Selectivity
visible_fraction(PlannerInfo *root, Node *key, int varRelid,
				 const AcAccessMap *map, int64 need, int k)
{
	VariableStatData vardata;
	AttStatsSlot sslot;
	double		ndistinct;
	bool		isdefault;
	Selectivity sel;

	examine_variable(root, key, varRelid, &vardata);
	ndistinct = get_variable_numdistinct(&vardata, &isdefault);

	if (HeapTupleIsValid(vardata.statsTuple) && !isdefault)
	{
		double		nullfrac = ((Form_pg_statistic) GETSTRUCT(vardata.statsTuple))->stanullfrac;
		double		mcv_total = 0.0;
		double		mcv_visible = 0.0;
		double		least_common = 1.0;
		int			nmcv = 0;
		int			mcv_hits = 0;
		double		others;

		if (get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_MCV, InvalidOid,
							 ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS))
		{
			if (sslot.valuetype == INT8OID)
			{
				int			i;

				nmcv = Min(sslot.nvalues, sslot.nnumbers);
				for (i = 0; i < nmcv; i++)
				{
					mcv_total += sslot.numbers[i];
					least_common = Min(least_common, sslot.numbers[i]);
					if (map_holds(map, DatumGetInt64(sslot.values[i]), need))
					{
						mcv_visible += sslot.numbers[i];
						mcv_hits++;
					}
				}
			}
			free_attstatsslot(&sslot);
		}

		/* each visible id outside the MCV list: an equal share of the rest */
		others = 1.0 - nullfrac - mcv_total;
		CLAMP_PROBABILITY(others);
		sel = mcv_visible;
		if (k > mcv_hits && ndistinct > nmcv)
		{
			double		per_value = others / (ndistinct - nmcv);

			if (nmcv > 0)
				per_value = Min(per_value, least_common);
			sel += Min(others, (k - mcv_hits) * per_value);
		}
	}
	else
	{
		double		businesses = Max(business_count(), (double) k);

		sel = businesses > 0 ? k / businesses : 0.0;
	}
	ReleaseVariableStats(vardata);
	CLAMP_PROBABILITY(sel);
	return sel;
}

/*
 * Answers SupportRequestSelectivity: the fraction of rows for which the
 * helper returns true for the current actor. Returns false (the planner's
 * default stands) when the actor's access cannot be read or the
 * permission is unknown (the call itself will then raise the error).
 */
static bool
helper_selectivity(SupportRequestSelectivity *req)
{
	const AcAccessMap *map;
	Node	   *key;
	int64		need = 0;
	int			k = 0;
	int			i;

	if (req->root == NULL || list_length(req->args) < 1 || list_length(req->args) > 2)
		return false;
	key = (Node *) linitial(req->args);
	if (exprType(key) != INT8OID)
		return false;
	map = planning_map();
	if (map == NULL)
		return false;

	if (list_length(req->args) == 2)
	{
		Node	   *permission = estimate_expression_value(req->root, (Node *) lsecond(req->args));
		int			bit = constant_permission_bit(permission);

		if (IsA(permission, Const) && ((Const *) permission)->constisnull)
		{
			req->selectivity = 0.0;
			return true;
		}
		if (bit == -1)
			return false;
		/* a permission only known row by row: count every visible business */
		if (bit >= 0)
			need = INT64CONST(1) << bit;
	}

	key = estimate_expression_value(req->root, key);
	if (IsA(key, Const))
	{
		Const	   *c = (Const *) key;

		req->selectivity = !c->constisnull && map_holds(map, DatumGetInt64(c->constvalue), need) ? 1.0 : 0.0;
		return true;
	}

	for (i = 0; i < map->n; i++)
		if ((map->items[i].mask & need) == need)
			k++;
	req->selectivity = visible_fraction(req->root, key, req->is_join ? 0 : req->varRelid, map, need, k);
	return true;
}

/*
 * Answers SupportRequestCost for has_permission when the permission name
 * varies from row to row: the function's COST plus the name lookup.
 * Returns false otherwise, so that the function's COST (which ALTER
 * FUNCTION can tune) is the cost of a call.
 */
static bool
helper_cost(SupportRequestCost *req)
{
	FuncExpr   *call = (FuncExpr *) req->node;
	HeapTuple	tup;

	if (call == NULL || !IsA(call, FuncExpr) || list_length(call->args) != 2)
		return false;
	if (!contain_var_clause((Node *) lsecond(call->args)) &&
		!contain_volatile_functions((Node *) lsecond(call->args)))
		return false;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(req->funcid));
	if (!HeapTupleIsValid(tup))
		return false;
	req->startup = 0;
	req->per_tuple = (((Form_pg_proc) GETSTRUCT(tup))->procost + PERMISSION_LOOKUP_COST) * cpu_operator_cost;
	ReleaseSysCache(tup);
	return true;
}

/*
 * Support function of can_see_business and has_permission. Answers
 * SupportRequestIndexCondition, SupportRequestSelectivity and (for a
 * permission that varies by row) SupportRequestCost; NULL for every other
 * request and whenever it has no better answer than the planner's default.
 */
PG_FUNCTION_INFO_V1(ac_row_helper_support);
Datum
ac_row_helper_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestIndexCondition))
	{
		List	   *conditions = index_condition((SupportRequestIndexCondition *) rawreq);

		PG_RETURN_POINTER(conditions);
	}
	if (IsA(rawreq, SupportRequestSelectivity))
	{
		if (helper_selectivity((SupportRequestSelectivity *) rawreq))
			PG_RETURN_POINTER(rawreq);
		PG_RETURN_POINTER(NULL);
	}
	if (IsA(rawreq, SupportRequestCost))
	{
		if (helper_cost((SupportRequestCost *) rawreq))
			PG_RETURN_POINTER(rawreq);
		PG_RETURN_POINTER(NULL);
	}
	PG_RETURN_POINTER(NULL);
}
