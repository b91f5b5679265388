/*-------------------------------------------------------------------------
 * src/access_control.h
 *		Declarations shared by the access_control C sources.
 *-------------------------------------------------------------------------
 */
#ifndef ACCESS_CONTROL_H
#define ACCESS_CONTROL_H

#include "utils/timestamp.h"

#define AC_MAX_PERMISSIONS 63

/* actor.c */
typedef enum AcActorKind
{
	AC_ACTOR_NONE,
	AC_ACTOR_STAFF,
	AC_ACTOR_PORTAL
} AcActorKind;

typedef struct AcActor
{
	AcActorKind kind;
	int64		id;				/* staff or portal user id */
	int64		key_id;			/* API key the session authenticated with, or 0 */
} AcActor;

extern char *ac_actor_setting;
extern bool AcParseActor(const char *value, AcActor *actor);
extern void AcGetActor(AcActor *actor);
extern void AcSetActorSetting(const char *value);
extern bool AcPrincipalExists(AcActorKind kind, int64 id);

/* cache.c */
typedef struct AcGrantedBusiness
{
	int64		business_id;
	int64		mask;			/* effective permissions */
} AcGrantedBusiness;

/* Everything one principal can see, sorted by business id. */
typedef struct AcAccessMap
{
	int			n;
	AcGrantedBusiness *items;
	TimestampTz valid_until;	/* an included grant or key expires then */
} AcAccessMap;

/* The permission catalog with implications closed. */
typedef struct AcCatalog
{
	int			n;
	int64		all;			/* every defined bit */
	int64		read_only;		/* every read-only bit */
	int64		closure[AC_MAX_PERMISSIONS];	/* bit -> itself plus all it implies */
	char		names[AC_MAX_PERMISSIONS][NAMEDATALEN];	/* "" where undefined */
} AcCatalog;

extern const AcAccessMap *AcGetAccessMap(const AcActor *actor);
extern const AcCatalog *AcGetCatalog(void);
extern void AcCacheInit(void);
extern Oid	AcExtensionOwner(void);
extern Oid	AcSentinelRelid(bool missing_ok);

/* access.c */
extern AcAccessMap *AcComputeStaffAccess(int64 staff_id, int64 key_id, const AcCatalog *catalog, MemoryContext cxt);
extern AcAccessMap *AcComputePortalAccess(int64 portal_user_id, const AcCatalog *catalog, MemoryContext cxt);
extern void AcLoadCatalog(AcCatalog *catalog);
extern int64 AcClosure(const AcCatalog *catalog, int64 mask);
extern int	AcPermissionBit(const AcCatalog *catalog, const char *name);
extern bool AcApiKeyUsable(int64 key_id, int64 staff_id, TimestampTz now, TimestampTz *expiry);

/* permissions.c */
extern void AcCheckMask(const AcCatalog *catalog, int64 mask, const char *what);

#endif							/* ACCESS_CONTROL_H */
