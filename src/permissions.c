/*-------------------------------------------------------------------------
 * src/permissions.c
 *		Permission masks: validate_permissions() and the trigger that keeps
 *		unknown bits (and implication cycles) out of every stored mask.
 *
 * A mask is valid when each of its bits names a permission of the catalog
 * (access_control.permission). The trigger check_permission_mask() guards
 * every column that stores a mask, so neither the management functions nor
 * a DBA's direct DML can store an invalid one. The catalog itself, and the
 * check of a mask against it, are permission_catalog.c's.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "cache.h"
#include "owner.h"
#include "permission_catalog.h"

/*
 * validate_permissions(mask): the mask with every implied permission added.
 * Raises 22023 naming any bit that is not in the catalog.
 */
PG_FUNCTION_INFO_V1(ac_validate_permissions);
Datum
ac_validate_permissions(PG_FUNCTION_ARGS)
{
	const AcCatalog *catalog = AcGetCatalog();
	int64		mask = PG_GETARG_INT64(0);

	AcCheckMask(catalog, mask, "the mask");
	PG_RETURN_INT64(AcClosure(catalog, mask));
}

/*
 * closure(mask): the mask with every implied permission added; bits the
 * catalog does not define are dropped.
 */
PG_FUNCTION_INFO_V1(ac_closure);
Datum
ac_closure(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(AcClosure(AcGetCatalog(), PG_GETARG_INT64(0)));
}

/* Returns the bigint column of tuple; raises an internal error when there is none. */
static int64
get_int8_column(HeapTuple tuple, TupleDesc desc, const char *column, bool *isnull)
{
	int			attnum = SPI_fnumber(desc, column);

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" not found", column);
	return DatumGetInt64(heap_getattr(tuple, attnum, desc, isnull));
}

/* Returns the integer column of tuple, -1 when NULL; raises an internal error when there is none. */
static int32
get_int4_column(HeapTuple tuple, TupleDesc desc, const char *column)
{
	int			attnum = SPI_fnumber(desc, column);
	bool		isnull;
	Datum		d;

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" not found", column);
	d = heap_getattr(tuple, attnum, desc, &isnull);
	return isnull ? -1 : DatumGetInt32(d);
}

/*
 * Checks a row of access_control.permission: its implications name known
 * permissions and never lead back to itself; its bit never changes; it is
 * not deleted while a stored mask still uses its bit. Returns when it
 * passes; raises 2BP01, 0A000 or 22023 when it does not.
 */
static void
check_permission_row(TriggerData *trigdata, const AcCatalog *catalog)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	HeapTuple	tuple = TRIGGER_FIRED_BY_DELETE(trigdata->tg_event)
		? trigdata->tg_trigtuple
		: (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple);
	char	   *name = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "name"));
	int32		bit = get_int4_column(tuple, desc, "bit");
	int64		self;
	int64		implies;
	bool		isnull;

	if (bit < 0 || bit >= AC_MAX_PERMISSIONS)
		return;					/* the CHECK constraint reports it */
	self = INT64CONST(1) << bit;

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(self)};
		int64		uses;
		AcOwnerScope scope;

		/* as the owner, with search_path pinned: whoever fires it, whatever they planted */
		AcBeginAsOwner(&scope);
		AcRunQuery("SELECT (SELECT count(*) FROM access_control.client_role WHERE permissions & $1 <> 0)"
				   "     + (SELECT count(*) FROM access_control.firm_client WHERE ceiling & $1 <> 0)"
				   "     + (SELECT count(*) FROM access_control.portal_user WHERE permissions & $1 <> 0)"
				   "     + (SELECT count(*) FROM access_control.permission WHERE implies & $1 <> 0)",
				   1, types, values, true, SPI_OK_SELECT);
		if (SPI_processed != 1)
			elog(ERROR, "could not count the uses of a permission");
		uses = AcResultInt64(0, 1, &isnull);
		AcEndAsOwner(&scope);
		if (uses > 0)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("permission \"%s\" is still used by " INT64_FORMAT " stored masks", name, uses),
					 errdetail("Client roles, link ceilings, portal users or other permissions hold bit %d.", bit),
					 errhint("Remove the permission from every role, ceiling, portal user and implication first.")));
		return;
	}

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		int32		old_bit = get_int4_column(trigdata->tg_trigtuple, desc, "bit");

		if (old_bit != bit)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the bit of permission \"%s\" cannot change", name),
					 errdetail("Stored masks refer to permissions by bit."),
					 errhint("Define a new permission with access_control.define_permission instead.")));
	}

	implies = get_int8_column(tuple, desc, "implies", &isnull);
	if (isnull)
		return;					/* NOT NULL reports it */

	/*
	 * A path from the implied bits back to this one starts outside it, so
	 * the catalog as it stands before this row changes finds it.
	 */
	if ((implies & self) != 0 || (AcClosure(catalog, implies & catalog->all) & self) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("permission \"%s\" would imply itself", name),
				 errdetail("Implications must not form a cycle."),
				 errhint("Remove the implication that leads back to \"%s\".", name)));
	AcCheckMask(catalog, implies, psprintf("the implications of permission \"%s\"", name));
}

/*
 * Trigger check_permission_mask(column): BEFORE INSERT OR UPDATE FOR EACH
 * ROW; raises 22023 when the column holds a bit that is not in the
 * catalog. On access_control.permission (column implies) it also refuses
 * cycles, bit changes and deleting a permission that is in use.
 */
PG_FUNCTION_INFO_V1(ac_check_permission_mask);
Datum
ac_check_permission_mask(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const AcCatalog *catalog;
	const char *column;
	HeapTuple	tuple;
	TupleDesc	desc;
	int64		mask;
	bool		isnull;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("check_permission_mask() must be a BEFORE ROW trigger with one argument")));

	column = trigdata->tg_trigger->tgargs[0];
	desc = RelationGetDescr(trigdata->tg_relation);
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	/* this row's statement may also change the catalog: read it afresh */
	AcNoteAccessWrite();
	catalog = AcGetCatalog();

	if (strcmp(column, "implies") == 0)
		check_permission_row(trigdata, catalog);
	else if (!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		mask = get_int8_column(tuple, desc, column, &isnull);
		if (!isnull)
			AcCheckMask(catalog, mask,
						psprintf("%s.%s", RelationGetRelationName(trigdata->tg_relation), column));
	}
	return PointerGetDatum(tuple);
}

/*
 * Trigger check_permission_cycles(): AFTER INSERT OR UPDATE ON
 * access_control.permission FOR EACH STATEMENT. Reads the catalog as the
 * statement left it and raises 22023 when an implication leads back to
 * where it started, however many rows the statement changed (the row
 * trigger sees each row against the catalog before the statement).
 */
PG_FUNCTION_INFO_V1(ac_check_permission_cycles);
Datum
ac_check_permission_cycles(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	int64		implies[AC_MAX_PERMISSIONS] = {0};
	int64		reach[AC_MAX_PERMISSIONS];
	char	   *names[AC_MAX_PERMISSIONS] = {NULL};
	AcOwnerScope scope;
	MemoryContext caller = CurrentMemoryContext;
	uint64		r;
	int			i,
				j;
	bool		changed;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("check_permission_cycles() must be an AFTER STATEMENT trigger")));

	AcBeginAsOwner(&scope);
	/* not read-only: the snapshot then includes this statement's rows */
	AcRunQuery("SELECT bit, name, implies FROM access_control.permission",
			   0, NULL, NULL, false, SPI_OK_SELECT);
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
		int			bit = isnull ? -1 : DatumGetInt32(d);

		if (bit < 0 || bit >= AC_MAX_PERMISSIONS)
			continue;			/* the CHECK constraint keeps them out */
		/* copied out of SPI's memory, which AcEndAsOwner frees */
		names[bit] = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2));
		implies[bit] = AcResultInt64(r, 3, &isnull);
	}
	AcEndAsOwner(&scope);

	/* reach[i]: every bit some chain of implications leads to from i */
	memcpy(reach, implies, sizeof(reach));
	do
	{
		changed = false;
		for (i = 0; i < AC_MAX_PERMISSIONS; i++)
			for (j = 0; j < AC_MAX_PERMISSIONS; j++)
				if ((reach[i] & (INT64CONST(1) << j)) && (reach[i] | implies[j]) != reach[i])
				{
					reach[i] |= implies[j];
					changed = true;
				}
	} while (changed);

	for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		if (reach[i] & (INT64CONST(1) << i))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("permission \"%s\" would imply itself", names[i] ? names[i] : "?"),
					 errdetail("Implications must not form a cycle."),
					 errhint("Remove the implication that leads back to \"%s\".", names[i] ? names[i] : "?")));
	return PointerGetDatum(NULL);
}
