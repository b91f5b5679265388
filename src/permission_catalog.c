/*-------------------------------------------------------------------------
 * src/permission_catalog.c
 *		The permission catalog: loading access_control.permission, closing
 *		its implications, finding a permission's bit by name and checking
 *		that a mask names only known permissions.
 *
 * cache.c keeps the loaded catalog per backend; everything here is pure
 * computation on it, apart from AcLoadCatalog's one query.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "owner.h"
#include "permission_catalog.h"

/*
 * Fills *catalog from access_control.permission, closing the implications
 * transitively once here rather than per row. Raises 55000 when the
 * extension is not installed.
 */
void
AcLoadCatalog(AcCatalog *catalog)
{
	AcOwnerScope scope;
	int64		implies[AC_MAX_PERMISSIONS] = {0};
	uint64		i;
	bool		changed;

	memset(catalog, 0, sizeof(AcCatalog));
	AcBeginAsOwner(&scope);
	AcRunQuery("SELECT bit, name, read_only, implies FROM access_control.permission",
			   0, NULL, NULL, true, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			bit = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		bool		read_only = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));

		if (bit < 0 || bit >= AC_MAX_PERMISSIONS)
			continue;
		strlcpy(catalog->names[bit], name, NAMEDATALEN);
		catalog->all |= INT64CONST(1) << bit;
		if (read_only)
			catalog->read_only |= INT64CONST(1) << bit;
		implies[bit] = AcResultInt64(i, 4, &isnull);
		catalog->n++;
	}
	AcEndAsOwner(&scope);

	for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		catalog->closure[i] = (catalog->all & (INT64CONST(1) << i)) ? ((INT64CONST(1) << i) | implies[i]) : 0;
	do
	{
		changed = false;
		for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		{
			int			j;
			int64		c = catalog->closure[i];

			for (j = 0; j < AC_MAX_PERMISSIONS; j++)
				if (catalog->closure[i] & (INT64CONST(1) << j))
					c |= catalog->closure[j];
			c &= catalog->all;
			if (c != catalog->closure[i])
			{
				catalog->closure[i] = c;
				changed = true;
			}
		}
	} while (changed);
}

/* Returns mask with every implied permission added; unknown bits dropped. */
int64
AcClosure(const AcCatalog *catalog, int64 mask)
{
	int64		result = 0;
	int			i;

	for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		if (mask & (INT64CONST(1) << i))
			result |= catalog->closure[i];
	return result;
}

/* Returns the bit of the named permission, or -1 when there is none. */
int
AcPermissionBit(const AcCatalog *catalog, const char *name)
{
	int			i;

	for (i = 0; i < AC_MAX_PERMISSIONS; i++)
		if (catalog->names[i][0] != '\0' && strcmp(catalog->names[i], name) == 0)
			return i;
	return -1;
}

/* Returns "3, 40, 63": the numbers of the bits set in mask. */
static char *
bit_list(int64 mask)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < 64; i++)
		if ((uint64) mask & ((uint64) 1 << i))
			appendStringInfo(&buf, "%s%d", buf.len > 0 ? ", " : "", i);
	return buf.data;
}

/*
 * Returns when every bit of mask is in the catalog; else raises 22023
 * naming the unknown bits; what says where the mask comes from.
 */
void
AcCheckMask(const AcCatalog *catalog, int64 mask, const char *what)
{
	int64		unknown = mask & ~catalog->all;

	if (unknown != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown permission bits %s in %s", bit_list(unknown), what),
				 errdetail("The permission catalog defines %d permissions.", catalog->n),
				 errhint("Known permissions and their bits are listed in access_control.permission.")));
}
