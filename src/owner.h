/*-------------------------------------------------------------------------
 * src/owner.h
 *		Running SPI queries as the extension's owner, for the C functions
 *		that read or write the extension's tables on behalf of PUBLIC.
 *-------------------------------------------------------------------------
 */
#ifndef AC_OWNER_H
#define AC_OWNER_H

#include "executor/spi.h"

/* What AcBeginAsOwner changed, for AcEndAsOwner to restore. */
typedef struct AcOwnerScope
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;	/* GUC nest level holding the pinned search_path */
} AcOwnerScope;

extern Oid	AcExtensionOwner(void);
extern void AcBeginAsOwner(AcOwnerScope *scope);
extern void AcEndAsOwner(AcOwnerScope *scope);
extern void AcRunQuery(const char *sql, int nargs, Oid *types, Datum *values,
					   bool read_only, int expected);
extern int64 AcResultInt64(uint64 row, int col, bool *isnull);
extern SPIPlanPtr AcKeepPlan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types);

#endif							/* AC_OWNER_H */
