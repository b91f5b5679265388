/*-------------------------------------------------------------------------
 * src/owner.c
 *		Running SPI queries as the extension's owner.
 *
 * PUBLIC cannot read the extension's tables; the C functions that read or
 * write them on a caller's behalf connect to SPI as the extension's owner
 * with search_path pinned, run their queries and give the caller's user id
 * back. The owner is the role that created the extension: the extension
 * needs a superuser, and CREATE EXTENSION creates every object as that role.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_extension.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"

#include "owner.h"

/*
 * Returns the role that owns the extension (and its tables). Raises 55000
 * when the extension is not installed in this database.
 */
Oid
AcExtensionOwner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("access_control"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"access_control\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION access_control.")));
	return owner;
}

/*
 * Connects to SPI and acts as the extension's owner, with search_path
 * pinned to pg_catalog, pg_temp, until AcEndAsOwner. Raises 55000 when the
 * extension is not installed.
 */
void
AcBeginAsOwner(AcOwnerScope *scope)
{
	Oid			owner = AcExtensionOwner();

	GetUserIdAndSecContext(&scope->save_userid, &scope->save_sec_context);
	SetUserIdAndSecContext(owner, scope->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	/*
	 * The queries name operators and functions unqualified; pin search_path
	 * so that nothing the caller planted in an earlier schema runs with the
	 * owner's rights. GUC_ACTION_SAVE, as for a function's SET clause, so
	 * that this also works inside a parallel worker.
	 */
	scope->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* Disconnects from SPI and restores the caller's user id and search_path. */
void
AcEndAsOwner(AcOwnerScope *scope)
{
	SPI_finish();
	AtEOXact_GUC(true, scope->save_nestlevel);
	SetUserIdAndSecContext(scope->save_userid, scope->save_sec_context);
}

/*
 * Runs sql with the arguments; the result is in SPI_tuptable. Raises an
 * internal error unless SPI answers expected (SPI_OK_SELECT, ...).
 */
void
AcRunQuery(const char *sql, int nargs, Oid *types, Datum *values,
		   bool read_only, int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, read_only, 0);

	if (rc != expected)
		elog(ERROR, "access_control query failed: %s", SPI_result_code_string(rc));
}

/* Returns the bigint in column col of row of SPI_tuptable; 0 and *isnull when NULL. */
int64
AcResultInt64(uint64 row, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

/*
 * Returns the plan of sql kept in *plan, preparing and keeping it on the
 * first call of the backend; the plan cache revalidates it. Raises an
 * internal error when it cannot be prepared.
 */
SPIPlanPtr
AcKeepPlan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*plan = p;
	}
	return *plan;
}
