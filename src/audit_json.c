/*-------------------------------------------------------------------------
 * src/audit_json.c
 *		Rows of the audited tables as the jsonb of audit_log.old and .new:
 *		every column but the secret ones, and for an UPDATE only the
 *		columns that changed.
 *
 * Secret columns (any bytea, and the columns named like a secret) never
 * reach the log; an UPDATE that changed only such columns is not logged.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "audit.h"

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
bool
AcLoggedColumnChanged(TupleDesc tupdesc, HeapTuple old, HeapTuple new)
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
Datum
AcRowJson(TupleDesc tupdesc, HeapTuple tup, HeapTuple other)
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
