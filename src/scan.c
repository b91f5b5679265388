/*-------------------------------------------------------------------------
 * src/scan.c
 *		Direct reads of the access tables by index, for the rule of
 *		effective access (rule.c).
 *
 * An actor's first statement reads a few rows of a few tables. Through
 * SQL each read costs an executor start and end, and each build a role
 * switch; here it is an index probe under the statement's snapshot, the
 * way PostgreSQL reads its own catalogs. The reads bypass privileges and
 * row security, as the extension's owner's queries did.
 *
 * Tables, columns and indexes are found by name once per backend and again
 * after an invalidation of the table (ALTER, a new or dropped index,
 * DROP EXTENSION): the columns by name, so a column dropped or added by an
 * upgrade moves nothing; the index as the valid, plain btree index whose
 * leading columns are the table's key columns, preferring one that holds
 * every column read. A table without one is read whole, its rows compared
 * here: slower, never wrong. From an index that holds every column read,
 * rows on pages all-visible in the visibility map are read from the index
 * alone, as an index-only scan does; the others from the table.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/visibilitymap.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "scan.h"

#define MAX_COLUMNS 4

/* A table the rule reads: its key columns and the columns read, in scan.h's order. */
typedef struct TableDef
{
	const char *name;
	const char *keys[2];		/* the second may be NULL */
	const char *columns[MAX_COLUMNS];
} TableDef;

static const TableDef table_defs[AC_TABLE_COUNT] = {
	[AC_STAFF] = {"staff", {"id"}, {"firm_id", "role", "programmatic_access", "status"}},
	[AC_FIRM_CLIENT] = {"firm_client", {"firm_id", "business_id"}, {"business_id", "status", "ceiling"}},
	[AC_STAFF_GRANT] = {"staff_grant", {"staff_id", "business_id"}, {"business_id", "role_id", "expires_at"}},
	[AC_TEAM_MEMBER] = {"team_member", {"staff_id"}, {"team_id"}},
	[AC_TEAM_GRANT] = {"team_grant", {"team_id", "business_id"}, {"business_id", "role_id", "expires_at"}},
	[AC_ALL_CLIENTS_GRANT] = {"all_clients_grant", {"staff_id"}, {"role_id", "expires_at"}},
	[AC_CLIENT_ROLE] = {"client_role", {"id"}, {"permissions"}},
	[AC_PORTAL_USER] = {"portal_user", {"id"}, {"business_id", "permissions", "status", "can_login"}},
	[AC_API_KEY] = {"api_key", {"id"}, {"staff_id", "expires_at", "revoked_at"}},
};

/* What a table's names resolve to in this backend. */
typedef struct Resolved
{
	bool		valid;
	Oid			relid;
	Oid			index;			/* InvalidOid: none fits */
	bool		covering;		/* the index holds every column read */
	int			nkeys;			/* key columns the table has */
	AttrNumber	keys[2];
	AttrNumber	columns[MAX_COLUMNS];
	AttrNumber	index_columns[MAX_COLUMNS]; /* when covering: their numbers in the index */
} Resolved;

static Resolved resolved[AC_TABLE_COUNT];
static bool callback_registered = false;

/* Forgets what names resolved to when their table is invalidated. */
static void
relcache_callback(Datum arg, Oid relid)
{
	int			t;

	for (t = 0; t < AC_TABLE_COUNT; t++)
		if (!OidIsValid(relid) || resolved[t].relid == relid)
			resolved[t].valid = false;
}

/* Returns the table's oid, or InvalidOid when the schema or table is missing. */
static Oid
table_oid(AcTable table)
{
	Oid			nsp = get_namespace_oid("access_control", true);

	return OidIsValid(nsp) ? get_relname_relid(table_defs[table].name, nsp) : InvalidOid;
}

/*
 * True when index indexoid is a valid, plain btree index whose leading
 * columns are keys[0 .. nkeys-1], each with int8's default operator class.
 * *covers tells whether it also holds every column of r (as a key or an
 * included column), and r->index_columns gets their numbers in it when it
 * does.
 */
static bool
index_fits(Oid indexoid, const AttrNumber *keys, int nkeys, Resolved *r, bool *covers)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	HeapTuple	reltup;
	Form_pg_index ix;
	bool		fits;
	bool		isnull;
	oidvector  *opclasses;
	static Oid	int8_ops = InvalidOid;	/* a catalog scan: once per backend */
	int			i;

	if (!OidIsValid(int8_ops))
		int8_ops = GetDefaultOpClass(INT8OID, BTREE_AM_OID);

	*covers = false;
	if (!HeapTupleIsValid(tup))
		return false;
	ix = (Form_pg_index) GETSTRUCT(tup);
	fits = ix->indisvalid && ix->indisready && ix->indislive && ix->indnkeyatts >= nkeys &&
		heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
		heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
	if (fits)
	{
		opclasses = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tup,
																  Anum_pg_index_indclass,
																  &isnull));
		for (i = 0; i < nkeys && fits; i++)
			fits = !isnull && ix->indkey.values[i] == keys[i] &&
				opclasses->values[i] == int8_ops;
	}
	*covers = fits;
	for (i = 0; i < MAX_COLUMNS && *covers; i++)
	{
		AttrNumber	found = InvalidAttrNumber;
		int			j;

		if (r->columns[i] == InvalidAttrNumber)
			continue;
		for (j = 0; j < ix->indnatts && found == InvalidAttrNumber; j++)
			if (ix->indkey.values[j] == r->columns[i])
				found = j + 1;
		*covers = found != InvalidAttrNumber;
		r->index_columns[i] = found;
	}
	ReleaseSysCache(tup);
	if (!fits)
		return false;
	reltup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(reltup))
		return false;
	fits = ((Form_pg_class) GETSTRUCT(reltup))->relam == BTREE_AM_OID;
	ReleaseSysCache(reltup);
	*covers = *covers && fits;
	return fits;
}

/* Returns the number of the table's column name; raises 55000 when it has none. */
static AttrNumber
column_attnum(AcTable table, Oid relid, const char *name)
{
	AttrNumber	att = get_attnum(relid, name);

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table access_control.%s has no column \"%s\"", table_defs[table].name, name),
				 errhint("Reinstall or update the extension access_control.")));
	return att;
}

/* Resolves the table's columns and index; heap is the table, open. */
static void
resolve(AcTable table, Relation heap)
{
	const TableDef *def = &table_defs[table];
	Resolved   *r = &resolved[table];
	Oid			relid = RelationGetRelid(heap);
	List	   *indexes;
	ListCell   *lc;
	int			i;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	r->valid = false;
	r->relid = relid;
	r->nkeys = def->keys[1] != NULL ? 2 : 1;
	for (i = 0; i < r->nkeys; i++)
		r->keys[i] = column_attnum(table, relid, def->keys[i]);
	for (i = 0; i < MAX_COLUMNS; i++)
		r->columns[i] = def->columns[i] != NULL ? column_attnum(table, relid, def->columns[i])
			: InvalidAttrNumber;

	r->index = InvalidOid;
	r->covering = false;
	indexes = RelationGetIndexList(heap);
	foreach(lc, indexes)
	{
		bool		covers;

		if (index_fits(lfirst_oid(lc), r->keys, r->nkeys, r, &covers) && !OidIsValid(r->index))
			r->index = lfirst_oid(lc);
		if (covers)
		{
			/* index_fits filled index_columns for this one */
			r->index = lfirst_oid(lc);
			r->covering = true;
			break;
		}
	}
	list_free(indexes);
	r->valid = true;
}

/*
 * Opens a scan of table searching by its first nkeys key columns, under
 * snapshot, which must stay valid until AcScanClose. Returns false, with
 * nothing open, when missing_ok and the table does not exist (a table an
 * older version of the schema lacks).
 */
bool
AcScanOpen(AcScan *scan, AcTable table, int nkeys, Snapshot snapshot, bool missing_ok)
{
	Resolved   *r = &resolved[table];
	Oid			relid = r->valid ? r->relid : table_oid(table);

	memset(scan, 0, sizeof(AcScan));
	if (!OidIsValid(relid))
	{
		if (missing_ok)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table access_control.%s does not exist", table_defs[table].name),
				 errhint("Reinstall or update the extension access_control.")));
	}
	scan->table = table;
	scan->nkeys = nkeys;
	scan->snapshot = snapshot;
	scan->heap = table_open(relid, AccessShareLock);
	/* the lock taken, what the names meant may have changed: look again */
	if (!r->valid || r->relid != relid)
		resolve(table, scan->heap);
	Assert(nkeys >= 1 && nkeys <= r->nkeys);
	scan->slot = table_slot_create(scan->heap, NULL);
	if (OidIsValid(r->index))
	{
		scan->index = index_open(r->index, AccessShareLock);
#if PG_VERSION_NUM >= 180000
		scan->iscan = index_beginscan(scan->heap, scan->index, snapshot, NULL, nkeys, 0);
#else
		scan->iscan = index_beginscan(scan->heap, scan->index, snapshot, nkeys, 0);
#endif
		scan->iscan->xs_want_itup = r->covering;
		scan->vm_block = InvalidBlockNumber;
	}
	return true;
}

/* Starts (again) at the first row whose key columns equal key1 (and key2). */
void
AcScanStart(AcScan *scan, int64 key1, int64 key2)
{
	scan->keyvals[0] = key1;
	scan->keyvals[1] = key2;
	if (scan->iscan != NULL)
	{
		ScanKeyData keys[2];
		int			i;

		for (i = 0; i < scan->nkeys; i++)
			ScanKeyInit(&keys[i], i + 1, BTEqualStrategyNumber, F_INT8EQ,
						Int64GetDatum(scan->keyvals[i]));
		index_rescan(scan->iscan, keys, scan->nkeys, NULL, 0);
	}
	else
	{
		if (scan->hscan != NULL)
			table_endscan(scan->hscan);
		scan->hscan = table_beginscan(scan->heap, scan->snapshot, 0, NULL);
	}
}

/* Moves to the next row with the keys; false when there is none. */
bool
AcScanNext(AcScan *scan)
{
	const Resolved *r = &resolved[scan->table];

	scan->from_index = false;
	if (scan->iscan != NULL && !scan->iscan->xs_want_itup)
		return index_getnext_slot(scan->iscan, ForwardScanDirection, scan->slot);
	if (scan->iscan != NULL)
	{
		ItemPointer tid;

		/*
		 * As nodeIndexonlyscan.c does: the index's row when the table's page
		 * is all-visible (asked once per page: a firm's links share pages).
		 */
		while ((tid = index_getnext_tid(scan->iscan, ForwardScanDirection)) != NULL)
		{
			BlockNumber block = ItemPointerGetBlockNumber(tid);

			if (block != scan->vm_block)
			{
				scan->vm_block = block;
				scan->vm_all_visible = VM_ALL_VISIBLE(scan->heap, block, &scan->vmbuffer);
				if (scan->vm_all_visible)
					PredicateLockPage(scan->heap, block, scan->snapshot);
			}
			if (scan->vm_all_visible)
			{
				index_deform_tuple(scan->iscan->xs_itup, scan->iscan->xs_itupdesc,
								   scan->index_values, scan->index_isnull);
				scan->from_index = true;
				return true;
			}
			if (index_fetch_heap(scan->iscan, scan->slot))
				return true;
		}
		return false;
	}
	while (table_scan_getnextslot(scan->hscan, ForwardScanDirection, scan->slot))
	{
		bool		match = true;
		int			i;

		for (i = 0; i < scan->nkeys && match; i++)
		{
			bool		isnull;
			Datum		d = slot_getattr(scan->slot, r->keys[i], &isnull);

			match = !isnull && DatumGetInt64(d) == scan->keyvals[i];
		}
		if (match)
			return true;
	}
	return false;
}

/* Ends the scan; the locks stay until the transaction ends. */
void
AcScanClose(AcScan *scan)
{
	if (scan->heap == NULL)
		return;
	if (scan->iscan != NULL)
		index_endscan(scan->iscan);
	if (scan->hscan != NULL)
		table_endscan(scan->hscan);
	if (scan->index != NULL)
		index_close(scan->index, NoLock);
	if (BufferIsValid(scan->vmbuffer))
		ReleaseBuffer(scan->vmbuffer);
	ExecDropSingleTupleTableSlot(scan->slot);
	table_close(scan->heap, NoLock);
	scan->heap = NULL;
}

static Datum
column_value(AcScan *scan, int column, bool *isnull)
{
	if (scan->from_index)
	{
		int			i = resolved[scan->table].index_columns[column] - 1;

		*isnull = scan->index_isnull[i];
		return scan->index_values[i];
	}
	return slot_getattr(scan->slot, resolved[scan->table].columns[column], isnull);
}

/* True when the current row's column is NULL. */
bool
AcScanIsNull(AcScan *scan, int column)
{
	bool		isnull;

	(void) column_value(scan, column, &isnull);
	return isnull;
}

/* The current row's column (of a by-value type), or if_null. */
Datum
AcScanValue(AcScan *scan, int column, Datum if_null)
{
	bool		isnull;
	Datum		d = column_value(scan, column, &isnull);

	return isnull ? if_null : d;
}

/* True when the current row's text column is not NULL and equals value. */
bool
AcScanTextEquals(AcScan *scan, int column, const char *value)
{
	bool		isnull;
	Datum		d = column_value(scan, column, &isnull);
	text	   *t;
	bool		equal;

	if (isnull)
		return false;
	t = DatumGetTextPP(d);
	equal = VARSIZE_ANY_EXHDR(t) == strlen(value) &&
		memcmp(VARDATA_ANY(t), value, VARSIZE_ANY_EXHDR(t)) == 0;
	if ((Pointer) t != DatumGetPointer(d))
		pfree(t);
	return equal;
}
