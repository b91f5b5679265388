/*
 * portal: a business's portal users (who log in and act) and contacts (who
 * never act), and who may manage them.
 */
CREATE TABLE access_control.portal_user (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES access_control.business,
    email       text NOT NULL CHECK (email = lower(email)),
    name        text,
    permissions bigint DEFAULT 0,   -- NULL: All Permissions, those defined later too
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
    can_login   boolean NOT NULL DEFAULT true,
    UNIQUE (business_id, email),
    first_name  text,
    last_name   text
);
COMMENT ON COLUMN access_control.portal_user.permissions IS 'The user''s permissions; NULL: All Permissions, a standing choice that includes permissions defined later';

/* Every permission in the catalog: what a NULL portal mask stands for. */
CREATE FUNCTION access_control_internal.all_permissions() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)), 0) FROM access_control.permission p
$$;
COMMENT ON FUNCTION access_control_internal.all_permissions() IS 'Internal: the mask of every permission in the catalog';

/* A portal user's mask as it stands now: NULL (All Permissions) is the whole catalog. */
CREATE FUNCTION access_control_internal.portal_mask(permissions bigint) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(permissions, access_control_internal.all_permissions())
$$;
COMMENT ON FUNCTION access_control_internal.portal_mask(bigint) IS 'Internal: a portal mask with NULL (All Permissions) read as every permission in the catalog';
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF permissions ON access_control.portal_user
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.check_permission_mask('permissions');

/*
 * Raises 42501 unless the current actor may manage the portal records of
 * the business with the given permission (users.manage or contacts.manage),
 * giving a record permissions grant_mask that replace old_mask:
 *   - system: always; nobody: never (actor_authority);
 *   - a portal actor: an active login user of this same business holding
 *     the permission, that holds (with implications) every permission it
 *     gives and every permission the record had;
 *   - a staff actor: an active staff member (owner, admin, or member through
 *     her grants) whose effective permissions on the business (capped by her
 *     firm's link ceiling) hold the permission and every one given or taken
 *     away. Holding users.manage there is the one rule, as for reading the
 *     business's portal users, its pending portal invitations and its
 *     Partner tab.
 */
CREATE FUNCTION access_control_internal.authorize_portal(business_id bigint, needed text,
    grant_mask bigint DEFAULT 0, old_mask bigint DEFAULT 0) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := access_control_internal.actor_authority();
    held bigint;
    touched bigint := access_control.validate_permissions(access_control_internal.portal_mask(grant_mask))
                    | access_control.validate_permissions(access_control_internal.portal_mask(old_mask));
    need bigint := access_control.permission_mask(ARRAY[needed]);
    me_portal access_control.portal_user;
    me_staff access_control.staff;
BEGIN
    IF actor = 'system' THEN
        RETURN;
    ELSIF access_control.current_portal_user_id() IS NOT NULL THEN
        SELECT * INTO me_portal FROM access_control.portal_user u WHERE u.id = access_control.current_portal_user_id();
        IF me_portal.business_id IS DISTINCT FROM authorize_portal.business_id
           OR me_portal.status <> 'active' OR NOT me_portal.can_login THEN
            RAISE EXCEPTION 'permission denied to manage the portal users of business %', business_id
                USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not an active portal user of this business.', actor);
        END IF;
        held := access_control.validate_permissions(access_control_internal.portal_mask(me_portal.permissions));
    ELSE
        SELECT * INTO me_staff FROM access_control.staff s WHERE s.id = access_control.current_staff_id();
        IF me_staff.status IS DISTINCT FROM 'active' THEN
            RAISE EXCEPTION 'permission denied to manage the portal users of business %', business_id
                USING ERRCODE = '42501', DETAIL = pg_catalog.format('Actor %s is not an active staff member.', actor);
        END IF;
        held := access_control.staff_effective_permission_mask(me_staff.id, business_id);
        IF held IS NULL THEN
            RAISE EXCEPTION 'permission denied to manage the portal users of business %', business_id
                USING ERRCODE = '42501', DETAIL = CASE WHEN me_staff.role = 'member'
                    THEN pg_catalog.format('Actor %s has no access to this business.', actor)
                    ELSE pg_catalog.format('Actor %s''s firm has no active link with this business.', actor) END;
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
COMMENT ON FUNCTION access_control_internal.authorize_portal(bigint, text, bigint, bigint) IS 'Internal: raises 42501 unless the current actor may manage the business''s portal records and holds every permission touched';

CREATE FUNCTION access_control.add_portal_user(business_id bigint, email text, permissions text[] DEFAULT NULL,
    first_name text DEFAULT NULL, last_name text DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control_internal.normalize_email(email);
    mask bigint;
    u access_control.portal_user;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    /* NULL stays NULL: All Permissions, those defined later too */
    IF permissions IS NOT NULL THEN
        mask := access_control.permission_mask(permissions);
    END IF;
    SELECT * INTO u FROM access_control.portal_user p
     WHERE p.business_id = add_portal_user.business_id AND p.email = e FOR NO KEY UPDATE;
    PERFORM access_control_internal.authorize_portal(business_id, 'users.manage', mask,
        CASE WHEN u.status = 'active' THEN u.permissions ELSE 0 END);
    IF u.id IS NULL THEN
        INSERT INTO access_control.portal_user (business_id, email, permissions, first_name, last_name)
        VALUES (business_id, e, mask, add_portal_user.first_name, add_portal_user.last_name) RETURNING id INTO u.id;
    ELSIF u.status = 'active' AND u.can_login THEN
        RAISE EXCEPTION 'portal user "%" already exists in business %', e, business_id
            USING ERRCODE = '23505', HINT = 'Use set_portal_permissions to change the permissions of an existing portal user.';
    ELSE
        /* a removed user comes back, and a contact gets a login, in the same row */
        UPDATE access_control.portal_user p SET status = 'active', can_login = true, permissions = mask,
               first_name = coalesce(add_portal_user.first_name, p.first_name),
               last_name = coalesce(add_portal_user.last_name, p.last_name)
         WHERE p.id = u.id;
    END IF;
    RETURN u.id;
END $$;
COMMENT ON FUNCTION access_control.add_portal_user(bigint, text, text[], text, text) IS 'Adds (or reactivates) a login user of the business with these permissions (NULL: All Permissions, those defined later too); returns its id';

CREATE FUNCTION access_control.set_portal_permissions(portal_user_id bigint, permissions text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u access_control.portal_user := access_control_internal.lookup(NULL::access_control.portal_user, portal_user_id, true);
    mask bigint;
BEGIN
    /* NULL stays NULL: All Permissions, those defined later too */
    IF permissions IS NOT NULL THEN
        mask := access_control.permission_mask(permissions);
    END IF;
    PERFORM access_control_internal.authorize_portal(u.business_id, 'users.manage', mask, u.permissions);
    IF u.status <> 'active' OR NOT u.can_login THEN
        RAISE EXCEPTION 'portal user % is % and holds no permissions', portal_user_id,
                CASE WHEN u.can_login THEN 'removed' ELSE 'a contact' END
            USING ERRCODE = '55000', HINT = 'Add the user again with add_portal_user first.';
    END IF;
    UPDATE access_control.portal_user p SET permissions = mask WHERE p.id = u.id AND p.permissions IS DISTINCT FROM mask;
END $$;
COMMENT ON FUNCTION access_control.set_portal_permissions(bigint, text[]) IS 'Replaces a portal user''s permissions (NULL: All Permissions, those defined later too)';

CREATE FUNCTION access_control.remove_portal_user(portal_user_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u access_control.portal_user := access_control_internal.lookup(NULL::access_control.portal_user, portal_user_id, true);
BEGIN
    PERFORM access_control_internal.authorize_portal(u.business_id,
        CASE WHEN u.can_login THEN 'users.manage' ELSE 'contacts.manage' END, 0, u.permissions);
    UPDATE access_control.portal_user p SET status = 'removed' WHERE p.id = u.id AND p.status <> 'removed';
END $$;
COMMENT ON FUNCTION access_control.remove_portal_user(bigint) IS 'Removes a portal user or contact at once; the row stays and add_portal_user brings it back';

CREATE FUNCTION access_control.add_contact(business_id bigint, email text, name text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control_internal.normalize_email(email);
    u access_control.portal_user;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    PERFORM access_control_internal.authorize_portal(business_id, 'contacts.manage');
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
REVOKE ALL ON TABLE access_control.portal_user FROM PUBLIC;
REVOKE ALL ON SEQUENCE access_control.portal_user_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.all_permissions,
    access_control_internal.portal_mask,
    access_control_internal.authorize_portal,
    access_control.add_portal_user,
    access_control.set_portal_permissions,
    access_control.remove_portal_user,
    access_control.add_contact
FROM PUBLIC;
