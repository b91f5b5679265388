/*-------------------------------------------------------------------------
 * src/audit.c
 *		The audit log: the row trigger that writes it, the guard that keeps
 *		it append-only, and purge_audit_log.
 *
 * The trigger turns a change of an audited table into one audit_log row:
 * who acted, the action's name, the entity and its firm and business, the
 * old and new values as JSON (audit_json.c), appended to the firm's hash
 * chain (audit_chain.c). The action names come from action_name(), the one
 * place that knows the tables by name.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "actor.h"
#include "audit.h"
#include "cache.h"
#include "owner.h"

/* Set only while purge_audit_log deletes: lets the guard allow DELETE. */
static bool purging = false;

static SPIPlanPtr plan_staff_firm = NULL;
static SPIPlanPtr plan_team_firm = NULL;

/* The bigint column name of tup, or isnull when absent or NULL. */
static int64
int8_column(TupleDesc tupdesc, HeapTuple tup, const char *name, bool *isnull)
{
	int			attno = SPI_fnumber(tupdesc, name);
	Datum		value;

	*isnull = true;
	if (tup == NULL || attno <= 0)
		return 0;
	value = heap_getattr(tup, attno, tupdesc, isnull);
	if (*isnull)
		return 0;
	switch (TupleDescAttr(tupdesc, attno - 1)->atttypid)
	{
		case INT8OID:
			return DatumGetInt64(value);
		case INT4OID:
			return DatumGetInt32(value);
		case INT2OID:
			return DatumGetInt16(value);
		default:
			*isnull = true;
			return 0;
	}
}

/* ---------------------------------------------------------------------
 * Action names
 *
 * The names audit_log.action takes, per audited table. action_name() is
 * the only code that knows the tables by name to name an action; it and
 * its helpers below are meant to give way to names passed as trigger
 * arguments by the install script.
 * ---------------------------------------------------------------------
 */

/* The text column name of tup, or NULL when absent or NULL. */
static char *
text_column(TupleDesc tupdesc, HeapTuple tup, const char *name)
{
	int			attno = SPI_fnumber(tupdesc, name);

	if (tup == NULL || attno <= 0)
		return NULL;
	return SPI_getvalue(tup, tupdesc, attno);
}

/* True when column name exists and differs between old and new. */
static bool
changed(TupleDesc tupdesc, HeapTuple old, HeapTuple new, const char *name)
{
	int			attno = SPI_fnumber(tupdesc, name);
	Form_pg_attribute att;
	bool		n1,
				n2;
	Datum		v1,
				v2;

	if (attno <= 0)
		return false;
	att = TupleDescAttr(tupdesc, attno - 1);
	v1 = heap_getattr(old, attno, tupdesc, &n1);
	v2 = heap_getattr(new, attno, tupdesc, &n2);
	if (n1 || n2)
		return n1 != n2;
	return !datum_image_eq(v1, v2, att->attbyval, att->attlen);
}

/* True when the text column name of tup holds value. */
static bool
text_is(TupleDesc tupdesc, HeapTuple tup, const char *name, const char *value)
{
	char	   *v = text_column(tupdesc, tup, name);

	return v != NULL && strcmp(v, value) == 0;
}

/*
 * True when an UPDATE of a firm_client row from old to new is about the
 * firm's own client rather than a partner link: neither version is pending
 * (only a partner invitation makes a link pending) and one of them has a
 * ceiling holding every permission of the catalog, which is how
 * create_business(firm_id, name) links a firm's own client and how
 * define_permission keeps it.
 */
static bool
own_client_link(TupleDesc td, HeapTuple old, HeapTuple new)
{
	int64		all;
	int64		old_ceiling,
				new_ceiling;
	bool		old_null,
				new_null;

	if (text_is(td, old, "status", "pending") || text_is(td, new, "status", "pending"))
		return false;
	old_ceiling = int8_column(td, old, "ceiling", &old_null);
	new_ceiling = int8_column(td, new, "ceiling", &new_null);
	all = AcGetCatalog()->all;
	return all != 0 &&
		((!old_null && (old_ceiling & all) == all) ||
		 (!new_null && (new_ceiling & all) == all));
}

/*
 * Returns the action name of an INSERT ('I'), UPDATE ('U') or DELETE ('D')
 * of table, from old and new (NULL where the operation has none): the
 * table's noun and a verb in the past tense, as "staff.added",
 * "access.granted" or "partner.invited"; "<table>.created", ".changed" or
 * ".dropped" for a table not named here. Raises nothing of its own.
 */
static const char *
action_name(const char *table, char op, TupleDesc td, HeapTuple old, HeapTuple new)
{
	if (strcmp(table, "staff") == 0)
	{
		if (op == 'I')
			return "staff.added";
		if (op == 'D')
			return "staff.deleted";
		if (changed(td, old, new, "status"))
			return text_is(td, new, "status", "removed") ? "staff.removed" : "staff.added";
		if (changed(td, old, new, "role"))
			return "staff.role_changed";
		if (changed(td, old, new, "programmatic_access"))
			return text_is(td, new, "programmatic_access", "t") ?
				"programmatic_access.enabled" : "programmatic_access.disabled";
		return "staff.changed";
	}
	if (strcmp(table, "staff_grant") == 0 || strcmp(table, "team_grant") == 0)
		return op == 'I' ? "access.granted" : op == 'D' ? "access.revoked" : "access.changed";
	if (strcmp(table, "team_member") == 0)
		return op == 'I' ? "team.member_added" : op == 'D' ? "team.member_removed" : "team.member_changed";
	if (strcmp(table, "team") == 0)
		return op == 'I' ? "team.created" : op == 'D' ? "team.dropped" : "team.changed";
	if (strcmp(table, "client_role") == 0)
		return op == 'I' ? "role.created" : op == 'D' ? "role.dropped" : "role.changed";
	if (strcmp(table, "permission") == 0)
		return op == 'I' ? "permission.defined" : op == 'D' ? "permission.dropped" : "permission.changed";
	if (strcmp(table, "firm") == 0)
		return op == 'I' ? "firm.created" : op == 'D' ? "firm.dropped" : "firm.changed";
	if (strcmp(table, "business") == 0)
		return op == 'I' ? "business.created" : op == 'D' ? "business.dropped" : "business.changed";
	if (strcmp(table, "firm_client") == 0)
	{
		HeapTuple	row = op == 'D' ? old : new;

		if (op == 'D')
			return text_is(td, row, "status", "pending") ? "partner.declined" : "client.unlinked";
		if (op == 'I' || changed(td, old, new, "status"))
		{
			if (text_is(td, row, "status", "pending"))
				return "partner.invited";
			if (text_is(td, row, "status", "disconnected"))
				return "partner.disconnected";
			return op == 'I' ? "client.linked" : "partner.connected";
		}
		return own_client_link(td, old, new) ? "client.changed" : "partner.changed";
	}
	if (strcmp(table, "portal_user") == 0)
	{
		if (op == 'I')
			return "portal_user.added";
		if (op == 'D')
			return "portal_user.deleted";
		if (changed(td, old, new, "status"))
			return text_is(td, new, "status", "removed") ? "portal_user.removed" : "portal_user.added";
		return "portal_user.changed";
	}
	if (strcmp(table, "api_key") == 0)
	{
		if (op == 'I')
			return "api_key.created";
		if (op == 'D')
			return "api_key.deleted";
		if (changed(td, old, new, "revoked_at"))
			return text_column(td, new, "revoked_at") != NULL ? "api_key.revoked" : "api_key.restored";
		return "api_key.changed";
	}
	if (strcmp(table, "invitation") == 0)
	{
		if (op == 'I')
			return "invitation.created";
		if (op == 'D')
			return "invitation.deleted";
		if (changed(td, old, new, "status"))
		{
			const char *status = text_column(td, new, "status");

			if (status != NULL && strcmp(status, "accepted") == 0)
				return "invitation.accepted";
			if (status != NULL && strcmp(status, "cancelled") == 0)
				return "invitation.cancelled";
		}
		if (changed(td, old, new, "token_hash"))
			return "invitation.resent";
		if (changed(td, old, new, "delivery_state"))
			return "invitation.delivery";
		return "invitation.changed";
	}
	return psprintf("%s.%s", table, op == 'I' ? "created" : op == 'D' ? "dropped" : "changed");
}

/* ---------------------------------------------------------------------
 * The trigger, the guard and purge
 * ---------------------------------------------------------------------
 */

/* Looks up the firm_id of the staff member or team id; isnull when gone. */
static int64
lookup_firm(SPIPlanPtr *plan, const char *sql, int64 id, bool *isnull)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	int			rc;

	rc = SPI_execute_plan(AcKeepPlan(plan, sql, 1, types), values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "audit lookup failed: %s", SPI_result_code_string(rc));
	*isnull = true;
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull));
}

/*
 * Trigger access_control.audit(): AFTER INSERT, UPDATE or DELETE FOR EACH
 * ROW on a state table; appends one row to access_control.audit_log, but
 * none for an UPDATE that changed no logged column (nothing, or only secret
 * columns). Returns NULL; raises when called any other way.
 */
PG_FUNCTION_INFO_V1(ac_audit);
Datum
ac_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	td;
	HeapTuple	old = NULL,
				new = NULL,
				row;
	const char *table;
	char		op;
	AcAuditRow	a;
	AcActor		actor;
	AcOwnerScope scope;
	bool		isnull;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("access_control.audit() must be fired AFTER ... FOR EACH ROW")));

	td = RelationGetDescr(trigdata->tg_relation);
	table = RelationGetRelationName(trigdata->tg_relation);
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		op = 'I';
		new = trigdata->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		op = 'U';
		old = trigdata->tg_trigtuple;
		new = trigdata->tg_newtuple;
	}
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		op = 'D';
		old = trigdata->tg_trigtuple;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("access_control.audit() must be fired by INSERT, UPDATE or DELETE")));
	row = new != NULL ? new : old;

	/* an UPDATE that changed nothing the log shows is not a change */
	if (op == 'U' && !AcLoggedColumnChanged(td, old, new))
		return PointerGetDatum(NULL);

	memset(&a, 0, sizeof(a));
	a.entity = table;
	a.action = action_name(table, op, td, old, new);
	a.old_null = (old == NULL);
	if (old != NULL)
		a.old = AcRowJson(td, old, new);
	a.new_null = (new == NULL);
	if (new != NULL)
		a.new = AcRowJson(td, new, old);

	/* the entity: its id, else the principal the row is about */
	if (strcmp(table, "firm_client") == 0)
		a.entity_id = int8_column(td, row, "business_id", &a.entity_null);
	else if (strcmp(table, "permission") == 0)
		a.entity_id = int8_column(td, row, "bit", &a.entity_null);
	else if (SPI_fnumber(td, "id") > 0)
		a.entity_id = int8_column(td, row, "id", &a.entity_null);
	else if (SPI_fnumber(td, "staff_id") > 0)
		a.entity_id = int8_column(td, row, "staff_id", &a.entity_null);
	else
		a.entity_id = int8_column(td, row, "team_id", &a.entity_null);

	a.business_id = int8_column(td, row, "business_id", &a.business_null);
	if (strcmp(table, "firm") == 0)
		a.firm_id = int8_column(td, row, "id", &a.firm_null);
	else
		a.firm_id = int8_column(td, row, "firm_id", &a.firm_null);

	AcGetActor(&actor);
	a.actor = AcFormatActor(&actor, false);
	a.db_user = GetUserNameFromId(GetSessionUserId(), false);
	a.txid = (int64) U64FromFullTransactionId(GetTopFullTransactionId());

	AcBeginAsOwner(&scope);
	if (a.firm_null && SPI_fnumber(td, "firm_id") <= 0 && strcmp(table, "firm") != 0)
	{
		int64		id;

		if (SPI_fnumber(td, "team_id") > 0)
		{
			id = int8_column(td, row, "team_id", &isnull);
			if (!isnull)
				a.firm_id = lookup_firm(&plan_team_firm,
										"SELECT firm_id FROM access_control.team "
										"WHERE id OPERATOR(pg_catalog.=) $1",
										id, &a.firm_null);
		}
		else if (SPI_fnumber(td, "staff_id") > 0)
		{
			id = int8_column(td, row, "staff_id", &isnull);
			if (!isnull)
				a.firm_id = lookup_firm(&plan_staff_firm,
										"SELECT firm_id FROM access_control.staff "
										"WHERE id OPERATOR(pg_catalog.=) $1",
										id, &a.firm_null);
		}
	}
	AcAppendAuditRow(&a);
	AcEndAsOwner(&scope);

	return PointerGetDatum(NULL);
}

/*
 * Trigger access_control.audit_log_guard(): BEFORE UPDATE OR DELETE FOR EACH
 * ROW and BEFORE TRUNCATE on audit_log. Raises 42501 for everyone, except
 * for the deletes of purge_audit_log.
 */
PG_FUNCTION_INFO_V1(ac_audit_log_guard);
Datum
ac_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "access_control.audit_log_guard() must be called as a trigger");
	if (purging && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) &&
		TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the audit log is append-only"),
			 errdetail("Rows of access_control.audit_log cannot be updated, deleted or truncated, not even by a superuser."),
			 errhint("A superuser removes old rows with access_control.purge_audit_log().")));
	return PointerGetDatum(NULL);	/* keep the compiler quiet */
}

/*
 * purge_audit_log(before): deletes, in each chain, the rows older than
 * before that precede every row kept, so each chain still verifies from its
 * first kept row. Returns the number deleted; raises 42501 unless the caller
 * is a superuser.
 */
PG_FUNCTION_INFO_V1(ac_purge_audit_log);
Datum
ac_purge_audit_log(PG_FUNCTION_ARGS)
{
	TimestampTz before = PG_GETARG_TIMESTAMPTZ(0);
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1] = {TimestampTzGetDatum(before)};
	AcOwnerScope scope;
	uint64		deleted = 0;
	int			rc;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to purge the audit log"),
				 errdetail("Only a superuser may remove audit rows.")));

	AcBeginAsOwner(&scope);
	PG_TRY();
	{
		purging = true;
		rc = SPI_execute_with_args(
								   "DELETE FROM access_control.audit_log a "
								   "WHERE a.occurred_at OPERATOR(pg_catalog.<) $1 "
								   "AND NOT EXISTS (SELECT 1 FROM access_control.audit_log k "
								   "WHERE k.firm_id IS NOT DISTINCT FROM a.firm_id "
								   "AND k.id OPERATOR(pg_catalog.<) a.id "
								   "AND k.occurred_at OPERATOR(pg_catalog.>=) $1)",
								   1, types, values, NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "audit purge failed: %s", SPI_result_code_string(rc));
		deleted = SPI_processed;
	}
	PG_FINALLY();
	{
		purging = false;
	}
	PG_END_TRY();
	AcEndAsOwner(&scope);
	PG_RETURN_INT64((int64) deleted);
}
