/*
 * firms: firms, their staff and their client businesses: the tables, who
 * may manage a firm's staff and access (authorize), and the functions that
 * create firms and businesses and add, re-role and remove staff.
 */
CREATE TABLE access_control.firm (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    listed      boolean NOT NULL DEFAULT false  -- in the partner directory (find_partner_firms)
);

CREATE TABLE access_control.staff (
    id                  bigserial PRIMARY KEY,
    firm_id             bigint NOT NULL REFERENCES access_control.firm,
    email               text NOT NULL CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
    first_name          text,
    last_name           text,
    role                text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
    programmatic_access boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (firm_id, email)
);
CREATE INDEX ON access_control.staff (firm_id, role) WHERE status = 'active';

CREATE TABLE access_control.business (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

/*
 * A link carries its status and ceiling in its primary key's index, so the
 * rule of effective access reads a firm's links from the index alone
 * (src/scan.c), without a visit to the table per link.
 */
CREATE TABLE access_control.firm_client (
    firm_id     bigint NOT NULL REFERENCES access_control.firm,
    business_id bigint NOT NULL REFERENCES access_control.business,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'disconnected')),
    ceiling     bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    invited_at  timestamptz,    -- the last invitation; NULL for a firm's own client
    connected_at timestamptz,   -- when the link last became active; NULL until then
    PRIMARY KEY (firm_id, business_id) INCLUDE (status, ceiling)
);
CREATE INDEX ON access_control.firm_client (business_id);

/*
 * Checks that the current actor may manage the firm's staff or access, and
 * raises 42501 when not: nobody (actor_authority) and other firms never
 * may; system always may. target_role is the role of the staff member
 * being changed (or being given); only owners may touch owners.
 */
CREATE FUNCTION access_control_internal.authorize(firm_id bigint, target_role text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control_internal.actor_authority();
    me access_control.staff;
BEGIN
    IF actor = 'system' THEN
        RETURN;
    END IF;
    IF access_control.current_staff_id() IS NULL THEN
        RAISE EXCEPTION 'permission denied to manage firm %', firm_id
            USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not a staff member of this firm.', actor);
    END IF;
    SELECT * INTO me FROM access_control.staff s
     WHERE s.id = access_control.current_staff_id();
    IF me.firm_id IS DISTINCT FROM firm_id OR me.status <> 'active' THEN
        RAISE EXCEPTION 'permission denied to manage firm %', firm_id
            USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not an active staff member of this firm.', actor);
    END IF;
    IF me.role = 'member' THEN
        RAISE EXCEPTION 'permission denied to manage firm %', firm_id
            USING ERRCODE = '42501', DETAIL = 'Members manage nobody; owners and admins do.';
    END IF;
    IF target_role = 'owner' AND me.role <> 'owner' THEN
        RAISE EXCEPTION 'permission denied to manage owners of firm %', firm_id
            USING ERRCODE = '42501', DETAIL = 'Only owners make or unmake owners.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.authorize(bigint, text) IS 'Internal: raises 42501 unless the current actor may manage the firm (and the target role)';

CREATE FUNCTION access_control_internal.active_staff(staff_id bigint) RETURNS access_control.staff
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id, true);
BEGIN
    IF s.status <> 'active' THEN
        RAISE EXCEPTION 'staff member % has been removed', staff_id
            USING ERRCODE = '55000', HINT = 'Add the member again with add_staff or invite_staff first.';
    END IF;
    RETURN s;
END $$;
COMMENT ON FUNCTION access_control_internal.active_staff(bigint) IS 'Internal: the locked row of an active staff member, or an ERROR';

CREATE FUNCTION access_control.create_firm(name text, owner_email text,
    owner_first_name text DEFAULT NULL, owner_last_name text DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fid bigint;
BEGIN
    IF name IS NULL OR pg_catalog.btrim(name) = '' THEN
        RAISE EXCEPTION 'firm name must not be empty' USING ERRCODE = '22023', HINT = 'Pass the firm''s display name.';
    END IF;
    IF access_control.current_actor() <> 'system' THEN
        RAISE EXCEPTION 'permission denied to create a firm'
            USING ERRCODE = '42501', DETAIL = 'Firms are created by the system, not by an actor.';
    END IF;
    INSERT INTO access_control.firm (name) VALUES (pg_catalog.btrim(name)) RETURNING id INTO fid;
    INSERT INTO access_control.staff (firm_id, email, first_name, last_name, role)
    VALUES (fid, access_control_internal.normalize_email(owner_email), owner_first_name, owner_last_name, 'owner');
    RETURN fid;
END $$;
COMMENT ON FUNCTION access_control.create_firm(text, text, text, text) IS 'Creates a firm and its first owner; returns the firm id';

CREATE FUNCTION access_control.add_staff(firm_id bigint, email text, role text DEFAULT 'member',
    first_name text DEFAULT NULL, last_name text DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control_internal.normalize_email(email);
    sid bigint;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.check_choice(role, '{owner,admin,member}', 'staff role');
    PERFORM access_control_internal.authorize(firm_id, role);
    SELECT s.id INTO sid FROM access_control.staff s
     WHERE s.firm_id = add_staff.firm_id AND s.email = e FOR NO KEY UPDATE;
    IF sid IS NULL THEN
        INSERT INTO access_control.staff (firm_id, email, role, first_name, last_name)
        VALUES (firm_id, e, role, first_name, last_name) RETURNING id INTO sid;
    ELSIF (SELECT s.status FROM access_control.staff s WHERE s.id = sid) = 'active' THEN
        RAISE EXCEPTION 'staff member "%" already exists in firm %', e, firm_id
            USING ERRCODE = '23505', HINT = 'Use set_staff_role to change the role of an existing member.';
    ELSE
        /* re-adding a removed member reactivates the same row */
        UPDATE access_control.staff s
           SET status = 'active', role = add_staff.role,
               first_name = coalesce(add_staff.first_name, s.first_name),
               last_name = coalesce(add_staff.last_name, s.last_name),
               programmatic_access = true
         WHERE s.id = sid;
    END IF;
    RETURN sid;
END $$;
COMMENT ON FUNCTION access_control.add_staff(bigint, text, text, text, text) IS 'Adds (or reactivates) a staff member; returns the staff id';

/* Raises unless the firm keeps another active owner besides staff_id. */
CREATE FUNCTION access_control_internal.keep_an_owner(firm_id bigint, staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    /* serialise owner changes of one firm */
    PERFORM 1 FROM access_control.firm f WHERE f.id = firm_id FOR NO KEY UPDATE;
    IF NOT EXISTS (SELECT 1 FROM access_control.staff s
                    WHERE s.firm_id = keep_an_owner.firm_id AND s.id <> staff_id
                      AND s.role = 'owner' AND s.status = 'active') THEN
        RAISE EXCEPTION 'firm % must keep at least one active owner', firm_id
            USING ERRCODE = '55000', HINT = 'Make another staff member an owner first.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.keep_an_owner(bigint, bigint) IS 'Internal: raises 55000 when staff_id is the firm''s last active owner';

/*
 * Deletes the direct grants (the all-clients one counted among them) and
 * team memberships of a member who becomes an owner or admin, with a
 * NOTICE saying what went.
 */
CREATE FUNCTION access_control_internal.drop_member_grants(staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grants bigint;
    teams bigint;
    all_clients bigint;
BEGIN
    DELETE FROM access_control.staff_grant g WHERE g.staff_id = drop_member_grants.staff_id;
    GET DIAGNOSTICS grants = ROW_COUNT;
    DELETE FROM access_control.all_clients_grant g WHERE g.staff_id = drop_member_grants.staff_id;
    GET DIAGNOSTICS all_clients = ROW_COUNT;
    grants := grants + all_clients;
    DELETE FROM access_control.team_member m WHERE m.staff_id = drop_member_grants.staff_id;
    GET DIAGNOSTICS teams = ROW_COUNT;
    IF grants + teams > 0 THEN
        RAISE NOTICE 'staff member % now sees every client: % direct grant(s) and % team membership(s) removed',
            staff_id, grants, teams
            USING DETAIL = 'Owners and admins hold no grants, so none wakes up when one is made a member again.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.drop_member_grants(bigint) IS 'Internal: removes the grants and team memberships of a member made owner or admin';

/*
 * Serialises staff changes of one firm: locks the firm row, then the staff
 * row, and returns the staff row read again, so the authority check that
 * follows sees every change committed while this one waited. Locking the
 * staff row also waits for a grant or team membership being added to the
 * member (they lock it too), so remove_staff deletes those as well.
 */
CREATE FUNCTION access_control_internal.lock_firm_staff(s access_control.staff) RETURNS access_control.staff
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM 1 FROM access_control.firm f WHERE f.id = s.firm_id FOR NO KEY UPDATE;
    RETURN access_control_internal.lookup(NULL::access_control.staff, s.id, true);
END $$;
COMMENT ON FUNCTION access_control_internal.lock_firm_staff(access_control.staff) IS 'Internal: locks the staff member''s firm and row and returns the row read afresh';

CREATE FUNCTION access_control.set_staff_role(staff_id bigint, role text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id);
BEGIN
    PERFORM access_control_internal.check_choice(role, '{owner,admin,member}', 'staff role');
    s := access_control_internal.lock_firm_staff(s);
    PERFORM access_control_internal.authorize(s.firm_id, CASE WHEN 'owner' IN (s.role, role) THEN 'owner' ELSE role END);
    IF s.status <> 'active' THEN
        RAISE EXCEPTION 'staff member % has been removed', staff_id
            USING ERRCODE = '55000', HINT = 'Add the member again with add_staff or invite_staff.';
    END IF;
    IF s.role = 'owner' AND role <> 'owner' THEN
        PERFORM access_control_internal.keep_an_owner(s.firm_id, staff_id);
    END IF;
    UPDATE access_control.staff SET role = set_staff_role.role WHERE id = staff_id AND staff.role <> set_staff_role.role;
    IF s.role = 'member' AND role <> 'member' THEN
        /* an owner or admin sees every client: grants kept would lie hidden until a demotion */
        PERFORM access_control_internal.drop_member_grants(s.id);
    END IF;
END $$;
COMMENT ON FUNCTION access_control.set_staff_role(bigint, text) IS 'Changes a staff member''s role (owner, admin or member)';

CREATE FUNCTION access_control.remove_staff(staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id);
BEGIN
    s := access_control_internal.lock_firm_staff(s);
    PERFORM access_control_internal.authorize(s.firm_id, s.role);
    IF s.status = 'removed' THEN
        RETURN;
    END IF;
    IF s.role = 'owner' THEN
        PERFORM access_control_internal.keep_an_owner(s.firm_id, staff_id);
    END IF;
    DELETE FROM access_control.staff_grant g WHERE g.staff_id = remove_staff.staff_id;
    DELETE FROM access_control.all_clients_grant g WHERE g.staff_id = remove_staff.staff_id;
    DELETE FROM access_control.team_member m WHERE m.staff_id = remove_staff.staff_id;
    UPDATE access_control.staff SET status = 'removed' WHERE id = staff_id;
END $$;
COMMENT ON FUNCTION access_control.remove_staff(bigint) IS 'Removes a staff member: grants and team memberships go at once; the row stays';

CREATE FUNCTION access_control.set_programmatic_access(staff_id bigint, enabled boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id);
BEGIN
    PERFORM access_control_internal.not_null(enabled, 'enabled');
    PERFORM access_control_internal.authorize(s.firm_id, s.role);
    UPDATE access_control.staff SET programmatic_access = enabled
     WHERE id = staff_id AND programmatic_access <> enabled;
END $$;
COMMENT ON FUNCTION access_control.set_programmatic_access(bigint, boolean) IS 'Turns a staff member''s API-key access on or off';

CREATE FUNCTION access_control.create_business(firm_id bigint, name text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bid bigint;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.authorize(firm_id);
    bid := access_control.create_business(name);
    INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling, connected_at)
    VALUES (firm_id, bid, 'active', (SELECT pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)) FROM access_control.permission p),
            pg_catalog.now());
    RETURN bid;
END $$;
COMMENT ON FUNCTION access_control.create_business(bigint, text) IS 'Creates a client of the firm, linked active with every permission as ceiling; returns its id';

CREATE FUNCTION access_control.create_business(name text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bid bigint;
BEGIN
    IF name IS NULL OR pg_catalog.btrim(name) = '' THEN
        RAISE EXCEPTION 'business name must not be empty' USING ERRCODE = '22023', HINT = 'Pass the client''s display name.';
    END IF;
    IF access_control.current_portal_user_id() IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to create a business'
            USING ERRCODE = '42501', DETAIL = 'Portal users work inside their own business only.';
    END IF;
    INSERT INTO access_control.business (name) VALUES (pg_catalog.btrim(name)) RETURNING id INTO bid;
    RETURN bid;
END $$;
COMMENT ON FUNCTION access_control.create_business(text) IS 'Creates a standalone client account; returns its id';
REVOKE ALL ON TABLE access_control.firm, access_control.staff, access_control.business, access_control.firm_client FROM PUBLIC;
REVOKE ALL ON SEQUENCE access_control.firm_id_seq, access_control.staff_id_seq, access_control.business_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.authorize,
    access_control_internal.active_staff,
    access_control.create_firm,
    access_control.add_staff,
    access_control_internal.keep_an_owner,
    access_control_internal.drop_member_grants,
    access_control_internal.lock_firm_staff,
    access_control.set_staff_role,
    access_control.remove_staff,
    access_control.set_programmatic_access,
    access_control.create_business(bigint, text),
    access_control.create_business(text)
FROM PUBLIC;
