/*
 * seeing_access: who can see what, and why: staff_access, business_access,
 * explain_access and the account switcher my_businesses.
 */
/*
 * Seeing access. Staff may look at their own access; owners and admins at
 * their firm's staff and clients; nobody at another firm's. Without an actor
 * the caller's SQL privileges decided. Every permission shown comes from the
 * C rule (staff_effective_permissions), the one RLS uses.
 */

/* Raises 42501 unless the current actor may see the access of staff member s. */
CREATE FUNCTION access_control_internal.may_see_staff(s access_control.staff) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control_internal.actor_authority();
BEGIN
    IF actor = 'system' OR access_control.current_staff_id() = s.id THEN
        RETURN;
    END IF;
    IF access_control.current_staff_id() IS NULL THEN
        RAISE EXCEPTION 'permission denied to see the access of staff member %', s.id
            USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not a staff member of this firm.', actor);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM access_control.staff me
                    WHERE me.id = access_control.current_staff_id() AND me.firm_id = s.firm_id
                      AND me.status = 'active' AND me.role IN ('owner', 'admin')) THEN
        RAISE EXCEPTION 'permission denied to see the access of staff member %', s.id
            USING ERRCODE = '42501',
                  DETAIL = pg_catalog.format('Actor %s is neither this member nor an active owner or admin of the member''s firm.', actor);
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.may_see_staff(access_control.staff) IS 'Internal: raises 42501 unless the current actor may see this member''s access';

CREATE FUNCTION access_control_internal.staff_row(staff_id bigint) RETURNS access_control.staff
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id);
BEGIN
    PERFORM access_control_internal.may_see_staff(s);
    RETURN s;
END $$;
COMMENT ON FUNCTION access_control_internal.staff_row(bigint) IS 'Internal: the staff row after the check that the actor may see its access';

/*
 * Every grant reaching staff member s on business b, expired or not: its
 * kind ('direct', 'team' or 'all clients'), the team's name for a team
 * grant, the role, its permissions and expiry. The all-clients grant
 * reaches b when the firm has a link with it (whether the link is active
 * is the rule's other condition).
 */
CREATE FUNCTION access_control_internal.live_grants(staff_id bigint, business_id bigint)
    RETURNS TABLE (kind text, team text, role text, permissions bigint, expires_at timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'direct'::text, NULL::text, r.name, r.permissions, g.expires_at
      FROM access_control.staff_grant g JOIN access_control.client_role r ON r.id = g.role_id
     WHERE g.staff_id = live_grants.staff_id AND g.business_id = live_grants.business_id
    UNION ALL
    SELECT 'all clients', NULL, r.name, r.permissions, g.expires_at
      FROM access_control.all_clients_grant g
      JOIN access_control.client_role r ON r.id = g.role_id
      JOIN access_control.staff s ON s.id = g.staff_id
     WHERE g.staff_id = live_grants.staff_id
       AND EXISTS (SELECT 1 FROM access_control.firm_client fc
                    WHERE fc.firm_id = s.firm_id AND fc.business_id = live_grants.business_id)
    UNION ALL
    SELECT 'team', t.name, r.name, r.permissions, g.expires_at
      FROM access_control.team_member m
      JOIN access_control.team t ON t.id = m.team_id
      JOIN access_control.team_grant g ON g.team_id = m.team_id
      JOIN access_control.client_role r ON r.id = g.role_id
     WHERE m.staff_id = live_grants.staff_id AND g.business_id = live_grants.business_id
$$;
COMMENT ON FUNCTION access_control_internal.live_grants(bigint, bigint) IS 'Internal: every direct, all-clients and team grant of the member on the business, expired or not';

/*
 * The grants of staff member s on business b that have not expired, as
 * the "manage access" screens show them: whether there is a direct grant
 * and its role, the teams (by name) and each one's role in the same
 * order, the all-clients role, and every role.
 */
CREATE FUNCTION access_control_internal.grant_summary(staff_id bigint, business_id bigint,
    OUT direct boolean, OUT direct_role text, OUT via_teams text[], OUT team_roles text[],
    OUT all_clients_role text, OUT roles text[])
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.bool_or(g.kind = 'direct') IS TRUE,
           pg_catalog.min(g.role) FILTER (WHERE g.kind = 'direct'),
           coalesce(pg_catalog.array_agg(g.team ORDER BY g.team) FILTER (WHERE g.kind = 'team'), '{}'),
           coalesce(pg_catalog.array_agg(g.role ORDER BY g.team) FILTER (WHERE g.kind = 'team'), '{}'),
           pg_catalog.min(g.role) FILTER (WHERE g.kind = 'all clients'),
           coalesce(pg_catalog.array_agg(DISTINCT g.role ORDER BY g.role), '{}')
      FROM access_control_internal.live_grants(staff_id, business_id) g
     WHERE g.expires_at IS NULL OR g.expires_at > pg_catalog.now()
$$;
COMMENT ON FUNCTION access_control_internal.grant_summary(bigint, bigint) IS 'Internal: the member''s unexpired grants on the business: direct role, teams and their roles, all-clients role, every role';

CREATE FUNCTION access_control.staff_access(staff_id bigint)
    RETURNS TABLE (business_id bigint, business_name text, direct boolean, via_teams text[], roles text[], permissions text[],
                   direct_role text, team_roles text[], all_clients_role text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.staff_row(staff_id);
BEGIN
    /* owners and admins hold no grants: their staff role is what they hold */
    RETURN QUERY
    SELECT b.id, b.name,
           CASE WHEN s.role = 'member' THEN g.direct ELSE false END,
           CASE WHEN s.role = 'member' THEN g.via_teams ELSE '{}'::text[] END,
           CASE WHEN s.role = 'member' THEN g.roles ELSE ARRAY[s.role] END,
           access_control.staff_effective_permissions(s.id, b.id),
           CASE WHEN s.role = 'member' THEN g.direct_role END,
           CASE WHEN s.role = 'member' THEN g.team_roles ELSE '{}'::text[] END,
           CASE WHEN s.role = 'member' THEN g.all_clients_role END
      FROM access_control.firm_client fc
      JOIN access_control.business b ON b.id = fc.business_id
     CROSS JOIN LATERAL access_control_internal.grant_summary(s.id, b.id) g
     WHERE fc.firm_id = s.firm_id
       AND access_control.staff_can_see_business(s.id, b.id)
     ORDER BY pg_catalog.lower(b.name), b.id;
END $$;
COMMENT ON FUNCTION access_control.staff_access(bigint) IS 'One row per business the member can see: direct grant and its role, teams and their roles, the all-clients role, every role and the effective permissions';

CREATE FUNCTION access_control.business_access(business_id bigint)
    RETURNS TABLE (staff_id bigint, email text, first_name text, last_name text, staff_role text, direct boolean,
                   via_teams text[], direct_role text, team_roles text[], permissions text[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control_internal.actor_authority();
    me access_control.staff;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    IF actor <> 'system' THEN
        SELECT * INTO me FROM access_control.staff s WHERE s.id = access_control.current_staff_id();
        IF me.id IS NULL OR me.status <> 'active' OR me.role NOT IN ('owner', 'admin') THEN
            RAISE EXCEPTION 'permission denied to see who has access to business %', business_id
                USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not an active owner or admin of a firm.', actor);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM access_control.firm_client fc
                        WHERE fc.firm_id = me.firm_id AND fc.business_id = business_access.business_id) THEN
            RAISE EXCEPTION 'permission denied to see who has access to business %', business_id
                USING ERRCODE = '42501', DETAIL = pg_catalog.format('Business %s is not a client of firm %s.', business_id, me.firm_id);
        END IF;
    END IF;
    RETURN QUERY
    SELECT s.id, s.email, s.first_name, s.last_name, s.role,
           s.role = 'member' AND g.direct,
           CASE WHEN s.role = 'member' THEN g.via_teams ELSE '{}'::text[] END,
           CASE WHEN s.role = 'member' THEN g.direct_role END,
           CASE WHEN s.role = 'member' THEN g.team_roles ELSE '{}'::text[] END,
           access_control.staff_effective_permissions(s.id, business_access.business_id)
      FROM access_control.firm_client fc
      JOIN access_control.staff s ON s.firm_id = fc.firm_id
     CROSS JOIN LATERAL access_control_internal.grant_summary(s.id, business_access.business_id) g
     WHERE fc.business_id = business_access.business_id
       AND (me.id IS NULL OR s.firm_id = me.firm_id)
       AND access_control.staff_can_see_business(s.id, business_access.business_id)
     ORDER BY s.email, s.id;
END $$;
COMMENT ON FUNCTION access_control.business_access(bigint) IS 'One row per staff member who can see the business, with names and the direct and team roles there (only the actor''s own firm''s staff when acting)';

CREATE FUNCTION access_control.explain_access(staff_id bigint, business_id bigint)
    RETURNS TABLE (path text, role text, permissions text[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff;
    l access_control.firm_client;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    s := access_control_internal.staff_row(staff_id);
    SELECT * INTO l FROM access_control.firm_client fc
     WHERE fc.firm_id = s.firm_id AND fc.business_id = explain_access.business_id;

    IF access_control.staff_can_see_business(s.id, business_id) THEN
        /* every path that grants, then the ceiling that caps, then the result */
        IF s.role <> 'member' THEN
            RETURN QUERY SELECT 'staff role'::text, s.role, access_control.permission_names(
                (SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0) FROM access_control.permission p));
        ELSE
            RETURN QUERY
            SELECT CASE g.kind WHEN 'direct' THEN 'direct grant' WHEN 'team' THEN 'team ' || g.team ELSE g.kind END,
                   g.role, access_control.permission_names(g.permissions)
              FROM access_control_internal.live_grants(s.id, business_id) g
             WHERE g.expires_at IS NULL OR g.expires_at > pg_catalog.now()
             ORDER BY g.team NULLS FIRST, g.kind DESC, g.role;
        END IF;
        RETURN QUERY SELECT 'link ceiling'::text, NULL::text, access_control.permission_names(l.ceiling);
        RETURN QUERY SELECT 'effective'::text, NULL::text, access_control.staff_effective_permissions(s.id, business_id);
        RETURN;
    END IF;

    /* no access: the reasons, in the order of the rule */
    IF s.status <> 'active' THEN
        RETURN QUERY SELECT 'removed'::text, s.role, NULL::text[];
        RETURN;
    END IF;
    IF l.firm_id IS NULL THEN
        RETURN QUERY SELECT 'no link'::text, NULL::text, NULL::text[];
        RETURN;
    ELSIF l.status = 'pending' THEN
        RETURN QUERY SELECT 'link pending'::text, NULL::text, access_control.permission_names(l.ceiling);
    ELSIF l.status = 'disconnected' THEN
        RETURN QUERY SELECT 'link disconnected'::text, NULL::text, access_control.permission_names(l.ceiling);
    END IF;
    IF s.role = 'member' THEN
        IF NOT EXISTS (SELECT 1 FROM access_control_internal.live_grants(s.id, business_id)) THEN
            RETURN QUERY SELECT 'no grant'::text, NULL::text, NULL::text[];
        ELSE
            RETURN QUERY
            SELECT 'grant expired: ' || CASE WHEN g.kind = 'team' THEN 'team ' || g.team ELSE g.kind END,
                   g.role, access_control.permission_names(g.permissions)
              FROM access_control_internal.live_grants(s.id, business_id) g
             WHERE g.expires_at <= pg_catalog.now()
             ORDER BY g.team NULLS FIRST, g.kind DESC, g.role;
        END IF;
    END IF;
END $$;
COMMENT ON FUNCTION access_control.explain_access(bigint, bigint) IS 'Every path that grants or caps the member''s access to the business, or the reasons there is none';

CREATE FUNCTION access_control.my_businesses(search text DEFAULT NULL)
    RETURNS TABLE (business_id bigint, name text)
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT b.id, b.name
      FROM access_control.business b
     WHERE b.id = ANY (access_control.visible_business_ids())
       AND (search IS NULL
            OR pg_catalog.strpos(pg_catalog.lower(b.name), pg_catalog.lower(pg_catalog.btrim(search))) > 0)
     ORDER BY pg_catalog.lower(b.name), b.id
$$;
COMMENT ON FUNCTION access_control.my_businesses(text) IS 'The account switcher: businesses the current actor can see, by name, optionally filtered (case-insensitive substring)';
REVOKE ALL ON FUNCTION
    access_control_internal.may_see_staff,
    access_control_internal.staff_row,
    access_control_internal.live_grants,
    access_control_internal.grant_summary,
    access_control.staff_access,
    access_control.business_access,
    access_control.explain_access,
    access_control.my_businesses
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_control.my_businesses(text) TO PUBLIC;
