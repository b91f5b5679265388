/*-------------------------------------------------------------------------
 * src/restore.c
 *		Restoring a dump: the guard that stops a plain pg_restore before it
 *		loads anything, and says how to restore instead.
 *
 * pg_dump carries the rows of every state table (they are registered with
 * pg_extension_config_dump), and pg_restore loads them after CREATE
 * EXTENSION. With the extension's triggers firing, that load cannot come
 * out right: the audit trigger would append rows of its own to the log
 * being restored, and the permission checks would refuse roles and
 * ceilings that use a permission whose row is loaded later. A restore
 * therefore runs with session_replication_role = replica (superuser only),
 * which skips those triggers; the ones that must still fire are ENABLE
 * ALWAYS.
 *
 * Nothing tells a trigger reliably that a restore is running, so none of
 * them is ever skipped on a guess. The guard below only refuses: a BEFORE
 * INSERT statement trigger on every state table that raises when the
 * statement is a top-level COPY FROM or INSERT into that very table while
 * row_security is off, which is how pg_dump's output and pg_restore load
 * data. It is an ordinary trigger, so a replica-mode restore never sees it;
 * a plain one fails on every table, with a hint, and loads nothing.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "tcop/pquery.h"
#include "utils/lsyscache.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/rls.h"

/*
 * Returns "COPY" or "INSERT" when the statement the client sent is a COPY
 * FROM or an INSERT into relation relid, else NULL.
 */
static const char *
loading_statement(Oid relid)
{
	ListCell   *lc;

	if (ActivePortal == NULL)
		return NULL;
	foreach(lc, ActivePortal->stmts)
	{
		PlannedStmt *stmt = lfirst_node(PlannedStmt, lc);

		if (stmt->commandType == CMD_UTILITY && stmt->utilityStmt != NULL &&
			IsA(stmt->utilityStmt, CopyStmt))
		{
			CopyStmt   *copy = (CopyStmt *) stmt->utilityStmt;

			if (copy->is_from && copy->relation != NULL &&
				RangeVarGetRelid(copy->relation, NoLock, true) == relid)
				return "COPY";
		}
		else if (stmt->commandType == CMD_INSERT)
		{
			ListCell   *rc;

			foreach(rc, stmt->resultRelations)
				if (rt_fetch(lfirst_int(rc), stmt->rtable)->relid == relid)
					return "INSERT";
		}
	}
	return NULL;
}

/*
 * Trigger access_control.restore_guard(): BEFORE INSERT FOR EACH STATEMENT
 * on every state table. Returns NULL; raises 55000 when the statement looks
 * like a plain restore (see above).
 */
PG_FUNCTION_INFO_V1(ac_restore_guard);
Datum
ac_restore_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("access_control.restore_guard() must be fired BEFORE INSERT ... FOR EACH STATEMENT")));

	if (row_security)
		return PointerGetDatum(NULL);
	what = loading_statement(RelationGetRelid(trigdata->tg_relation));
	if (what == NULL)
		return PointerGetDatum(NULL);

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("access_control data must be restored with session_replication_role = replica"),
			 errdetail("This %s into %s.%s with row_security off looks like a restore. The extension's audit and permission-check triggers would fire while the rows are loaded, so the data would not come back as it was dumped.",
					   what,
					   get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
					   RelationGetRelationName(trigdata->tg_relation)),
			 errhint("Restore into a new database as a superuser with session_replication_role = replica, for example PGOPTIONS='-c session_replication_role=replica' pg_restore -d DBNAME DUMPFILE. To load rows yourself, with the triggers firing, SET row_security = on first.")));
	return PointerGetDatum(NULL);	/* keep the compiler quiet */
}
