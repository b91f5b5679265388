/*
 * teams: teams of a firm's staff, their members, and their grants, which
 * reach every member.
 */
CREATE TABLE access_control.team (
    id          bigserial PRIMARY KEY,
    firm_id     bigint NOT NULL REFERENCES access_control.firm,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    UNIQUE (firm_id, name)
);

CREATE TABLE access_control.team_member (
    team_id     bigint NOT NULL REFERENCES access_control.team ON DELETE CASCADE,
    staff_id    bigint NOT NULL REFERENCES access_control.staff,
    PRIMARY KEY (team_id, staff_id)
);
CREATE INDEX ON access_control.team_member (staff_id);

CREATE TABLE access_control.team_grant (
    team_id     bigint NOT NULL REFERENCES access_control.team ON DELETE CASCADE,
    business_id bigint NOT NULL REFERENCES access_control.business,
    role_id     bigint NOT NULL REFERENCES access_control.client_role,
    expires_at  timestamptz,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, business_id)
);
CREATE INDEX ON access_control.team_grant (business_id);
CREATE INDEX ON access_control.team_grant (role_id);

CREATE FUNCTION access_control_internal.team(team_id bigint) RETURNS access_control.team
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team := access_control_internal.lookup(NULL::access_control.team, team_id, true);
BEGIN
    PERFORM access_control_internal.authorize(t.firm_id);
    RETURN t;
END $$;
COMMENT ON FUNCTION access_control_internal.team(bigint) IS 'Internal: the locked team row after the authority check, or an ERROR';

CREATE FUNCTION access_control.create_team(firm_id bigint, name text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tid bigint;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.authorize(firm_id);
    IF name IS NULL OR pg_catalog.btrim(name) = '' THEN
        RAISE EXCEPTION 'team name must not be empty' USING ERRCODE = '22023', HINT = 'Pass the team''s display name.';
    END IF;
    IF EXISTS (SELECT 1 FROM access_control.team t WHERE t.firm_id = create_team.firm_id AND t.name = pg_catalog.btrim(create_team.name)) THEN
        RAISE EXCEPTION 'team "%" already exists in firm %', pg_catalog.btrim(name), firm_id
            USING ERRCODE = '23505', HINT = 'Team names are unique within a firm.';
    END IF;
    INSERT INTO access_control.team (firm_id, name) VALUES (firm_id, pg_catalog.btrim(name)) RETURNING id INTO tid;
    RETURN tid;
END $$;
COMMENT ON FUNCTION access_control.create_team(bigint, text) IS 'Creates a team in the firm; returns its id';

CREATE FUNCTION access_control.drop_team(team_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team := access_control_internal.team(team_id);
BEGIN
    DELETE FROM access_control.team_grant g WHERE g.team_id = t.id;
    DELETE FROM access_control.team_member m WHERE m.team_id = t.id;
    DELETE FROM access_control.team WHERE id = t.id;
END $$;
COMMENT ON FUNCTION access_control.drop_team(bigint) IS 'Drops a team with its memberships and grants';

CREATE FUNCTION access_control.add_team_member(team_id bigint, staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team := access_control_internal.team(team_id);
    s access_control.staff := access_control_internal.active_staff(staff_id);
BEGIN
    IF s.firm_id <> t.firm_id THEN
        RAISE EXCEPTION 'staff member % is not in the firm of team %', staff_id, team_id
            USING ERRCODE = '22023', HINT = 'A team holds staff of its own firm only.';
    END IF;
    /* the team's grants would reach an owner or admin hidden, until a demotion */
    PERFORM access_control_internal.refuse_privileged(s);
    INSERT INTO access_control.team_member (team_id, staff_id) VALUES (t.id, s.id) ON CONFLICT DO NOTHING;
END $$;
COMMENT ON FUNCTION access_control.add_team_member(bigint, bigint) IS 'Adds a staff member of the team''s firm to the team';

CREATE FUNCTION access_control.remove_team_member(team_id bigint, staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team := access_control_internal.team(team_id);
BEGIN
    PERFORM access_control_internal.not_null(staff_id, 'staff_id');
    DELETE FROM access_control.team_member m WHERE m.team_id = t.id AND m.staff_id = remove_team_member.staff_id;
END $$;
COMMENT ON FUNCTION access_control.remove_team_member(bigint, bigint) IS 'Removes a staff member from the team';

CREATE FUNCTION access_control.grant_team_access(team_id bigint, business_ids bigint[], role text,
    expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    t access_control.team := access_control_internal.team(team_id);
    rid bigint := access_control_internal.client_role(t.firm_id, role);
BEGIN
    PERFORM access_control_internal.check_expiry(expires_at);
    PERFORM access_control_internal.check_linked(t.firm_id, business_ids);
    PERFORM access_control_internal.notice_ceiling(t.firm_id, business_ids, rid);
    INSERT INTO access_control.team_grant AS g (team_id, business_id, role_id, expires_at)
    SELECT t.id, b, rid, expires_at FROM (SELECT DISTINCT pg_catalog.unnest(business_ids) AS b) u
    ON CONFLICT ON CONSTRAINT team_grant_pkey DO UPDATE
       SET role_id = excluded.role_id, expires_at = excluded.expires_at, granted_at = pg_catalog.now()
     WHERE (g.role_id, g.expires_at) IS DISTINCT FROM (excluded.role_id, excluded.expires_at);
END $$;
COMMENT ON FUNCTION access_control.grant_team_access(bigint, bigint[], text, timestamptz) IS 'Gives every member of the team a client role on the businesses';

CREATE FUNCTION access_control.revoke_team_access(team_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    t access_control.team := access_control_internal.team(team_id);
    missing text;
BEGIN
    PERFORM access_control_internal.not_null(business_ids, 'business_ids');
    WITH d AS (DELETE FROM access_control.team_grant g WHERE g.team_id = t.id AND g.business_id = ANY (business_ids)
               RETURNING g.business_id)
    SELECT access_control_internal.id_list(pg_catalog.array_agg(u.b ORDER BY u.b)) INTO missing
      FROM (SELECT DISTINCT pg_catalog.unnest(business_ids) AS b) u
     WHERE NOT u.b IN (SELECT d.business_id FROM d);
    IF missing IS NOT NULL THEN
        RAISE NOTICE 'team % had no grant on business %: nothing revoked there', t.id, missing;
    END IF;
END $$;
COMMENT ON FUNCTION access_control.revoke_team_access(bigint, bigint[]) IS 'Removes the team''s grants on the businesses';
REVOKE ALL ON TABLE access_control.team, access_control.team_member, access_control.team_grant FROM PUBLIC;
REVOKE ALL ON SEQUENCE access_control.team_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.team,
    access_control.create_team,
    access_control.drop_team,
    access_control.add_team_member,
    access_control.remove_team_member,
    access_control.grant_team_access,
    access_control.revoke_team_access
FROM PUBLIC;
