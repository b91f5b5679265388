/*-------------------------------------------------------------------------
 * src/audit_chain.c
 *		The hash chain of the audit log: how a row is encoded and hashed,
 *		appending a row after the last of its chain, and
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

#include "access/genam.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "executor/tuptable.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "actor.h"
#include "audit.h"
#include "crypto.h"
#include "owner.h"

/* Distinguishes the chain locks from pg_advisory_lock's (which use 1 and 2). */
#define AUDIT_LOCK_FIELD4 0xAC01

static SPIPlanPtr plan_insert = NULL;
static SPIPlanPtr plan_insert_1_1 = NULL;

/*
 * True when audit_log has the api_key_id column: from 1.2 on. The library
 * also serves databases still at 1.0 or 1.1 until ALTER EXTENSION UPDATE,
 * whose rows name no key (and so hash none).
 */
static bool
log_has_key_column(void)
{
	Oid			nsp = get_namespace_oid("access_control", false);

	return get_attnum(get_relname_relid("audit_log", nsp), "api_key_id") != InvalidAttrNumber;
}

/* Appends v (or NULL) to buf: a flag byte, then 8 bytes big-endian. */
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

/* Appends s (or NULL) to buf: a flag byte, its length, its bytes. */
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

/* Appends a jsonb value (or NULL) to buf as its text. */
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
row_hash(unsigned char *out, const unsigned char *prev, const AcAuditRow *row)
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
	/* absent rather than NULL when unset, so rows from before 1.2 verify */
	if (!row->api_key_null)
		put_int8(&buf, false, row->api_key_id);
	parts[0] = buf.data;
	lens[0] = buf.len;
	AcHash(out, 1, parts, lens);
	pfree(buf.data);
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
 * Reads the hash of the newest row of a chain (firm_id's, or the rows
 * without a firm) into prev, under the latest snapshot; false when the
 * chain is empty. A backward scan of audit_log_firm_chain_idx (firm_id,
 * id), done directly rather than through a query, so that its cost does
 * not depend on a plan made while the table was small: a plan kept from
 * a fresh install would scan the whole table for every row logged.
 */
static bool
chain_last_hash(bool firm_null, int64 firm_id, unsigned char *prev)
{
	Oid			nsp = get_namespace_oid("access_control", false);
	Relation	rel = table_open(get_relname_relid("audit_log", nsp), AccessShareLock);
	Relation	idx = index_open(get_relname_relid("audit_log_firm_chain_idx", nsp), AccessShareLock);
	AttrNumber	hash_att = attnameAttNum(rel, "hash", false);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	ScanKeyData key;
	bool		found = false;

	if (firm_null)
		ScanKeyEntryInitialize(&key, SK_ISNULL | SK_SEARCHNULL, 1, InvalidStrategy,
							   InvalidOid, InvalidOid, InvalidOid, (Datum) 0);
	else
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(firm_id));
#if PG_VERSION_NUM >= 180000
	scan = index_beginscan(rel, idx, snap, NULL, 1, 0);
#else
	scan = index_beginscan(rel, idx, snap, 1, 0);
#endif
	index_rescan(scan, &key, 1, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, hash_att, &isnull);

		if (!isnull)
		{
			bytea	   *h = DatumGetByteaPP(d);

			if (VARSIZE_ANY_EXHDR(h) == AC_HASH_BYTES)
			{
				memcpy(prev, VARDATA_ANY(h), AC_HASH_BYTES);
				found = true;
			}
		}
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Appends row to the log after the last row of its chain, filling in id
 * and occurred_at; hashes it onto the chain. Runs inside an owner scope
 * (SPI connected). Raises an internal error when a query fails.
 */
void
AcAppendAuditRow(AcAuditRow *row)
{
	Oid			types[15] = {INT8OID, TIMESTAMPTZOID, INT8OID, INT8OID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, INT8OID, JSONBOID, JSONBOID, INT8OID, BYTEAOID, BYTEAOID, INT8OID};
	Datum		values[15];
	char		nulls[15];
	unsigned char prev[AC_HASH_BYTES];
	unsigned char hash[AC_HASH_BYTES];
	bool		have_prev = false;
	bool		has_key;
	SPIPlanPtr	plan;
	int			rc;
	bytea	   *b;

	has_key = log_has_key_column();
	if (!has_key)
		row->api_key_null = true;

	lock_chain(row->firm_null ? 0 : row->firm_id);

	/* the chain's last row, as committed by whoever held the lock before */
	CommandCounterIncrement();
	have_prev = chain_last_hash(row->firm_null, row->firm_id, prev);

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
	values[14] = Int64GetDatum(row->api_key_id);
	nulls[14] = row->api_key_null ? 'n' : ' ';

	if (has_key)
		plan = AcKeepPlan(&plan_insert,
						 "INSERT INTO access_control.audit_log (id, occurred_at, firm_id, business_id, "
						 "actor, db_user, action, entity, entity_id, old, new, txid, prev_hash, hash, "
						 "api_key_id) "
						 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
						 15, types);
	else
		plan = AcKeepPlan(&plan_insert_1_1,
						 "INSERT INTO access_control.audit_log (id, occurred_at, firm_id, business_id, "
						 "actor, db_user, action, entity, entity_id, old, new, txid, prev_hash, hash) "
						 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
						 14, types);
	rc = SPI_execute_plan(plan, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "audit insert failed: %s", SPI_result_code_string(rc));
}

/* Adds the result row of one chain to the set verify_audit_chain returns. */
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

/* Returns text column col of tup as a C string, or NULL. */
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
	AcActor		actor;

	/* every firm's chain: the system's to check (42501 for anyone else) */
	AcGetAuthority(&actor);
	if (actor.kind != AC_ACTOR_SYSTEM)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to verify the audit chain"),
				 errdetail("Audit chains are verified by the system, not by an actor."),
				 errhint("Run it as a superuser, or after access_control.act_as_system().")));

	InitMaterializedSRF(fcinfo, 0);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "audit verify row",
								   ALLOCSET_DEFAULT_SIZES);

	AcBeginAsOwner(&scope);
	portal = SPI_cursor_open_with_args(NULL,
									   psprintf("SELECT id, occurred_at, firm_id, business_id, actor, db_user, "
												"action, entity, entity_id, old, new, txid, prev_hash, hash, %s "
												"FROM access_control.audit_log %s",
												log_has_key_column() ? "api_key_id" : "NULL::bigint",
												all ? "ORDER BY firm_id NULLS FIRST, id" :
												"WHERE firm_id OPERATOR(pg_catalog.=) $1 ORDER BY id"),
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
			AcAuditRow	r;
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
			r.api_key_id = DatumGetInt64(SPI_getbinval(tup, td, 15, &r.api_key_null));

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
