/* access_control--1.0--1.1.sql: from 1.0 to 1.1 */

\echo Use "ALTER EXTENSION access_control UPDATE TO '1.1'" to load this file. \quit

/*
 * The cache invalidation fires before each statement (so a trigger that
 * reads access while its statement changes it sees the change) and also
 * under session_replication_role = replica (logical replication, a DBA's
 * bulk load, a restore); a change to grants, team memberships or client
 * roles drops only the members' cached maps.
 */
CREATE TABLE access_control.cache_sentinel_grants ();
REVOKE ALL ON access_control.cache_sentinel_grants FROM PUBLIC;
DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format('CREATE TABLE access_control.%I ()', 'cache_sentinel_staff_' || i);
        EXECUTE format('REVOKE ALL ON access_control.%I FROM PUBLIC', 'cache_sentinel_staff_' || i);
    END LOOP;
END $$;

CREATE FUNCTION access_control.invalidate_staff_cache() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_staff_cache';
COMMENT ON FUNCTION access_control.invalidate_staff_cache() IS 'Trigger: tells every session that the access of the members whose grants or team memberships changed is stale (at commit)';
REVOKE ALL ON FUNCTION access_control.invalidate_staff_cache() FROM PUBLIC;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['permission', 'firm', 'staff', 'business', 'firm_client',
        'team', 'team_member', 'client_role', 'staff_grant', 'team_grant', 'portal_user', 'api_key']
    LOOP
        EXECUTE format('DROP TRIGGER invalidate_cache ON access_control.%I', t);
        EXECUTE format('CREATE TRIGGER invalidate_cache BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
                        ON access_control.%I FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_cache(%L)', t,
                       CASE WHEN t IN ('staff_grant', 'team_member') THEN 'staff'
                            WHEN t IN ('team_grant', 'client_role') THEN 'grants'
                            ELSE 'all' END);
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_cache', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['staff_grant', 'team_member'] LOOP
        EXECUTE format('CREATE TRIGGER invalidate_staff_cache_insert AFTER INSERT ON access_control.%I
                        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_staff_cache()', t);
        EXECUTE format('CREATE TRIGGER invalidate_staff_cache_update AFTER UPDATE ON access_control.%I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_staff_cache()', t);
        EXECUTE format('CREATE TRIGGER invalidate_staff_cache_delete AFTER DELETE ON access_control.%I
                        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_staff_cache()', t);
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_staff_cache_insert', t);
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_staff_cache_update', t);
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_staff_cache_delete', t);
    END LOOP;
END $$;

/* The planner's estimates: the row helpers' real cost, and their row counts. */
ALTER FUNCTION access_control.can_see_business(bigint) COST 3;
ALTER FUNCTION access_control.has_permission(bigint, text) COST 3;
COMMENT ON FUNCTION access_control.row_helper_support(internal) IS 'Planner support: lets can_see_business and has_permission use an index on the business column, and estimates the rows they keep for the current actor';

/* A grant locks the partner links it relies on, so a disconnect cannot slip in. */
CREATE OR REPLACE FUNCTION access_control._check_linked(firm_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad text;
BEGIN
    PERFORM access_control._not_null(business_ids, 'business_ids');
    PERFORM 1 FROM access_control.firm_client fc
     WHERE fc.firm_id = _check_linked.firm_id AND fc.business_id = ANY (business_ids) AND fc.status = 'active'
     ORDER BY fc.business_id
       FOR SHARE;
    SELECT pg_catalog.string_agg(coalesce(b::text, 'NULL'), ', ' ORDER BY b) INTO bad
      FROM pg_catalog.unnest(business_ids) AS b
     WHERE b IS NULL OR NOT EXISTS (SELECT 1 FROM access_control.firm_client fc
                                     WHERE fc.firm_id = _check_linked.firm_id
                                       AND fc.business_id = b AND fc.status = 'active');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'firm % has no active link with business %', firm_id, bad
            USING ERRCODE = '22023',
                  HINT = 'Grant only businesses whose link in access_control.firm_client is active.';
    END IF;
END $$;

/* remove_staff locks the member's row, so a grant in progress is removed too. */
CREATE OR REPLACE FUNCTION access_control._lock_firm_staff(s access_control.staff) RETURNS access_control.staff
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM 1 FROM access_control.firm f WHERE f.id = s.firm_id FOR NO KEY UPDATE;
    RETURN access_control._staff(s.id, true);
END $$;
COMMENT ON FUNCTION access_control._lock_firm_staff(access_control.staff) IS 'Internal: locks the staff member''s firm and row and returns the row read afresh';

/* ==== DUMP AND RESTORE: begin ==== */
/*
 * A dump is restored with session_replication_role = replica (README,
 * "Backups"), so that the audit and permission-check triggers do not fire
 * while the dumped rows are loaded. join_builtin_roles must fire, so that
 * the built-in roles take in the restored permissions: ENABLE ALWAYS.
 * restore_guard, an ordinary trigger on every table pg_dump carries, makes
 * a plain restore fail on each table with a hint, instead of loading part
 * of the data (src/restore.c).
 */
ALTER TABLE access_control.permission ENABLE ALWAYS TRIGGER join_builtin_roles;

CREATE FUNCTION access_control.restore_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_restore_guard';
COMMENT ON FUNCTION access_control.restore_guard() IS 'Trigger: refuses to load dumped rows unless session_replication_role = replica, with a hint';
REVOKE ALL ON FUNCTION access_control.restore_guard() FROM PUBLIC;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['permission', 'firm', 'staff', 'business', 'firm_client', 'team',
        'team_member', 'client_role', 'staff_grant', 'team_grant', 'portal_user', 'api_key',
        'secret_key', 'api_key_usage', 'invitation', 'audit_log']
    LOOP
        EXECUTE format('CREATE TRIGGER restore_guard BEFORE INSERT ON access_control.%I
                        FOR EACH STATEMENT EXECUTE FUNCTION access_control.restore_guard()', t);
    END LOOP;
END $$;
/* ==== DUMP AND RESTORE: end ==== */

/* ==== WHAT A GRANTED FUNCTION OR VIEW CALLS: begin ==== */
/*
 * A role granted a documented function or view needs no grant on anything
 * it calls. Views and functions without SECURITY DEFINER run what they call
 * with their caller's rights, so they call only functions PUBLIC may
 * execute.
 */

/* SECURITY DEFINER: it tells no more than the mask function behind it. */
CREATE OR REPLACE FUNCTION access_control.staff_effective_permissions(staff_id bigint, business_id bigint) RETURNS text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT access_control.permission_names(access_control.staff_effective_permission_mask(staff_id, business_id))
$$;

/* It must run with the rights of the table's owner: no internal function. */
CREATE OR REPLACE FUNCTION access_control.protect_table(tbl regclass, business_column name DEFAULT 'business_id',
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

/* The cooldown is read from pg_settings, not through _setting_interval. */
CREATE OR REPLACE VIEW access_control.pending_invitations WITH (security_barrier) AS
SELECT v.id, v.firm_id, v.email, v.role, v.delivery_state,
       v.expires_at <= pg_catalog.now() AS expired,
       CASE WHEN v.delivery_state IN ('bounced', 'spam_reported') THEN v.last_sent_at
            ELSE v.last_sent_at + pg_catalog.make_interval(secs => (
                SELECT s.setting::double precision FROM pg_catalog.pg_settings s
                 WHERE s.name = 'access_control.invitation_resend_cooldown'))
       END AS resend_available_at,
       v.created_at, v.last_sent_at, v.expires_at
  FROM access_control.invitation v
 WHERE v.status = 'pending'
   AND (access_control.current_actor() IS NULL
        OR EXISTS (SELECT 1 FROM access_control.staff me
                    WHERE 'staff:' || me.id = access_control.current_actor()
                      AND me.status = 'active' AND me.firm_id = v.firm_id
                      AND me.role IN ('owner', 'admin')));
/* ==== WHAT A GRANTED FUNCTION OR VIEW CALLS: end ==== */

/* ==== AUDIT: begin ==== */
/* define_permission leaves alone the built-in roles that already hold the new bit. */
CREATE OR REPLACE FUNCTION access_control.define_permission(name text, description text,
    read_only boolean DEFAULT false, implies text[] DEFAULT '{}') RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b integer;
    old_all bigint;
    old_read_only bigint;
    implied bigint;
BEGIN
    IF access_control.current_actor() IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to define a permission'
            USING ERRCODE = '42501', DETAIL = 'The permission catalog is shared by every firm and is defined by the system, not by an actor.';
    END IF;
    IF name IS NULL OR name !~ '^[a-z_]+\.[a-z_]+$' OR pg_catalog.length(name) > 63 THEN
        RAISE EXCEPTION 'invalid permission name "%"', coalesce(name, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'A permission name is area.action in lower-case letters and underscores, at most 63 characters, for example invoices.view.';
    END IF;
    IF description IS NULL OR pg_catalog.btrim(description) = '' THEN
        RAISE EXCEPTION 'description of permission "%" must not be empty', name
            USING ERRCODE = '22023', HINT = 'Say what the permission allows; users see it.';
    END IF;
    PERFORM access_control._not_null(read_only, 'read_only');
    PERFORM access_control._not_null(implies, 'implies');
    /* one definition at a time, so two never take the same bit */
    LOCK TABLE access_control.permission IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM access_control.permission p WHERE p.name = define_permission.name) THEN
        RAISE EXCEPTION 'permission "%" already exists', name
            USING ERRCODE = '23505', HINT = 'Permission names are never reused; choose another name.';
    END IF;
    IF name = ANY (implies) THEN
        RAISE EXCEPTION 'permission "%" would imply itself', name
            USING ERRCODE = '22023', DETAIL = 'Implications must not form a cycle.',
                  HINT = pg_catalog.format('Remove "%s" from implies.', name);
    END IF;
    implied := access_control.permission_mask(implies);
    SELECT min(s.b) INTO b FROM pg_catalog.generate_series(0, 62) AS s(b)
     WHERE NOT EXISTS (SELECT 1 FROM access_control.permission p WHERE p.bit = s.b);
    IF b IS NULL THEN
        RAISE EXCEPTION 'too many permissions'
            USING ERRCODE = '54000', DETAIL = 'The catalog holds 63 permissions, one per bit of a bigint mask.',
                  HINT = 'Reuse an existing permission for "' || name || '".';
    END IF;
    SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0),
           coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)) FILTER (WHERE p.read_only), 0)
      INTO old_all, old_read_only FROM access_control.permission p;
    INSERT INTO access_control.permission (bit, name, description, read_only, implies)
    VALUES (b, name, pg_catalog.btrim(description), read_only, implied);
    /*
     * a new permission joins administrator, and bookkeeper when read-only
     * (the join_builtin_roles trigger has already done so, unless disabled)
     */
    UPDATE access_control.client_role r SET permissions = r.permissions | pg_catalog.int8shl(1, b)
     WHERE r.firm_id IS NULL AND (r.name = 'administrator' OR (r.name = 'bookkeeper' AND read_only))
       AND pg_catalog.int8and(r.permissions, pg_catalog.int8shl(1, b)) = 0;
    /* links capped at every permission (own clients) or at the read-only ones (bookkeeper firms) keep that meaning */
    UPDATE access_control.firm_client fc SET ceiling = fc.ceiling | pg_catalog.int8shl(1, b)
     WHERE fc.ceiling = old_all OR (read_only AND fc.ceiling = old_read_only);
    RETURN b;
END $$;
/* ==== AUDIT: end ==== */
