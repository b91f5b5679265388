/*
 * tables: the one list of the extension's tables and what each one gets.
 * Every table below is extension configuration (pg_dump saves its rows,
 * and those of its serial sequence, restored after CREATE EXTENSION) and
 * carries restore_guard. Besides:
 *   - cache_scope: the invalidate_cache trigger's scope (see cache), NULL
 *     for a table that decides no access; 'staff' tables name their member
 *     and also get the invalidate_staff_cache triggers;
 *   - audited: the audit trigger (see audit);
 *   - dump_filter: which rows pg_dump saves: the two tables this script
 *     seeds dump only the rows added later (see permissions).
 * Every one but audit_log (which has a guard of its own) refuses TRUNCATE
 * (refuse_truncate): it would change access with no audit row.
 */
CREATE FUNCTION access_control_internal.access_tables()
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
COMMENT ON FUNCTION access_control_internal.access_tables() IS 'Internal: the extension''s tables, with their cache scope, whether they are audited and which rows pg_dump saves';
REVOKE ALL ON FUNCTION access_control_internal.access_tables FROM PUBLIC;

CREATE FUNCTION access_control_internal.refuse_truncate() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE of access_control.% is not allowed', TG_TABLE_NAME
        USING ERRCODE = '42501',
              DETAIL = 'Truncating an access table would change access without an audit row.',
              HINT = 'Remove rows with DELETE (audited), or through the management functions.';
END $$;
COMMENT ON FUNCTION access_control_internal.refuse_truncate() IS 'Internal trigger: refuses TRUNCATE of an access table, even for a superuser';
REVOKE ALL ON FUNCTION access_control_internal.refuse_truncate FROM PUBLIC;

DO $$
DECLARE
    t record;
    tbl text;
    seq text;
BEGIN
    FOR t IN SELECT * FROM access_control_internal.access_tables() LOOP
        tbl := pg_catalog.format('access_control.%I', t.name);
        IF t.cache_scope IS NOT NULL THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_cache BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
                            ON %s FOR EACH STATEMENT
                            EXECUTE FUNCTION access_control_internal.invalidate_cache(%L)', tbl,
                           t.cache_scope);
            -- also under session_replication_role = replica (logical replication,
            -- a DBA's bulk load): a cache that missed a change would be stale
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_cache', tbl);
        END IF;
        IF t.cache_scope = 'staff' THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_staff_cache_insert AFTER INSERT ON %s
                            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
                            EXECUTE FUNCTION access_control_internal.invalidate_staff_cache()', tbl);
            EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_staff_cache_update AFTER UPDATE ON %s
                            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
                            EXECUTE FUNCTION access_control_internal.invalidate_staff_cache()', tbl);
            EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_staff_cache_delete AFTER DELETE ON %s
                            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
                            EXECUTE FUNCTION access_control_internal.invalidate_staff_cache()', tbl);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_staff_cache_insert', tbl);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_staff_cache_update', tbl);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_staff_cache_delete', tbl);
        END IF;
        IF t.audited THEN
            PERFORM access_control_internal.audit_table(tbl::regclass);
        END IF;
        IF t.name <> 'audit_log' THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER refuse_truncate BEFORE TRUNCATE ON %s
                            FOR EACH STATEMENT EXECUTE FUNCTION access_control_internal.refuse_truncate()', tbl);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER refuse_truncate', tbl);
        END IF;
        EXECUTE pg_catalog.format('CREATE TRIGGER restore_guard BEFORE INSERT ON %s
                        FOR EACH STATEMENT EXECUTE FUNCTION access_control_internal.restore_guard()', tbl);
        PERFORM pg_catalog.pg_extension_config_dump(tbl::regclass, t.dump_filter);
        seq := pg_catalog.pg_get_serial_sequence(tbl, 'id')
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = tbl::regclass AND a.attname = 'id';
        IF seq IS NOT NULL THEN
            PERFORM pg_catalog.pg_extension_config_dump(seq::regclass, '');
        END IF;
    END LOOP;
END $$;
