/*-------------------------------------------------------------------------
 * src/actor.h
 *		Who the current transaction acts for: the typed actor of actor.c.
 *-------------------------------------------------------------------------
 */
#ifndef AC_ACTOR_H
#define AC_ACTOR_H

typedef enum AcActorKind
{
	AC_ACTOR_NONE,
	AC_ACTOR_STAFF,
	AC_ACTOR_PORTAL,
	AC_ACTOR_SYSTEM				/* act_as_system(), or a superuser with no actor */
} AcActorKind;

/*
 * Who acts; also the key of the backend's map cache (HASH_BLOBS). Fill it
 * only with AcMakeActor (or AcGetActor), which zero it first, so that the
 * padding after kind never tells two equal actors apart.
 */
typedef struct AcActor
{
	AcActorKind kind;
	int64		id;				/* staff or portal user id */
	int64		key_id;			/* API key the session authenticated with, or 0 */
} AcActor;

extern void AcDefineActorSetting(void);
extern void AcMakeActor(AcActor *actor, AcActorKind kind, int64 id, int64 key_id);
extern char *AcFormatActor(const AcActor *actor, bool with_key);
extern void AcGetActor(AcActor *actor);
extern bool AcTryGetActor(AcActor *actor);
extern uint64 AcActorGeneration(void);
extern void AcSetActor(const AcActor *actor);
extern void AcGetAuthority(AcActor *actor);

/* True when a and b are the same actor (field by field, padding aside). */
static inline bool
AcActorEqual(const AcActor *a, const AcActor *b)
{
	return a->kind == b->kind && a->id == b->id && a->key_id == b->key_id;
}

#endif							/* AC_ACTOR_H */
