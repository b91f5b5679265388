/*
 * tables: the one list of the extension's tables and what each one gets.
 * Every table below is extension configuration (pg_dump saves its rows,
 * and those of its serial sequence, restored after CREATE EXTENSION) and
 * carries restore_guard. Besides:
 *   - cache_scope: 'rows' for a table that decides access: it gets the
 *     cache triggers (below), NULL for one that does not;
 *   - dump_filter: which rows pg_dump saves: the two tables this script
 *     seeds dump only the rows added later (see permissions);
 *   - audit: NULL for a table the audit log leaves out, else the audit
 *     trigger's arguments after the entity (the table's name): the column
 *     that identifies the entity, then the rules that name each change in
 *     audit_log.action. The first rule that holds names it: the operations
 *     it is for (I, U, D), tests that must all hold, and the name. A test
 *     is column~ (changed; an INSERT or DELETE changes every column),
 *     column~value (changed to value), column=value, column!=value (in the
 *     row, the old one on DELETE; value * is any but NULL) or column>=all
 *     (holds every permission, before or after). Where none holds, the
 *     name is "<entity>.created", ".changed" or ".dropped" (see src/audit.c).
 */
CREATE FUNCTION access_control_internal.access_tables()
    RETURNS TABLE (name name, cache_scope text, dump_filter text, audit text[])
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    VALUES ('permission'::name, 'rows', 'WHERE bit > 24',
            ARRAY['bit', 'I permission.defined', 'U permission.changed', 'D permission.dropped']),
           ('firm', 'rows', '',
            ARRAY['id', 'I firm.created', 'U firm.changed', 'D firm.dropped']),
           ('staff', 'rows', '',
            ARRAY['id', 'I staff.added', 'D staff.deleted',
                  'U status~removed staff.removed', 'U status~ staff.added',
                  'U role~ staff.role_changed',
                  'U programmatic_access~t programmatic_access.enabled',
                  'U programmatic_access~ programmatic_access.disabled',
                  'U staff.changed']),
           ('business', 'rows', '',
            ARRAY['id', 'I business.created', 'U business.changed', 'D business.dropped']),
           -- a firm's own client is linked active with every permission
           -- (create_business); a partner is invited pending
           ('firm_client', 'rows', '',
            ARRAY['business_id', 'D status=pending partner.declined', 'D client.unlinked',
                  'IU status~pending partner.invited', 'IU status~disconnected partner.disconnected',
                  'I client.linked', 'U status~ partner.connected',
                  'U status!=pending ceiling>=all client.changed', 'U partner.changed']),
           ('team', 'rows', '',
            ARRAY['id', 'I team.created', 'U team.changed', 'D team.dropped']),
           ('team_member', 'rows', '',
            ARRAY['staff_id', 'I team.member_added', 'U team.member_changed', 'D team.member_removed']),
           ('client_role', 'rows', 'WHERE firm_id IS NOT NULL',
            ARRAY['id', 'I role.created', 'U role.changed', 'D role.dropped']),
           ('staff_grant', 'rows', '',
            ARRAY['staff_id', 'I access.granted', 'U access.changed', 'D access.revoked']),
           ('team_grant', 'rows', '',
            ARRAY['team_id', 'I access.granted', 'U access.changed', 'D access.revoked']),
           ('all_clients_grant', 'rows', '',
            ARRAY['staff_id', 'I access.granted', 'U access.changed', 'D access.revoked']),
           ('portal_user', 'rows', '',
            ARRAY['id', 'I portal_user.added', 'D portal_user.deleted',
                  'U status~removed portal_user.removed', 'U status~ portal_user.added',
                  'U portal_user.changed']),
           ('api_key', 'rows', '',
            ARRAY['id', 'I api_key.created', 'D api_key.deleted',
                  'U revoked_at~* api_key.revoked', 'U revoked_at~ api_key.restored',
                  'U api_key.changed']),
           ('invitation', NULL, '',
            ARRAY['id', 'I invitation.created', 'D invitation.deleted',
                  'U status~accepted invitation.accepted', 'U status~cancelled invitation.cancelled',
                  'U token_hash~ invitation.resent', 'U delivery_state~ invitation.delivery',
                  'U invitation.changed']),
           ('secret_key', NULL, '', NULL),
           ('api_key_usage', NULL, '', NULL),
           ('audit_log', NULL, '', NULL)
$$;
COMMENT ON FUNCTION access_control_internal.access_tables() IS 'Internal: the extension''s tables, with their cache scope, which rows pg_dump saves and their audit trigger''s arguments';
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
        IF t.audit IS NOT NULL THEN
            PERFORM access_control_internal.audit_table(tbl::regclass, t.name, t.audit);
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
