/*-------------------------------------------------------------------------
 * src/compat.h
 *		What differs between the PostgreSQL major versions access_control
 *		supports (15, 17 and 18), named once so the sources read the same
 *		on each.
 *
 * Include after postgres.h.  Each guard says the version that changed.
 *-------------------------------------------------------------------------
 */
#ifndef ACCESS_CONTROL_COMPAT_H
#define ACCESS_CONTROL_COMPAT_H

#include "storage/proc.h"

#if PG_VERSION_NUM < 150000
#error "access_control requires PostgreSQL 15 or later"
#endif

/*
 * This backend's local transaction id: from 17 on, PGPROC keeps it in
 * its virtual transaction id, vxid.
 */
#if PG_VERSION_NUM >= 170000
#define AcMyLocalTransactionId() (MyProc->vxid.lxid)
#else
#define AcMyLocalTransactionId() (MyProc->lxid)
#endif

#endif							/* ACCESS_CONTROL_COMPAT_H */
