/*
 * readers: who is reading, for the row-level security policies on the
 * extension's own tables (see rls) and the views that filter likewise.
 * Each function answers only about the current actor, so PUBLIC may call
 * them (and, for them alone, use the internal schema). The policies call
 * them in scalar subqueries, which the planner runs once per statement,
 * and call nothing else that reads a table with the caller's rights.
 *
 * A staff actor reads only while active and, in a session authenticated
 * with an API key, while the key is unrevoked and unexpired and the
 * member's programmatic access is on, as in the rule of effective access;
 * a portal actor while it is an active login user.
 */
CREATE FUNCTION access_control_internal.reader_staff() RETURNS access_control.staff
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff;
    key_id bigint := pg_catalog.substring(pg_catalog.current_setting('access_control.actor', true),
                                          '^staff:[0-9]+:key:([0-9]+)$')::bigint;
BEGIN
    SELECT * INTO s FROM access_control.staff x
     WHERE x.id = access_control.current_staff_id() AND x.status = 'active';
    IF key_id IS NOT NULL AND NOT (s.programmatic_access AND EXISTS (
            SELECT 1 FROM access_control.api_key k
             WHERE k.id = key_id AND k.staff_id = s.id AND k.revoked_at IS NULL
               AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now()))) THEN
        RETURN NULL;
    END IF;
    RETURN s;
END $$;
COMMENT ON FUNCTION access_control_internal.reader_staff() IS 'Internal: the row of the current staff actor while it may act, else NULL';

CREATE FUNCTION access_control_internal.reader_staff_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT (access_control_internal.reader_staff()).id
$$;
COMMENT ON FUNCTION access_control_internal.reader_staff_id() IS 'Internal: the id of the current staff actor while it may act, else NULL';

CREATE FUNCTION access_control_internal.reader_firm() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT (access_control_internal.reader_staff()).firm_id
$$;
COMMENT ON FUNCTION access_control_internal.reader_firm() IS 'Internal: the firm of the current staff actor while it may act, else NULL';

CREATE FUNCTION access_control_internal.reader_managed_firm() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.firm_id FROM access_control_internal.reader_staff() s WHERE s.role IN ('owner', 'admin')
$$;
COMMENT ON FUNCTION access_control_internal.reader_managed_firm() IS 'Internal: the firm of the current staff actor when an owner or admin that may act, else NULL';

CREATE FUNCTION access_control_internal.reader_portal_user() RETURNS access_control.portal_user
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT u.* FROM access_control.portal_user u
     WHERE u.id = access_control.current_portal_user_id() AND u.status = 'active' AND u.can_login
$$;
COMMENT ON FUNCTION access_control_internal.reader_portal_user() IS 'Internal: the row of the current portal actor while it may act, else NULL';

CREATE FUNCTION access_control_internal.reader_portal_user_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT (access_control_internal.reader_portal_user()).id
$$;
COMMENT ON FUNCTION access_control_internal.reader_portal_user_id() IS 'Internal: the id of the current portal actor while it may act, else NULL';

CREATE FUNCTION access_control_internal.reader_business() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT (access_control_internal.reader_portal_user()).business_id
$$;
COMMENT ON FUNCTION access_control_internal.reader_business() IS 'Internal: the business of the current portal actor while it may act, else NULL';

/*
 * The ids a policy matches a column against, as one array per statement
 * (the policy calls each in a scalar subquery, so the lookup runs once and
 * the column's index does the rest). They read the tables as the owner, so
 * a role granted SELECT on one table reads it without rights on the tables
 * its policy depends on. Empty when the actor is not of their kind.
 */
CREATE FUNCTION access_control_internal.reader_firm_business_ids() RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY(SELECT fc.business_id FROM access_control.firm_client fc
                  WHERE fc.firm_id = (SELECT access_control_internal.reader_firm())
                  ORDER BY fc.business_id)
$$;
COMMENT ON FUNCTION access_control_internal.reader_firm_business_ids() IS 'Internal: ids of the businesses linked with the current staff actor''s firm, in any link state';

CREATE FUNCTION access_control_internal.reader_business_firm_ids() RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY(SELECT fc.firm_id FROM access_control.firm_client fc
                  WHERE fc.business_id = (SELECT access_control_internal.reader_business())
                  ORDER BY fc.firm_id)
$$;
COMMENT ON FUNCTION access_control_internal.reader_business_firm_ids() IS 'Internal: ids of the firms linked with the current portal actor''s business, in any link state';

CREATE FUNCTION access_control_internal.reader_firm_staff_ids() RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY(SELECT s.id FROM access_control.staff s
                  WHERE s.firm_id = (SELECT access_control_internal.reader_firm())
                  ORDER BY s.id)
$$;
COMMENT ON FUNCTION access_control_internal.reader_firm_staff_ids() IS 'Internal: ids of the current staff actor''s firm''s staff, removed ones too';

CREATE FUNCTION access_control_internal.reader_firm_team_ids() RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY(SELECT t.id FROM access_control.team t
                  WHERE t.firm_id = (SELECT access_control_internal.reader_firm())
                  ORDER BY t.id)
$$;
COMMENT ON FUNCTION access_control_internal.reader_firm_team_ids() IS 'Internal: ids of the current staff actor''s firm''s teams';

/* The caller's own rights decide the superuser case: not SECURITY DEFINER. */
CREATE FUNCTION access_control_internal.reader_is_system() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE access_control.current_actor()
               WHEN 'system' THEN true
               ELSE access_control.current_actor() IS NULL
                    AND coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER), false)
           END
$$;
COMMENT ON FUNCTION access_control_internal.reader_is_system() IS 'Internal: true when the actor is system, or no actor is set and the current user is a superuser';

GRANT USAGE ON SCHEMA access_control_internal TO PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.reader_staff,
    access_control_internal.reader_staff_id,
    access_control_internal.reader_firm,
    access_control_internal.reader_managed_firm,
    access_control_internal.reader_portal_user,
    access_control_internal.reader_portal_user_id,
    access_control_internal.reader_business,
    access_control_internal.reader_firm_business_ids,
    access_control_internal.reader_business_firm_ids,
    access_control_internal.reader_firm_staff_ids,
    access_control_internal.reader_firm_team_ids,
    access_control_internal.reader_is_system
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    access_control_internal.reader_staff(),
    access_control_internal.reader_staff_id(),
    access_control_internal.reader_firm(),
    access_control_internal.reader_managed_firm(),
    access_control_internal.reader_portal_user(),
    access_control_internal.reader_portal_user_id(),
    access_control_internal.reader_business(),
    access_control_internal.reader_firm_business_ids(),
    access_control_internal.reader_business_firm_ids(),
    access_control_internal.reader_firm_staff_ids(),
    access_control_internal.reader_firm_team_ids(),
    access_control_internal.reader_is_system()
TO PUBLIC;
