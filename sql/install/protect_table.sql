/*
 * protect_table: row-level security on an application table, with policies
 * that call the access helpers; on a partitioned table (or one with
 * inheritance children) on every partition and child too, now and when
 * one appears later (the event trigger below).
 */
/*
 * Runs with its caller's rights: only the table's owner may change its
 * policies. So it calls no function that PUBLIC may not execute, and a role
 * granted protect_table needs no other grant.
 */
CREATE FUNCTION access_control.protect_table(tbl regclass, business_column name DEFAULT 'business_id',
    read_permission text DEFAULT NULL, write_permission text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    col text := pg_catalog.quote_ident(business_column);
    read_qual text;
    write_qual text;
    child regclass;
    pol record;
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'tbl must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for tbl.';
    END IF;
    IF business_column IS NULL THEN
        RAISE EXCEPTION 'business_column must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for business_column.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = tbl AND a.attname = business_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" does not exist in table %', business_column, tbl
            USING ERRCODE = '42703', HINT = 'Pass the name of the column that holds the business id.';
    END IF;
    IF read_permission IS NOT NULL THEN
        PERFORM access_control.permission_mask(ARRAY[read_permission]);
    END IF;
    IF write_permission IS NOT NULL THEN
        PERFORM access_control.permission_mask(ARRAY[write_permission]);
    END IF;
    read_qual := CASE WHEN read_permission IS NULL
        THEN pg_catalog.format('access_control.can_see_business(%s)', col)
        ELSE pg_catalog.format('access_control.has_permission(%s, %L)', col, read_permission) END;
    write_qual := CASE WHEN write_permission IS NULL THEN read_qual
        ELSE pg_catalog.format('access_control.has_permission(%s, %L)', col, write_permission) END;

    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_read ON %s', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_insert ON %s', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_update ON %s', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_delete ON %s', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_read ON %s FOR SELECT USING (%s)', tbl, read_qual);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_insert ON %s FOR INSERT WITH CHECK (%s)', tbl, write_qual);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', tbl, write_qual, write_qual);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_delete ON %s FOR DELETE USING (%s)', tbl, write_qual);

    /*
     * Every partition and inheritance child, at every level, gets the same
     * policies: a query that names one directly applies its own policies,
     * never its parent's.
     */
    FOR child IN
        WITH RECURSIVE tree(relid) AS (
            SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = tbl
            UNION
            SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree t ON i.inhparent = t.relid)
        SELECT t.relid::regclass FROM tree t
    LOOP
        FOR pol IN SELECT p.polname FROM pg_catalog.pg_policy p
                    WHERE p.polrelid = child AND p.polname OPERATOR(pg_catalog.~) '^access_control_'
        LOOP
            EXECUTE pg_catalog.format('DROP POLICY %I ON %s', pol.polname, child);
        END LOOP;
        EXECUTE pg_catalog.format('CREATE POLICY access_control_read ON %s FOR SELECT USING (%s)', child, read_qual);
        EXECUTE pg_catalog.format('CREATE POLICY access_control_insert ON %s FOR INSERT WITH CHECK (%s)', child, write_qual);
        EXECUTE pg_catalog.format('CREATE POLICY access_control_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', child, write_qual, write_qual);
        EXECUTE pg_catalog.format('CREATE POLICY access_control_delete ON %s FOR DELETE USING (%s)', child, write_qual);
        /* last: the event trigger that this ALTER TABLE fires finds the child protected */
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', child);
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control.protect_table(regclass, name, text, text) IS 'Enables RLS on an application table, its partitions and inheritance children, with policies that call the access helpers';
REVOKE ALL ON FUNCTION access_control.protect_table FROM PUBLIC;

/*
 * Event trigger: a table created or altered (CREATE TABLE ... PARTITION OF
 * or INHERITS, ALTER TABLE ... ATTACH PARTITION or INHERIT) whose nearest
 * protected ancestor has protect_table's policies gets them too, with all
 * its own partitions and children. Runs with the rights of whoever ran the
 * DDL, who owns the new table (PostgreSQL requires it), and calls nothing
 * outside pg_catalog; search_path is pinned. Not under
 * session_replication_role = replica: a restore brings the policies with
 * the dump.
 */
CREATE FUNCTION access_control_internal.protect_new_partitions() RETURNS event_trigger
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cmd record;
    rel record;
    src oid;
    pol record;
BEGIN
    FOR cmd IN SELECT DISTINCT c.objid FROM pg_catalog.pg_event_trigger_ddl_commands() c
                WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND c.object_type OPERATOR(pg_catalog.=) 'table'
    LOOP
        /* the table and everything below it, each with its depth-first parent chain */
        FOR rel IN
            WITH RECURSIVE tree(relid) AS (
                SELECT cmd.objid
                UNION
                SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree t ON i.inhparent OPERATOR(pg_catalog.=) t.relid)
            SELECT t.relid FROM tree t
        LOOP
            CONTINUE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                                   WHERE p.polrelid OPERATOR(pg_catalog.=) rel.relid
                                     AND p.polname OPERATOR(pg_catalog.=) 'access_control_read');
            /* the nearest ancestor that protect_table protected */
            WITH RECURSIVE up(relid, depth) AS (
                SELECT i.inhparent, 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid OPERATOR(pg_catalog.=) rel.relid
                UNION
                SELECT i.inhparent, u.depth OPERATOR(pg_catalog.+) 1
                  FROM pg_catalog.pg_inherits i JOIN up u ON i.inhrelid OPERATOR(pg_catalog.=) u.relid)
            SELECT u.relid INTO src FROM up u
             WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                            WHERE p.polrelid OPERATOR(pg_catalog.=) u.relid
                              AND p.polname OPERATOR(pg_catalog.=) 'access_control_read')
             ORDER BY u.depth LIMIT 1;
            CONTINUE WHEN src IS NULL;
            FOR pol IN SELECT p.polname, p.polcmd,
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
                              pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS checks
                         FROM pg_catalog.pg_policy p
                        WHERE p.polrelid OPERATOR(pg_catalog.=) src
                          AND p.polname OPERATOR(pg_catalog.~) '^access_control_'
            LOOP
                EXECUTE pg_catalog.format('CREATE POLICY %I ON %s FOR %s%s%s', pol.polname,
                    rel.relid::pg_catalog.regclass,
                    CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                    WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                    CASE WHEN pol.qual IS NULL THEN '' ELSE pg_catalog.format(' USING (%s)', pol.qual) END,
                    CASE WHEN pol.checks IS NULL THEN '' ELSE pg_catalog.format(' WITH CHECK (%s)', pol.checks) END);
            END LOOP;
            /* after the policies: the event trigger this fires finds the table protected */
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel.relid::pg_catalog.regclass);
        END LOOP;
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control_internal.protect_new_partitions() IS 'Event trigger: gives a new or attached partition or inheritance child of a protected table the same policies';
REVOKE ALL ON FUNCTION access_control_internal.protect_new_partitions() FROM PUBLIC;
CREATE EVENT TRIGGER access_control_protect_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION access_control_internal.protect_new_partitions();
