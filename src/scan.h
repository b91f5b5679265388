/*-------------------------------------------------------------------------
 * src/scan.h
 *		Direct reads of the access tables by index (scan.c), for the rule
 *		of effective access: no SQL, no planning, no role switch.
 *-------------------------------------------------------------------------
 */
#ifndef AC_SCAN_H
#define AC_SCAN_H

#include "access/genam.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "storage/block.h"
#include "storage/buf.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

/* The tables the rule reads. */
typedef enum AcTable
{
	AC_STAFF,
	AC_FIRM_CLIENT,
	AC_STAFF_GRANT,
	AC_TEAM_MEMBER,
	AC_TEAM_GRANT,
	AC_ALL_CLIENTS_GRANT,
	AC_CLIENT_ROLE,
	AC_PORTAL_USER,
	AC_API_KEY,
	AC_TABLE_COUNT
} AcTable;

/*
 * The columns read, by table, in the order scan.c lists them; a scan
 * searches by the table's key columns (scan.c), of which it may give
 * the first only.
 */
enum
{
	STAFF_FIRM_ID, STAFF_ROLE, STAFF_PROGRAMMATIC_ACCESS, STAFF_STATUS
};								/* key: id */
enum
{
	FIRM_CLIENT_BUSINESS_ID, FIRM_CLIENT_STATUS, FIRM_CLIENT_CEILING
};								/* key: firm_id, business_id */
enum
{
	GRANT_BUSINESS_ID, GRANT_ROLE_ID, GRANT_EXPIRES_AT
};								/* staff_grant, key: staff_id, business_id;
								 * team_grant, key: team_id, business_id */
enum
{
	TEAM_MEMBER_TEAM_ID
};								/* key: staff_id */
enum
{
	ALL_CLIENTS_ROLE_ID, ALL_CLIENTS_EXPIRES_AT
};								/* key: staff_id */
enum
{
	CLIENT_ROLE_PERMISSIONS
};								/* key: id */
enum
{
	PORTAL_USER_BUSINESS_ID, PORTAL_USER_PERMISSIONS, PORTAL_USER_STATUS,
	PORTAL_USER_CAN_LOGIN
};								/* key: id */
enum
{
	API_KEY_STAFF_ID, API_KEY_EXPIRES_AT, API_KEY_REVOKED_AT
};								/* key: id */

/* One open scan of a table, restarted with new key values as often as needed. */
typedef struct AcScan
{
	AcTable		table;
	int			nkeys;			/* key columns given: 1 or 2 */
	int64		keyvals[2];
	Snapshot	snapshot;
	Relation	heap;
	Relation	index;			/* NULL: the table has no fitting index */
	IndexScanDesc iscan;
	TableScanDesc hscan;
	TupleTableSlot *slot;		/* the current row, unless from_index */
	bool		from_index;		/* the current row is the index's, in index_values */
	Datum		index_values[INDEX_MAX_KEYS];
	bool		index_isnull[INDEX_MAX_KEYS];
	Buffer		vmbuffer;		/* the visibility map page last read */
	BlockNumber vm_block;		/* the table's page last asked about, */
	bool		vm_all_visible; /* and whether it was all-visible */
} AcScan;

extern bool AcScanOpen(AcScan *scan, AcTable table, int nkeys, Snapshot snapshot, bool missing_ok);
extern void AcScanStart(AcScan *scan, int64 key1, int64 key2);
extern bool AcScanNext(AcScan *scan);
extern void AcScanClose(AcScan *scan);
extern bool AcScanIsNull(AcScan *scan, int column);
extern Datum AcScanValue(AcScan *scan, int column, Datum if_null);
extern bool AcScanTextEquals(AcScan *scan, int column, const char *value);

/* The current row's column of a type, or if_null. */
#define AcScanInt64(scan, column, if_null) \
	DatumGetInt64(AcScanValue((scan), (column), Int64GetDatum(if_null)))
#define AcScanBool(scan, column, if_null) \
	DatumGetBool(AcScanValue((scan), (column), BoolGetDatum(if_null)))
#define AcScanTimestamp(scan, column, if_null) \
	DatumGetTimestampTz(AcScanValue((scan), (column), TimestampTzGetDatum(if_null)))

#endif							/* AC_SCAN_H */
