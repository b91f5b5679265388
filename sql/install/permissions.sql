/*
 * permissions: the permission catalog and its default rows, masks and
 * names (src/permissions.c), the check on every mask column, and client
 * roles: the built-in ones and a firm's own.
 */
CREATE TABLE access_control.permission (
    bit         integer PRIMARY KEY CHECK (bit BETWEEN 0 AND 62),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z_]+\.[a-z_]+$'),
    description text NOT NULL,
    read_only   boolean NOT NULL DEFAULT false,
    implies     bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE access_control.permission IS 'The permission catalog: one bit per permission; implies is a mask of the bits it directly implies';

CREATE TABLE access_control.client_role (
    id          bigserial PRIMARY KEY,
    firm_id     bigint REFERENCES access_control.firm,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    permissions bigint NOT NULL
);
CREATE UNIQUE INDEX client_role_name_key ON access_control.client_role (coalesce(firm_id, 0), name);

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

/*
 * Stored masks hold exactly the chosen bits; implications are added when
 * access is computed (validate_permissions shows the closure). A trigger
 * on every mask column refuses bits the catalog does not define, so no
 * path, not even a DBA's direct DML, stores an invalid mask.
 */
CREATE FUNCTION access_control.validate_permissions(mask bigint) RETURNS bigint
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_validate_permissions';
COMMENT ON FUNCTION access_control.validate_permissions(bigint) IS 'The mask with every implied permission added; 22023 for a bit the catalog does not define';

CREATE FUNCTION access_control_internal.check_permission_mask() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_check_permission_mask';
COMMENT ON FUNCTION access_control_internal.check_permission_mask() IS 'Trigger: refuses a mask column (argument) holding bits the catalog does not define; on permission also cycles, bit changes and deleting a used permission';

CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF permissions ON access_control.client_role
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.check_permission_mask('permissions');
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF ceiling ON access_control.firm_client
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.check_permission_mask('ceiling');
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OR DELETE ON access_control.permission
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.check_permission_mask('implies');

/*
 * The row trigger checks each row against the catalog as it was before the
 * statement; two rows of one statement that imply each other pass it. This
 * one checks the catalog the statement left, for any statement shape.
 */
CREATE FUNCTION access_control_internal.check_permission_cycles() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_check_permission_cycles';
COMMENT ON FUNCTION access_control_internal.check_permission_cycles() IS 'Trigger: refuses an implication cycle in the permission catalog after each statement';
CREATE TRIGGER check_permission_cycles AFTER INSERT OR UPDATE ON access_control.permission
    FOR EACH STATEMENT EXECUTE FUNCTION access_control_internal.check_permission_cycles();

/* Raises 22004 for a NULL array and 22023 for an unknown or NULL name; returns the mask. */
CREATE FUNCTION access_control_internal.permissions_arg(names text[], what text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM access_control_internal.not_null(names, what);
    RETURN access_control.permission_mask(names);
END $$;
COMMENT ON FUNCTION access_control_internal.permissions_arg(text[], text) IS 'Internal: the mask of the named permissions, or an ERROR for NULL or unknown names';

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
    IF access_control_internal.actor_authority() <> 'system' THEN
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
    PERFORM access_control_internal.not_null(read_only, 'read_only');
    PERFORM access_control_internal.not_null(implies, 'implies');
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

CREATE FUNCTION access_control_internal.client_role(firm_id bigint, role text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid bigint;
BEGIN
    /* built-in roles (firm 0 in the name index) come first */
    SELECT r.id INTO rid FROM access_control.client_role r
     WHERE coalesce(r.firm_id, 0) = ANY (ARRAY[0, client_role.firm_id]) AND r.name = role
     ORDER BY r.firm_id NULLS FIRST LIMIT 1;
    IF rid IS NULL THEN
        RAISE EXCEPTION 'unknown client role "%"', coalesce(role, 'NULL')
            USING ERRCODE = '22023',
                  HINT = pg_catalog.format('Roles available to this firm: %s.',
                      (SELECT pg_catalog.string_agg(r.name, ', ' ORDER BY r.name) FROM access_control.client_role r
                        WHERE r.firm_id IS NULL OR r.firm_id = client_role.firm_id));
    END IF;
    RETURN rid;
END $$;
COMMENT ON FUNCTION access_control_internal.client_role(bigint, text) IS 'Internal: the id of a built-in or the firm''s own client role, or 22023';

CREATE FUNCTION access_control_internal.custom_role(role_id bigint) RETURNS access_control.client_role
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r access_control.client_role := access_control_internal.lookup(NULL::access_control.client_role, role_id, true);
BEGIN
    IF r.firm_id IS NULL THEN
        RAISE EXCEPTION 'permission denied to change built-in client role "%"', r.name
            USING ERRCODE = '42501', DETAIL = 'Built-in client roles are shared by every firm.',
                  HINT = 'Create a custom role with access_control.create_client_role instead.';
    END IF;
    PERFORM access_control_internal.authorize(r.firm_id);
    RETURN r;
END $$;
COMMENT ON FUNCTION access_control_internal.custom_role(bigint) IS 'Internal: the locked row of a firm''s custom role after the authority check, or an ERROR';

CREATE FUNCTION access_control.create_client_role(firm_id bigint, name text, permissions text[]) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n text := pg_catalog.btrim(name);
    mask bigint;
    rid bigint;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.authorize(firm_id);
    IF n IS NULL OR n = '' THEN
        RAISE EXCEPTION 'client role name must not be empty'
            USING ERRCODE = '22023', HINT = 'Pass the role''s display name.';
    END IF;
    mask := access_control_internal.permissions_arg(permissions, 'permissions');
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
    r access_control.client_role := access_control_internal.custom_role(role_id);
    mask bigint := access_control_internal.permissions_arg(permissions, 'permissions');
BEGIN
    UPDATE access_control.client_role c SET permissions = mask WHERE c.id = r.id AND c.permissions <> mask;
END $$;
COMMENT ON FUNCTION access_control.alter_client_role(bigint, text[]) IS 'Replaces the permissions of a custom client role; every holder sees the change on the next statement';

CREATE FUNCTION access_control.drop_client_role(role_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r access_control.client_role := access_control_internal.custom_role(role_id);
    direct bigint;
    teams bigint;
    all_clients bigint;
BEGIN
    /* the row lock taken above makes a concurrent grant of this role wait, then fail */
    SELECT count(*) INTO direct FROM access_control.staff_grant g WHERE g.role_id = r.id;
    SELECT count(*) INTO teams FROM access_control.team_grant g WHERE g.role_id = r.id;
    SELECT count(*) INTO all_clients FROM access_control.all_clients_grant g WHERE g.role_id = r.id;
    IF direct + teams + all_clients > 0 THEN
        RAISE EXCEPTION 'client role "%" is still used by % grants', r.name, direct + teams + all_clients
            USING ERRCODE = '2BP01',
                  DETAIL = pg_catalog.format('%s direct grants, %s team grants and %s all-clients grants use it (expired ones included).',
                                             direct, teams, all_clients),
                  HINT = 'Revoke those grants or grant another role first.';
    END IF;
    DELETE FROM access_control.client_role c WHERE c.id = r.id;
END $$;
COMMENT ON FUNCTION access_control.drop_client_role(bigint) IS 'Drops a custom client role that no grant uses';

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
CREATE FUNCTION access_control_internal.join_builtin_roles() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE access_control.client_role r SET permissions = r.permissions | pg_catalog.int8shl(1, NEW.bit)
     WHERE r.firm_id IS NULL
       AND (r.name = 'administrator' OR (r.name = 'bookkeeper' AND NEW.read_only))
       AND pg_catalog.int8and(r.permissions, pg_catalog.int8shl(1, NEW.bit)) = 0;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION access_control_internal.join_builtin_roles() IS 'Internal trigger: a permission added to the catalog joins administrator, and bookkeeper when read-only';
CREATE TRIGGER join_builtin_roles AFTER INSERT ON access_control.permission
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.join_builtin_roles();
/*
 * A dump is restored with session_replication_role = replica (see restore),
 * where an ordinary trigger does not fire. join_builtin_roles must, so that
 * the built-in roles take in the restored permissions.
 */
ALTER TABLE access_control.permission ENABLE ALWAYS TRIGGER join_builtin_roles;

REVOKE ALL ON TABLE access_control.permission, access_control.client_role FROM PUBLIC;
REVOKE ALL ON SEQUENCE access_control.client_role_id_seq FROM PUBLIC;
GRANT SELECT ON access_control.permission, access_control.client_role TO PUBLIC;
REVOKE ALL ON FUNCTION
    access_control.permission_mask,
    access_control.permission_names,
    access_control.staff_effective_permissions,
    access_control.validate_permissions,
    access_control_internal.check_permission_mask,
    access_control_internal.check_permission_cycles,
    access_control_internal.permissions_arg,
    access_control.define_permission,
    access_control_internal.client_role,
    access_control_internal.custom_role,
    access_control.create_client_role,
    access_control.alter_client_role,
    access_control.drop_client_role,
    access_control_internal.join_builtin_roles
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    access_control.permission_mask(text[]),
    access_control.permission_names(bigint),
    access_control.validate_permissions(bigint)
TO PUBLIC;
