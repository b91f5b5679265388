/* access_control--1.1.sql: tables, C helpers and management functions */

\echo Use "CREATE EXTENSION access_control" to load this file. \quit

/* ------------------------------------------------------------------ */
/* Tables                                                               */
/* ------------------------------------------------------------------ */

CREATE TABLE access_control.permission (
    bit         integer PRIMARY KEY CHECK (bit BETWEEN 0 AND 62),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z_]+\.[a-z_]+$'),
    description text NOT NULL,
    read_only   boolean NOT NULL DEFAULT false,
    implies     bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE access_control.permission IS 'The permission catalog: one bit per permission; implies is a mask of the bits it directly implies';

CREATE TABLE access_control.firm (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
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

CREATE TABLE access_control.firm_client (
    firm_id     bigint NOT NULL REFERENCES access_control.firm,
    business_id bigint NOT NULL REFERENCES access_control.business,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'disconnected')),
    ceiling     bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (firm_id, business_id)
);
CREATE INDEX ON access_control.firm_client (business_id);

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

CREATE TABLE access_control.client_role (
    id          bigserial PRIMARY KEY,
    firm_id     bigint REFERENCES access_control.firm,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    permissions bigint NOT NULL
);
CREATE UNIQUE INDEX client_role_name_key ON access_control.client_role (coalesce(firm_id, 0), name);

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

CREATE TABLE access_control.portal_user (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES access_control.business,
    email       text NOT NULL CHECK (email = lower(email)),
    name        text,
    permissions bigint NOT NULL DEFAULT 0,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
    can_login   boolean NOT NULL DEFAULT true,
    UNIQUE (business_id, email)
);

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
 * Relations that hold no rows: every change to the tables above sends a
 * relcache invalidation for one of them, which every backend's access cache
 * listens for. Changes to grants, team memberships and client roles use
 * cache_sentinel_grants, which drops only the maps read from them (those of
 * members); every other change uses cache_sentinel, which drops them all.
 */
CREATE TABLE access_control.cache_sentinel ();
CREATE TABLE access_control.cache_sentinel_grants ();
/*
 * Grants and team memberships name their member: a change invalidates the
 * sentinel of the member's bucket (staff id modulo 16), which drops only
 * the maps of the members in that bucket.
 */
DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format('CREATE TABLE access_control.%I ()', 'cache_sentinel_staff_' || i);
    END LOOP;
END $$;

/* ------------------------------------------------------------------ */
/* C helpers                                                            */
/* ------------------------------------------------------------------ */

CREATE FUNCTION access_control.invalidate_cache() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_cache';
COMMENT ON FUNCTION access_control.invalidate_cache() IS 'Trigger: tells every session that access data changed (at commit)';

CREATE FUNCTION access_control.invalidate_staff_cache() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_staff_cache';
COMMENT ON FUNCTION access_control.invalidate_staff_cache() IS 'Trigger: tells every session that the access of the members whose grants or team memberships changed is stale (at commit)';

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['permission', 'firm', 'staff', 'business', 'firm_client',
        'team', 'team_member', 'client_role', 'staff_grant', 'team_grant', 'portal_user', 'api_key']
    LOOP
        EXECUTE format('CREATE TRIGGER invalidate_cache BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
                        ON access_control.%I FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_cache(%L)', t,
                       CASE WHEN t IN ('staff_grant', 'team_member') THEN 'staff'
                            WHEN t IN ('team_grant', 'client_role') THEN 'grants'
                            ELSE 'all' END);
        -- also under session_replication_role = replica (logical replication,
        -- a DBA's bulk load): a cache that missed a change would be stale
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_cache', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['staff_grant', 'team_member'] LOOP
        EXECUTE format('CREATE TRIGGER invalidate_staff_cache_insert AFTER INSERT ON access_control.%I
                        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_staff_cache()', t);
        EXECUTE format('CREATE TRIGGER invalidate_staff_cache_update AFTER UPDATE ON access_control.%I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_staff_cache()', t);
        EXECUTE format('CREATE TRIGGER invalidate_staff_cache_delete AFTER DELETE ON access_control.%I
                        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control.invalidate_staff_cache()', t);
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_staff_cache_insert', t);
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_staff_cache_update', t);
        EXECUTE format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER invalidate_staff_cache_delete', t);
    END LOOP;
END $$;

CREATE FUNCTION access_control.set_actor(staff_id bigint) RETURNS void
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_set_actor';
COMMENT ON FUNCTION access_control.set_actor(bigint) IS 'Act as this staff member until the end of the transaction';

CREATE FUNCTION access_control.set_portal_actor(portal_user_id bigint) RETURNS void
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_set_portal_actor';
COMMENT ON FUNCTION access_control.set_portal_actor(bigint) IS 'Act as this portal user until the end of the transaction';

CREATE FUNCTION access_control.clear_actor() RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_clear_actor';
COMMENT ON FUNCTION access_control.clear_actor() IS 'Stop acting as anyone for the rest of the transaction';

CREATE FUNCTION access_control.current_actor() RETURNS text
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_current_actor';
COMMENT ON FUNCTION access_control.current_actor() IS 'staff:N, portal:N, or NULL when no actor is set';

CREATE FUNCTION access_control.row_helper_support(internal) RETURNS internal
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_row_helper_support';
COMMENT ON FUNCTION access_control.row_helper_support(internal) IS 'Planner support: lets can_see_business and has_permission use an index on the business column, and estimates the rows they keep for the current actor';

/* COST 3, here and for has_permission: a call costs about as much as a cast and a comparison of int8 (a bitmap test or a short binary search). */
CREATE FUNCTION access_control.can_see_business(business_id bigint) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE COST 3 SUPPORT access_control.row_helper_support
    AS 'MODULE_PATHNAME', 'ac_can_see_business';
COMMENT ON FUNCTION access_control.can_see_business(bigint) IS 'True when the current actor can see the business';

CREATE FUNCTION access_control.has_permission(business_id bigint, permission text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE COST 3 SUPPORT access_control.row_helper_support
    AS 'MODULE_PATHNAME', 'ac_has_permission';
COMMENT ON FUNCTION access_control.has_permission(bigint, text) IS 'True when the current actor holds the permission on the business';

CREATE FUNCTION access_control.visible_business_ids() RETURNS bigint[]
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_visible_business_ids';
COMMENT ON FUNCTION access_control.visible_business_ids() IS 'Sorted ids of every business the current actor can see';

CREATE FUNCTION access_control.visible_business_ids(permission text) RETURNS bigint[]
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_visible_business_ids';
COMMENT ON FUNCTION access_control.visible_business_ids(text) IS 'Sorted ids of every business where the current actor holds the permission';

CREATE FUNCTION access_control.staff_can_see_business(staff_id bigint, business_id bigint) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_staff_can_see_business';
COMMENT ON FUNCTION access_control.staff_can_see_business(bigint, bigint) IS 'True when the staff member can see the business';

CREATE FUNCTION access_control.staff_has_permission(staff_id bigint, business_id bigint, permission text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_staff_has_permission';
COMMENT ON FUNCTION access_control.staff_has_permission(bigint, bigint, text) IS 'True when the staff member holds the permission on the business';

CREATE FUNCTION access_control.staff_effective_permission_mask(staff_id bigint, business_id bigint) RETURNS bigint
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_staff_effective_mask';
COMMENT ON FUNCTION access_control.staff_effective_permission_mask(bigint, bigint) IS 'The staff member''s effective permission mask on the business (NULL: cannot see it)';

/* ------------------------------------------------------------------ */
/* Permission masks                                                     */
/* ------------------------------------------------------------------ */

CREATE FUNCTION access_control.permission_mask(names text[]) RETURNS bigint
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    mask bigint := 0;
    unknown text[];
BEGIN
    SELECT pg_catalog.array_agg(n ORDER BY n) INTO unknown
      FROM pg_catalog.unnest(names) AS n
     WHERE n IS NULL OR NOT EXISTS (SELECT 1 FROM access_control.permission p WHERE p.name = n);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown permission %',
            (SELECT pg_catalog.string_agg(coalesce(pg_catalog.quote_ident(u), 'NULL'), ', ') FROM pg_catalog.unnest(unknown) u)
            USING ERRCODE = '22023',
                  HINT = 'Known permissions are listed in access_control.permission.';
    END IF;
    SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0) INTO mask
      FROM access_control.permission p WHERE p.name = ANY (names);
    RETURN mask;
END $$;
COMMENT ON FUNCTION access_control.permission_mask(text[]) IS 'The mask of exactly the named permissions';

CREATE FUNCTION access_control.permission_names(mask bigint) RETURNS text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(pg_catalog.array_agg(p.name ORDER BY p.name), '{}')
      FROM access_control.permission p
     WHERE pg_catalog.int8and(mask, pg_catalog.int8shl(1, p.bit)) <> 0
$$;
COMMENT ON FUNCTION access_control.permission_names(bigint) IS 'The names of the catalog permissions whose bits are set in the mask';

/*
 * SECURITY DEFINER, so that a role granted this function needs no grant on
 * staff_effective_permission_mask: it tells no more than this one does.
 */
CREATE FUNCTION access_control.staff_effective_permissions(staff_id bigint, business_id bigint) RETURNS text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT access_control.permission_names(access_control.staff_effective_permission_mask(staff_id, business_id))
$$;
COMMENT ON FUNCTION access_control.staff_effective_permissions(bigint, bigint) IS 'The staff member''s effective permissions on the business (NULL: cannot see it)';

/* The default catalog. Every *.manage, *.pay, *.accept, *.approve implies its *.view. */
INSERT INTO access_control.permission (bit, name, description, read_only) VALUES
    (0,  'profile.view',             'View the client profile', true),
    (1,  'profile.manage',           'Modify the client profile', false),
    (2,  'contacts.view',            'View contacts', true),
    (3,  'contacts.manage',          'Manage contacts', false),
    (4,  'products.view',            'View products and services', true),
    (5,  'product_passwords.manage', 'Modify product passwords', false),
    (6,  'sso.login',                'Sign in to products with single sign-on', false),
    (7,  'domains.view',             'View domains', true),
    (8,  'domains.manage',           'Manage domain settings', false),
    (9,  'invoices.view',            'View invoices', true),
    (10, 'invoices.pay',             'Pay invoices', false),
    (11, 'quotes.view',              'View quotes', true),
    (12, 'quotes.accept',            'Accept quotes', false),
    (13, 'tickets.view',             'View support tickets', true),
    (14, 'tickets.manage',           'Open and answer support tickets', false),
    (15, 'affiliate.view',           'View the affiliate account', true),
    (16, 'affiliate.manage',         'Manage the affiliate account', false),
    (17, 'emails.view',              'View emails sent to the client', true),
    (18, 'orders.place',             'Place orders', false),
    (19, 'users.manage',             'Manage the client''s portal users', false),
    (20, 'bills.view',               'View bills', true),
    (21, 'bills.manage',             'Enter and edit bills', false),
    (22, 'bills.approve',            'Approve bills for payment', false),
    (23, 'payments.pay',             'Send payments', false),
    (24, 'payments.view',            'View payments', true);
UPDATE access_control.permission p SET implies = pg_catalog.int8shl(1, v.bit)
  FROM access_control.permission v
 WHERE p.name ~ '\.(manage|pay|accept|approve)$'
   AND v.name = pg_catalog.split_part(p.name, '.', 1) || '.view';
UPDATE access_control.permission SET implies = implies | pg_catalog.int8shl(1, 4)
 WHERE name = 'product_passwords.manage';
UPDATE access_control.permission SET implies = implies | pg_catalog.int8shl(1, 0)
 WHERE name = 'sso.login';
UPDATE access_control.permission SET implies = implies | pg_catalog.int8shl(1, 20)
 WHERE name = 'bills.approve';
UPDATE access_control.permission SET implies = implies | pg_catalog.int8shl(1, 2)
 WHERE name = 'users.manage';

INSERT INTO access_control.client_role (firm_id, name, permissions) VALUES
    (NULL, 'administrator', (SELECT pg_catalog.bit_or(pg_catalog.int8shl(1, bit)) FROM access_control.permission)),
    (NULL, 'bookkeeper', (SELECT pg_catalog.bit_or(pg_catalog.int8shl(1, bit)) FROM access_control.permission WHERE read_only)),
    (NULL, 'accountant', access_control.permission_mask('{profile.view,contacts.view,contacts.manage,invoices.view,quotes.view,bills.view,bills.manage,payments.view,emails.view,tickets.view,tickets.manage}')),
    (NULL, 'approver', access_control.permission_mask('{profile.view,bills.view,bills.approve,invoices.view,payments.view}')),
    (NULL, 'clerk', access_control.permission_mask('{profile.view,contacts.view,bills.view,bills.manage,invoices.view}')),
    (NULL, 'payer', access_control.permission_mask('{profile.view,bills.view,payments.view,payments.pay,invoices.view,invoices.pay}'));

/* ------------------------------------------------------------------ */
/* Internal checks shared by the management functions                   */
/* ------------------------------------------------------------------ */

CREATE FUNCTION access_control._check_choice(value text, choices text[], what text) RETURNS text
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
COMMENT ON FUNCTION access_control._check_choice(text, text[], text) IS 'Internal: returns value, or raises 22023 listing the valid choices';

CREATE FUNCTION access_control._not_null(value anyelement, what text) RETURNS anyelement
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', what
            USING ERRCODE = '22004', HINT = pg_catalog.format('Pass a value for %s.', what);
    END IF;
    RETURN value;
END $$;
COMMENT ON FUNCTION access_control._not_null(anyelement, text) IS 'Internal: returns value, or raises 22004 when it is NULL';

/*
 * Checks that the current actor may manage the firm's staff or access, and
 * raises 42501 when not. Without an actor, the caller's SQL privileges
 * (EXECUTE on the management function) already decided: the change is made
 * by "system". target_role is the role of the staff member being changed
 * (or being given); only owners may touch owners.
 */
CREATE FUNCTION access_control._authorize(firm_id bigint, target_role text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control.current_actor();
    me access_control.staff;
BEGIN
    IF actor IS NULL THEN
        RETURN;
    END IF;
    IF actor NOT LIKE 'staff:%' THEN
        RAISE EXCEPTION 'permission denied to manage firm %', firm_id
            USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not a staff member of this firm.', actor);
    END IF;
    SELECT * INTO me FROM access_control.staff s
     WHERE s.id = pg_catalog.substr(actor, 7)::bigint;
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
COMMENT ON FUNCTION access_control._authorize(bigint, text) IS 'Internal: raises 42501 unless the current actor may manage the firm (and the target role)';

CREATE FUNCTION access_control._staff(staff_id bigint, lock boolean DEFAULT false) RETURNS access_control.staff
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff;
BEGIN
    PERFORM access_control._not_null(staff_id, 'staff_id');
    IF lock THEN
        SELECT * INTO s FROM access_control.staff WHERE id = staff_id FOR NO KEY UPDATE;
    ELSE
        SELECT * INTO s FROM access_control.staff WHERE id = staff_id;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'staff member % does not exist', staff_id
            USING ERRCODE = '22023', HINT = 'Staff ids are listed in access_control.staff.';
    END IF;
    RETURN s;
END $$;
COMMENT ON FUNCTION access_control._staff(bigint, boolean) IS 'Internal: the staff row, or 22023 when there is none';

CREATE FUNCTION access_control._firm_exists(firm_id bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM access_control._not_null(firm_id, 'firm_id');
    IF NOT EXISTS (SELECT 1 FROM access_control.firm f WHERE f.id = firm_id) THEN
        RAISE EXCEPTION 'firm % does not exist', firm_id
            USING ERRCODE = '22023', HINT = 'Firm ids are listed in access_control.firm.';
    END IF;
    RETURN firm_id;
END $$;
COMMENT ON FUNCTION access_control._firm_exists(bigint) IS 'Internal: firm_id, or 22023 when there is no such firm';

CREATE FUNCTION access_control._client_role(firm_id bigint, role text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid bigint;
BEGIN
    SELECT r.id INTO rid FROM access_control.client_role r
     WHERE r.name = role AND (r.firm_id IS NULL OR r.firm_id = _client_role.firm_id)
     ORDER BY r.firm_id NULLS FIRST LIMIT 1;
    IF rid IS NULL THEN
        RAISE EXCEPTION 'unknown client role "%"', coalesce(role, 'NULL')
            USING ERRCODE = '22023',
                  HINT = pg_catalog.format('Roles available to this firm: %s.',
                      (SELECT pg_catalog.string_agg(r.name, ', ' ORDER BY r.name) FROM access_control.client_role r
                        WHERE r.firm_id IS NULL OR r.firm_id = _client_role.firm_id));
    END IF;
    RETURN rid;
END $$;
COMMENT ON FUNCTION access_control._client_role(bigint, text) IS 'Internal: the id of a built-in or the firm''s own client role, or 22023';

/*
 * Raises unless every business has an active link with the firm. Locks
 * those links FOR SHARE until the end of the transaction, so a concurrent
 * disconnect waits for the grant that checked them, and a grant that
 * checks after a disconnect has locked a link waits for it and then fails.
 */
CREATE FUNCTION access_control._check_linked(firm_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad text;
BEGIN
    PERFORM access_control._not_null(business_ids, 'business_ids');
    PERFORM 1 FROM access_control.firm_client fc
     WHERE fc.firm_id = _check_linked.firm_id AND fc.business_id = ANY (business_ids) AND fc.status = 'active'
     ORDER BY fc.business_id
       FOR SHARE;
    SELECT pg_catalog.string_agg(coalesce(b::text, 'NULL'), ', ' ORDER BY b) INTO bad
      FROM pg_catalog.unnest(business_ids) AS b
     WHERE b IS NULL OR NOT EXISTS (SELECT 1 FROM access_control.firm_client fc
                                     WHERE fc.firm_id = _check_linked.firm_id
                                       AND fc.business_id = b AND fc.status = 'active');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'firm % has no active link with business %', firm_id, bad
            USING ERRCODE = '22023',
                  HINT = 'Grant only businesses whose link in access_control.firm_client is active.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control._check_linked(bigint, bigint[]) IS 'Internal: raises 22023 unless every business has an active link with the firm';

/* ------------------------------------------------------------------ */
/* Firms, staff, businesses                                             */
/* ------------------------------------------------------------------ */

CREATE FUNCTION access_control._normalize_email(email text) RETURNS text
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
COMMENT ON FUNCTION access_control._normalize_email(text) IS 'Internal: the trimmed, lower-case address, or 22023 when it is not one';

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
    IF access_control.current_actor() IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to create a firm'
            USING ERRCODE = '42501', DETAIL = 'Firms are created by the system, not by an actor.';
    END IF;
    INSERT INTO access_control.firm (name) VALUES (pg_catalog.btrim(name)) RETURNING id INTO fid;
    INSERT INTO access_control.staff (firm_id, email, first_name, last_name, role)
    VALUES (fid, access_control._normalize_email(owner_email), owner_first_name, owner_last_name, 'owner');
    RETURN fid;
END $$;
COMMENT ON FUNCTION access_control.create_firm(text, text, text, text) IS 'Creates a firm and its first owner; returns the firm id';

CREATE FUNCTION access_control.add_staff(firm_id bigint, email text, role text DEFAULT 'member',
    first_name text DEFAULT NULL, last_name text DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control._normalize_email(email);
    sid bigint;
BEGIN
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._check_choice(role, '{owner,admin,member}', 'staff role');
    PERFORM access_control._authorize(firm_id, role);
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
CREATE FUNCTION access_control._keep_an_owner(firm_id bigint, staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    /* serialise owner changes of one firm */
    PERFORM 1 FROM access_control.firm f WHERE f.id = firm_id FOR NO KEY UPDATE;
    IF NOT EXISTS (SELECT 1 FROM access_control.staff s
                    WHERE s.firm_id = _keep_an_owner.firm_id AND s.id <> staff_id
                      AND s.role = 'owner' AND s.status = 'active') THEN
        RAISE EXCEPTION 'firm % must keep at least one active owner', firm_id
            USING ERRCODE = '55000', HINT = 'Make another staff member an owner first.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control._keep_an_owner(bigint, bigint) IS 'Internal: raises 55000 when staff_id is the firm''s last active owner';

/*
 * Serialises staff changes of one firm: locks the firm row, then the staff
 * row, and returns the staff row read again, so the authority check that
 * follows sees every change committed while this one waited. Locking the
 * staff row also waits for a grant or team membership being added to the
 * member (they lock it too), so remove_staff deletes those as well.
 */
CREATE FUNCTION access_control._lock_firm_staff(s access_control.staff) RETURNS access_control.staff
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM 1 FROM access_control.firm f WHERE f.id = s.firm_id FOR NO KEY UPDATE;
    RETURN access_control._staff(s.id, true);
END $$;
COMMENT ON FUNCTION access_control._lock_firm_staff(access_control.staff) IS 'Internal: locks the staff member''s firm and row and returns the row read afresh';

CREATE FUNCTION access_control.set_staff_role(staff_id bigint, role text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._staff(staff_id);
BEGIN
    PERFORM access_control._check_choice(role, '{owner,admin,member}', 'staff role');
    s := access_control._lock_firm_staff(s);
    PERFORM access_control._authorize(s.firm_id, CASE WHEN 'owner' IN (s.role, role) THEN 'owner' ELSE role END);
    IF s.status <> 'active' THEN
        RAISE EXCEPTION 'staff member % has been removed', staff_id
            USING ERRCODE = '55000', HINT = 'Add the member again with add_staff or invite_staff.';
    END IF;
    IF s.role = 'owner' AND role <> 'owner' THEN
        PERFORM access_control._keep_an_owner(s.firm_id, staff_id);
    END IF;
    UPDATE access_control.staff SET role = set_staff_role.role WHERE id = staff_id AND staff.role <> set_staff_role.role;
END $$;
COMMENT ON FUNCTION access_control.set_staff_role(bigint, text) IS 'Changes a staff member''s role (owner, admin or member)';

CREATE FUNCTION access_control.remove_staff(staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._staff(staff_id);
BEGIN
    s := access_control._lock_firm_staff(s);
    PERFORM access_control._authorize(s.firm_id, s.role);
    IF s.status = 'removed' THEN
        RETURN;
    END IF;
    IF s.role = 'owner' THEN
        PERFORM access_control._keep_an_owner(s.firm_id, staff_id);
    END IF;
    DELETE FROM access_control.staff_grant g WHERE g.staff_id = remove_staff.staff_id;
    DELETE FROM access_control.team_member m WHERE m.staff_id = remove_staff.staff_id;
    UPDATE access_control.staff SET status = 'removed' WHERE id = staff_id;
END $$;
COMMENT ON FUNCTION access_control.remove_staff(bigint) IS 'Removes a staff member: grants and team memberships go at once; the row stays';

CREATE FUNCTION access_control.set_programmatic_access(staff_id bigint, enabled boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._staff(staff_id);
BEGIN
    PERFORM access_control._not_null(enabled, 'enabled');
    PERFORM access_control._authorize(s.firm_id, s.role);
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
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._authorize(firm_id);
    bid := access_control.create_business(name);
    INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling)
    VALUES (firm_id, bid, 'active', (SELECT pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)) FROM access_control.permission p));
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
    IF access_control.current_actor() LIKE 'portal:%' THEN
        RAISE EXCEPTION 'permission denied to create a business'
            USING ERRCODE = '42501', DETAIL = 'Portal users work inside their own business only.';
    END IF;
    INSERT INTO access_control.business (name) VALUES (pg_catalog.btrim(name)) RETURNING id INTO bid;
    RETURN bid;
END $$;
COMMENT ON FUNCTION access_control.create_business(text) IS 'Creates a standalone client account; returns its id';

/* ------------------------------------------------------------------ */
/* Grants                                                               */
/* ------------------------------------------------------------------ */

CREATE FUNCTION access_control._check_expiry(expires_at timestamptz) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF expires_at IS NOT NULL AND expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'expires_at must be in the future'
            USING ERRCODE = '22023', HINT = 'Pass a later time, or NULL for a grant that does not expire.';
    END IF;
END $$;
COMMENT ON FUNCTION access_control._check_expiry(timestamptz) IS 'Internal: raises 22023 when expires_at is not in the future';

CREATE FUNCTION access_control._active_staff(staff_id bigint) RETURNS access_control.staff
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._staff(staff_id, true);
BEGIN
    IF s.status <> 'active' THEN
        RAISE EXCEPTION 'staff member % has been removed', staff_id
            USING ERRCODE = '55000', HINT = 'Add the member again with add_staff or invite_staff first.';
    END IF;
    RETURN s;
END $$;
COMMENT ON FUNCTION access_control._active_staff(bigint) IS 'Internal: the locked row of an active staff member, or an ERROR';

CREATE FUNCTION access_control.grant_client_access(staff_id bigint, business_ids bigint[], role text,
    expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._active_staff(staff_id);
    rid bigint := access_control._client_role(s.firm_id, role);
BEGIN
    PERFORM access_control._authorize(s.firm_id);
    PERFORM access_control._check_expiry(expires_at);
    IF business_ids IS NULL THEN
        SELECT pg_catalog.array_agg(fc.business_id) INTO business_ids
          FROM access_control.firm_client fc WHERE fc.firm_id = s.firm_id AND fc.status = 'active';
        business_ids := coalesce(business_ids, '{}');
    END IF;
    PERFORM access_control._check_linked(s.firm_id, business_ids);
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
    PERFORM access_control._not_null(business_id, 'business_id');
    PERFORM access_control._not_null(staff_ids, 'staff_ids');
    FOREACH sid IN ARRAY staff_ids LOOP
        PERFORM access_control.grant_client_access(sid, ARRAY[business_id], role, expires_at);
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control.grant_staff_access(bigint, bigint[], text, timestamptz) IS 'Gives many staff members a client role on one business';

CREATE FUNCTION access_control.revoke_client_access(staff_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._staff(staff_id, true);
BEGIN
    PERFORM access_control._authorize(s.firm_id);
    PERFORM access_control._not_null(business_ids, 'business_ids');
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
    PERFORM access_control._not_null(business_id, 'business_id');
    PERFORM access_control._not_null(staff_ids, 'staff_ids');
    FOREACH sid IN ARRAY staff_ids LOOP
        PERFORM access_control.revoke_client_access(sid, ARRAY[business_id]);
    END LOOP;
END $$;
COMMENT ON FUNCTION access_control.revoke_staff_access(bigint, bigint[]) IS 'Removes many staff members'' direct grants on one business';

CREATE FUNCTION access_control.set_client_access(staff_id bigint, business_ids bigint[], role text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._active_staff(staff_id);
BEGIN
    PERFORM access_control._authorize(s.firm_id);
    PERFORM access_control._not_null(business_ids, 'business_ids');
    DELETE FROM access_control.staff_grant g
     WHERE g.staff_id = set_client_access.staff_id AND NOT (g.business_id = ANY (business_ids));
    IF pg_catalog.cardinality(business_ids) > 0 THEN
        PERFORM access_control.grant_client_access(staff_id, business_ids, role);
    END IF;
END $$;
COMMENT ON FUNCTION access_control.set_client_access(bigint, bigint[], text) IS 'Replaces the staff member''s direct grants with exactly these businesses (empty: none)';

/* ------------------------------------------------------------------ */
/* Teams                                                                */
/* ------------------------------------------------------------------ */

CREATE FUNCTION access_control._team(team_id bigint) RETURNS access_control.team
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team;
BEGIN
    PERFORM access_control._not_null(team_id, 'team_id');
    SELECT * INTO t FROM access_control.team WHERE id = team_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'team % does not exist', team_id
            USING ERRCODE = '22023', HINT = 'Team ids are listed in access_control.team.';
    END IF;
    PERFORM access_control._authorize(t.firm_id);
    RETURN t;
END $$;
COMMENT ON FUNCTION access_control._team(bigint) IS 'Internal: the locked team row after the authority check, or an ERROR';

CREATE FUNCTION access_control.create_team(firm_id bigint, name text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tid bigint;
BEGIN
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._authorize(firm_id);
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
    t access_control.team := access_control._team(team_id);
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
    t access_control.team := access_control._team(team_id);
    s access_control.staff := access_control._active_staff(staff_id);
BEGIN
    IF s.firm_id <> t.firm_id THEN
        RAISE EXCEPTION 'staff member % is not in the firm of team %', staff_id, team_id
            USING ERRCODE = '22023', HINT = 'A team holds staff of its own firm only.';
    END IF;
    INSERT INTO access_control.team_member (team_id, staff_id) VALUES (t.id, s.id) ON CONFLICT DO NOTHING;
END $$;
COMMENT ON FUNCTION access_control.add_team_member(bigint, bigint) IS 'Adds a staff member of the team''s firm to the team';

CREATE FUNCTION access_control.remove_team_member(team_id bigint, staff_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team := access_control._team(team_id);
BEGIN
    PERFORM access_control._not_null(staff_id, 'staff_id');
    DELETE FROM access_control.team_member m WHERE m.team_id = t.id AND m.staff_id = remove_team_member.staff_id;
END $$;
COMMENT ON FUNCTION access_control.remove_team_member(bigint, bigint) IS 'Removes a staff member from the team';

CREATE FUNCTION access_control.grant_team_access(team_id bigint, business_ids bigint[], role text,
    expires_at timestamptz DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team := access_control._team(team_id);
    rid bigint := access_control._client_role(t.firm_id, role);
BEGIN
    PERFORM access_control._check_expiry(expires_at);
    PERFORM access_control._check_linked(t.firm_id, business_ids);
    INSERT INTO access_control.team_grant AS g (team_id, business_id, role_id, expires_at)
    SELECT t.id, b, rid, expires_at FROM (SELECT DISTINCT pg_catalog.unnest(business_ids) AS b) u
    ON CONFLICT ON CONSTRAINT team_grant_pkey DO UPDATE
       SET role_id = excluded.role_id, expires_at = excluded.expires_at, granted_at = pg_catalog.now()
     WHERE (g.role_id, g.expires_at) IS DISTINCT FROM (excluded.role_id, excluded.expires_at);
END $$;
COMMENT ON FUNCTION access_control.grant_team_access(bigint, bigint[], text, timestamptz) IS 'Gives every member of the team a client role on the businesses';

CREATE FUNCTION access_control.revoke_team_access(team_id bigint, business_ids bigint[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t access_control.team := access_control._team(team_id);
BEGIN
    PERFORM access_control._not_null(business_ids, 'business_ids');
    DELETE FROM access_control.team_grant g WHERE g.team_id = t.id AND g.business_id = ANY (business_ids);
END $$;
COMMENT ON FUNCTION access_control.revoke_team_access(bigint, bigint[]) IS 'Removes the team''s grants on the businesses';

/* ------------------------------------------------------------------ */
/* Protecting application tables                                        */
/* ------------------------------------------------------------------ */

/*
 * Runs with its caller's rights: only the table's owner may change its
 * policies. So it calls no function that PUBLIC may not execute, and a role
 * granted protect_table needs no other grant.
 */
CREATE FUNCTION access_control.protect_table(tbl regclass, business_column name DEFAULT 'business_id',
    read_permission text DEFAULT NULL, write_permission text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    col text := pg_catalog.quote_ident(business_column);
    read_qual text;
    write_qual text;
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'tbl must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for tbl.';
    END IF;
    IF business_column IS NULL THEN
        RAISE EXCEPTION 'business_column must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for business_column.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = tbl AND a.attname = business_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" does not exist in table %', business_column, tbl
            USING ERRCODE = '42703', HINT = 'Pass the name of the column that holds the business id.';
    END IF;
    IF read_permission IS NOT NULL THEN
        PERFORM access_control.permission_mask(ARRAY[read_permission]);
    END IF;
    IF write_permission IS NOT NULL THEN
        PERFORM access_control.permission_mask(ARRAY[write_permission]);
    END IF;
    read_qual := CASE WHEN read_permission IS NULL
        THEN pg_catalog.format('access_control.can_see_business(%s)', col)
        ELSE pg_catalog.format('access_control.has_permission(%s, %L)', col, read_permission) END;
    write_qual := CASE WHEN write_permission IS NULL THEN read_qual
        ELSE pg_catalog.format('access_control.has_permission(%s, %L)', col, write_permission) END;

    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_read ON %s', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_insert ON %s', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_update ON %s', tbl);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS access_control_delete ON %s', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_read ON %s FOR SELECT USING (%s)', tbl, read_qual);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_insert ON %s FOR INSERT WITH CHECK (%s)', tbl, write_qual);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', tbl, write_qual, write_qual);
    EXECUTE pg_catalog.format('CREATE POLICY access_control_delete ON %s FOR DELETE USING (%s)', tbl, write_qual);
END $$;
COMMENT ON FUNCTION access_control.protect_table(regclass, name, text, text) IS 'Enables RLS on an application table with policies that call the access helpers';

/* ==== PERMISSIONS, CLIENT ROLES AND PORTAL USERS: begin ==== */
/*
 * Stored masks hold exactly the chosen bits; implications are added when
 * access is computed (validate_permissions shows the closure). A trigger
 * on every mask column refuses bits the catalog does not define, so no
 * path, not even a DBA's direct DML, stores an invalid mask.
 */
CREATE FUNCTION access_control.validate_permissions(mask bigint) RETURNS bigint
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_validate_permissions';
COMMENT ON FUNCTION access_control.validate_permissions(bigint) IS 'The mask with every implied permission added; 22023 for a bit the catalog does not define';

CREATE FUNCTION access_control.check_permission_mask() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_check_permission_mask';
COMMENT ON FUNCTION access_control.check_permission_mask() IS 'Trigger: refuses a mask column (argument) holding bits the catalog does not define; on permission also cycles, bit changes and deleting a used permission';

CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF permissions ON access_control.client_role
    FOR EACH ROW EXECUTE FUNCTION access_control.check_permission_mask('permissions');
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF ceiling ON access_control.firm_client
    FOR EACH ROW EXECUTE FUNCTION access_control.check_permission_mask('ceiling');
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF permissions ON access_control.portal_user
    FOR EACH ROW EXECUTE FUNCTION access_control.check_permission_mask('permissions');
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OR DELETE ON access_control.permission
    FOR EACH ROW EXECUTE FUNCTION access_control.check_permission_mask('implies');

/* Raises 22004 for a NULL array and 22023 for an unknown or NULL name; returns the mask. */
CREATE FUNCTION access_control._permissions_arg(names text[], what text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM access_control._not_null(names, what);
    RETURN access_control.permission_mask(names);
END $$;
COMMENT ON FUNCTION access_control._permissions_arg(text[], text) IS 'Internal: the mask of the named permissions, or an ERROR for NULL or unknown names';

CREATE FUNCTION access_control.define_permission(name text, description text,
    read_only boolean DEFAULT false, implies text[] DEFAULT '{}') RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b integer;
    old_all bigint;
    old_read_only bigint;
    implied bigint;
BEGIN
    IF access_control.current_actor() IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to define a permission'
            USING ERRCODE = '42501', DETAIL = 'The permission catalog is shared by every firm and is defined by the system, not by an actor.';
    END IF;
    IF name IS NULL OR name !~ '^[a-z_]+\.[a-z_]+$' OR pg_catalog.length(name) > 63 THEN
        RAISE EXCEPTION 'invalid permission name "%"', coalesce(name, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'A permission name is area.action in lower-case letters and underscores, at most 63 characters, for example invoices.view.';
    END IF;
    IF description IS NULL OR pg_catalog.btrim(description) = '' THEN
        RAISE EXCEPTION 'description of permission "%" must not be empty', name
            USING ERRCODE = '22023', HINT = 'Say what the permission allows; users see it.';
    END IF;
    PERFORM access_control._not_null(read_only, 'read_only');
    PERFORM access_control._not_null(implies, 'implies');
    /* one definition at a time, so two never take the same bit */
    LOCK TABLE access_control.permission IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM access_control.permission p WHERE p.name = define_permission.name) THEN
        RAISE EXCEPTION 'permission "%" already exists', name
            USING ERRCODE = '23505', HINT = 'Permission names are never reused; choose another name.';
    END IF;
    IF name = ANY (implies) THEN
        RAISE EXCEPTION 'permission "%" would imply itself', name
            USING ERRCODE = '22023', DETAIL = 'Implications must not form a cycle.',
                  HINT = pg_catalog.format('Remove "%s" from implies.', name);
    END IF;
    implied := access_control.permission_mask(implies);
    SELECT min(s.b) INTO b FROM pg_catalog.generate_series(0, 62) AS s(b)
     WHERE NOT EXISTS (SELECT 1 FROM access_control.permission p WHERE p.bit = s.b);
    IF b IS NULL THEN
        RAISE EXCEPTION 'too many permissions'
            USING ERRCODE = '54000', DETAIL = 'The catalog holds 63 permissions, one per bit of a bigint mask.',
                  HINT = 'Reuse an existing permission for "' || name || '".';
    END IF;
    SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0),
           coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)) FILTER (WHERE p.read_only), 0)
      INTO old_all, old_read_only FROM access_control.permission p;
    INSERT INTO access_control.permission (bit, name, description, read_only, implies)
    VALUES (b, name, pg_catalog.btrim(description), read_only, implied);
    /*
     * a new permission joins administrator, and bookkeeper when read-only
     * (the join_builtin_roles trigger has already done so, unless disabled)
     */
    UPDATE access_control.client_role r SET permissions = r.permissions | pg_catalog.int8shl(1, b)
     WHERE r.firm_id IS NULL AND (r.name = 'administrator' OR (r.name = 'bookkeeper' AND read_only))
       AND pg_catalog.int8and(r.permissions, pg_catalog.int8shl(1, b)) = 0;
    /* links capped at every permission (own clients) or at the read-only ones (bookkeeper firms) keep that meaning */
    UPDATE access_control.firm_client fc SET ceiling = fc.ceiling | pg_catalog.int8shl(1, b)
     WHERE fc.ceiling = old_all OR (read_only AND fc.ceiling = old_read_only);
    RETURN b;
END $$;
COMMENT ON FUNCTION access_control.define_permission(text, text, boolean, text[]) IS 'Adds a permission to the catalog at the next free bit; returns the bit';

/* ---- client roles ---- */

CREATE FUNCTION access_control._custom_role(role_id bigint) RETURNS access_control.client_role
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r access_control.client_role;
BEGIN
    PERFORM access_control._not_null(role_id, 'role_id');
    SELECT * INTO r FROM access_control.client_role c WHERE c.id = role_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client role % does not exist', role_id
            USING ERRCODE = '22023', HINT = 'Client roles are listed in access_control.client_role.';
    END IF;
    IF r.firm_id IS NULL THEN
        RAISE EXCEPTION 'permission denied to change built-in client role "%"', r.name
            USING ERRCODE = '42501', DETAIL = 'Built-in client roles are shared by every firm.',
                  HINT = 'Create a custom role with access_control.create_client_role instead.';
    END IF;
    PERFORM access_control._authorize(r.firm_id);
    RETURN r;
END $$;
COMMENT ON FUNCTION access_control._custom_role(bigint) IS 'Internal: the locked row of a firm''s custom role after the authority check, or an ERROR';

CREATE FUNCTION access_control.create_client_role(firm_id bigint, name text, permissions text[]) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n text := pg_catalog.btrim(name);
    mask bigint;
    rid bigint;
BEGIN
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._authorize(firm_id);
    IF n IS NULL OR n = '' THEN
        RAISE EXCEPTION 'client role name must not be empty'
            USING ERRCODE = '22023', HINT = 'Pass the role''s display name.';
    END IF;
    mask := access_control._permissions_arg(permissions, 'permissions');
    IF EXISTS (SELECT 1 FROM access_control.client_role r WHERE r.firm_id IS NULL AND r.name = n) THEN
        RAISE EXCEPTION 'client role "%" is built in', n
            USING ERRCODE = '23505',
                  HINT = 'Custom roles cannot shadow the built-in roles ' ||
                         (SELECT pg_catalog.string_agg(r.name, ', ' ORDER BY r.name) FROM access_control.client_role r WHERE r.firm_id IS NULL) || '.';
    END IF;
    IF EXISTS (SELECT 1 FROM access_control.client_role r WHERE r.firm_id = create_client_role.firm_id AND r.name = n) THEN
        RAISE EXCEPTION 'client role "%" already exists in firm %', n, firm_id
            USING ERRCODE = '23505', HINT = 'Use alter_client_role to change its permissions.';
    END IF;
    INSERT INTO access_control.client_role (firm_id, name, permissions)
    VALUES (firm_id, n, mask) RETURNING id INTO rid;
    RETURN rid;
END $$;
COMMENT ON FUNCTION access_control.create_client_role(bigint, text, text[]) IS 'Creates a firm''s custom client role from permission names; returns its id';

CREATE FUNCTION access_control.alter_client_role(role_id bigint, permissions text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r access_control.client_role := access_control._custom_role(role_id);
    mask bigint := access_control._permissions_arg(permissions, 'permissions');
BEGIN
    UPDATE access_control.client_role c SET permissions = mask WHERE c.id = r.id AND c.permissions <> mask;
END $$;
COMMENT ON FUNCTION access_control.alter_client_role(bigint, text[]) IS 'Replaces the permissions of a custom client role; every holder sees the change on the next statement';

CREATE FUNCTION access_control.drop_client_role(role_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r access_control.client_role := access_control._custom_role(role_id);
    direct bigint;
    teams bigint;
BEGIN
    /* the row lock taken above makes a concurrent grant of this role wait, then fail */
    SELECT count(*) INTO direct FROM access_control.staff_grant g WHERE g.role_id = r.id;
    SELECT count(*) INTO teams FROM access_control.team_grant g WHERE g.role_id = r.id;
    IF direct + teams > 0 THEN
        RAISE EXCEPTION 'client role "%" is still used by % grants', r.name, direct + teams
            USING ERRCODE = '2BP01',
                  DETAIL = pg_catalog.format('%s direct grants and %s team grants use it (expired ones included).', direct, teams),
                  HINT = 'Revoke those grants or grant another role first.';
    END IF;
    DELETE FROM access_control.client_role c WHERE c.id = r.id;
END $$;
COMMENT ON FUNCTION access_control.drop_client_role(bigint) IS 'Drops a custom client role that no grant uses';

/* ---- portal users and contacts ---- */

/*
 * Raises 42501 unless the current actor may manage the portal records of
 * the business with the given permission (users.manage or contacts.manage),
 * giving a record permissions grant_mask that replace old_mask:
 *   - no actor: the caller's SQL privileges already decided (system);
 *   - a portal actor: an active login user of this same business holding
 *     the permission, that holds (with implications) every permission it
 *     gives and every permission the record had;
 *   - a staff actor: an owner or admin of a firm with an active link to the
 *     business, whose effective permissions there (capped by the link's
 *     ceiling) hold the permission and every one given or taken away.
 */
CREATE FUNCTION access_control._authorize_portal(business_id bigint, needed text,
    grant_mask bigint DEFAULT 0, old_mask bigint DEFAULT 0) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control.current_actor();
    held bigint;
    touched bigint := access_control.validate_permissions(grant_mask) | access_control.validate_permissions(old_mask);
    need bigint := access_control.permission_mask(ARRAY[needed]);
    me_portal access_control.portal_user;
    me_staff access_control.staff;
BEGIN
    IF actor IS NULL THEN
        RETURN;
    ELSIF actor LIKE 'portal:%' THEN
        SELECT * INTO me_portal FROM access_control.portal_user u WHERE u.id = pg_catalog.substr(actor, 8)::bigint;
        IF me_portal.business_id IS DISTINCT FROM _authorize_portal.business_id
           OR me_portal.status <> 'active' OR NOT me_portal.can_login THEN
            RAISE EXCEPTION 'permission denied to manage the portal users of business %', business_id
                USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not an active portal user of this business.', actor);
        END IF;
        held := access_control.validate_permissions(me_portal.permissions);
    ELSE
        SELECT * INTO me_staff FROM access_control.staff s WHERE s.id = pg_catalog.substr(actor, 7)::bigint;
        IF me_staff.status IS DISTINCT FROM 'active' OR me_staff.role = 'member' THEN
            RAISE EXCEPTION 'permission denied to manage the portal users of business %', business_id
                USING ERRCODE = '42501', DETAIL = 'Only owners and admins of a firm linked to the business manage its portal users.';
        END IF;
        held := access_control.staff_effective_permission_mask(me_staff.id, business_id);
        IF held IS NULL THEN
            RAISE EXCEPTION 'permission denied to manage the portal users of business %', business_id
                USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s''s firm has no active link with this business.', actor);
        END IF;
    END IF;
    IF held & need = 0 THEN
        RAISE EXCEPTION 'permission denied to manage the portal users of business %', business_id
            USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s does not hold %s on this business.', actor, needed);
    END IF;
    IF touched & ~held <> 0 THEN
        RAISE EXCEPTION 'permission denied to give or take permissions the actor does not hold'
            USING ERRCODE = '42501',
                  DETAIL = pg_catalog.format('Actor %s does not hold %s on business %s.', actor,
                      pg_catalog.array_to_string(access_control.permission_names(touched & ~held), ', '), business_id);
    END IF;
END $$;
COMMENT ON FUNCTION access_control._authorize_portal(bigint, text, bigint, bigint) IS 'Internal: raises 42501 unless the current actor may manage the business''s portal records and holds every permission touched';

CREATE FUNCTION access_control._business_exists(business_id bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM access_control._not_null(business_id, 'business_id');
    IF NOT EXISTS (SELECT 1 FROM access_control.business b WHERE b.id = business_id) THEN
        RAISE EXCEPTION 'business % does not exist', business_id
            USING ERRCODE = '22023', HINT = 'Business ids are listed in access_control.business.';
    END IF;
    RETURN business_id;
END $$;
COMMENT ON FUNCTION access_control._business_exists(bigint) IS 'Internal: business_id, or 22023 when there is no such business';

CREATE FUNCTION access_control._portal_user(portal_user_id bigint) RETURNS access_control.portal_user
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u access_control.portal_user;
BEGIN
    PERFORM access_control._not_null(portal_user_id, 'portal_user_id');
    SELECT * INTO u FROM access_control.portal_user p WHERE p.id = portal_user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'portal user % does not exist', portal_user_id
            USING ERRCODE = '22023', HINT = 'Portal users are listed in access_control.portal_user.';
    END IF;
    RETURN u;
END $$;
COMMENT ON FUNCTION access_control._portal_user(bigint) IS 'Internal: the locked portal_user row, or 22023';

CREATE FUNCTION access_control.add_portal_user(business_id bigint, email text, permissions text[] DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control._normalize_email(email);
    mask bigint;
    u access_control.portal_user;
BEGIN
    PERFORM access_control._business_exists(business_id);
    IF permissions IS NULL THEN
        SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0) INTO mask FROM access_control.permission p;
    ELSE
        mask := access_control.permission_mask(permissions);
    END IF;
    SELECT * INTO u FROM access_control.portal_user p
     WHERE p.business_id = add_portal_user.business_id AND p.email = e FOR NO KEY UPDATE;
    PERFORM access_control._authorize_portal(business_id, 'users.manage', mask,
        CASE WHEN u.status = 'active' THEN u.permissions ELSE 0 END);
    IF u.id IS NULL THEN
        INSERT INTO access_control.portal_user (business_id, email, permissions)
        VALUES (business_id, e, mask) RETURNING id INTO u.id;
    ELSIF u.status = 'active' AND u.can_login THEN
        RAISE EXCEPTION 'portal user "%" already exists in business %', e, business_id
            USING ERRCODE = '23505', HINT = 'Use set_portal_permissions to change the permissions of an existing portal user.';
    ELSE
        /* a removed user comes back, and a contact gets a login, in the same row */
        UPDATE access_control.portal_user p SET status = 'active', can_login = true, permissions = mask
         WHERE p.id = u.id;
    END IF;
    RETURN u.id;
END $$;
COMMENT ON FUNCTION access_control.add_portal_user(bigint, text, text[]) IS 'Adds (or reactivates) a login user of the business with these permissions (NULL: all); returns its id';

CREATE FUNCTION access_control.set_portal_permissions(portal_user_id bigint, permissions text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u access_control.portal_user := access_control._portal_user(portal_user_id);
    mask bigint := access_control._permissions_arg(permissions, 'permissions');
BEGIN
    PERFORM access_control._authorize_portal(u.business_id, 'users.manage', mask, u.permissions);
    IF u.status <> 'active' OR NOT u.can_login THEN
        RAISE EXCEPTION 'portal user % is % and holds no permissions', portal_user_id,
                CASE WHEN u.can_login THEN 'removed' ELSE 'a contact' END
            USING ERRCODE = '55000', HINT = 'Add the user again with add_portal_user first.';
    END IF;
    UPDATE access_control.portal_user p SET permissions = mask WHERE p.id = u.id AND p.permissions <> mask;
END $$;
COMMENT ON FUNCTION access_control.set_portal_permissions(bigint, text[]) IS 'Replaces a portal user''s permissions';

CREATE FUNCTION access_control.remove_portal_user(portal_user_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u access_control.portal_user := access_control._portal_user(portal_user_id);
BEGIN
    PERFORM access_control._authorize_portal(u.business_id,
        CASE WHEN u.can_login THEN 'users.manage' ELSE 'contacts.manage' END, 0, u.permissions);
    UPDATE access_control.portal_user p SET status = 'removed' WHERE p.id = u.id AND p.status <> 'removed';
END $$;
COMMENT ON FUNCTION access_control.remove_portal_user(bigint) IS 'Removes a portal user or contact at once; the row stays and add_portal_user brings it back';

CREATE FUNCTION access_control.add_contact(business_id bigint, email text, name text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control._normalize_email(email);
    u access_control.portal_user;
BEGIN
    PERFORM access_control._business_exists(business_id);
    PERFORM access_control._authorize_portal(business_id, 'contacts.manage');
    IF name IS NULL OR pg_catalog.btrim(name) = '' THEN
        RAISE EXCEPTION 'contact name must not be empty' USING ERRCODE = '22023', HINT = 'Pass the contact''s display name.';
    END IF;
    SELECT * INTO u FROM access_control.portal_user p
     WHERE p.business_id = add_contact.business_id AND p.email = e FOR NO KEY UPDATE;
    IF u.id IS NULL THEN
        INSERT INTO access_control.portal_user (business_id, email, name, permissions, can_login)
        VALUES (business_id, e, pg_catalog.btrim(name), 0, false) RETURNING id INTO u.id;
    ELSIF u.status = 'active' THEN
        RAISE EXCEPTION '"%" is already a % of business %', e,
                CASE WHEN u.can_login THEN 'portal user' ELSE 'contact' END, business_id
            USING ERRCODE = '23505', HINT = 'Each email appears once per business.';
    ELSE
        UPDATE access_control.portal_user p SET status = 'active', can_login = false, permissions = 0,
               name = pg_catalog.btrim(add_contact.name)
         WHERE p.id = u.id;
    END IF;
    RETURN u.id;
END $$;
COMMENT ON FUNCTION access_control.add_contact(bigint, text, text) IS 'Adds a contact of the business: a record without login that never acts; returns its id';
/* ==== PERMISSIONS, CLIENT ROLES AND PORTAL USERS: end ==== */

/* ==== API KEYS AND AUTHENTICATION: begin ==== */

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

SELECT pg_catalog.pg_extension_config_dump('access_control.secret_key', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.api_key', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.api_key_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.api_key_usage', '');

CREATE FUNCTION access_control.rotate_secret_key() RETURNS bigint
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_rotate_secret_key';
COMMENT ON FUNCTION access_control.rotate_secret_key() IS 'Makes a new random key for hashing API keys created from now on; returns its id';

SELECT access_control.rotate_secret_key();

CREATE FUNCTION access_control._issue_api_key(staff_id bigint, label text, expires_at timestamptz) RETURNS text
    LANGUAGE c VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_issue_api_key';
COMMENT ON FUNCTION access_control._issue_api_key(bigint, text, timestamptz) IS 'Internal: stores a new API key (hashed) and returns it in clear';

CREATE FUNCTION access_control.authenticate(api_key text) RETURNS bigint
    LANGUAGE c VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_authenticate';
COMMENT ON FUNCTION access_control.authenticate(text) IS 'Verifies an API key and acts as its staff member until the end of the transaction; returns the staff id';

CREATE FUNCTION access_control.create_api_key(staff_id bigint, label text, expires_at timestamptz DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._active_staff(staff_id);
    actor text := access_control.current_actor();
BEGIN
    IF actor IS NOT NULL THEN
        IF pg_catalog.current_setting('access_control.actor') LIKE '%:key:%' THEN
            RAISE EXCEPTION 'permission denied to create an API key'
                USING ERRCODE = '42501', DETAIL = 'A session authenticated with an API key cannot create keys.';
        END IF;
        IF actor IS DISTINCT FROM 'staff:' || s.id THEN
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
    RETURN access_control._issue_api_key(s.id, pg_catalog.btrim(label), expires_at);
END $$;
COMMENT ON FUNCTION access_control.create_api_key(bigint, text, timestamptz) IS 'Creates an API key for the staff member and returns it; it is shown only this once';

CREATE FUNCTION access_control.revoke_api_key(key_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k access_control.api_key;
    s access_control.staff;
BEGIN
    PERFORM access_control._not_null(key_id, 'key_id');
    SELECT * INTO k FROM access_control.api_key WHERE id = key_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'API key % does not exist', key_id
            USING ERRCODE = '22023', HINT = 'API keys are listed in access_control.api_keys.';
    END IF;
    IF access_control.current_actor() IS DISTINCT FROM 'staff:' || k.staff_id THEN
        s := access_control._staff(k.staff_id);
        PERFORM access_control._authorize(s.firm_id, s.role);
    END IF;
    UPDATE access_control.api_key SET revoked_at = pg_catalog.now()
     WHERE id = key_id AND revoked_at IS NULL;
END $$;
COMMENT ON FUNCTION access_control.revoke_api_key(bigint) IS 'Revokes an API key: sessions using it lose access from their next statement';

/* A removed staff member's keys are revoked for good, however the row was changed. */
CREATE FUNCTION access_control._revoke_keys_of_removed_staff() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE access_control.api_key SET revoked_at = pg_catalog.now()
     WHERE staff_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION access_control._revoke_keys_of_removed_staff() IS 'Internal trigger: revokes every API key of a staff member who was removed';

CREATE TRIGGER revoke_api_keys AFTER UPDATE OF status ON access_control.staff
    FOR EACH ROW WHEN (NEW.status = 'removed' AND OLD.status <> 'removed')
    EXECUTE FUNCTION access_control._revoke_keys_of_removed_staff();

/*
 * Without an actor: every key (the DBA decides who may read the view).
 * With a staff actor: its own keys, and every key of its firm for owners
 * and admins. Never a secret or a hash.
 */
CREATE VIEW access_control.api_keys WITH (security_barrier) AS
SELECT k.id, k.staff_id, k.label, k.created_at, u.last_used_at, k.expires_at, k.revoked_at
  FROM access_control.api_key k
  LEFT JOIN access_control.api_key_usage u ON u.key_id = k.id
 WHERE access_control.current_actor() IS NULL
    OR EXISTS (SELECT 1
                 FROM access_control.staff me
                 JOIN access_control.staff owner ON owner.id = k.staff_id
                WHERE 'staff:' || me.id = access_control.current_actor()
                  AND me.status = 'active'
                  AND (me.id = owner.id
                       OR (me.firm_id = owner.firm_id AND me.role IN ('owner', 'admin'))));
COMMENT ON VIEW access_control.api_keys IS 'API keys without their secrets, filtered by the current actor';

/* ==== API KEYS AND AUTHENTICATION: end ==== */

/* ==== INVITATIONS: begin ==== */

/*
 * Invitations to join a firm as staff. The token is stored only as a keyed
 * hash (see src/invitations.c); expires_at is fixed when the invitation is
 * sent, from access_control.invitation_ttl. Invitations do not affect
 * access until accepted, so the table has no invalidate_cache trigger.
 */
CREATE TABLE access_control.invitation (
    id                bigserial PRIMARY KEY,
    firm_id           bigint NOT NULL REFERENCES access_control.firm,
    email             text NOT NULL CHECK (email = lower(email)),
    role              text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    first_name        text,
    last_name         text,
    token_hash        bytea NOT NULL,
    secret_key_id     bigint NOT NULL,   -- the access_control.secret_key it is hashed under
    delivery_state    text NOT NULL DEFAULT 'not_sent'
                      CHECK (delivery_state IN ('not_sent', 'sent', 'delivered', 'opened', 'bounced', 'spam_reported')),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'cancelled')),
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_sent_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at        timestamptz NOT NULL,
    accepted_staff_id bigint REFERENCES access_control.staff,
    CHECK ((status = 'accepted') = (accepted_staff_id IS NOT NULL))
);
CREATE UNIQUE INDEX invitation_one_pending ON access_control.invitation (firm_id, email) WHERE status = 'pending';
COMMENT ON TABLE access_control.invitation IS 'Invitations to join a firm; tokens are stored only as keyed hashes';

SELECT pg_catalog.pg_extension_config_dump('access_control.invitation', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.invitation_id_seq', '');

CREATE FUNCTION access_control._issue_invitation_token(invitation_id bigint,
    OUT token text, OUT token_hash bytea, OUT secret_key_id bigint)
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_issue_invitation_token';
COMMENT ON FUNCTION access_control._issue_invitation_token(bigint) IS 'Internal: a new random token for the invitation, its keyed hash and the key id; stores nothing';

CREATE FUNCTION access_control._invitation_token_id(token text) RETURNS bigint
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_invitation_token_id';
COMMENT ON FUNCTION access_control._invitation_token_id(text) IS 'Internal: the invitation id a well-formed token names, or 0';

CREATE FUNCTION access_control._check_invitation_token(token text, token_hash bytea, secret_key_id bigint, usable boolean) RETURNS void
    LANGUAGE c VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_check_invitation_token';
COMMENT ON FUNCTION access_control._check_invitation_token(text, bytea, bigint, boolean) IS 'Internal: raises 28P01 unless the token matches the hash (constant time) and usable is true';

/* The two settings as intervals (GUC_UNIT_S: the raw value is in seconds). */
CREATE FUNCTION access_control._setting_interval(name text) RETURNS interval
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.make_interval(secs => s.setting::double precision)
      FROM pg_catalog.pg_settings s WHERE s.name = _setting_interval.name
$$;
COMMENT ON FUNCTION access_control._setting_interval(text) IS 'Internal: a setting measured in seconds, as an interval';

/* The invitation row, locked; 22023 when there is none. */
CREATE FUNCTION access_control._invitation(invitation_id bigint) RETURNS access_control.invitation
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation;
BEGIN
    PERFORM access_control._not_null(invitation_id, 'invitation_id');
    SELECT * INTO i FROM access_control.invitation v WHERE v.id = invitation_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invitation % does not exist', invitation_id
            USING ERRCODE = '22023', HINT = 'Pending invitations are listed in access_control.pending_invitations.';
    END IF;
    RETURN i;
END $$;
COMMENT ON FUNCTION access_control._invitation(bigint) IS 'Internal: the invitation row, locked, or 22023 when there is none';

CREATE FUNCTION access_control.invite_staff(firm_id bigint, email text, role text DEFAULT 'member',
    first_name text DEFAULT NULL, last_name text DEFAULT NULL)
    RETURNS TABLE (invitation_id bigint, token text)
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control._normalize_email(email);
    iid bigint;
    t record;
BEGIN
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._check_choice(role, '{owner,admin,member}', 'staff role');
    PERFORM access_control._authorize(firm_id, role);
    IF EXISTS (SELECT 1 FROM access_control.staff s
                WHERE s.firm_id = invite_staff.firm_id AND s.email = e AND s.status = 'active') THEN
        RAISE EXCEPTION 'staff member "%" already exists in firm %', e, firm_id
            USING ERRCODE = '23505', HINT = 'Use set_staff_role to change the role of an existing member.';
    END IF;
    /* an expired pending invitation gives way to the new one */
    UPDATE access_control.invitation v SET status = 'cancelled'
     WHERE v.firm_id = invite_staff.firm_id AND v.email = e
       AND v.status = 'pending' AND v.expires_at <= pg_catalog.now();
    IF EXISTS (SELECT 1 FROM access_control.invitation v
                WHERE v.firm_id = invite_staff.firm_id AND v.email = e AND v.status = 'pending') THEN
        RAISE EXCEPTION 'a pending invitation for "%" already exists in firm %', e, firm_id
            USING ERRCODE = '23505', HINT = 'Use resend_invitation to send it again, or cancel_invitation first.';
    END IF;
    iid := pg_catalog.nextval('access_control.invitation_id_seq'::pg_catalog.regclass);
    t := access_control._issue_invitation_token(iid);
    INSERT INTO access_control.invitation (id, firm_id, email, role, first_name, last_name,
                                           token_hash, secret_key_id, expires_at)
    VALUES (iid, firm_id, e, role, first_name, last_name, t.token_hash, t.secret_key_id,
            pg_catalog.now() + access_control._setting_interval('access_control.invitation_ttl'));
    PERFORM pg_catalog.pg_notify('access_control_invitation', iid::text);
    invitation_id := iid;
    token := t.token;
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION access_control.invite_staff(bigint, text, text, text, text) IS 'Invites someone to join the firm; returns the invitation id and its token, shown only this once';

/*
 * The delivery badge after an event. Progress (not_sent < sent < delivered
 * < opened) only moves forward; bounced and spam_reported end the send.
 * A bounce after delivered or opened contradicts them and is ignored; a
 * spam report needs a delivered mail and so wins over any progress.
 */
CREATE FUNCTION access_control._next_delivery_state(current_state text, event text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN current_state IN ('bounced', 'spam_reported') THEN current_state
        WHEN event = 'spam_reported' THEN event
        WHEN event = 'bounced' THEN
            CASE WHEN current_state IN ('not_sent', 'sent') THEN event ELSE current_state END
        WHEN pg_catalog.array_position('{not_sent,sent,delivered,opened}'::text[], event)
           > pg_catalog.array_position('{not_sent,sent,delivered,opened}'::text[], current_state)
            THEN event
        ELSE current_state
    END
$$;
COMMENT ON FUNCTION access_control._next_delivery_state(text, text) IS 'Internal: the delivery state after an event; never moves backwards';

CREATE FUNCTION access_control.record_invitation_event(invitation_id bigint, state text,
    occurred_at timestamptz DEFAULT pg_catalog.now()) RETURNS text
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation := access_control._invitation(invitation_id);
    next_state text;
BEGIN
    PERFORM access_control._check_choice(state, '{not_sent,sent,delivered,opened,bounced,spam_reported}', 'delivery state');
    PERFORM access_control._not_null(occurred_at, 'occurred_at');
    PERFORM access_control._authorize(i.firm_id, i.role);
    /* an event from before the last send belongs to an earlier token */
    IF occurred_at < i.last_sent_at THEN
        RETURN i.delivery_state;
    END IF;
    next_state := access_control._next_delivery_state(i.delivery_state, state);
    UPDATE access_control.invitation v SET delivery_state = next_state
     WHERE v.id = invitation_id AND v.delivery_state <> next_state;
    RETURN next_state;
END $$;
COMMENT ON FUNCTION access_control.record_invitation_event(bigint, text, timestamptz) IS 'Records a mail-provider event for an invitation; returns the delivery state, which never moves backwards';

CREATE FUNCTION access_control.resend_invitation(invitation_id bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation := access_control._invitation(invitation_id);
    available_at timestamptz;
    t record;
BEGIN
    PERFORM access_control._authorize(i.firm_id, i.role);
    IF i.status <> 'pending' THEN
        RAISE EXCEPTION 'invitation % is %', invitation_id, i.status
            USING ERRCODE = '55000', HINT = 'Only pending invitations can be resent; invite again with invite_staff.';
    END IF;
    available_at := i.last_sent_at + access_control._setting_interval('access_control.invitation_resend_cooldown');
    IF i.delivery_state NOT IN ('bounced', 'spam_reported') AND available_at > pg_catalog.now() THEN
        RAISE EXCEPTION 'invitation % was sent too recently to resend', invitation_id
            USING ERRCODE = '55000',
                  HINT = pg_catalog.format('Try again in %s seconds.',
                      pg_catalog.ceil(pg_catalog.date_part('epoch', available_at - pg_catalog.now()))::bigint);
    END IF;
    t := access_control._issue_invitation_token(i.id);
    UPDATE access_control.invitation v
       SET token_hash = t.token_hash, secret_key_id = t.secret_key_id,
           delivery_state = 'not_sent', last_sent_at = pg_catalog.now(),
           expires_at = pg_catalog.now() + access_control._setting_interval('access_control.invitation_ttl')
     WHERE v.id = i.id;
    PERFORM pg_catalog.pg_notify('access_control_invitation', i.id::text);
    RETURN t.token;
END $$;
COMMENT ON FUNCTION access_control.resend_invitation(bigint) IS 'Sends an invitation again with a new token (the old one stops working); returns the token';

CREATE FUNCTION access_control.cancel_invitation(invitation_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation := access_control._invitation(invitation_id);
BEGIN
    PERFORM access_control._authorize(i.firm_id, i.role);
    IF i.status = 'accepted' THEN
        RAISE EXCEPTION 'invitation % was already accepted', invitation_id
            USING ERRCODE = '55000', HINT = 'Remove the staff member with remove_staff instead.';
    END IF;
    UPDATE access_control.invitation v SET status = 'cancelled'
     WHERE v.id = invitation_id AND v.status = 'pending';
END $$;
COMMENT ON FUNCTION access_control.cancel_invitation(bigint) IS 'Cancels a pending invitation: its token stops working';

/*
 * Executable by PUBLIC: the token is the authority. The invitation row is
 * locked before the token is checked, so of two sessions accepting one
 * token, the second sees it accepted. Someone who is already an active
 * staff member of the firm keeps their row and role.
 */
CREATE FUNCTION access_control.accept_invitation(token text, first_name text DEFAULT NULL,
    last_name text DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation;
    s access_control.staff;
BEGIN
    SELECT * INTO i FROM access_control.invitation v
     WHERE v.id = access_control._invitation_token_id(coalesce(token, '')) FOR NO KEY UPDATE;
    PERFORM access_control._check_invitation_token(token, i.token_hash, i.secret_key_id,
        coalesce(i.status = 'pending' AND i.expires_at > pg_catalog.now(), false));
    SELECT * INTO s FROM access_control.staff x
     WHERE x.firm_id = i.firm_id AND x.email = i.email FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        INSERT INTO access_control.staff (firm_id, email, role, first_name, last_name)
        VALUES (i.firm_id, i.email, i.role, coalesce(accept_invitation.first_name, i.first_name),
                coalesce(accept_invitation.last_name, i.last_name))
        RETURNING * INTO s;
    ELSIF s.status = 'removed' THEN
        /* accepting for a removed member reactivates the same row */
        UPDATE access_control.staff x
           SET status = 'active', role = i.role,
               first_name = coalesce(accept_invitation.first_name, i.first_name, x.first_name),
               last_name = coalesce(accept_invitation.last_name, i.last_name, x.last_name),
               programmatic_access = true
         WHERE x.id = s.id;
    END IF;
    UPDATE access_control.invitation v SET status = 'accepted', accepted_staff_id = s.id WHERE v.id = i.id;
    RETURN s.id;
END $$;
COMMENT ON FUNCTION access_control.accept_invitation(text, text, text) IS 'Accepts an invitation with its token: adds (or reactivates) the staff member and returns the staff id';

/*
 * Pending invitations. Without an actor: all of them (the DBA decides who
 * may read the view). With a staff actor: its firm's, for owners and
 * admins. Never a token or a hash. The functions a view calls run with the
 * rights of whoever reads it, so this one calls only functions PUBLIC may
 * execute: the cooldown is read from pg_settings as _setting_interval does.
 */
CREATE VIEW access_control.pending_invitations WITH (security_barrier) AS
SELECT v.id, v.firm_id, v.email, v.role, v.delivery_state,
       v.expires_at <= pg_catalog.now() AS expired,
       CASE WHEN v.delivery_state IN ('bounced', 'spam_reported') THEN v.last_sent_at
            ELSE v.last_sent_at + pg_catalog.make_interval(secs => (
                SELECT s.setting::double precision FROM pg_catalog.pg_settings s
                 WHERE s.name = 'access_control.invitation_resend_cooldown'))
       END AS resend_available_at,
       v.created_at, v.last_sent_at, v.expires_at
  FROM access_control.invitation v
 WHERE v.status = 'pending'
   AND (access_control.current_actor() IS NULL
        OR EXISTS (SELECT 1 FROM access_control.staff me
                    WHERE 'staff:' || me.id = access_control.current_actor()
                      AND me.status = 'active' AND me.firm_id = v.firm_id
                      AND me.role IN ('owner', 'admin')));
COMMENT ON VIEW access_control.pending_invitations IS 'Pending invitations with their delivery state, without tokens, filtered by the current actor';

/* ==== INVITATIONS: end ==== */

/* ==== PARTNER FIRMS AND SEEING ACCESS: begin ==== */

/*
 * Partner links. The business side (a portal user holding users.manage on
 * the business, or a privileged caller with no actor) invites a firm and may
 * disconnect it; the firm's owners and admins accept, decline or disconnect.
 * A declined invitation is deleted, so it is never listed; a disconnected
 * link stays (listed as "disabled") and the firm's grants on the business
 * stay with it, inert until the business invites the firm again and the firm
 * accepts.
 */

/* Returns the closure of mask over the catalog's implications. */
CREATE FUNCTION access_control._closure(mask bigint) RETURNS bigint
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE c(bit) AS (
        SELECT p.bit FROM access_control.permission p
         WHERE pg_catalog.int8and(mask, pg_catalog.int8shl(1, p.bit)) <> 0
        UNION
        SELECT q.bit FROM c
          JOIN access_control.permission p ON p.bit = c.bit
          JOIN access_control.permission q ON pg_catalog.int8and(p.implies, pg_catalog.int8shl(1, q.bit)) <> 0
    )
    SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, c.bit)), 0) FROM c
$$;
COMMENT ON FUNCTION access_control._closure(bigint) IS 'Internal: the mask with every implied permission added';

/*
 * Raises 42501 unless the current actor speaks for the business: no actor
 * (the caller's SQL privileges decided), or a portal user of the business
 * holding users.manage there. Staff act for their firm, never for a client.
 */
CREATE FUNCTION access_control._authorize_business(business_id bigint) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control.current_actor();
BEGIN
    IF actor IS NULL THEN
        RETURN;
    END IF;
    IF actor NOT LIKE 'portal:%' THEN
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
COMMENT ON FUNCTION access_control._authorize_business(bigint) IS 'Internal: raises 42501 unless the current actor may manage the business''s partner firms';

/* The locked link row, or 22023 naming the pair. */
CREATE FUNCTION access_control._link(firm_id bigint, business_id bigint) RETURNS access_control.firm_client
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client;
BEGIN
    SELECT * INTO l FROM access_control.firm_client fc
     WHERE fc.firm_id = _link.firm_id AND fc.business_id = _link.business_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'firm % has no link with business %', firm_id, business_id
            USING ERRCODE = '22023', HINT = 'Links are listed by access_control.firm_clients(firm_id).';
    END IF;
    RETURN l;
END $$;
COMMENT ON FUNCTION access_control._link(bigint, bigint) IS 'Internal: the locked firm-business link, or 22023 when there is none';

CREATE FUNCTION access_control.invite_partner_firm(business_id bigint, firm_id bigint, ceiling text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    mask bigint;
    l access_control.firm_client;
BEGIN
    PERFORM access_control._business_exists(business_id);
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._authorize_business(business_id);
    IF ceiling IS NULL THEN
        SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0) INTO mask
          FROM access_control.permission p WHERE p.read_only;
    ELSIF pg_catalog.cardinality(ceiling) = 0 THEN
        RAISE EXCEPTION 'ceiling must name at least one permission'
            USING ERRCODE = '22023', HINT = 'Pass NULL for every read-only permission, or the permissions the firm may use.';
    ELSE
        mask := access_control._closure(access_control.permission_mask(ceiling));
    END IF;
    SELECT * INTO l FROM access_control.firm_client fc
     WHERE fc.firm_id = invite_partner_firm.firm_id AND fc.business_id = invite_partner_firm.business_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling)
        VALUES (firm_id, business_id, 'pending', mask)
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
        UPDATE access_control.firm_client fc SET status = 'pending', ceiling = mask
         WHERE fc.firm_id = l.firm_id AND fc.business_id = l.business_id;
    END IF;
END $$;
COMMENT ON FUNCTION access_control.invite_partner_firm(bigint, bigint, text[]) IS 'The business invites a firm (link pending) with a ceiling on what its staff may do (NULL: read-only)';

/* Checks the firm's authority and returns its pending link with the business; 55000 with hint otherwise. */
CREATE FUNCTION access_control._pending_link(firm_id bigint, business_id bigint, hint text)
    RETURNS access_control.firm_client
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client;
BEGIN
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._business_exists(business_id);
    PERFORM access_control._authorize(firm_id);
    l := access_control._link(firm_id, business_id);
    IF l.status <> 'pending' THEN
        RAISE EXCEPTION 'link of firm % with business % is %, not pending', firm_id, business_id, l.status
            USING ERRCODE = '55000', HINT = hint;
    END IF;
    RETURN l;
END $$;
COMMENT ON FUNCTION access_control._pending_link(bigint, bigint, text) IS 'Internal: the firm''s pending link with the business after the authority check, or an ERROR';

CREATE FUNCTION access_control.accept_partner_invitation(firm_id bigint, business_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client := access_control._pending_link(firm_id, business_id,
        'Only a pending invitation can be accepted; the business invites the firm again after a disconnect.');
BEGIN
    UPDATE access_control.firm_client fc SET status = 'active'
     WHERE fc.firm_id = l.firm_id AND fc.business_id = l.business_id;
END $$;
COMMENT ON FUNCTION access_control.accept_partner_invitation(bigint, bigint) IS 'The firm accepts a pending invitation: the link becomes active';

CREATE FUNCTION access_control.decline_partner_invitation(firm_id bigint, business_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    l access_control.firm_client := access_control._pending_link(firm_id, business_id,
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
    actor text := access_control.current_actor();
    l access_control.firm_client;
BEGIN
    PERFORM access_control._business_exists(business_id);
    PERFORM access_control._firm_exists(firm_id);
    IF actor LIKE 'staff:%' THEN
        PERFORM access_control._authorize(firm_id);
    ELSE
        PERFORM access_control._authorize_business(business_id);
    END IF;
    l := access_control._link(firm_id, business_id);
    UPDATE access_control.firm_client fc SET status = 'disconnected'
     WHERE fc.firm_id = l.firm_id AND fc.business_id = l.business_id AND fc.status <> 'disconnected';
END $$;
COMMENT ON FUNCTION access_control.disconnect_partner(bigint, bigint) IS 'Either side ends a link: every staff member of the firm loses the business at once';

CREATE FUNCTION access_control.firm_clients(firm_id bigint)
    RETURNS TABLE (business_id bigint, name text, status text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM access_control._firm_exists(firm_id);
    PERFORM access_control._authorize(firm_id);
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
 * Seeing access. Staff may look at their own access; owners and admins at
 * their firm's staff and clients; nobody at another firm's. Without an actor
 * the caller's SQL privileges decided. Every permission shown comes from the
 * C rule (staff_effective_permissions), the one RLS uses.
 */

/* Raises 42501 unless the current actor may see the access of staff member s. */
CREATE FUNCTION access_control._may_see_staff(s access_control.staff) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control.current_actor();
BEGIN
    IF actor IS NULL OR actor = 'staff:' || s.id THEN
        RETURN;
    END IF;
    IF actor NOT LIKE 'staff:%' THEN
        RAISE EXCEPTION 'permission denied to see the access of staff member %', s.id
            USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not a staff member of this firm.', actor);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM access_control.staff me
                    WHERE me.id = pg_catalog.substr(actor, 7)::bigint AND me.firm_id = s.firm_id
                      AND me.status = 'active' AND me.role IN ('owner', 'admin')) THEN
        RAISE EXCEPTION 'permission denied to see the access of staff member %', s.id
            USING ERRCODE = '42501',
                  DETAIL = pg_catalog.format('Actor %s is neither this member nor an active owner or admin of the member''s firm.', actor);
    END IF;
END $$;
COMMENT ON FUNCTION access_control._may_see_staff(access_control.staff) IS 'Internal: raises 42501 unless the current actor may see this member''s access';

CREATE FUNCTION access_control._staff_row(staff_id bigint) RETURNS access_control.staff
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff;
BEGIN
    PERFORM access_control._not_null(staff_id, 'staff_id');
    SELECT * INTO s FROM access_control.staff WHERE id = staff_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'staff member % does not exist', staff_id
            USING ERRCODE = '22023', HINT = 'Staff ids are listed in access_control.staff.';
    END IF;
    PERFORM access_control._may_see_staff(s);
    RETURN s;
END $$;
COMMENT ON FUNCTION access_control._staff_row(bigint) IS 'Internal: the staff row after the check that the actor may see its access';

/* Every unexpired grant reaching staff member s on business b: (team name or NULL for direct, role name). */
CREATE FUNCTION access_control._live_grants(staff_id bigint, business_id bigint)
    RETURNS TABLE (team text, role text, permissions bigint, expires_at timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT NULL::text, r.name, r.permissions, g.expires_at
      FROM access_control.staff_grant g JOIN access_control.client_role r ON r.id = g.role_id
     WHERE g.staff_id = _live_grants.staff_id AND g.business_id = _live_grants.business_id
    UNION ALL
    SELECT t.name, r.name, r.permissions, g.expires_at
      FROM access_control.team_member m
      JOIN access_control.team t ON t.id = m.team_id
      JOIN access_control.team_grant g ON g.team_id = m.team_id
      JOIN access_control.client_role r ON r.id = g.role_id
     WHERE m.staff_id = _live_grants.staff_id AND g.business_id = _live_grants.business_id
$$;
COMMENT ON FUNCTION access_control._live_grants(bigint, bigint) IS 'Internal: every direct and team grant of the member on the business, expired or not';

CREATE FUNCTION access_control.staff_access(staff_id bigint)
    RETURNS TABLE (business_id bigint, business_name text, direct boolean, via_teams text[], roles text[], permissions text[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff := access_control._staff_row(staff_id);
BEGIN
    RETURN QUERY
    SELECT b.id, b.name,
           CASE WHEN s.role = 'member' THEN EXISTS (SELECT 1 FROM access_control._live_grants(s.id, b.id) g
                                                     WHERE g.team IS NULL AND (g.expires_at IS NULL OR g.expires_at > pg_catalog.now()))
                ELSE false END,
           CASE WHEN s.role = 'member' THEN
                (SELECT coalesce(pg_catalog.array_agg(DISTINCT g.team ORDER BY g.team), '{}')
                   FROM access_control._live_grants(s.id, b.id) g
                  WHERE g.team IS NOT NULL AND (g.expires_at IS NULL OR g.expires_at > pg_catalog.now()))
                ELSE '{}'::text[] END,
           CASE WHEN s.role = 'member' THEN
                (SELECT coalesce(pg_catalog.array_agg(DISTINCT g.role ORDER BY g.role), '{}')
                   FROM access_control._live_grants(s.id, b.id) g
                  WHERE g.expires_at IS NULL OR g.expires_at > pg_catalog.now())
                ELSE ARRAY[s.role] END,
           access_control.staff_effective_permissions(s.id, b.id)
      FROM access_control.firm_client fc
      JOIN access_control.business b ON b.id = fc.business_id
     WHERE fc.firm_id = s.firm_id
       AND access_control.staff_can_see_business(s.id, b.id)
     ORDER BY pg_catalog.lower(b.name), b.id;
END $$;
COMMENT ON FUNCTION access_control.staff_access(bigint) IS 'One row per business the member can see: direct grant, teams, roles and effective permissions';

CREATE FUNCTION access_control.business_access(business_id bigint)
    RETURNS TABLE (staff_id bigint, email text, staff_role text, direct boolean, via_teams text[], permissions text[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control.current_actor();
    me access_control.staff;
BEGIN
    PERFORM access_control._business_exists(business_id);
    IF actor IS NOT NULL THEN
        IF actor LIKE 'staff:%' THEN
            SELECT * INTO me FROM access_control.staff s WHERE s.id = pg_catalog.substr(actor, 7)::bigint;
        END IF;
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
    SELECT s.id, s.email, s.role,
           s.role = 'member' AND EXISTS (SELECT 1 FROM access_control._live_grants(s.id, business_access.business_id) g
                                          WHERE g.team IS NULL AND (g.expires_at IS NULL OR g.expires_at > pg_catalog.now())),
           CASE WHEN s.role = 'member' THEN
                (SELECT coalesce(pg_catalog.array_agg(DISTINCT g.team ORDER BY g.team), '{}')
                   FROM access_control._live_grants(s.id, business_access.business_id) g
                  WHERE g.team IS NOT NULL AND (g.expires_at IS NULL OR g.expires_at > pg_catalog.now()))
                ELSE '{}'::text[] END,
           access_control.staff_effective_permissions(s.id, business_access.business_id)
      FROM access_control.firm_client fc
      JOIN access_control.staff s ON s.firm_id = fc.firm_id
     WHERE fc.business_id = business_access.business_id
       AND (me.id IS NULL OR s.firm_id = me.firm_id)
       AND access_control.staff_can_see_business(s.id, business_access.business_id)
     ORDER BY s.email, s.id;
END $$;
COMMENT ON FUNCTION access_control.business_access(bigint) IS 'One row per staff member who can see the business (only the actor''s own firm''s staff when acting)';

CREATE FUNCTION access_control.explain_access(staff_id bigint, business_id bigint)
    RETURNS TABLE (path text, role text, permissions text[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s access_control.staff;
    l access_control.firm_client;
BEGIN
    PERFORM access_control._business_exists(business_id);
    s := access_control._staff_row(staff_id);
    SELECT * INTO l FROM access_control.firm_client fc
     WHERE fc.firm_id = s.firm_id AND fc.business_id = explain_access.business_id;

    IF access_control.staff_can_see_business(s.id, business_id) THEN
        /* every path that grants, then the ceiling that caps, then the result */
        IF s.role <> 'member' THEN
            RETURN QUERY SELECT 'staff role'::text, s.role, access_control.permission_names(
                (SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0) FROM access_control.permission p));
        ELSE
            RETURN QUERY
            SELECT CASE WHEN g.team IS NULL THEN 'direct grant' ELSE 'team ' || g.team END,
                   g.role, access_control.permission_names(g.permissions)
              FROM access_control._live_grants(s.id, business_id) g
             WHERE g.expires_at IS NULL OR g.expires_at > pg_catalog.now()
             ORDER BY g.team NULLS FIRST, g.role;
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
        IF NOT EXISTS (SELECT 1 FROM access_control._live_grants(s.id, business_id)) THEN
            RETURN QUERY SELECT 'no grant'::text, NULL::text, NULL::text[];
        ELSE
            RETURN QUERY
            SELECT CASE WHEN g.team IS NULL THEN 'grant expired: direct' ELSE 'grant expired: team ' || g.team END,
                   g.role, access_control.permission_names(g.permissions)
              FROM access_control._live_grants(s.id, business_id) g
             WHERE g.expires_at <= pg_catalog.now()
             ORDER BY g.team NULLS FIRST, g.role;
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

/* ==== PARTNER FIRMS AND SEEING ACCESS: end ==== */

/* ==== AUDIT LOG: begin ==== */

/*
 * Append-only log of every change to the state tables, written by the C
 * trigger access_control.audit(). Each row's hash chains it to the previous
 * row of the same firm (rows without a firm form one more chain).
 */
CREATE TABLE access_control.audit_log (
    id          bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    firm_id     bigint,
    business_id bigint,
    actor       text NOT NULL,          -- staff:N, portal:N or system
    db_user     text NOT NULL,          -- session_user: the login behind the change
    action      text NOT NULL,
    entity      text NOT NULL,          -- the table changed
    entity_id   bigint,
    old         jsonb,                  -- changed columns, before (whole row on DELETE)
    new         jsonb,                  -- changed columns, after (whole row on INSERT)
    txid        bigint NOT NULL,
    prev_hash   bytea,
    hash        bytea NOT NULL
);
COMMENT ON TABLE access_control.audit_log IS 'Append-only, hash-chained log of every change to the access tables; secrets are never logged';
CREATE INDEX audit_log_firm_chain_idx ON access_control.audit_log (firm_id, id);
CREATE INDEX audit_log_firm_time_idx ON access_control.audit_log (firm_id, occurred_at);
CREATE INDEX audit_log_business_time_idx ON access_control.audit_log (business_id, occurred_at) WHERE business_id IS NOT NULL;
CREATE INDEX audit_log_actor_time_idx ON access_control.audit_log (actor, occurred_at);
CREATE INDEX audit_log_action_time_idx ON access_control.audit_log (action, occurred_at);
CREATE INDEX audit_log_time_idx ON access_control.audit_log (occurred_at);

SELECT pg_catalog.pg_extension_config_dump('access_control.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.audit_log_id_seq', '');

CREATE FUNCTION access_control.audit() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_audit';
COMMENT ON FUNCTION access_control.audit() IS 'Trigger: writes one audit_log row per changed row of a state table';

CREATE FUNCTION access_control.audit_log_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_audit_log_guard';
COMMENT ON FUNCTION access_control.audit_log_guard() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of audit_log';

/* ENABLE ALWAYS: session_replication_role = replica does not switch it off. */
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON access_control.audit_log
    FOR EACH ROW EXECUTE FUNCTION access_control.audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON access_control.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_control.audit_log_guard();
ALTER TABLE access_control.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE access_control.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

CREATE FUNCTION access_control._audit_table(tbl regclass) RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS audit ON %s', tbl);
    EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %s
                    FOR EACH ROW EXECUTE FUNCTION access_control.audit()', tbl);
END $$;
COMMENT ON FUNCTION access_control._audit_table(regclass) IS 'Internal: attaches the audit trigger to a state table';

SELECT access_control._audit_table(('access_control.' || t)::regclass)
  FROM pg_catalog.unnest(ARRAY['permission', 'firm', 'staff', 'business', 'firm_client', 'team',
        'team_member', 'client_role', 'staff_grant', 'team_grant', 'portal_user', 'api_key',
        'invitation']) t;

CREATE FUNCTION access_control.purge_audit_log(before timestamptz) RETURNS bigint
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_purge_audit_log';
COMMENT ON FUNCTION access_control.purge_audit_log(timestamptz) IS 'Superuser only: deletes audit rows older than before (a prefix of each chain); returns how many';

CREATE FUNCTION access_control.verify_audit_chain(firm_id bigint DEFAULT NULL)
    RETURNS TABLE (firm_id bigint, ok boolean, first_bad_id bigint)
    LANGUAGE c STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10
    AS 'MODULE_PATHNAME', 'ac_verify_audit_chain';
COMMENT ON FUNCTION access_control.verify_audit_chain(bigint) IS 'Recomputes the hash chain of one firm (NULL: every chain); first_bad_id is the first row that does not match';

/* ==== AUDIT LOG: end ==== */

/* ------------------------------------------------------------------ */
/* Privileges                                                           */
/* ------------------------------------------------------------------ */

REVOKE ALL ON ALL TABLES IN SCHEMA access_control FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA access_control FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA access_control FROM PUBLIC;
GRANT USAGE ON SCHEMA access_control TO PUBLIC;
GRANT SELECT ON access_control.permission, access_control.client_role TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    access_control.current_actor(),
    access_control.can_see_business(bigint),
    access_control.has_permission(bigint, text),
    access_control.visible_business_ids(),
    access_control.visible_business_ids(text),
    access_control.permission_mask(text[]),
    access_control.permission_names(bigint)
TO PUBLIC;

/* ==== PRIVILEGES OF LATER SECTIONS: begin ==== */
GRANT EXECUTE ON FUNCTION access_control.validate_permissions(bigint) TO PUBLIC;
GRANT EXECUTE ON FUNCTION access_control.authenticate(text) TO PUBLIC;
REVOKE ALL ON FUNCTION
    access_control.invite_partner_firm(bigint, bigint, text[]),
    access_control.accept_partner_invitation(bigint, bigint),
    access_control.decline_partner_invitation(bigint, bigint),
    access_control.disconnect_partner(bigint, bigint),
    access_control.firm_clients(bigint),
    access_control.staff_access(bigint),
    access_control.business_access(bigint),
    access_control.explain_access(bigint, bigint),
    access_control.my_businesses(text)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_control.my_businesses(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION access_control.accept_invitation(text, text, text) TO PUBLIC;
REVOKE ALL ON access_control.audit_log FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control.audit(),
    access_control.audit_log_guard(),
    access_control._audit_table(regclass),
    access_control.purge_audit_log(timestamptz),
    access_control.verify_audit_chain(bigint)
FROM PUBLIC;
/*
 * pg_dump: the state tables and their sequences are extension configuration,
 * so their rows are dumped and restored after CREATE EXTENSION. The two
 * tables this script seeds dump only rows added later: permissions above the
 * default catalog's last bit (24), and firms' own client roles. Changes made
 * to the seeded rows themselves (a permission defined later joining the
 * built-in administrator and bookkeeper roles, an edited built-in
 * description) are not dumped as such; instead a permission row inserted
 * later (by define_permission, or by pg_restore) joins the built-in
 * administrator role, and bookkeeper when read-only, as define_permission
 * does, so the built-in roles come back as they were. A built-in permission
 * deleted and its bit reused is not restored.
 */
CREATE FUNCTION access_control._join_builtin_roles() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE access_control.client_role r SET permissions = r.permissions | pg_catalog.int8shl(1, NEW.bit)
     WHERE r.firm_id IS NULL
       AND (r.name = 'administrator' OR (r.name = 'bookkeeper' AND NEW.read_only))
       AND pg_catalog.int8and(r.permissions, pg_catalog.int8shl(1, NEW.bit)) = 0;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION access_control._join_builtin_roles() IS 'Internal trigger: a permission added to the catalog joins administrator, and bookkeeper when read-only';
CREATE TRIGGER join_builtin_roles AFTER INSERT ON access_control.permission
    FOR EACH ROW EXECUTE FUNCTION access_control._join_builtin_roles();
REVOKE ALL ON FUNCTION access_control._join_builtin_roles() FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('access_control.permission', 'WHERE bit > 24');
SELECT pg_catalog.pg_extension_config_dump('access_control.client_role', 'WHERE firm_id IS NOT NULL');
SELECT pg_catalog.pg_extension_config_dump('access_control.client_role_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.firm', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.firm_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.staff', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.staff_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.business', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.business_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.firm_client', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.team', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.team_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.team_member', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.staff_grant', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.team_grant', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.portal_user', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.portal_user_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.invitation', '');
SELECT pg_catalog.pg_extension_config_dump('access_control.invitation_id_seq', '');
/* ==== PRIVILEGES OF LATER SECTIONS: end ==== */

/* ==== DUMP AND RESTORE: begin ==== */
/*
 * A dump is restored with session_replication_role = replica (README,
 * "Backups"), so that the audit and permission-check triggers do not fire
 * while the dumped rows are loaded. join_builtin_roles must fire, so that
 * the built-in roles take in the restored permissions: ENABLE ALWAYS.
 * restore_guard, an ordinary trigger on every table pg_dump carries, makes
 * a plain restore fail on each table with a hint, instead of loading part
 * of the data (src/restore.c).
 */
ALTER TABLE access_control.permission ENABLE ALWAYS TRIGGER join_builtin_roles;

CREATE FUNCTION access_control.restore_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_restore_guard';
COMMENT ON FUNCTION access_control.restore_guard() IS 'Trigger: refuses to load dumped rows unless session_replication_role = replica, with a hint';
REVOKE ALL ON FUNCTION access_control.restore_guard() FROM PUBLIC;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['permission', 'firm', 'staff', 'business', 'firm_client', 'team',
        'team_member', 'client_role', 'staff_grant', 'team_grant', 'portal_user', 'api_key',
        'secret_key', 'api_key_usage', 'invitation', 'audit_log']
    LOOP
        EXECUTE format('CREATE TRIGGER restore_guard BEFORE INSERT ON access_control.%I
                        FOR EACH STATEMENT EXECUTE FUNCTION access_control.restore_guard()', t);
    END LOOP;
END $$;
/* ==== DUMP AND RESTORE: end ==== */
