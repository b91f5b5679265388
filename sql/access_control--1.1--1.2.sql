/* access_control--1.1--1.2.sql: from 1.1 to 1.2 */

\echo Use "ALTER EXTENSION access_control UPDATE TO '1.2'" to load this file. \quit
CREATE FUNCTION access_control._access_tables()
    RETURNS TABLE (name name, cache_scope text, audited boolean, dump_filter text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    VALUES ('permission'::name, 'all', true, 'WHERE bit > 24'),
           ('firm', 'all', true, ''),
           ('staff', 'all', true, ''),
           ('business', 'all', true, ''),
           ('firm_client', 'all', true, ''),
           ('team', 'all', true, ''),
           ('team_member', 'staff', true, ''),
           ('client_role', 'grants', true, 'WHERE firm_id IS NOT NULL'),
           ('staff_grant', 'staff', true, ''),
           ('team_grant', 'grants', true, ''),
           ('portal_user', 'all', true, ''),
           ('api_key', 'all', true, ''),
           ('invitation', NULL, true, ''),
           ('secret_key', NULL, false, ''),
           ('api_key_usage', NULL, false, ''),
           ('audit_log', NULL, false, '')
$$;
COMMENT ON FUNCTION access_control._access_tables() IS 'Internal: the extension''s tables, with their cache scope, whether they are audited and which rows pg_dump saves';
REVOKE ALL ON FUNCTION access_control._access_tables FROM PUBLIC;
