/*-------------------------------------------------------------------------
 * src/permission_catalog.h
 *		The permission catalog of permission_catalog.c: every permission's
 *		bit and name, with implications closed.
 *-------------------------------------------------------------------------
 */
#ifndef AC_PERMISSION_CATALOG_H
#define AC_PERMISSION_CATALOG_H

#define AC_MAX_PERMISSIONS 63

/* The permission catalog with implications closed. */
typedef struct AcCatalog
{
	int			n;
	int64		all;			/* every defined bit */
	int64		read_only;		/* every read-only bit */
	int64		closure[AC_MAX_PERMISSIONS];	/* bit -> itself plus all it implies */
	char		names[AC_MAX_PERMISSIONS][NAMEDATALEN];	/* "" where undefined */
} AcCatalog;

extern void AcLoadCatalog(AcCatalog *catalog);
extern int64 AcClosure(const AcCatalog *catalog, int64 mask);
extern int	AcPermissionBit(const AcCatalog *catalog, const char *name);
extern void AcCheckMask(const AcCatalog *catalog, int64 mask, const char *what);

#endif							/* AC_PERMISSION_CATALOG_H */
