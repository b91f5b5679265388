/*
 * partners: links between a firm and a business it does not own: the
 * business invites, the firm accepts or declines, either side disconnects.
 */
/*
 * Partner links. The business side (a portal user holding users.manage on
 * the business, or a privileged caller with no actor) invites a firm and may
 * disconnect it; the firm's owners and admins accept, decline or disconnect.
 * A declined invitation is deleted, so it is never listed; a disconnected
 * link stays (listed as "disabled") and the firm's grants on the business
 * stay with it, inert until the business invites the firm again and the firm
 * accepts.
 */

/*
 * Returns the closure of mask over the catalog's implications (bits the
 * catalog does not define are dropped), from the session's cached catalog.
 */
CREATE FUNCTION access_control_internal.closure(mask bigint) RETURNS bigint
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_closure';
COMMENT ON FUNCTION access_control_internal.closure(bigint) IS 'Internal: the mask with every implied permission added';

/*
 * Raises 42501 unless the current actor speaks for the business: system,
 * or a portal user of the business holding users.manage there. Staff act
 * for their firm, never for a client; nobody never acts (actor_authority).
 */
CREATE FUNCTION access_control_internal.authorize_business(business_id bigint) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control_internal.actor_authority();
BEGIN
    IF actor = 'system' THEN
        RETURN;
    END IF;
    IF access_control.current_portal_user_id() IS NULL THEN
        RAISE EXCEPTION 'permission denied to manage partner firms of business %', business_id
            USING ERRCODE = '42501',
                  DETAIL = pg_catalog.format('Actor %s is staff of a firm; the business itself invites and disconnects partner firms.', actor),
                  HINT = 'Act as a portal user of the business who holds users.manage.';
    END IF;
    IF NOT access_control.has_permission(business_id, 'users.manage') THEN
        RAISE EXCEPTION 'permission denied to manage partner firms of business %', business_id
            USING ERRCODE = '42501',
                  DETAIL = pg_catalog.format('Actor %s does not hold users.manage on this business.', actor),
                  HINT = 'Act as a portal user of the business who holds users.manage.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.authorize_business(bigint) IS 'Internal: raises 42501 unless the current actor may manage the business''s partner firms';

/* The locked link row, or 22023 naming the pair. */
CREATE FUNCTION access_control_internal.link(firm_id bigint, business_id bigint) RETURNS access_control.firm_client
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client;
BEGIN
    SELECT * INTO l FROM access_control.firm_client fc
     WHERE fc.firm_id = link.firm_id AND fc.business_id = link.business_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'firm % has no link with business %', firm_id, business_id
            USING ERRCODE = '22023', HINT = 'Links are listed by access_control.firm_clients(firm_id).';
    END IF;
    RETURN l;
END $$;
COMMENT ON FUNCTION access_control_internal.link(bigint, bigint) IS 'Internal: the locked firm-business link, or 22023 when there is none';

CREATE FUNCTION access_control.invite_partner_firm(business_id bigint, firm_id bigint, ceiling text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    mask bigint;
    held bigint;
    l access_control.firm_client;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.authorize_business(business_id);
    /* a portal user gives at most what she holds (with implications); system is not capped */
    SELECT access_control.validate_permissions(access_control_internal.portal_mask(u.permissions)) INTO held
      FROM access_control.portal_user u WHERE u.id = access_control.current_portal_user_id();
    IF ceiling IS NULL THEN
        SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0) INTO mask
          FROM access_control.permission p WHERE p.read_only;
        mask := mask & coalesce(held, -1);
    ELSIF pg_catalog.cardinality(ceiling) = 0 THEN
        RAISE EXCEPTION 'ceiling must name at least one permission'
            USING ERRCODE = '22023', HINT = 'Pass NULL for every read-only permission, or the permissions the firm may use.';
    ELSE
        mask := access_control_internal.closure(access_control.permission_mask(ceiling));
        IF mask & ~coalesce(held, -1) <> 0 THEN
            RAISE EXCEPTION 'permission denied to give a partner firm permissions the actor does not hold'
                USING ERRCODE = '42501',
                      DETAIL = pg_catalog.format('Actor %s does not hold %s on business %s.', access_control.current_actor(),
                          pg_catalog.array_to_string(access_control.permission_names(mask & ~held), ', '), business_id),
                      HINT = 'Pass a ceiling within your own permissions, or NULL for the read-only ones you hold.';
        END IF;
    END IF;
    SELECT * INTO l FROM access_control.firm_client fc
     WHERE fc.firm_id = invite_partner_firm.firm_id AND fc.business_id = invite_partner_firm.business_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling, invited_at)
        VALUES (firm_id, business_id, 'pending', mask, pg_catalog.now())
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'firm % was invited to business % concurrently', firm_id, business_id
                USING ERRCODE = '40001', HINT = 'Retry the transaction.';
        END IF;
    ELSIF l.status = 'active' THEN
        RAISE EXCEPTION 'firm % is already connected to business %', firm_id, business_id
            USING ERRCODE = '55000', HINT = 'Disconnect the firm first to invite it again with another ceiling.';
    ELSE
        /* pending: the invitation is renewed; disconnected: invited again */
        UPDATE access_control.firm_client fc
           SET status = 'pending', ceiling = mask, invited_at = pg_catalog.now(), connected_at = NULL
         WHERE fc.firm_id = l.firm_id AND fc.business_id = l.business_id;
    END IF;
END $$;
COMMENT ON FUNCTION access_control.invite_partner_firm(bigint, bigint, text[]) IS 'The business invites a firm (link pending) with a ceiling on what its staff may do (NULL: read-only)';

/* Checks the firm's authority and returns its pending link with the business; 55000 with hint otherwise. */
CREATE FUNCTION access_control_internal.pending_link(firm_id bigint, business_id bigint, hint text)
    RETURNS access_control.firm_client
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    PERFORM access_control_internal.authorize(firm_id);
    l := access_control_internal.link(firm_id, business_id);
    IF l.status <> 'pending' THEN
        RAISE EXCEPTION 'link of firm % with business % is %, not pending', firm_id, business_id, l.status
            USING ERRCODE = '55000', HINT = hint;
    END IF;
    RETURN l;
END $$;
COMMENT ON FUNCTION access_control_internal.pending_link(bigint, bigint, text) IS 'Internal: the firm''s pending link with the business after the authority check, or an ERROR';

CREATE FUNCTION access_control.accept_partner_invitation(firm_id bigint, business_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client := access_control_internal.pending_link(firm_id, business_id,
        'Only a pending invitation can be accepted; the business invites the firm again after a disconnect.');
BEGIN
    UPDATE access_control.firm_client fc SET status = 'active', connected_at = pg_catalog.now()
     WHERE fc.firm_id = l.firm_id AND fc.business_id = l.business_id;
END $$;
COMMENT ON FUNCTION access_control.accept_partner_invitation(bigint, bigint) IS 'The firm accepts a pending invitation: the link becomes active';

CREATE FUNCTION access_control.decline_partner_invitation(firm_id bigint, business_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client := access_control_internal.pending_link(firm_id, business_id,
        'Only a pending invitation can be declined; use disconnect_partner to end an active link.');
BEGIN
    /* a declined link is deleted with whatever grants the firm kept from an earlier connection */
    DELETE FROM access_control.staff_grant g
     USING access_control.staff s
     WHERE g.business_id = l.business_id AND s.id = g.staff_id AND s.firm_id = l.firm_id;
    DELETE FROM access_control.team_grant g
     USING access_control.team t
     WHERE g.business_id = l.business_id AND t.id = g.team_id AND t.firm_id = l.firm_id;
    DELETE FROM access_control.firm_client fc
     WHERE fc.firm_id = l.firm_id AND fc.business_id = l.business_id;
END $$;
COMMENT ON FUNCTION access_control.decline_partner_invitation(bigint, bigint) IS 'The firm declines a pending invitation: the link is deleted and no longer listed';

CREATE FUNCTION access_control.disconnect_partner(business_id bigint, firm_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    IF access_control.current_staff_id() IS NOT NULL THEN
        PERFORM access_control_internal.authorize(firm_id);
    ELSE
        PERFORM access_control_internal.authorize_business(business_id);
    END IF;
    l := access_control_internal.link(firm_id, business_id);
    UPDATE access_control.firm_client fc SET status = 'disconnected'
     WHERE fc.firm_id = l.firm_id AND fc.business_id = l.business_id AND fc.status <> 'disconnected';
END $$;
COMMENT ON FUNCTION access_control.disconnect_partner(bigint, bigint) IS 'Either side ends a link: every staff member of the firm loses the business at once';

CREATE FUNCTION access_control.firm_clients(firm_id bigint)
    RETURNS TABLE (business_id bigint, name text, status text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.authorize(firm_id);
    RETURN QUERY
    SELECT b.id, b.name,
           CASE fc.status WHEN 'disconnected' THEN 'disabled' ELSE fc.status END
      FROM access_control.firm_client fc
      JOIN access_control.business b ON b.id = fc.business_id
     WHERE fc.firm_id = firm_clients.firm_id
     ORDER BY pg_catalog.lower(b.name), b.id;
END $$;
COMMENT ON FUNCTION access_control.firm_clients(bigint) IS 'The firm''s clients with status active, pending or disabled (disconnected)';
/*
 * The partner directory: a firm's owners list it, so that a business
 * inviting an outside firm can find it by name.
 */
CREATE FUNCTION access_control.set_partner_listing(firm_id bigint, listed boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f access_control.firm := access_control_internal.lookup(NULL::access_control.firm, firm_id, true);
BEGIN
    PERFORM access_control_internal.authorize(f.id);
    IF access_control.current_staff_id() IS NOT NULL
       AND (SELECT s.role FROM access_control.staff s WHERE s.id = access_control.current_staff_id()) <> 'owner' THEN
        RAISE EXCEPTION 'permission denied to list firm % in the partner directory', f.id
            USING ERRCODE = '42501', DETAIL = 'Only the firm''s owners list it or take it out of the directory.';
    END IF;
    PERFORM access_control_internal.not_null(listed, 'listed');
    UPDATE access_control.firm SET listed = set_partner_listing.listed
     WHERE id = f.id AND firm.listed <> set_partner_listing.listed;
END $$;
COMMENT ON FUNCTION access_control.set_partner_listing(bigint, boolean) IS 'The firm''s owners put it in the partner directory (true) or take it out (false)';

CREATE FUNCTION access_control.find_partner_firms(search text)
    RETURNS TABLE (firm_id bigint, name text)
    LANGUAGE plpgsql STABLE CALLED ON NULL INPUT SECURITY DEFINER PARALLEL RESTRICTED ROWS 50
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    needle text := pg_catalog.lower(pg_catalog.btrim(coalesce(search, '')));
BEGIN
    /* any actor with authority may search; nobody may not */
    PERFORM access_control_internal.actor_authority();
    RETURN QUERY
    SELECT f.id, f.name
      FROM access_control.firm f
     WHERE f.listed AND pg_catalog.strpos(pg_catalog.lower(f.name), needle) > 0
     ORDER BY pg_catalog.lower(f.name), f.id
     LIMIT 50;
END $$;
COMMENT ON FUNCTION access_control.find_partner_firms(text) IS 'Listed firms whose name contains search (case-insensitive; empty or NULL: all), at most 50, by name';

/*
 * The business's Partner tab. Raises 42501 unless the actor is system, a
 * portal user of the business holding users.manage there, or a staff
 * member holding users.manage on it (through the firm's link, so within
 * its ceiling: a firm's own owners and admins, or members granted a role
 * with users.manage).
 */
CREATE FUNCTION access_control.business_partners(business_id bigint)
    RETURNS TABLE (firm_id bigint, firm_name text, status text, ceiling text[],
                   invited_at timestamptz, connected_at timestamptz)
    LANGUAGE plpgsql STABLE CALLED ON NULL INPUT SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    actor := access_control_internal.actor_authority();
    IF actor <> 'system' AND NOT access_control.has_permission(business_id, 'users.manage') THEN
        RAISE EXCEPTION 'permission denied to see the partner firms of business %', business_id
            USING ERRCODE = '42501',
                  DETAIL = pg_catalog.format('Actor %s does not hold users.manage on this business.', actor),
                  HINT = 'Act as a portal user or staff member who holds users.manage on the business.';
    END IF;
    RETURN QUERY
    SELECT f.id, f.name, fc.status, access_control.permission_names(fc.ceiling), fc.invited_at, fc.connected_at
      FROM access_control.firm_client fc
      JOIN access_control.firm f ON f.id = fc.firm_id
     WHERE fc.business_id = business_partners.business_id
     ORDER BY pg_catalog.lower(f.name), f.id;
END $$;
COMMENT ON FUNCTION access_control.business_partners(bigint) IS 'The business''s Partner tab: every firm linked to it, pending, active or disconnected, with the ceiling';
REVOKE ALL ON FUNCTION
    access_control_internal.closure,
    access_control_internal.authorize_business,
    access_control_internal.link,
    access_control.invite_partner_firm,
    access_control_internal.pending_link,
    access_control.accept_partner_invitation,
    access_control.decline_partner_invitation,
    access_control.disconnect_partner,
    access_control.firm_clients,
    access_control.set_partner_listing,
    access_control.find_partner_firms,
    access_control.business_partners
FROM PUBLIC;
