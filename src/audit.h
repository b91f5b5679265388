/*-------------------------------------------------------------------------
 * src/audit.h
 *		The audit log subsystem: the row as hashed (audit_chain.c), rows
 *		as JSON (audit_json.c), and the trigger that writes them (audit.c).
 *-------------------------------------------------------------------------
 */
#ifndef AC_AUDIT_H
#define AC_AUDIT_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/timestamp.h"

/* One audit_log row, as hashed. */
typedef struct AcAuditRow
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
	bool		api_key_null;	/* hashed only when set: rows before 1.2 have none */
	int64		api_key_id;
} AcAuditRow;

/* audit_chain.c */
extern void AcAppendAuditRow(AcAuditRow *row);

/* audit_json.c */
extern bool AcLoggedColumnChanged(TupleDesc tupdesc, HeapTuple old, HeapTuple new);
extern Datum AcRowJson(TupleDesc tupdesc, HeapTuple tup, HeapTuple other);

#endif							/* AC_AUDIT_H */
