/*-------------------------------------------------------------------------
 * src/audit.c
 *		The audit log: the row trigger that writes it, the guard that keeps
 *		it append-only, and purge_audit_log.
 *
 * The trigger turns a change of an audited table into one audit_log row:
 * who acted, the action's name, the entity and its firm and business, the
 * old and new values as JSON (audit_json.c), appended to the firm's hash
 * chain (audit_chain.c). The entity, its id column and the rules that name
 * the actions are the trigger's arguments, given by the install script.
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
#define STAFF_FIRM_SQL \
	"SELECT firm_id FROM access_control.staff WHERE id OPERATOR(pg_catalog.=) $1"

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
 * The install script gives each audited table's trigger the names its
 * changes take in audit_log.action, as rules (see action_name()); no name
 * of an action is written here.
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

/*
 * True when the text column name of tup holds value; "*" stands for any
 * value but NULL.
 */
static bool
text_is(TupleDesc tupdesc, HeapTuple tup, const char *name, const char *value)
{
	char	   *v = text_column(tupdesc, tup, name);

	if (strcmp(value, "*") == 0)
		return v != NULL;
	return v != NULL && strcmp(v, value) == 0;
}

/*
 * True when the bigint column name holds every permission of the catalog in
 * old or in new (either may be NULL).
 */
static bool
holds_all(TupleDesc td, HeapTuple old, HeapTuple new, const char *name)
{
	int64		all = AcGetCatalog()->all;
	int64		v;
	bool		isnull;

	if (all == 0)
		return false;
	v = int8_column(td, old, name, &isnull);
	if (!isnull && (v & all) == all)
		return true;
	v = int8_column(td, new, name, &isnull);
	return !isnull && (v & all) == all;
}

/*
 * True when the test word of rule holds for op from old to new; row is new,
 * or old on DELETE. A test is one of
 *	 column~		the column changed (an INSERT or DELETE changes every one)
 *	 column~value	it changed and the row holds value
 *	 column=value	the row holds value
 *	 column!=value	the row does not
 *	 column>=all	it holds every permission of the catalog, before or after
 * where value "*" is any value but NULL. Raises 42P17 when the test is none
 * of these and 42703 when the table has no such column.
 */
static bool
test_holds(const char *rule, char *test, char op, Relation rel,
		   HeapTuple old, HeapTuple new)
{
	TupleDesc	td = RelationGetDescr(rel);
	HeapTuple	row = op == 'D' ? old : new;
	char	   *mark = strpbrk(test, "~=!>");
	char		kind = mark != NULL ? *mark : '\0';
	const char *value;

	if (kind == '~' || kind == '=')
		value = mark + 1;
	else if ((kind == '!' || kind == '>') && mark[1] == '=')
		value = mark + 2;
	else
		value = NULL;
	if (mark == test || value == NULL || (kind == '>' && strcmp(value, "all") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("audit rule \"%s\" of table \"%s\" has a malformed test \"%s\"",
						rule, RelationGetRelationName(rel), test),
				 errhint("A test is column~, column~value, column=value, column!=value or column>=all.")));
	*mark = '\0';
	if (SPI_fnumber(td, test) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table \"%s\" does not exist",
						test, RelationGetRelationName(rel)),
				 errdetail("The audit rule \"%s\" names it.", rule)));

	switch (kind)
	{
		case '~':
			if (op == 'U' && !changed(td, old, new, test))
				return false;
			return *value == '\0' || text_is(td, row, test, value);
		case '=':
			return text_is(td, row, test, value);
		case '!':
			return !text_is(td, row, test, value);
		default:
			return holds_all(td, old, new, test);
	}
}

/*
 * Returns the action name of an INSERT ('I'), UPDATE ('U') or DELETE ('D')
 * of rel, from old and new (NULL where the operation has none), by the
 * first of the trigger's rules that holds. A rule is words apart by
 * spaces: the operations it is for ("I", "U", "D" or several, as "IU"),
 * then the tests that must all hold (see test_holds()), last the name, as
 * "U role~ staff.role_changed". When no rule holds, the name is the
 * entity's with "created", "changed" or "dropped". Raises 42P17 for a
 * malformed rule, whether or not it is reached.
 */
static const char *
action_name(const char *entity, const char *const *rules, int nrules, char op,
			Relation rel, HeapTuple old, HeapTuple new)
{
	const char *action = NULL;

	for (int i = 0; i < nrules; i++)
	{
		char	   *words[16];
		int			nwords = 0;
		char	   *save = NULL;
		bool		holds;

		for (char *w = strtok_r(pstrdup(rules[i]), " ", &save);
			 w != NULL && nwords < (int) lengthof(words);
			 w = strtok_r(NULL, " ", &save))
			words[nwords++] = w;
		if (nwords < 2 || nwords == (int) lengthof(words) ||
			strspn(words[0], "IUD") != strlen(words[0]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("audit rule \"%s\" of table \"%s\" is malformed",
							rules[i], RelationGetRelationName(rel)),
					 errhint("A rule is the operations (I, U, D), the tests, then the action's name.")));
		holds = action == NULL && strchr(words[0], op) != NULL;
		for (int j = 1; j < nwords - 1; j++)
			holds = test_holds(rules[i], words[j], op, rel, old, new) && holds;
		if (holds)
			action = words[nwords - 1];
	}
	if (action == NULL)
		action = psprintf("%s.%s", entity, op == 'I' ? "created" : op == 'D' ? "dropped" : "changed");
	return action;
}

/*
 * The arguments of the audit triggers that the 1.0 and 1.1 install scripts
 * attach without any, until ALTER EXTENSION UPDATE replaces them: per
 * table, as the 1.2 install script gives them (access_tables()). Frozen
 * with those scripts.
 */
static const char *const frozen_args[][11] = {
	{"permission", "bit", "I permission.defined", "U permission.changed", "D permission.dropped"},
	{"firm", "id", "I firm.created", "U firm.changed", "D firm.dropped"},
	{"staff", "id", "I staff.added", "D staff.deleted", "U status~removed staff.removed",
		"U status~ staff.added", "U role~ staff.role_changed",
		"U programmatic_access~t programmatic_access.enabled",
		"U programmatic_access~ programmatic_access.disabled", "U staff.changed"},
	{"business", "id", "I business.created", "U business.changed", "D business.dropped"},
	{"firm_client", "business_id", "D status=pending partner.declined", "D client.unlinked",
		"IU status~pending partner.invited", "IU status~disconnected partner.disconnected",
		"I client.linked", "U status~ partner.connected",
		"U status!=pending ceiling>=all client.changed", "U partner.changed"},
	{"team", "id", "I team.created", "U team.changed", "D team.dropped"},
	{"team_member", "staff_id", "I team.member_added", "U team.member_changed", "D team.member_removed"},
	{"client_role", "id", "I role.created", "U role.changed", "D role.dropped"},
	{"staff_grant", "staff_id", "I access.granted", "U access.changed", "D access.revoked"},
	{"team_grant", "team_id", "I access.granted", "U access.changed", "D access.revoked"},
	{"portal_user", "id", "I portal_user.added", "D portal_user.deleted",
		"U status~removed portal_user.removed", "U status~ portal_user.added",
		"U portal_user.changed"},
	{"api_key", "id", "I api_key.created", "D api_key.deleted",
		"U revoked_at~* api_key.revoked", "U revoked_at~ api_key.restored", "U api_key.changed"},
	{"invitation", "id", "I invitation.created", "D invitation.deleted",
		"U status~accepted invitation.accepted", "U status~cancelled invitation.cancelled",
		"U token_hash~ invitation.resent", "U delivery_state~ invitation.delivery",
		"U invitation.changed"},
};

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
 * Trigger access_control_internal.audit(entity, id_column, rule...): AFTER
 * INSERT, UPDATE or DELETE FOR EACH ROW on a state table; appends one row
 * to access_control.audit_log naming entity, the value of id_column as
 * entity_id and the action the rules name (action_name()), but none for an
 * UPDATE that changed no logged column (nothing, or only secret columns).
 * The row names the actor and the API key it acts through, if any; its
 * firm is the changed row's, else that of its team or staff member, else,
 * for a row about a business changed by a firm's staff, the actor's firm.
 * Returns NULL; raises 39P01 when called any other way or without an
 * entity and its column, 42703 for a column the table does not have, and
 * 42P17 for a malformed rule.
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
	const char *const *args;
	int			nargs;
	const char *entity;
	const char *id_column;
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
				 errmsg("access_control_internal.audit() must be fired AFTER ... FOR EACH ROW")));

	td = RelationGetDescr(trigdata->tg_relation);
	args = (const char *const *) trigdata->tg_trigger->tgargs;
	nargs = trigdata->tg_trigger->tgnargs;
	for (int i = 0; nargs == 0 && i < (int) lengthof(frozen_args); i++)
	{
		if (strcmp(frozen_args[i][0], RelationGetRelationName(trigdata->tg_relation)) != 0)
			continue;
		args = frozen_args[i];
		while (nargs < (int) lengthof(frozen_args[i]) && args[nargs] != NULL)
			nargs++;
	}
	if (nargs < 2)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("access_control_internal.audit() needs the entity and its id column as trigger arguments")));
	entity = args[0];
	id_column = args[1];
	if (SPI_fnumber(td, id_column) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table \"%s\" does not exist", id_column,
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("The audit trigger names it as the entity's id.")));
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
				 errmsg("access_control_internal.audit() must be fired by INSERT, UPDATE or DELETE")));
	row = new != NULL ? new : old;

	/* an UPDATE that changed nothing the log shows is not a change */
	if (op == 'U' && !AcLoggedColumnChanged(td, old, new))
		return PointerGetDatum(NULL);

	memset(&a, 0, sizeof(a));
	a.entity = entity;
	a.action = action_name(entity, args + 2, nargs - 2, op,
						   trigdata->tg_relation, old, new);
	a.old_null = (old == NULL);
	if (old != NULL)
		a.old = AcRowJson(td, old, new);
	a.new_null = (new == NULL);
	if (new != NULL)
		a.new = AcRowJson(td, new, old);

	a.entity_id = int8_column(td, row, id_column, &a.entity_null);

	a.business_id = int8_column(td, row, "business_id", &a.business_null);
	if (strcmp(entity, "firm") == 0)
		a.firm_id = int8_column(td, row, "id", &a.firm_null);
	else
		a.firm_id = int8_column(td, row, "firm_id", &a.firm_null);

	AcGetActor(&actor);
	a.actor = AcFormatActor(&actor, false);
	a.api_key_id = actor.key_id;
	a.api_key_null = (actor.key_id == 0);
	a.db_user = GetUserNameFromId(GetSessionUserId(), false);
	a.txid = (int64) U64FromFullTransactionId(GetTopFullTransactionId());

	AcBeginAsOwner(&scope);
	if (a.firm_null && SPI_fnumber(td, "firm_id") <= 0 && strcmp(entity, "firm") != 0)
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
										STAFF_FIRM_SQL,
										id, &a.firm_null);
		}
	}

	/*
	 * A change a firm's staff member makes on a client (a portal user
	 * added, an invitation to the business) is that firm's too: it carries
	 * the firm and joins the firm's chain.
	 */
	if (a.firm_null && !a.business_null && actor.kind == AC_ACTOR_STAFF)
		a.firm_id = lookup_firm(&plan_staff_firm,
								STAFF_FIRM_SQL,
								actor.id, &a.firm_null);
	AcAppendAuditRow(&a);
	AcEndAsOwner(&scope);

	return PointerGetDatum(NULL);
}

/*
 * Trigger access_control_internal.audit_log_guard(): BEFORE UPDATE OR DELETE FOR EACH
 * ROW and BEFORE TRUNCATE on audit_log. Raises 42501 for everyone, except
 * for the deletes of purge_audit_log.
 */
PG_FUNCTION_INFO_V1(ac_audit_log_guard);
Datum
ac_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "access_control_internal.audit_log_guard() must be called as a trigger");
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

/*
 * The actor text of an audit row ("staff:N", "portal:N", "system") as the
 * two generated columns of audit_log. PostgreSQL reads and prepares a
 * generation expression again on every INSERT, so each column calls one
 * of these instead of an expression of several functions and a regular
 * expression. They return what split_part(actor, ':', 1) and, for
 * actor_id, split_part(actor, ':', 2)::bigint when that part is 1 to 18
 * ASCII digits (else NULL) return.
 */
PG_FUNCTION_INFO_V1(ac_actor_kind);
Datum
ac_actor_kind(PG_FUNCTION_ARGS)
{
	text	   *actor = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(actor);
	int			len = VARSIZE_ANY_EXHDR(actor);
	const char *colon = memchr(s, ':', len);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(s, colon != NULL ? (int) (colon - s) : len));
}

PG_FUNCTION_INFO_V1(ac_actor_id);
Datum
ac_actor_id(PG_FUNCTION_ARGS)
{
	text	   *actor = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(actor);
	int			len = VARSIZE_ANY_EXHDR(actor);
	const char *colon = memchr(s, ':', len);
	const char *p;
	const char *end;
	int64		id = 0;

	if (colon == NULL)
		PG_RETURN_NULL();
	p = colon + 1;
	end = memchr(p, ':', len - (p - s));
	if (end == NULL)
		end = s + len;
	if (end == p || end - p > 18)
		PG_RETURN_NULL();
	for (; p < end; p++)
	{
		if (*p < '0' || *p > '9')
			PG_RETURN_NULL();
		id = id * 10 + (*p - '0');
	}
	PG_RETURN_INT64(id);
}
