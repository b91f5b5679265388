/*
 * checks: the argument checks every management function shares: a value
 * among choices, a value that must not be NULL, the row an id names, an
 * email address, an expiry time.
 */
CREATE FUNCTION access_control_internal.check_choice(value text, choices text[], what text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL OR NOT (value = ANY (choices)) THEN
        RAISE EXCEPTION 'invalid % "%"', what, coalesce(value, 'NULL')
            USING ERRCODE = '22023',
                  HINT = pg_catalog.format('Valid values are: %s.', pg_catalog.array_to_string(choices, ', '));
    END IF;
    RETURN value;
END $$;
COMMENT ON FUNCTION access_control_internal.check_choice(text, text[], text) IS 'Internal: returns value, or raises 22023 listing the valid choices';

CREATE FUNCTION access_control_internal.not_null(value anyelement, what text) RETURNS anyelement
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', what
            USING ERRCODE = '22004', HINT = pg_catalog.format('Pass a value for %s.', what);
    END IF;
    RETURN value;
END $$;
COMMENT ON FUNCTION access_control_internal.not_null(anyelement, text) IS 'Internal: returns value, or raises 22004 when it is NULL';

/*
 * The row with this id of the table whose row type kind is (pass
 * NULL::access_control.staff and so on), locked FOR NO KEY UPDATE when
 * lock. Raises 22004 for a NULL id and 22023, with a hint saying where the
 * ids are listed, when there is no such row. Raises 42501 first when
 * nobody acts with authority (actor_authority).
 *
 * PL/pgSQL compiles a polymorphic function once per row type, and plans
 * each statement when it first runs: the static query of each table keeps
 * its plan for the session, where one built with format() and EXECUTE was
 * parsed and planned on every call.
 */
CREATE FUNCTION access_control_internal.lookup(kind anyelement, id bigint, lock boolean DEFAULT false)
    RETURNS anyelement
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_row ALIAS FOR $0;
    t regtype := pg_catalog.pg_typeof(kind);
    k record;
    found_it boolean := false;
BEGIN
    /* the authority check first: nobody learns even whether an id exists */
    PERFORM access_control_internal.actor_authority();
    IF id IS NOT NULL THEN
        IF t = pg_catalog.pg_typeof(NULL::access_control.staff) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.staff r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.staff r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        ELSIF t = pg_catalog.pg_typeof(NULL::access_control.firm) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.firm r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.firm r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        ELSIF t = pg_catalog.pg_typeof(NULL::access_control.business) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.business r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.business r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        ELSIF t = pg_catalog.pg_typeof(NULL::access_control.team) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.team r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.team r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        ELSIF t = pg_catalog.pg_typeof(NULL::access_control.client_role) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.client_role r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.client_role r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        ELSIF t = pg_catalog.pg_typeof(NULL::access_control.portal_user) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.portal_user r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.portal_user r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        ELSIF t = pg_catalog.pg_typeof(NULL::access_control.invitation) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.invitation r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.invitation r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        ELSIF t = pg_catalog.pg_typeof(NULL::access_control.api_key) THEN
            IF lock THEN
                SELECT * INTO found_row FROM access_control.api_key r WHERE r.id = lookup.id FOR NO KEY UPDATE;
            ELSE
                SELECT * INTO found_row FROM access_control.api_key r WHERE r.id = lookup.id;
            END IF;
            found_it := FOUND;
        END IF;
        IF found_it THEN
            RETURN found_row;
        END IF;
    END IF;
    /* no row: say why */
    SELECT * INTO k
      FROM (VALUES ('access_control.staff'::regclass, 'staff_id', 'staff member', 'Staff ids are listed in access_control.staff.'),
                   ('access_control.firm', 'firm_id', 'firm', 'Firm ids are listed in access_control.firm.'),
                   ('access_control.business', 'business_id', 'business', 'Business ids are listed in access_control.business.'),
                   ('access_control.team', 'team_id', 'team', 'Team ids are listed in access_control.team.'),
                   ('access_control.client_role', 'role_id', 'client role', 'Client roles are listed in access_control.client_role.'),
                   ('access_control.portal_user', 'portal_user_id', 'portal user', 'Portal users are listed in access_control.portal_user.'),
                   ('access_control.invitation', 'invitation_id', 'invitation', 'Pending invitations are listed in access_control.pending_invitations.'),
                   ('access_control.api_key', 'key_id', 'API key', 'API keys are listed in access_control.api_keys.'))
           AS v(tbl, arg, what, hint)
     WHERE v.tbl = (SELECT ty.typrelid FROM pg_catalog.pg_type ty WHERE ty.oid = t);
    IF k IS NULL THEN
        RAISE EXCEPTION 'no look-up by id for type %', t
            USING ERRCODE = '22023', HINT = 'Pass NULL cast to the row type of an access table that has an id.';
    END IF;
    PERFORM access_control_internal.not_null(id, k.arg);
    RAISE EXCEPTION '% % does not exist', k.what, id
        USING ERRCODE = '22023', HINT = k.hint;
END $$;
COMMENT ON FUNCTION access_control_internal.lookup(anyelement, bigint, boolean) IS 'Internal: the row with this id (locked when lock) of the table kind is the row type of, or 22004/22023';
CREATE FUNCTION access_control_internal.normalize_email(email text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := pg_catalog.lower(pg_catalog.btrim(email));
BEGIN
    IF e IS NULL OR e !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' OR pg_catalog.length(e) > 254 THEN
        RAISE EXCEPTION 'invalid email address "%"', coalesce(pg_catalog.left(email, 100), 'NULL')
            USING ERRCODE = '22023', HINT = 'An email address looks like name@example.com.';
    END IF;
    RETURN e;
END $$;
COMMENT ON FUNCTION access_control_internal.normalize_email(text) IS 'Internal: the trimmed, lower-case address, or 22023 when it is not one';
CREATE FUNCTION access_control_internal.check_expiry(expires_at timestamptz) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF expires_at IS NOT NULL AND expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'expires_at must be in the future'
            USING ERRCODE = '22023', HINT = 'Pass a later time, or NULL for a grant that does not expire.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.check_expiry(timestamptz) IS 'Internal: raises 22023 when expires_at is not in the future';
REVOKE ALL ON FUNCTION
    access_control_internal.check_choice,
    access_control_internal.not_null,
    access_control_internal.lookup,
    access_control_internal.normalize_email,
    access_control_internal.check_expiry
FROM PUBLIC;
