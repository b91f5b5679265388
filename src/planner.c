/*-------------------------------------------------------------------------
 * src/planner.c
 *		Planner support for the row helpers: lets a policy written as
 *		can_see_business(business_id) or has_permission(business_id, p)
 *		use an index on business_id.
 *
 * For an index whose key is the helper's business argument, the support
 * function offers the lossy index condition
 *		business_id = ANY (access_control.visible_business_ids([p]))
 * which the executor evaluates once per scan. The helper itself stays as
 * the filter, so the answer is the same with or without the index.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/lsyscache.h"

#include "access_control.h"

/* Returns the oid of access_control.visible_business_ids with nargs text arguments. */
static Oid
visible_ids_function(Oid helper, int nargs)
{
	Oid			argtypes[1] = {TEXTOID};
	char	   *nspname = get_namespace_name(get_func_namespace(helper));
	List	   *name = list_make2(makeString(nspname), makeString("visible_business_ids"));

	return LookupFuncName(name, nargs, argtypes, true);
}

/*
 * Support function of can_see_business and has_permission: answers
 * SupportRequestIndexCondition with the lossy condition above; NULL for
 * every other request.
 */
PG_FUNCTION_INFO_V1(ac_row_helper_support);
Datum
ac_row_helper_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestIndexCondition *req;
	FuncExpr   *call;
	Node	   *key;
	List	   *idsargs = NIL;
	Oid			idsfunc;
	Oid			eqop;
	FuncExpr   *ids;
	ScalarArrayOpExpr *saop;

	if (!IsA(rawreq, SupportRequestIndexCondition))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestIndexCondition *) rawreq;
	if (!IsA(req->node, FuncExpr) || req->indexarg != 0)
		PG_RETURN_POINTER(NULL);
	call = (FuncExpr *) req->node;
	if (list_length(call->args) < 1 || list_length(call->args) > 2)
		PG_RETURN_POINTER(NULL);
	key = (Node *) linitial(call->args);
	if (exprType(key) != INT8OID || req->index->relam != BTREE_AM_OID)
		PG_RETURN_POINTER(NULL);
	eqop = get_opfamily_member(req->opfamily, INT8OID, INT8OID, BTEqualStrategyNumber);
	if (!OidIsValid(eqop))
		PG_RETURN_POINTER(NULL);
	if (list_length(call->args) == 2)
	{
		Node	   *permission = (Node *) lsecond(call->args);

		/* the permission must be known before the scan starts */
		if (contain_var_clause(permission) || contain_volatile_functions(permission))
			PG_RETURN_POINTER(NULL);
		idsargs = list_make1(copyObject(permission));
	}
	idsfunc = visible_ids_function(call->funcid, list_length(idsargs));
	if (!OidIsValid(idsfunc))
		PG_RETURN_POINTER(NULL);

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

	req->lossy = true;
	PG_RETURN_POINTER(list_make1(saop));
}
