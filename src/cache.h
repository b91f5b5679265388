/*-------------------------------------------------------------------------
 * src/cache.h
 *		The backend cache of cache.c: access maps by actor and the
 *		permission catalog, dropped by invalidations of sentinel tables.
 *-------------------------------------------------------------------------
 */
#ifndef AC_CACHE_H
#define AC_CACHE_H

#include "actor.h"
#include "permission_catalog.h"
#include "rule.h"

extern void AcCacheInit(void);
extern Oid	AcSentinelRelid(bool missing_ok);
extern const AcAccessMap *AcGetAccessMap(const AcActor *actor);
extern const AcCatalog *AcGetCatalog(void);
extern void AcNoteAccessWrite(void);

#endif							/* AC_CACHE_H */
