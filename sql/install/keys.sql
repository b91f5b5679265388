/*
 * keys: API keys, the secret keys they are hashed under, and authenticate
 * (src/keys.c, src/crypto.c).
 */
CREATE TABLE access_control.api_key (
    id          bigserial PRIMARY KEY,
    staff_id    bigint NOT NULL REFERENCES access_control.staff,
    label       text NOT NULL,
    secret_hash bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    secret_key_id bigint NOT NULL   -- the access_control.secret_key it is hashed under
);
CREATE INDEX ON access_control.api_key (staff_id);

/*
 * The keys API key secrets are hashed under (keyed BLAKE2b). Readable by
 * the owner only. New API keys use the newest row; each api_key row names
 * the one it was hashed under, so rotating keeps existing keys working.
 * Registered for pg_dump, so a restore keeps every key verifiable.
 */
CREATE TABLE access_control.secret_key (
    id          bigint PRIMARY KEY,
    key         bytea NOT NULL CHECK (pg_catalog.octet_length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE access_control.secret_key IS 'Random keys (libsodium) that API key secrets are hashed under; superuser only';

/* Last use of each key: written by authenticate, so no cache invalidation. */
CREATE TABLE access_control.api_key_usage (
    key_id       bigint PRIMARY KEY REFERENCES access_control.api_key ON DELETE CASCADE,
    last_used_at timestamptz NOT NULL
);
COMMENT ON TABLE access_control.api_key_usage IS 'When each API key last authenticated (to the minute)';

CREATE FUNCTION access_control.rotate_secret_key() RETURNS bigint
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_rotate_secret_key';
COMMENT ON FUNCTION access_control.rotate_secret_key() IS 'Makes a new random key for hashing API keys created from now on; returns its id';

SELECT access_control.rotate_secret_key();

CREATE FUNCTION access_control_internal.issue_api_key(staff_id bigint, label text, expires_at timestamptz) RETURNS text
    LANGUAGE c VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_issue_api_key';
COMMENT ON FUNCTION access_control_internal.issue_api_key(bigint, text, timestamptz) IS 'Internal: stores a new API key (hashed) and returns it in clear';

CREATE FUNCTION access_control.authenticate(api_key text) RETURNS bigint
    LANGUAGE c VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_authenticate';
COMMENT ON FUNCTION access_control.authenticate(text) IS 'Verifies an API key and acts as its staff member until the end of the transaction; returns the staff id';

CREATE FUNCTION access_control.create_api_key(staff_id bigint, label text, expires_at timestamptz DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control_internal.active_staff(staff_id);
    actor text := access_control_internal.actor_authority();
BEGIN
    IF actor <> 'system' THEN
        IF pg_catalog.current_setting('access_control.actor') LIKE '%:key:%' THEN
            RAISE EXCEPTION 'permission denied to create an API key'
                USING ERRCODE = '42501', DETAIL = 'A session authenticated with an API key cannot create keys.';
        END IF;
        IF access_control.current_staff_id() IS DISTINCT FROM s.id THEN
            RAISE EXCEPTION 'permission denied to create an API key for staff member %', staff_id
                USING ERRCODE = '42501', DETAIL = 'Staff members create their own API keys only.';
        END IF;
    END IF;
    IF label IS NULL OR pg_catalog.btrim(label) = '' THEN
        RAISE EXCEPTION 'API key label must not be empty'
            USING ERRCODE = '22023', HINT = 'Pass a label that says what the key is for.';
    END IF;
    IF expires_at IS NOT NULL AND expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'expires_at must be in the future'
            USING ERRCODE = '22023', HINT = 'Pass a later time, or NULL for a key that does not expire.';
    END IF;
    RETURN access_control_internal.issue_api_key(s.id, pg_catalog.btrim(label), expires_at);
END $$;
COMMENT ON FUNCTION access_control.create_api_key(bigint, text, timestamptz) IS 'Creates an API key for the staff member and returns it; it is shown only this once';

CREATE FUNCTION access_control.revoke_api_key(key_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k access_control.api_key := access_control_internal.lookup(NULL::access_control.api_key, key_id, true);
    s access_control.staff;
BEGIN
    IF access_control.current_staff_id() IS DISTINCT FROM k.staff_id THEN
        s := access_control_internal.lookup(NULL::access_control.staff, k.staff_id);
        PERFORM access_control_internal.authorize(s.firm_id, s.role);
    END IF;
    UPDATE access_control.api_key SET revoked_at = pg_catalog.now()
     WHERE id = key_id AND revoked_at IS NULL;
END $$;
COMMENT ON FUNCTION access_control.revoke_api_key(bigint) IS 'Revokes an API key: sessions using it lose access from their next statement';

/* A removed staff member's keys are revoked for good, however the row was changed. */
CREATE FUNCTION access_control_internal.revoke_keys_of_removed_staff() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE access_control.api_key SET revoked_at = pg_catalog.now()
     WHERE staff_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION access_control_internal.revoke_keys_of_removed_staff() IS 'Internal trigger: revokes every API key of a staff member who was removed';

CREATE TRIGGER revoke_api_keys AFTER UPDATE OF status ON access_control.staff
    FOR EACH ROW WHEN (NEW.status = 'removed' AND OLD.status <> 'removed')
    EXECUTE FUNCTION access_control_internal.revoke_keys_of_removed_staff();

/*
 * System (act_as_system, or a superuser with no actor): every key. A staff
 * actor: its own keys, and every key of its firm for owners and admins.
 * Nobody: none. Never a secret or a hash.
 */
CREATE VIEW access_control.api_keys WITH (security_barrier) AS
SELECT k.id, k.staff_id, k.label, k.created_at, u.last_used_at, k.expires_at, k.revoked_at
  FROM access_control.api_key k
  LEFT JOIN access_control.api_key_usage u ON u.key_id = k.id
 WHERE (access_control.current_actor() = 'system'
        OR (access_control.current_actor() IS NULL
            AND (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)))
    OR EXISTS (SELECT 1
                 FROM access_control.staff me
                 JOIN access_control.staff owner ON owner.id = k.staff_id
                WHERE me.id = access_control.current_staff_id()
                  AND me.status = 'active'
                  AND (me.id = owner.id
                       OR (me.firm_id = owner.firm_id AND me.role IN ('owner', 'admin'))));
COMMENT ON VIEW access_control.api_keys IS 'API keys without their secrets, filtered by the current actor';
REVOKE ALL ON TABLE access_control.api_key, access_control.secret_key, access_control.api_key_usage,
    access_control.api_keys FROM PUBLIC;
REVOKE ALL ON SEQUENCE access_control.api_key_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control.rotate_secret_key,
    access_control_internal.issue_api_key,
    access_control.authenticate,
    access_control.create_api_key,
    access_control.revoke_api_key,
    access_control_internal.revoke_keys_of_removed_staff
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_control.authenticate(text) TO PUBLIC;
