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
extern char *ac_actor_token_setting;
extern uint64 ac_actor_generation;
extern bool AcParseActor(const char *value, AcActor *actor);
extern void AcGetActor(AcActor *actor);
extern void AcActorKey(const AcActor *actor, char *key, size_t len);
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
	bool		uses_grants;	/* read from grants, team memberships and roles */
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
extern void AcNoteAccessWrite(void);
extern Oid	AcExtensionOwner(void);
extern Oid	AcSentinelRelid(bool missing_ok);

/* access.c */
extern AcAccessMap *AcComputeStaffAccess(int64 staff_id, int64 key_id, const AcCatalog *catalog, MemoryContext cxt);
extern AcAccessMap *AcComputePortalAccess(int64 portal_user_id, const AcCatalog *catalog, MemoryContext cxt);
extern void AcLoadCatalog(AcCatalog *catalog);
extern int64 AcClosure(const AcCatalog *catalog, int64 mask);
extern int	AcPermissionBit(const AcCatalog *catalog, const char *name);
extern const AcGrantedBusiness *AcFindBusiness(const AcAccessMap *map, int64 business_id);
extern bool AcApiKeyUsable(int64 key_id, int64 staff_id, TimestampTz now, TimestampTz *expiry);

/* permissions.c */
extern void AcCheckMask(const AcCatalog *catalog, int64 mask, const char *what);
/* Runs SPI queries as the extension's owner: PUBLIC cannot read its tables. */
typedef struct AcOwnerScope
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;	/* GUC nest level holding the pinned search_path */
} AcOwnerScope;

extern void AcBeginAsOwner(AcOwnerScope *scope);
extern void AcEndAsOwner(AcOwnerScope *scope);

/* crypto.c: the only file that includes <sodium.h> */
#define AC_HASH_BYTES 32		/* BLAKE2b output */
#define AC_HASH_KEY_BYTES 32	/* BLAKE2b key */
#define AC_BASE64URL_LEN(len) (((len) * 4 + 2) / 3 + 1)	/* unpadded, with NUL */

extern void AcCryptoInit(void);
extern void AcRandomBytes(void *buf, size_t len);
extern void AcKeyedHash(unsigned char *out, const unsigned char *key,
						int nparts, const void *const *parts, const size_t *lens);
extern void AcHash(unsigned char *out, int nparts, const void *const *parts, const size_t *lens);
extern bool AcConstantTimeEqual(const void *a, const void *b, size_t len);
extern void AcWipe(void *buf, size_t len);
extern void *AcSecretAlloc(size_t len);
extern void AcSecretFree(void *p);
extern void AcBase64UrlEncode(char *out, const unsigned char *bin, size_t len);
extern bool AcBase64UrlDecode(unsigned char *bin, size_t binlen, const char *in, size_t inlen);
extern void AcHexEncode(char *out, const unsigned char *bin, size_t len);

/* tokens.c: the secret tokens of keys.c and invitations.c */
#define AC_TOKEN_SECRET_BYTES 32

/* One kind of token: API keys or invitation tokens. */
typedef struct AcTokenKind
{
	const char *prefix;			/* text before the id, as "ac_" */
	const char *domain;			/* hashed first, with its NUL */
	const char *what;			/* names the kind in internal errors */
} AcTokenKind;

/* What hashing needs, kept in guarded memory and wiped after each use. */
typedef struct AcTokenBuffers
{
	unsigned char hash_key[AC_HASH_KEY_BYTES];
	unsigned char secret[AC_TOKEN_SECRET_BYTES];
	unsigned char expected[AC_HASH_BYTES];
	unsigned char computed[AC_HASH_BYTES];
} AcTokenBuffers;

extern AcTokenBuffers *AcGetTokenBuffers(void);
extern void AcWipeTokenBuffers(void);
extern bool AcTakeBytes(int col, unsigned char *dst, size_t len);
extern int64 AcLoadHashKey(const AcTokenKind *kind, AcTokenBuffers *b, bool newest, int64 key_id);
extern bytea *AcIssueToken(const AcTokenKind *kind, AcTokenBuffers *b, int64 id, char **token);
extern bool AcParseToken(const AcTokenKind *kind, const char *s, size_t len, int64 *id, unsigned char *secret);
extern bool AcVerifyToken(const AcTokenKind *kind, AcTokenBuffers *b, int64 id);

#endif							/* ACCESS_CONTROL_H */
