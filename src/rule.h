/*-------------------------------------------------------------------------
 * src/rule.h
 *		The rule of effective access (rule.c) and the access map it
 *		computes: every business a principal sees, with its permissions.
 *-------------------------------------------------------------------------
 */
#ifndef AC_RULE_H
#define AC_RULE_H

#include "utils/timestamp.h"

#include "actor.h"
#include "permission_catalog.h"

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
	bool		uses_grants;	/* read from grants, team memberships and roles */
	bool		exists;			/* the principal exists (a staff member of any
								 * status, a portal user who can log in) */
	bool		firm_wide;		/* an owner's or admin's map: the same for
								 * every one of them in firm_id */
	int64		firm_id;		/* a staff member's firm, or 0 */
} AcAccessMap;

extern AcAccessMap *AcComputeStaffAccess(int64 staff_id, int64 key_id, const int64 *only,
										 const AcCatalog *catalog, MemoryContext cxt);
extern AcAccessMap *AcComputePortalAccess(int64 portal_user_id, const int64 *only,
										  const AcCatalog *catalog, MemoryContext cxt);
extern bool AcPrincipalExists(AcActorKind kind, int64 id);
extern const AcGrantedBusiness *AcFindBusiness(const AcAccessMap *map, int64 business_id);

/* Why a staff session may not act (AcStaffSessionState), or AC_SESSION_OK. */
typedef enum AcSessionState
{
	AC_SESSION_OK,
	AC_SESSION_REMOVED,			/* unknown, or removed from the firm */
	AC_SESSION_PROGRAMMATIC_OFF,	/* an API-key session; programmatic access off */
	AC_SESSION_KEY_UNUSABLE		/* an API-key session; key revoked or expired */
} AcSessionState;

extern AcSessionState AcStaffSessionState(int64 staff_id, int64 key_id);
extern bool AcPortalUserActive(int64 portal_user_id);

#endif							/* AC_RULE_H */
