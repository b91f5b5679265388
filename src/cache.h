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
extern int	ac_cache_size;
extern Oid	AcSentinelRelid(bool missing_ok);
extern Oid	AcCachedExtensionOwner(void);
extern const AcAccessMap *AcGetAccessMap(const AcActor *actor);
extern const AcAccessMap *AcCachedAccessMap(const AcActor *actor);
extern bool AcProbeInsteadOfMap(const AcActor *actor);
extern AcAccessMap *AcComputeAccessTo(const AcActor *actor, int64 business_id, MemoryContext cxt);
extern bool AcActorExists(const AcActor *actor);
extern const AcCatalog *AcGetCatalog(void);
extern void AcNoteAccessWrite(void);

#endif							/* AC_CACHE_H */
