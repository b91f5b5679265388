/*
 * protect_table: row-level security on an application table, with policies
 * that call the access helpers.
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
END $$;
COMMENT ON FUNCTION access_control.protect_table(regclass, name, text, text) IS 'Enables RLS on an application table with policies that call the access helpers';
REVOKE ALL ON FUNCTION access_control.protect_table FROM PUBLIC;
