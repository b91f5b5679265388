/*-------------------------------------------------------------------------
 * src/access_control.c
 *		Module entry point: the module magic, _PG_init and the settings.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "access_control.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static bool
check_actor(char **newval, void **extra, GucSource source)
{
	AcActor		actor;

	if (*newval == NULL || AcParseActor(*newval, &actor))
		return true;
	GUC_check_errdetail("The actor is set only by access_control.set_actor, set_portal_actor or authenticate.");
	return false;
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
							   check_actor, NULL, NULL);

	MarkGUCPrefixReserved("access_control");

	AcCacheInit();
}
