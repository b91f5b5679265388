/*
 * grants: a staff member's direct grants of a client role on businesses,
 * and the standing grant of a role on all of the firm's clients.
 */
CREATE TABLE access_control.staff_grant (
    staff_id    bigint NOT NULL REFERENCES access_control.staff,
    business_id bigint NOT NULL REFERENCES access_control.business,
    role_id     bigint NOT NULL REFERENCES access_control.client_role,
    expires_at  timestamptz,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_id, business_id)
);
CREATE INDEX ON access_control.staff_grant (business_id);
CREATE INDEX ON access_control.staff_grant (role_id);

/*
 * The console's "New Client Role" for all client accounts, as a standing
 * rule: the member holds role_id on every active client of the firm,
 * clients linked later included, until it is revoked or expires. The rule
 * of effective access reads it beside the direct and team grants.
 */
CREATE TABLE access_control.all_clients_grant (
    staff_id    bigint PRIMARY KEY REFERENCES access_control.staff,
    role_id     bigint NOT NULL REFERENCES access_control.client_role,
    expires_at  timestamptz,
    granted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON access_control.all_clients_grant (role_id);

/*
 * Raises unless every business has an active link with the firm. Locks
 * those links FOR SHARE until the end of the transaction, so a concurrent
 * disconnect waits for the grant that checked them, and a grant that
 * checks after a disconnect has locked a link waits for it and then fails.
 */
CREATE FUNCTION access_control_internal.check_linked(firm_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad text;
BEGIN
    PERFORM access_control_internal.not_null(business_ids, 'business_ids');
    PERFORM 1 FROM access_control.firm_client fc
     WHERE fc.firm_id = check_linked.firm_id AND fc.business_id = ANY (business_ids) AND fc.status = 'active'
     ORDER BY fc.business_id
       FOR SHARE;
    SELECT pg_catalog.string_agg(coalesce(b::text, 'NULL'), ', ' ORDER BY b) INTO bad
      FROM pg_catalog.unnest(business_ids) AS b
     WHERE b IS NULL OR NOT EXISTS (SELECT 1 FROM access_control.firm_client fc
                                     WHERE fc.firm_id = check_linked.firm_id
                                       AND fc.business_id = b AND fc.status = 'active');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'firm % has no active link with business %', firm_id, bad
            USING ERRCODE = '22023',
                  HINT = 'Grant only businesses whose link in access_control.firm_client is active.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.check_linked(bigint, bigint[]) IS 'Internal: raises 22023 unless every business has an active link with the firm';

/*
 * Raises 22023 when s is an owner or admin: they see every client by their
 * staff role, so a grant to them would lie hidden until a demotion woke it.
 */
CREATE FUNCTION access_control_internal.refuse_privileged(s access_control.staff) RETURNS void
    LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF s.role IN ('owner', 'admin') THEN
        RAISE EXCEPTION 'staff member % is an %: grants to owners and admins are refused', s.id, s.role
            USING ERRCODE = '22023',
                  HINT = 'Owners and admins already see every client of their firm by their staff role.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.refuse_privileged(access_control.staff) IS 'Internal: raises 22023 when the staff member is an owner or admin';

/* The ids as a short list for a message: the first ten, then how many more. */
CREATE FUNCTION access_control_internal.id_list(ids bigint[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.array_to_string(ids[1:10], ', ')
           || CASE WHEN pg_catalog.cardinality(ids) > 10
                   THEN pg_catalog.format(' and %s more', pg_catalog.cardinality(ids) - 10) ELSE '' END
$$;
COMMENT ON FUNCTION access_control_internal.id_list(bigint[]) IS 'Internal: the first ten ids, comma-separated, then how many more';

/*
 * Raises a NOTICE naming the businesses whose link ceiling cuts
 * permissions of the role (with their implications), and what it cuts:
 * the grant gives less than the role says. Changes nothing.
 */
CREATE FUNCTION access_control_internal.notice_ceiling(firm_id bigint, business_ids bigint[], role_id bigint) RETURNS void
    LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c record;
BEGIN
    /* one NOTICE per distinct cut, however many businesses share it */
    FOR c IN
        SELECT r.name, x.cut, access_control_internal.id_list(pg_catalog.array_agg(x.business_id ORDER BY x.business_id)) AS ids
          FROM (SELECT fc.business_id, access_control_internal.closure(r.permissions) & ~fc.ceiling AS cut
                  FROM access_control.firm_client fc, access_control.client_role r
                 WHERE fc.firm_id = notice_ceiling.firm_id AND fc.business_id = ANY (business_ids)
                   AND r.id = role_id) x,
               access_control.client_role r
         WHERE r.id = role_id AND x.cut <> 0
         GROUP BY r.name, x.cut
         ORDER BY pg_catalog.min(x.business_id)
    LOOP
        RAISE NOTICE 'client role "%" is capped by the ceiling of firm %''s link on business %', c.name, firm_id, c.ids
            USING DETAIL = pg_catalog.format('Not given: %s.', pg_catalog.array_to_string(access_control.permission_names(c.cut), ', ')),
                  HINT = 'The business sets the ceiling when it invites the firm (invite_partner_firm).';
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control_internal.notice_ceiling(bigint, bigint[], bigint) IS 'Internal: a NOTICE naming what the link ceiling cuts from the role on each business';

/*
 * Writes direct grants of staff member s: each (business, role) pair, with
 * expires_at; a pair already granted with the same role and expiry is left
 * as it is. Checks the links, refuses owners and admins (after the link
 * check, so a grant across firms is named as such) and gives the ceiling
 * NOTICEs. One query locks the links as check_linked does, counts the
 * active ones and tells whether a ceiling cuts a role: check_linked runs
 * only to name the businesses of a failed check, notice_ceiling only when
 * it has something to say.
 */
CREATE FUNCTION access_control_internal.write_grants(s access_control.staff, business_ids bigint[], role_ids bigint[],
    expires_at timestamptz) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    linked bigint;
    capped boolean;
    rid bigint;
BEGIN
    business_ids := access_control_internal.not_null(business_ids, 'business_ids');
    SELECT pg_catalog.count(*), coalesce(pg_catalog.bool_or(access_control_internal.closure(r.permissions) & ~l.ceiling <> 0), false)
      INTO linked, capped
      FROM (SELECT fc.business_id, fc.ceiling FROM access_control.firm_client fc
             WHERE fc.firm_id = s.firm_id AND fc.business_id = ANY (business_ids) AND fc.status = 'active'
             ORDER BY fc.business_id
               FOR SHARE) l
      JOIN ROWS FROM (pg_catalog.unnest(business_ids), pg_catalog.unnest(role_ids)) AS u(b, r) ON u.b = l.business_id
      LEFT JOIN access_control.client_role r ON r.id = u.r;
    IF linked < pg_catalog.cardinality(business_ids) THEN
        /* names the businesses without an active link, and raises */
        PERFORM access_control_internal.check_linked(s.firm_id, business_ids);
    END IF;
    IF pg_catalog.cardinality(business_ids) > 0 THEN
        PERFORM access_control_internal.refuse_privileged(s);
    END IF;
    INSERT INTO access_control.staff_grant AS g (staff_id, business_id, role_id, expires_at)
    SELECT s.id, u.b, u.r, expires_at FROM ROWS FROM (pg_catalog.unnest(business_ids), pg_catalog.unnest(role_ids)) AS u(b, r)
    ON CONFLICT ON CONSTRAINT staff_grant_pkey DO UPDATE
       SET role_id = excluded.role_id, expires_at = excluded.expires_at, granted_at = pg_catalog.now()
     WHERE (g.role_id, g.expires_at) IS DISTINCT FROM (excluded.role_id, excluded.expires_at);
    IF capped THEN
        FOR rid IN SELECT DISTINCT r FROM pg_catalog.unnest(role_ids) AS r ORDER BY r LOOP
            PERFORM access_control_internal.notice_ceiling(s.firm_id,
                ARRAY(SELECT u.b FROM ROWS FROM (pg_catalog.unnest(business_ids), pg_catalog.unnest(role_ids)) AS u(b, r) WHERE u.r = rid), rid);
        END LOOP;
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.write_grants(access_control.staff, bigint[], bigint[], timestamptz) IS 'Internal: writes the member''s direct grants of these (business, role) pairs after the link check';

/*
 * The functions that take arrays of businesses or staff keep one generic
 * plan per statement (plan_cache_mode, which the functions they call
 * inherit): planned anew for each call's arrays, the statements cost
 * more to plan than to run.
 */
CREATE FUNCTION access_control.grant_client_access(staff_id bigint, business_ids bigint[], role text,
    expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    s access_control.staff := access_control_internal.active_staff(staff_id);
    rid bigint;
BEGIN
    /* authority first: the unknown-role hint lists the firm's own role names */
    PERFORM access_control_internal.authorize(s.firm_id);
    rid := access_control_internal.client_role(s.firm_id, role);
    IF expires_at IS NOT NULL THEN
        PERFORM access_control_internal.check_expiry(expires_at);
    END IF;
    IF business_ids IS NULL THEN
        SELECT pg_catalog.array_agg(fc.business_id) INTO business_ids
          FROM access_control.firm_client fc WHERE fc.firm_id = s.firm_id AND fc.status = 'active';
        business_ids := coalesce(business_ids, '{}');
    END IF;
    IF pg_catalog.cardinality(business_ids) > 1 THEN
        business_ids := ARRAY(SELECT DISTINCT pg_catalog.unnest(business_ids));
    END IF;
    PERFORM access_control_internal.write_grants(s, business_ids,
        pg_catalog.array_fill(rid, ARRAY[pg_catalog.cardinality(business_ids)]), expires_at);
END $$;
COMMENT ON FUNCTION access_control.grant_client_access(bigint, bigint[], text, timestamptz) IS 'Gives one staff member a client role on many businesses (NULL: every active client)';

CREATE FUNCTION access_control.grant_staff_access(business_id bigint, staff_ids bigint[], role text,
    expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    sid bigint;
BEGIN
    PERFORM access_control_internal.not_null(business_id, 'business_id');
    PERFORM access_control_internal.not_null(staff_ids, 'staff_ids');
    FOREACH sid IN ARRAY staff_ids LOOP
        PERFORM access_control.grant_client_access(sid, ARRAY[business_id], role, expires_at);
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control.grant_staff_access(bigint, bigint[], text, timestamptz) IS 'Gives many staff members a client role on one business';

/*
 * A NOTICE for each business on which removing the member's direct grants
 * (removed: those that existed) leaves things as they were, or leaves the
 * member seeing it through a team grant or the standing all-clients grant
 * (naming which): the console would otherwise show a revoke that did
 * nothing. Only businesses the firm has an active link with count as seen.
 */
CREATE FUNCTION access_control_internal.notice_revoke(staff_id bigint, business_ids bigint[], removed bigint[]) RETURNS void
    LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c record;
    paths text;
BEGIN
    /* the usual revoke needs no NOTICE: every grant was there, and no other path can remain */
    IF business_ids <@ removed
       AND NOT EXISTS (SELECT 1 FROM access_control.team_member m WHERE m.staff_id = notice_revoke.staff_id)
       AND NOT EXISTS (SELECT 1 FROM access_control.all_clients_grant a WHERE a.staff_id = notice_revoke.staff_id) THEN
        RETURN;
    END IF;
    FOR c IN
        SELECT x.teams, x.all_clients, x.had,
               access_control_internal.id_list(pg_catalog.array_agg(x.b ORDER BY x.b)) AS ids
          FROM (SELECT u.b, u.b = ANY (removed) AS had, l.active,
                       (SELECT pg_catalog.string_agg(DISTINCT t.name, ', ')
                          FROM access_control.team_member m
                          JOIN access_control.team t ON t.id = m.team_id
                          JOIN access_control.team_grant g ON g.team_id = m.team_id
                         WHERE l.active AND m.staff_id = notice_revoke.staff_id AND g.business_id = u.b
                           AND (g.expires_at IS NULL OR g.expires_at > pg_catalog.now())) AS teams,
                       l.active AND EXISTS (
                           SELECT 1 FROM access_control.all_clients_grant a
                            WHERE a.staff_id = notice_revoke.staff_id
                              AND (a.expires_at IS NULL OR a.expires_at > pg_catalog.now())) AS all_clients
                  FROM (SELECT DISTINCT pg_catalog.unnest(business_ids) AS b) u
                 CROSS JOIN LATERAL (
                       SELECT EXISTS (SELECT 1 FROM access_control.staff s
                                        JOIN access_control.firm_client fc ON fc.firm_id = s.firm_id
                                       WHERE s.id = notice_revoke.staff_id AND fc.business_id = u.b
                                         AND fc.status = 'active') AS active) l
                 WHERE u.b IS NOT NULL) x
         WHERE x.teams IS NOT NULL OR x.all_clients OR NOT x.had
         GROUP BY x.teams, x.all_clients, x.had
         ORDER BY pg_catalog.min(x.b)
    LOOP
        IF c.teams IS NOT NULL OR c.all_clients THEN
            paths := pg_catalog.concat_ws(' and ', 'team ' || c.teams,
                                          CASE WHEN c.all_clients THEN 'the all-clients grant' END);
            RAISE NOTICE 'staff member % keeps access to business % through %', staff_id, c.ids, paths
                USING DETAIL = CASE WHEN c.had THEN 'The direct grant was removed.'
                                    ELSE 'There was no direct grant to remove.' END,
                      HINT = pg_catalog.concat_ws(' ',
                          CASE WHEN c.teams IS NOT NULL THEN
                              'Remove the member from the team (remove_team_member), or the team''s grant (revoke_team_access).' END,
                          CASE WHEN c.all_clients THEN
                              'End the all-clients grant with revoke_all_clients.' END);
        ELSE
            RAISE NOTICE 'staff member % had no direct grant on business %: nothing revoked there', staff_id, c.ids;
        END IF;
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control_internal.notice_revoke(bigint, bigint[], bigint[]) IS 'Internal: NOTICEs for revokes that removed nothing or leave access through a team or the all-clients grant';

CREATE FUNCTION access_control.revoke_client_access(staff_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id, true);
    removed bigint[];
    other_paths boolean;
BEGIN
    PERFORM access_control_internal.authorize(s.firm_id);
    business_ids := access_control_internal.not_null(business_ids, 'business_ids');
    /* with whether notice_revoke can have anything to say (its first test) */
    WITH d AS (DELETE FROM access_control.staff_grant g
                WHERE g.staff_id = revoke_client_access.staff_id AND g.business_id = ANY (business_ids)
               RETURNING g.business_id)
    SELECT coalesce(pg_catalog.array_agg(d.business_id), '{}'),
           EXISTS (SELECT 1 FROM access_control.team_member m WHERE m.staff_id = s.id)
           OR EXISTS (SELECT 1 FROM access_control.all_clients_grant a WHERE a.staff_id = s.id)
      INTO removed, other_paths FROM d;
    IF other_paths OR NOT business_ids <@ removed THEN
        PERFORM access_control_internal.notice_revoke(staff_id, business_ids, removed);
    END IF;
END $$;
COMMENT ON FUNCTION access_control.revoke_client_access(bigint, bigint[]) IS 'Removes one staff member''s direct grants on the businesses';

CREATE FUNCTION access_control.revoke_staff_access(business_id bigint, staff_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    sid bigint;
BEGIN
    PERFORM access_control_internal.not_null(business_id, 'business_id');
    PERFORM access_control_internal.not_null(staff_ids, 'staff_ids');
    FOREACH sid IN ARRAY staff_ids LOOP
        PERFORM access_control.revoke_client_access(sid, ARRAY[business_id]);
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control.revoke_staff_access(bigint, bigint[]) IS 'Removes many staff members'' direct grants on one business';

/*
 * The manage-access modal's Save. Ids that already had a direct grant keep
 * their role and expiry; new ids get role, required when there are any. A
 * grant removed from a business the member keeps through a team or the
 * all-clients grant gets revoke_client_access's NOTICE.
 */
CREATE FUNCTION access_control.set_client_access(staff_id bigint, business_ids bigint[], role text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    s access_control.staff := access_control_internal.active_staff(staff_id);
    new_ids bigint[];
    removed bigint[];
    rid bigint;
BEGIN
    PERFORM access_control_internal.authorize(s.firm_id);
    PERFORM access_control_internal.not_null(business_ids, 'business_ids');
    new_ids := ARRAY(SELECT DISTINCT b FROM pg_catalog.unnest(business_ids) AS b
                      WHERE b IS NULL OR NOT EXISTS (SELECT 1 FROM access_control.staff_grant g
                                                      WHERE g.staff_id = s.id AND g.business_id = b)
                      ORDER BY b);
    IF pg_catalog.cardinality(new_ids) > 0 THEN
        IF role IS NULL THEN
            RAISE EXCEPTION 'role must not be NULL when business_ids adds businesses'
                USING ERRCODE = '22004',
                      DETAIL = pg_catalog.format('Staff member %s has no direct grant on business %s yet.', s.id,
                                                 pg_catalog.array_to_string(new_ids, ', ', 'NULL')),
                      HINT = 'Pass the client role the new businesses get; the others keep theirs.';
        END IF;
        rid := access_control_internal.client_role(s.firm_id, role);
        /* checked before anything is removed, so an error changes nothing */
        PERFORM access_control_internal.check_linked(s.firm_id, new_ids);
    END IF;
    WITH d AS (DELETE FROM access_control.staff_grant g
                WHERE g.staff_id = s.id AND NOT (g.business_id = ANY (business_ids))
               RETURNING g.business_id)
    SELECT coalesce(pg_catalog.array_agg(d.business_id), '{}') INTO removed FROM d;
    PERFORM access_control_internal.notice_revoke(s.id, removed, removed);
    IF pg_catalog.cardinality(new_ids) > 0 THEN
        PERFORM access_control_internal.write_grants(s, new_ids,
            pg_catalog.array_fill(rid, ARRAY[pg_catalog.cardinality(new_ids)]), NULL);
    END IF;
END $$;
COMMENT ON FUNCTION access_control.set_client_access(bigint, bigint[], text) IS 'Replaces the staff member''s direct grants with exactly these businesses (empty: none); kept ones keep their role and expiry, new ones get role';

/*
 * The console's per-client Save: the direct grants become exactly these
 * (business, role) pairs. A pair already granted with that role keeps its
 * expiry; a new pair, or one whose role changes, does not expire. Removed
 * grants get revoke_client_access's NOTICEs, as in set_client_access.
 */
CREATE FUNCTION access_control.set_client_roles(staff_id bigint, business_ids bigint[], roles text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    s access_control.staff := access_control_internal.active_staff(staff_id);
    role_ids bigint[];
    dup text;
    changed record;
    removed bigint[];
BEGIN
    PERFORM access_control_internal.authorize(s.firm_id);
    PERFORM access_control_internal.not_null(business_ids, 'business_ids');
    PERFORM access_control_internal.not_null(roles, 'roles');
    IF pg_catalog.cardinality(business_ids) <> pg_catalog.cardinality(roles)
       OR pg_catalog.array_ndims(business_ids) > 1 OR pg_catalog.array_ndims(roles) > 1 THEN
        RAISE EXCEPTION 'business_ids and roles must be lists of the same length'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('%s business ids, %s roles.', pg_catalog.cardinality(business_ids),
                                             pg_catalog.cardinality(roles)),
                  HINT = 'Pass one role for each business, in the same order.';
    END IF;
    SELECT pg_catalog.string_agg(b::text, ', ' ORDER BY b) INTO dup
      FROM (SELECT b FROM pg_catalog.unnest(business_ids) AS b WHERE b IS NOT NULL GROUP BY b HAVING pg_catalog.count(*) > 1) d;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION 'business % is listed more than once', dup
            USING ERRCODE = '22023', HINT = 'Pass each business once, with the one role it gets.';
    END IF;
    role_ids := ARRAY(SELECT access_control_internal.client_role(s.firm_id, u.r)
                        FROM pg_catalog.unnest(roles) WITH ORDINALITY AS u(r, i) ORDER BY u.i);
    /* the pairs that are new or change role: checked before anything is removed */
    SELECT coalesce(pg_catalog.array_agg(u.b ORDER BY u.b), '{}') AS b, coalesce(pg_catalog.array_agg(u.r ORDER BY u.b), '{}') AS r
      INTO changed
      FROM ROWS FROM (pg_catalog.unnest(business_ids), pg_catalog.unnest(role_ids)) AS u(b, r)
     WHERE NOT EXISTS (SELECT 1 FROM access_control.staff_grant g
                        WHERE g.staff_id = s.id AND g.business_id = u.b AND g.role_id = u.r);
    PERFORM access_control_internal.check_linked(s.firm_id, changed.b);
    WITH d AS (DELETE FROM access_control.staff_grant g
                WHERE g.staff_id = s.id AND NOT (g.business_id = ANY (business_ids))
               RETURNING g.business_id)
    SELECT coalesce(pg_catalog.array_agg(d.business_id), '{}') INTO removed FROM d;
    PERFORM access_control_internal.notice_revoke(s.id, removed, removed);
    IF pg_catalog.cardinality(changed.b) > 0 THEN
        PERFORM access_control_internal.write_grants(s, changed.b, changed.r, NULL);
    END IF;
END $$;
COMMENT ON FUNCTION access_control.set_client_roles(bigint, bigint[], text[]) IS 'Replaces the staff member''s direct grants with exactly these (business, role) pairs (empty: none)';

/*
 * The standing all-clients grant. Today's clients whose link ceiling cuts
 * the role are named in a NOTICE; a client linked later is capped by its
 * own ceiling as any grant is.
 */
CREATE FUNCTION access_control.grant_all_clients(staff_id bigint, role text, expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.active_staff(staff_id);
    rid bigint;
BEGIN
    PERFORM access_control_internal.authorize(s.firm_id);
    rid := access_control_internal.client_role(s.firm_id, role);
    PERFORM access_control_internal.check_expiry(expires_at);
    PERFORM access_control_internal.refuse_privileged(s);
    INSERT INTO access_control.all_clients_grant AS g (staff_id, role_id, expires_at)
    VALUES (s.id, rid, expires_at)
    ON CONFLICT ON CONSTRAINT all_clients_grant_pkey DO UPDATE
       SET role_id = excluded.role_id, expires_at = excluded.expires_at, granted_at = pg_catalog.now()
     WHERE (g.role_id, g.expires_at) IS DISTINCT FROM (excluded.role_id, excluded.expires_at);
    PERFORM access_control_internal.notice_ceiling(s.firm_id,
        ARRAY(SELECT fc.business_id FROM access_control.firm_client fc
               WHERE fc.firm_id = s.firm_id AND fc.status = 'active' ORDER BY fc.business_id), rid);
END $$;
COMMENT ON FUNCTION access_control.grant_all_clients(bigint, text, timestamptz) IS 'Gives one staff member a client role on every active client of the firm, clients linked later included, until revoked or expired';

CREATE FUNCTION access_control.revoke_all_clients(staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT SECURITY DEFINER PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id, true);
BEGIN
    PERFORM access_control_internal.authorize(s.firm_id);
    DELETE FROM access_control.all_clients_grant g WHERE g.staff_id = s.id;
    IF NOT FOUND THEN
        RAISE NOTICE 'staff member % had no all-clients grant: nothing revoked', s.id;
    END IF;
END $$;
COMMENT ON FUNCTION access_control.revoke_all_clients(bigint) IS 'Ends the staff member''s standing all-clients grant; direct and team grants stay';
REVOKE ALL ON TABLE access_control.staff_grant FROM PUBLIC;
REVOKE ALL ON TABLE access_control.all_clients_grant FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.check_linked,
    access_control_internal.refuse_privileged,
    access_control_internal.id_list,
    access_control_internal.notice_ceiling,
    access_control_internal.write_grants,
    access_control_internal.notice_revoke,
    access_control.grant_client_access,
    access_control.grant_staff_access,
    access_control.revoke_client_access,
    access_control.revoke_staff_access,
    access_control.set_client_access,
    access_control.set_client_roles,
    access_control.grant_all_clients,
    access_control.revoke_all_clients
FROM PUBLIC;
