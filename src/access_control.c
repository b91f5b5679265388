/*-------------------------------------------------------------------------
 * src/access_control.c
 *		Module entry point: the module magic, _PG_init and the settings.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "access_control.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static int	ac_invitation_ttl = 7 * 24 * 60 * 60;
static int	ac_invitation_resend_cooldown = 60;

static bool
check_actor(char **newval, void **extra, GucSource source)
{
	AcActor		actor;

	if (*newval == NULL || AcParseActor(*newval, &actor))
		return true;
	GUC_check_errdetail("The actor is set only by access_control.set_actor, set_portal_actor or authenticate.");
	return false;
}

/* Every change of the actor (SET, set_actor, the end of a transaction) counts. */
static void
assign_actor(const char *newval, void *extra)
{
	ac_actor_generation++;
}

/*
 * Defines the settings and reserves the access_control prefix, so that no
 * placeholder of that prefix can exist; readies libsodium and the cache.
 */
void
_PG_init(void)
{
	AcCryptoInit();

	/*
	 * Who the session acts for. PGC_SUSET: only a superuser could SET it;
	 * everyone else goes through set_actor and friends, which set it LOCAL
	 * with their own authority, so it ends with the transaction, follows
	 * savepoints and travels to parallel workers with the other settings.
	 */
	DefineCustomStringVariable("access_control.actor",
							   "Who the current transaction acts for (staff:N or portal:N).",
							   "Set with access_control.set_actor(), set_portal_actor() or authenticate().",
							   &ac_actor_setting,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   check_actor, assign_actor, NULL);

	/*
	 * The actor as the Citus workers of a transaction receive it (see
	 * actor.c): set with SET LOCAL by set_actor and friends, which Citus
	 * forwards. Anyone may set it, as no node acts on a token that does not
	 * verify; superusers only may read it.
	 */
	DefineCustomStringVariable("access_control.actor_token",
							   "The current actor, signed for the Citus workers of the transaction.",
							   "Set by access_control.set_actor(), set_portal_actor() or authenticate() when Citus is loaded.",
							   &ac_actor_token_setting,
							   "",
							   PGC_USERSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL |
							   GUC_NO_SHOW_ALL | GUC_SUPERUSER_ONLY,
							   NULL, assign_actor, NULL);

	/*
	 * Invitations. Read by the SQL functions when an invitation is sent:
	 * the expiry is stored on the invitation, so changing the TTL affects
	 * invitations sent from then on. PGC_SUSET: these are the DBA's policy
	 * (postgresql.conf, ALTER SYSTEM, ALTER DATABASE ... SET), not something
	 * an application role may lift for itself to spam an invitee.
	 */
	DefineCustomIntVariable("access_control.invitation_ttl",
							"How long an invitation token stays valid after it is sent.",
							NULL,
							&ac_invitation_ttl,
							7 * 24 * 60 * 60, 1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("access_control.invitation_resend_cooldown",
							"How long after sending an invitation it cannot be resent (unless it bounced or was reported as spam).",
							NULL,
							&ac_invitation_resend_cooldown,
							60, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("access_control");

	AcCacheInit();
}
