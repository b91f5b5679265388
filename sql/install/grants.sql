/*
 * grants: a staff member's direct grants of a client role on businesses.
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

CREATE FUNCTION access_control.grant_client_access(staff_id bigint, business_ids bigint[], role text,
    expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.active_staff(staff_id);
    rid bigint;
BEGIN
    /* authority first: the unknown-role hint lists the firm's own role names */
    PERFORM access_control_internal.authorize(s.firm_id);
    rid := access_control_internal.client_role(s.firm_id, role);
    PERFORM access_control_internal.check_expiry(expires_at);
    IF business_ids IS NULL THEN
        SELECT pg_catalog.array_agg(fc.business_id) INTO business_ids
          FROM access_control.firm_client fc WHERE fc.firm_id = s.firm_id AND fc.status = 'active';
        business_ids := coalesce(business_ids, '{}');
    END IF;
    PERFORM access_control_internal.check_linked(s.firm_id, business_ids);
    INSERT INTO access_control.staff_grant AS g (staff_id, business_id, role_id, expires_at)
    SELECT staff_id, b, rid, expires_at FROM (SELECT DISTINCT pg_catalog.unnest(business_ids) AS b) u
    ON CONFLICT ON CONSTRAINT staff_grant_pkey DO UPDATE
       SET role_id = excluded.role_id, expires_at = excluded.expires_at, granted_at = pg_catalog.now()
     WHERE (g.role_id, g.expires_at) IS DISTINCT FROM (excluded.role_id, excluded.expires_at);
END $$;
COMMENT ON FUNCTION access_control.grant_client_access(bigint, bigint[], text, timestamptz) IS 'Gives one staff member a client role on many businesses (NULL: every active client)';

CREATE FUNCTION access_control.grant_staff_access(business_id bigint, staff_ids bigint[], role text,
    expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
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

CREATE FUNCTION access_control.revoke_client_access(staff_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.lookup(NULL::access_control.staff, staff_id, true);
BEGIN
    PERFORM access_control_internal.authorize(s.firm_id);
    PERFORM access_control_internal.not_null(business_ids, 'business_ids');
    DELETE FROM access_control.staff_grant g
     WHERE g.staff_id = revoke_client_access.staff_id AND g.business_id = ANY (business_ids);
END $$;
COMMENT ON FUNCTION access_control.revoke_client_access(bigint, bigint[]) IS 'Removes one staff member''s direct grants on the businesses';

CREATE FUNCTION access_control.revoke_staff_access(business_id bigint, staff_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
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

CREATE FUNCTION access_control.set_client_access(staff_id bigint, business_ids bigint[], role text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.active_staff(staff_id);
BEGIN
    PERFORM access_control_internal.authorize(s.firm_id);
    PERFORM access_control_internal.not_null(business_ids, 'business_ids');
    DELETE FROM access_control.staff_grant g
     WHERE g.staff_id = set_client_access.staff_id AND NOT (g.business_id = ANY (business_ids));
    IF pg_catalog.cardinality(business_ids) > 0 THEN
        PERFORM access_control.grant_client_access(staff_id, business_ids, role);
    END IF;
END $$;
COMMENT ON FUNCTION access_control.set_client_access(bigint, bigint[], text) IS 'Replaces the staff member''s direct grants with exactly these businesses (empty: none)';
REVOKE ALL ON TABLE access_control.staff_grant FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.check_linked,
    access_control.grant_client_access,
    access_control.grant_staff_access,
    access_control.revoke_client_access,
    access_control.revoke_staff_access,
    access_control.set_client_access
FROM PUBLIC;
