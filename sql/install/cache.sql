/*
 * cache: how every backend's access cache learns of a change (src/cache.c).
 * The invalidate_cache triggers on the access tables (see tables) send a
 * relcache invalidation for one of the sentinel relations below, which
 * every backend's access cache listens for; the C code also finds the
 * extension (and its owner) through cache_sentinel, so this piece comes
 * before any that calls C.
 */

/*
 * Relations that hold no rows: an invalidation of cache_sentinel drops
 * every map and the permission catalog (a change to the catalog, a
 * TRUNCATE); of cache_sentinel_grants, every member's map (a change to a
 * built-in client role). Every other change names what it concerns: the
 * invalidate_row trigger sends the invalidation of an oid standing for
 * the firm, the staff member or the portal user the row is about, which
 * no relation has; a backend drops the maps listed under it and no other.
 */
CREATE TABLE access_control_internal.cache_sentinel ();
CREATE TABLE access_control_internal.cache_sentinel_grants ();
REVOKE ALL ON TABLE access_control_internal.cache_sentinel, access_control_internal.cache_sentinel_grants FROM PUBLIC;

CREATE FUNCTION access_control_internal.invalidate_cache() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_cache';
COMMENT ON FUNCTION access_control_internal.invalidate_cache() IS 'Trigger, before each statement: keeps the writing transaction off the cache; a TRUNCATE tells every session that all access data changed (at commit)';

CREATE FUNCTION access_control_internal.invalidate_row() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_row';
COMMENT ON FUNCTION access_control_internal.invalidate_row() IS 'Trigger, for each row: tells every session that the access of the firm, staff member or portal user the row concerns changed (at commit)';

REVOKE ALL ON FUNCTION
    access_control_internal.invalidate_cache,
    access_control_internal.invalidate_row
FROM PUBLIC;
