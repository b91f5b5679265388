/*
 * tables: the one list of the extension's tables and what each one gets.
 * Every table below is extension configuration (pg_dump saves its rows,
 * and those of its serial sequence, restored after CREATE EXTENSION) and
 * carries restore_guard. Besides:
 *   - cache_scope: 'rows' for a table that decides access: it gets the
 *     cache triggers (below), NULL for one that does not;
 *   - audited: the audit trigger (see audit);
 *   - dump_filter: which rows pg_dump saves: the two tables this script
 *     seeds dump only the rows added later (see permissions).
 */
CREATE FUNCTION access_control_internal.access_tables()
    RETURNS TABLE (name name, cache_scope text, audited boolean, dump_filter text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    VALUES ('permission'::name, 'rows', true, 'WHERE bit > 24'),
           ('firm', 'rows', true, ''),
           ('staff', 'rows', true, ''),
           ('business', 'rows', true, ''),
           ('firm_client', 'rows', true, ''),
           ('team', 'rows', true, ''),
           ('team_member', 'rows', true, ''),
           ('client_role', 'rows', true, 'WHERE firm_id IS NOT NULL'),
           ('staff_grant', 'rows', true, ''),
           ('team_grant', 'rows', true, ''),
           ('portal_user', 'rows', true, ''),
           ('api_key', 'rows', true, ''),
           ('invitation', NULL, true, ''),
           ('secret_key', NULL, false, ''),
           ('api_key_usage', NULL, false, ''),
           ('audit_log', NULL, false, '')
$$;
COMMENT ON FUNCTION access_control_internal.access_tables() IS 'Internal: the extension''s tables, with their cache scope, whether they are audited and which rows pg_dump saves';
REVOKE ALL ON FUNCTION access_control_internal.access_tables FROM PUBLIC;

DO $$
DECLARE
    t record;
    tbl text;
    seq text;
BEGIN
    FOR t IN SELECT * FROM access_control_internal.access_tables() LOOP
        tbl := pg_catalog.format('access_control.%I', t.name);
        IF t.cache_scope IS NOT NULL THEN
            /*
             * invalidate_cache before each statement, invalidate_row after
             * each row, naming the table (see cache). ENABLE ALWAYS: they
             * fire under session_replication_role = replica too, as logical
             * replication's apply runs (which fires row triggers only) and
             * as a DBA's bulk load may; a cache that missed a change would
             * be stale.
             */
            EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_cache BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
                            ON %s FOR EACH STATEMENT
                            EXECUTE FUNCTION access_control_internal.invalidate_cache(''rows'')', tbl);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_cache', tbl);
            EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_row AFTER INSERT OR UPDATE OR DELETE
                            ON %s FOR EACH ROW
                            EXECUTE FUNCTION access_control_internal.invalidate_row(%L)', tbl, t.name);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_row', tbl);
        END IF;
        IF t.audited THEN
            PERFORM access_control_internal.audit_table(tbl::regclass);
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
