/*
 * From 1.1 to 1.2. The Makefile builds access_control--1.1--1.2.sql from
 * this file followed by every function and view definition, comment and
 * privilege of the 1.2 install script as CREATE OR REPLACE (replace.awk),
 * so the functions an upgrade leaves are exactly those of a fresh install.
 * This part makes what those statements cannot: the internal schema, and
 * the objects that move into it.
 */

\echo Use "ALTER EXTENSION access_control UPDATE TO '1.2'" to load this file. \quit

CREATE SCHEMA access_control_internal;

/* Objects other objects depend on move, keeping their oids. */
DO $$
BEGIN
    EXECUTE 'ALTER TABLE access_control.cache_sentinel SET SCHEMA access_control_internal';
    EXECUTE 'ALTER TABLE access_control.cache_sentinel_grants SET SCHEMA access_control_internal';
    FOR i IN 0..15 LOOP
        EXECUTE format('ALTER TABLE access_control.%I SET SCHEMA access_control_internal', 'cache_sentinel_staff_' || i);
    END LOOP;
END $$;
ALTER FUNCTION access_control.row_helper_support(internal) SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.invalidate_cache() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.invalidate_staff_cache() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.check_permission_mask() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.audit() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.audit_log_guard() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.restore_guard() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control._join_builtin_roles() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control_internal._join_builtin_roles() RENAME TO join_builtin_roles;
ALTER FUNCTION access_control._revoke_keys_of_removed_staff() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control_internal._revoke_keys_of_removed_staff() RENAME TO revoke_keys_of_removed_staff;

/* The other internal functions nothing depends on are defined afresh below. */
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'access_control'::regnamespace AND p.proname LIKE '\_%'
    LOOP
        EXECUTE pg_catalog.format('DROP FUNCTION %s', f);
    END LOOP;
END $$;


/* Invitations record who sent them, so that removing her cancels them. */
ALTER TABLE access_control.invitation ADD COLUMN invited_by bigint REFERENCES access_control.staff;
CREATE INDEX invitation_invited_by ON access_control.invitation (invited_by) WHERE status = 'pending';
