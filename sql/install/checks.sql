/*
 * checks: the argument checks every management function shares: a value
 * among choices, a value that must not be NULL, an email address, an
 * expiry time.
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
    access_control_internal.normalize_email,
    access_control_internal.check_expiry
FROM PUBLIC;
