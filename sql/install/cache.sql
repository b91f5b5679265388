/*
 * cache: how every backend's access cache learns of a change (src/cache.c).
 * The invalidate_cache triggers on the access tables (see tables) send a
 * relcache invalidation for one of the sentinel relations below, which
 * every backend's access cache listens for; the C code also finds the
 * extension (and its owner) through cache_sentinel, so this piece comes
 * before any that calls C.
 */

/*
 * Relations that hold no rows. Changes to grants, team memberships and
 * client roles use cache_sentinel_grants, which drops only the maps read
 * from them (those of members); every other change uses cache_sentinel,
 * which drops them all. Grants and team memberships name their member: a
 * change also invalidates the sentinel of the member's bucket (staff id
 * modulo 16), which drops only the maps of the members in that bucket.
 */
CREATE TABLE access_control_internal.cache_sentinel ();
CREATE TABLE access_control_internal.cache_sentinel_grants ();
REVOKE ALL ON TABLE access_control_internal.cache_sentinel, access_control_internal.cache_sentinel_grants FROM PUBLIC;
DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format('CREATE TABLE access_control_internal.%I ()', 'cache_sentinel_staff_' || i);
        EXECUTE format('REVOKE ALL ON TABLE access_control_internal.%I FROM PUBLIC', 'cache_sentinel_staff_' || i);
    END LOOP;
END $$;

CREATE FUNCTION access_control_internal.invalidate_cache() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_cache';
COMMENT ON FUNCTION access_control_internal.invalidate_cache() IS 'Trigger: tells every session that access data changed (at commit)';

CREATE FUNCTION access_control_internal.invalidate_staff_cache() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_staff_cache';
COMMENT ON FUNCTION access_control_internal.invalidate_staff_cache() IS 'Trigger: tells every session that the access of the members whose grants or team memberships changed is stale (at commit)';

REVOKE ALL ON FUNCTION
    access_control_internal.invalidate_cache,
    access_control_internal.invalidate_staff_cache
FROM PUBLIC;
