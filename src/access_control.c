/*-------------------------------------------------------------------------
 * src/access_control.c
 *		Module entry point: the module magic, _PG_init and the settings
 *		(the actor's setting is actor.c's own).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "actor.h"
#include "cache.h"
#include "crypto.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static int	ac_invitation_ttl = 7 * 24 * 60 * 60;
static int	ac_invitation_resend_cooldown = 60;

/*
 * Defines the settings and reserves the access_control prefix, so that no
 * placeholder of that prefix can exist; readies libsodium and the cache.
 * Raises 38000 when libsodium cannot be initialised.
 */
void
_PG_init(void)
{
	AcCryptoInit();

	/* Who the session acts for: access_control.actor. */
	AcDefineActorSetting();

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
