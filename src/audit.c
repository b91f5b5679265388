/*-------------------------------------------------------------------------
 * src/audit.c
 *		The audit log (DESIGN.md section 6): the row trigger that writes it,
 *		the guard that keeps it append-only, purge_audit_log and
 *		verify_audit_chain.
 *
 * Every row carries hash = BLAKE2b(prev_hash || canonical content), where
 * prev_hash is the hash of the previous row of the same firm (firm NULL has
 * a chain of its own). Writers of one chain are serialised by a
 * transaction-level advisory lock taken before the previous hash is read,
 * and the read uses the latest snapshot, so the chain stays linear under
 * any isolation level.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "access_control.h"

/* Distinguishes the chain locks from pg_advisory_lock's (which use 1 and 2). */
#define AUDIT_LOCK_FIELD4 0xAC01

/* Set only while purge_audit_log deletes: lets the guard allow DELETE. */
static bool purging = false;

static SPIPlanPtr plan_staff_firm = NULL;
static SPIPlanPtr plan_team_firm = NULL;
static SPIPlanPtr plan_prev_firm = NULL;
static SPIPlanPtr plan_prev_null = NULL;
static SPIPlanPtr plan_insert = NULL;

/* One audit_log row, as hashed. */
typedef struct AuditRow
{
	int64		id;
	TimestampTz occurred_at;
	bool		firm_null;
	int64		firm_id;
	bool		business_null;
	int64		business_id;
	const char *actor;
	const char *db_user;
	const char *action;
	const char *entity;
	bool		entity_null;
	int64		entity_id;
	bool		old_null;
	Datum		old;			/* jsonb */
	bool		new_null;
	Datum		new;			/* jsonb */
	int64		txid;
} AuditRow;

static void
put_int8(StringInfo buf, bool isnull, int64 v)
{
	unsigned char b[9];
	int			i;

	if (isnull)
	{
		appendStringInfoChar(buf, 0);
		return;
	}
	b[0] = 1;
	for (i = 0; i < 8; i++)
		b[1 + i] = (unsigned char) ((uint64) v >> (56 - 8 * i));
	appendBinaryStringInfo(buf, (const char *) b, 9);
}

static void
put_text(StringInfo buf, const char *s)
{
	if (s == NULL)
	{
		appendStringInfoChar(buf, 0);
		return;
	}
	appendStringInfoChar(buf, 1);
	put_int8(buf, false, (int64) strlen(s));
	appendStringInfoString(buf, s);
}

static void
put_jsonb(StringInfo buf, bool isnull, Datum value)
{
	put_text(buf, isnull ? NULL : DatumGetCString(DirectFunctionCall1(jsonb_out, value)));
}

/*
 * Computes the hash of row chained to prev (NULL for the first row of a
 * chain) into out[AC_HASH_BYTES]. Independent of every setting.
 */
static void
row_hash(unsigned char *out, const unsigned char *prev, const AuditRow *row)
{
	StringInfoData buf;
	const void *parts[1];
	size_t		lens[1];

	initStringInfo(&buf);
	appendStringInfoString(&buf, "access_control.audit_log v1");
	if (prev == NULL)
		appendStringInfoChar(&buf, 0);
	else
	{
		appendStringInfoChar(&buf, 1);
		appendBinaryStringInfo(&buf, (const char *) prev, AC_HASH_BYTES);
	}
	put_int8(&buf, false, row->id);
	put_int8(&buf, false, (int64) row->occurred_at);
	put_int8(&buf, row->firm_null, row->firm_id);
	put_int8(&buf, row->business_null, row->business_id);
	put_text(&buf, row->actor);
	put_text(&buf, row->db_user);
	put_text(&buf, row->action);
	put_text(&buf, row->entity);
	put_int8(&buf, row->entity_null, row->entity_id);
	put_jsonb(&buf, row->old_null, row->old);
	put_jsonb(&buf, row->new_null, row->new);
	put_int8(&buf, false, row->txid);
	parts[0] = buf.data;
	lens[0] = buf.len;
	AcHash(out, 1, parts, lens);
	pfree(buf.data);
}

/* True for columns whose values are never logged: secrets and any bytea. */
static bool
is_secret_column(Form_pg_attribute att)
{
	const char *name = NameStr(att->attname);

	return att->atttypid == BYTEAOID ||
		strcmp(name, "secret_hash") == 0 ||
		strcmp(name, "token_hash") == 0 ||
		strcmp(name, "token") == 0 ||
		strcmp(name, "secret") == 0 ||
		strcmp(name, "key") == 0;
}

/* Appends one column value as JSON: numbers and booleans bare, else strings. */
static void
append_json_value(StringInfo buf, Form_pg_attribute att, Datum value)
{
	Oid			typoutput;
	bool		typisvarlena;
	char	   *text;

	getTypeOutputInfo(att->atttypid, &typoutput, &typisvarlena);
	text = OidOutputFunctionCall(typoutput, value);
	switch (att->atttypid)
	{
		case BOOLOID:
			appendStringInfoString(buf, DatumGetBool(value) ? "true" : "false");
			break;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case JSONOID:
		case JSONBOID:
			appendStringInfoString(buf, text);
			break;
		case NUMERICOID:
			if (strcmp(text, "NaN") == 0 || strstr(text, "Infinity") != NULL)
				escape_json(buf, text);
			else
				appendStringInfoString(buf, text);
			break;
		default:
			escape_json(buf, text);
	}
	pfree(text);
}

/* True when column i of tup and other hold the same value (or both NULL). */
static bool
same_value(TupleDesc tupdesc, HeapTuple tup, HeapTuple other, int i)
{
	Form_pg_attribute att = TupleDescAttr(tupdesc, i);
	bool		isnull,
				other_null;
	Datum		value = heap_getattr(tup, i + 1, tupdesc, &isnull);
	Datum		other_value = heap_getattr(other, i + 1, tupdesc, &other_null);

	if (isnull || other_null)
		return isnull && other_null;
	return datum_image_eq(value, other_value, att->attbyval, att->attlen);
}

/*
 * True when an UPDATE from old to new changed a column that is logged: one
 * that is neither dropped nor secret. Returns false when it changed nothing,
 * or only secret columns.
 */
static bool
logged_column_changed(TupleDesc tupdesc, HeapTuple old, HeapTuple new)
{
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped || is_secret_column(att))
			continue;
		if (!same_value(tupdesc, old, new, i))
			return true;
	}
	return false;
}

/*
 * Returns a jsonb object of the columns of tup that are not secret (with
 * other != NULL: only those whose value differs from other's).
 */
static Datum
row_json(TupleDesc tupdesc, HeapTuple tup, HeapTuple other)
{
	StringInfoData buf;
	int			i;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		bool		isnull;
		Datum		value;

		if (att->attisdropped || is_secret_column(att))
			continue;
		if (other != NULL && same_value(tupdesc, tup, other, i))
			continue;
		value = heap_getattr(tup, i + 1, tupdesc, &isnull);
		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		escape_json(&buf, NameStr(att->attname));
		appendStringInfoString(&buf, ": ");
		if (isnull)
			appendStringInfoString(&buf, "null");
		else
			append_json_value(&buf, att, value);
	}
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

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
 * The action name (DESIGN.md section 6) of an INSERT ('I'), UPDATE ('U') or
 * DELETE ('D') of table.
 */
static const char *
audit_action(const char *table, char op, TupleDesc td, HeapTuple old, HeapTuple new)
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

/* Prepares and keeps sql once per backend; the plan cache revalidates it. */
static SPIPlanPtr
keep_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for audit query: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*plan = p;
	}
	return *plan;
}

/* Looks up the firm_id of the staff member or team id; isnull when gone. */
static int64
lookup_firm(SPIPlanPtr *plan, const char *sql, int64 id, bool *isnull)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	int			rc;

	rc = SPI_execute_plan(keep_plan(plan, sql, 1, types), values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "audit lookup failed: %s", SPI_result_code_string(rc));
	*isnull = true;
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull));
}

/* Takes the chain lock of firm_id (0: the chain of rows without a firm). */
static void
lock_chain(int64 key)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) ((uint64) key >> 32),
						 (uint32) key, AUDIT_LOCK_FIELD4);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * Appends row to the log after the last row of its chain, filling in id,
 * hash and prev. Runs inside an owner scope (SPI connected).
 */
static void
append_row(AuditRow *row)
{
	Oid			types[14] = {INT8OID, TIMESTAMPTZOID, INT8OID, INT8OID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, INT8OID, JSONBOID, JSONBOID, INT8OID, BYTEAOID, BYTEAOID};
	Datum		values[14];
	char		nulls[14];
	Oid			firm_type[1] = {INT8OID};
	Datum		firm_value[1];
	unsigned char prev[AC_HASH_BYTES];
	unsigned char hash[AC_HASH_BYTES];
	bool		have_prev = false;
	SPIPlanPtr	plan;
	int			rc;
	bytea	   *b;

	lock_chain(row->firm_null ? 0 : row->firm_id);

	/* the chain's last row, as committed by whoever held the lock before */
	firm_value[0] = Int64GetDatum(row->firm_id);
	if (row->firm_null)
		plan = keep_plan(&plan_prev_null,
						 "SELECT hash FROM access_control.audit_log WHERE firm_id IS NULL "
						 "ORDER BY id DESC LIMIT 1", 0, NULL);
	else
		plan = keep_plan(&plan_prev_firm,
						 "SELECT hash FROM access_control.audit_log "
						 "WHERE firm_id OPERATOR(pg_catalog.=) $1 ORDER BY id DESC LIMIT 1",
						 1, firm_type);
	CommandCounterIncrement();
	rc = SPI_execute_snapshot(plan, firm_value, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, true, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "audit chain lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			bytea	   *h = DatumGetByteaPP(d);

			if (VARSIZE_ANY_EXHDR(h) == AC_HASH_BYTES)
			{
				memcpy(prev, VARDATA_ANY(h), AC_HASH_BYTES);
				have_prev = true;
			}
		}
	}

	/* id after the lock: ids grow along each chain */
	row->id = nextval_internal(get_relname_relid("audit_log_id_seq",
												 get_namespace_oid("access_control", false)),
							   true);
	row->occurred_at = GetCurrentTimestamp();
	row_hash(hash, have_prev ? prev : NULL, row);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(row->id);
	values[1] = TimestampTzGetDatum(row->occurred_at);
	values[2] = Int64GetDatum(row->firm_id);
	nulls[2] = row->firm_null ? 'n' : ' ';
	values[3] = Int64GetDatum(row->business_id);
	nulls[3] = row->business_null ? 'n' : ' ';
	values[4] = CStringGetTextDatum(row->actor);
	values[5] = CStringGetTextDatum(row->db_user);
	values[6] = CStringGetTextDatum(row->action);
	values[7] = CStringGetTextDatum(row->entity);
	values[8] = Int64GetDatum(row->entity_id);
	nulls[8] = row->entity_null ? 'n' : ' ';
	values[9] = row->old;
	nulls[9] = row->old_null ? 'n' : ' ';
	values[10] = row->new;
	nulls[10] = row->new_null ? 'n' : ' ';
	values[11] = Int64GetDatum(row->txid);
	if (have_prev)
	{
		b = palloc(VARHDRSZ + AC_HASH_BYTES);
		SET_VARSIZE(b, VARHDRSZ + AC_HASH_BYTES);
		memcpy(VARDATA(b), prev, AC_HASH_BYTES);
		values[12] = PointerGetDatum(b);
	}
	else
	{
		values[12] = (Datum) 0;
		nulls[12] = 'n';
	}
	b = palloc(VARHDRSZ + AC_HASH_BYTES);
	SET_VARSIZE(b, VARHDRSZ + AC_HASH_BYTES);
	memcpy(VARDATA(b), hash, AC_HASH_BYTES);
	values[13] = PointerGetDatum(b);

	plan = keep_plan(&plan_insert,
					 "INSERT INTO access_control.audit_log (id, occurred_at, firm_id, business_id, "
					 "actor, db_user, action, entity, entity_id, old, new, txid, prev_hash, hash) "
					 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
					 14, types);
	rc = SPI_execute_plan(plan, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "audit insert failed: %s", SPI_result_code_string(rc));
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
	AuditRow	a;
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
	if (op == 'U' && !logged_column_changed(td, old, new))
		return PointerGetDatum(NULL);

	memset(&a, 0, sizeof(a));
	a.entity = table;
	a.action = audit_action(table, op, td, old, new);
	a.old_null = (old == NULL);
	if (old != NULL)
		a.old = row_json(td, old, new);
	a.new_null = (new == NULL);
	if (new != NULL)
		a.new = row_json(td, new, old);

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
	if (actor.kind == AC_ACTOR_STAFF)
		a.actor = psprintf("staff:" INT64_FORMAT, actor.id);
	else if (actor.kind == AC_ACTOR_PORTAL)
		a.actor = psprintf("portal:" INT64_FORMAT, actor.id);
	else
		a.actor = "system";
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
	append_row(&a);
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

static void
emit_chain(ReturnSetInfo *rsinfo, bool firm_null, int64 firm_id, bool ok, int64 first_bad)
{
	Datum		values[3];
	bool		nulls[3] = {firm_null, false, ok};

	values[0] = Int64GetDatum(firm_id);
	values[1] = BoolGetDatum(ok);
	values[2] = Int64GetDatum(first_bad);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static const char *
getstr(HeapTuple tup, TupleDesc td, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, td, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * verify_audit_chain(firm_id DEFAULT NULL): one row per chain (every chain
 * when firm_id is NULL): ok, or the id of the first row whose hash or link
 * does not match. A chain starts at its first kept row.
 */
PG_FUNCTION_INFO_V1(ac_verify_audit_chain);
Datum
ac_verify_audit_chain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = PG_ARGISNULL(0);
	int64		want = all ? 0 : PG_GETARG_INT64(0);
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(want)};
	AcOwnerScope scope;
	Portal		portal;
	MemoryContext rowcxt;
	bool		started = false,
				cur_null = false,
				ok = true;
	int64		cur_firm = 0,
				first_bad = 0;
	unsigned char expect[AC_HASH_BYTES];
	bool		expect_null = true;

	InitMaterializedSRF(fcinfo, 0);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "audit verify row",
								   ALLOCSET_DEFAULT_SIZES);

	AcBeginAsOwner(&scope);
	portal = SPI_cursor_open_with_args(NULL,
									   all ?
									   "SELECT id, occurred_at, firm_id, business_id, actor, db_user, action, "
									   "entity, entity_id, old, new, txid, prev_hash, hash "
									   "FROM access_control.audit_log ORDER BY firm_id NULLS FIRST, id" :
									   "SELECT id, occurred_at, firm_id, business_id, actor, db_user, action, "
									   "entity, entity_id, old, new, txid, prev_hash, hash "
									   "FROM access_control.audit_log WHERE firm_id OPERATOR(pg_catalog.=) $1 "
									   "ORDER BY id",
									   all ? 0 : 1, types, values, NULL, true, 0);
	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			MemoryContext old = MemoryContextSwitchTo(rowcxt);
			AuditRow	r;
			bool		isnull;
			Datum		d;
			bytea	   *prev = NULL,
					   *hash = NULL;
			unsigned char computed[AC_HASH_BYTES];
			bool		good;

			memset(&r, 0, sizeof(r));
			r.id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
			r.occurred_at = DatumGetTimestampTz(SPI_getbinval(tup, td, 2, &isnull));
			r.firm_id = DatumGetInt64(SPI_getbinval(tup, td, 3, &r.firm_null));
			r.business_id = DatumGetInt64(SPI_getbinval(tup, td, 4, &r.business_null));
			r.actor = getstr(tup, td, 5);
			r.db_user = getstr(tup, td, 6);
			r.action = getstr(tup, td, 7);
			r.entity = getstr(tup, td, 8);
			r.entity_id = DatumGetInt64(SPI_getbinval(tup, td, 9, &r.entity_null));
			r.old = SPI_getbinval(tup, td, 10, &r.old_null);
			r.new = SPI_getbinval(tup, td, 11, &r.new_null);
			r.txid = DatumGetInt64(SPI_getbinval(tup, td, 12, &isnull));
			d = SPI_getbinval(tup, td, 13, &isnull);
			if (!isnull)
				prev = DatumGetByteaPP(d);
			d = SPI_getbinval(tup, td, 14, &isnull);
			if (!isnull)
				hash = DatumGetByteaPP(d);

			if (!started || r.firm_null != cur_null || (!r.firm_null && r.firm_id != cur_firm))
			{
				if (started)
					emit_chain(rsinfo, cur_null, cur_firm, ok, first_bad);
				started = true;
				cur_null = r.firm_null;
				cur_firm = r.firm_id;
				ok = true;
				first_bad = 0;
				/* the first kept row of a chain is trusted to link to what was purged */
				expect_null = (prev == NULL);
				if (prev != NULL && VARSIZE_ANY_EXHDR(prev) == AC_HASH_BYTES)
					memcpy(expect, VARDATA_ANY(prev), AC_HASH_BYTES);
				else
					memset(expect, 0, AC_HASH_BYTES);
			}
			if (ok)
			{
				good = (prev == NULL) == expect_null &&
					(prev == NULL ||
					 (VARSIZE_ANY_EXHDR(prev) == AC_HASH_BYTES &&
					  memcmp(VARDATA_ANY(prev), expect, AC_HASH_BYTES) == 0));
				if (good)
				{
					row_hash(computed, expect_null ? NULL : expect, &r);
					good = hash != NULL && VARSIZE_ANY_EXHDR(hash) == AC_HASH_BYTES &&
						memcmp(VARDATA_ANY(hash), computed, AC_HASH_BYTES) == 0;
				}
				if (good)
				{
					memcpy(expect, computed, AC_HASH_BYTES);
					expect_null = false;
				}
				else
				{
					ok = false;
					first_bad = r.id;
				}
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	AcEndAsOwner(&scope);

	if (started)
		emit_chain(rsinfo, cur_null, cur_firm, ok, first_bad);
	else if (!all)
		emit_chain(rsinfo, false, want, true, 0);
	return (Datum) 0;
}
