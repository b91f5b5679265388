/*
 * invitations: invitations to join a firm as staff or a business as a
 * portal user, their tokens and delivery state (src/invitations.c,
 * src/tokens.c).
 */
/*
 * Invitations to join a firm as staff (firm_id and role set) or a business
 * as a portal user (business_id and permissions set; NULL permissions: All
 * Permissions, those defined later too). The token is stored only as a keyed
 * hash (see src/invitations.c); expires_at is fixed when the invitation is
 * sent, from access_control.invitation_ttl. Invitations do not affect
 * access until accepted, so the table has no invalidate_cache trigger.
 */
CREATE TABLE access_control.invitation (
    id                bigserial PRIMARY KEY,
    firm_id           bigint REFERENCES access_control.firm,              -- staff invitations
    email             text NOT NULL CHECK (email = lower(email)),
    role              text CHECK (role IN ('owner', 'admin', 'member')),   -- staff invitations
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
    invited_by        bigint REFERENCES access_control.staff,   -- the staff member who sent it (NULL: system or a portal user)
    business_id       bigint REFERENCES access_control.business,          -- portal invitations
    permissions       bigint,                                               -- portal invitations; NULL: All Permissions
    accepted_portal_user_id bigint REFERENCES access_control.portal_user,
    invited_by_portal_user  bigint REFERENCES access_control.portal_user,  -- the portal user who sent it
    CONSTRAINT invitation_check
        CHECK ((status = 'accepted') = (accepted_staff_id IS NOT NULL OR accepted_portal_user_id IS NOT NULL)),
    CONSTRAINT invitation_kind_check
        CHECK (CASE WHEN business_id IS NULL
                    THEN firm_id IS NOT NULL AND role IS NOT NULL AND permissions IS NULL
                         AND accepted_portal_user_id IS NULL AND invited_by_portal_user IS NULL
                    ELSE firm_id IS NULL AND role IS NULL AND accepted_staff_id IS NULL END)
);
CREATE UNIQUE INDEX invitation_one_pending ON access_control.invitation (firm_id, email) WHERE status = 'pending';
CREATE UNIQUE INDEX invitation_one_pending_portal ON access_control.invitation (business_id, email) WHERE status = 'pending';
CREATE INDEX invitation_invited_by_portal_user ON access_control.invitation (invited_by_portal_user) WHERE status = 'pending';
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF permissions ON access_control.invitation
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.check_permission_mask('permissions');
CREATE INDEX invitation_invited_by ON access_control.invitation (invited_by) WHERE status = 'pending';
COMMENT ON TABLE access_control.invitation IS 'Invitations to join a firm as staff or a business as a portal user; tokens are stored only as keyed hashes';

CREATE FUNCTION access_control_internal.issue_invitation_token(invitation_id bigint,
    OUT token text, OUT token_hash bytea, OUT secret_key_id bigint)
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_issue_invitation_token';
COMMENT ON FUNCTION access_control_internal.issue_invitation_token(bigint) IS 'Internal: a new random token for the invitation, its keyed hash and the key id; stores nothing';

CREATE FUNCTION access_control_internal.invitation_token_id(token text) RETURNS bigint
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_invitation_token_id';
COMMENT ON FUNCTION access_control_internal.invitation_token_id(text) IS 'Internal: the invitation id a well-formed token names, or 0';

CREATE FUNCTION access_control_internal.check_invitation_token(token text, token_hash bytea, secret_key_id bigint, usable boolean) RETURNS void
    LANGUAGE c VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_check_invitation_token';
COMMENT ON FUNCTION access_control_internal.check_invitation_token(text, bytea, bigint, boolean) IS 'Internal: raises 28P01 unless the token matches the hash (constant time) and usable is true';

/* The two settings as intervals (GUC_UNIT_S: the raw value is in seconds). */
CREATE FUNCTION access_control_internal.setting_interval(name text) RETURNS interval
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.make_interval(secs => s.setting::double precision)
      FROM pg_catalog.pg_settings s WHERE s.name = setting_interval.name
$$;
COMMENT ON FUNCTION access_control_internal.setting_interval(text) IS 'Internal: a setting measured in seconds, as an interval';

CREATE FUNCTION access_control.invite_staff(firm_id bigint, email text, role text DEFAULT 'member',
    first_name text DEFAULT NULL, last_name text DEFAULT NULL)
    RETURNS TABLE (invitation_id bigint, token text)
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control_internal.normalize_email(email);
    iid bigint;
    t record;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.firm, firm_id);
    PERFORM access_control_internal.check_choice(role, '{owner,admin,member}', 'staff role');
    PERFORM access_control_internal.authorize(firm_id, role);
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
    t := access_control_internal.issue_invitation_token(iid);
    INSERT INTO access_control.invitation (id, firm_id, email, role, first_name, last_name,
                                           token_hash, secret_key_id, expires_at, invited_by)
    VALUES (iid, firm_id, e, role, first_name, last_name, t.token_hash, t.secret_key_id,
            pg_catalog.now() + access_control_internal.setting_interval('access_control.invitation_ttl'),
            access_control.current_staff_id());
    PERFORM pg_catalog.pg_notify('access_control_invitation', iid::text);
    invitation_id := iid;
    token := t.token;
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION access_control.invite_staff(bigint, text, text, text, text) IS 'Invites someone to join the firm; returns the invitation id and its token, shown only this once';

/*
 * The billing account's "Invite New User": who may add a portal user may
 * invite one (authorize_portal: system, or a portal user or staff member
 * holding users.manage on the business and every permission given), and
 * see, resend and cancel the invitation. Accepting creates the portal
 * user, or reactivates a removed one (or gives a contact a login) with the
 * invitation's permissions.
 */
CREATE FUNCTION access_control.invite_portal_user(business_id bigint, email text, permissions text[] DEFAULT NULL,
    first_name text DEFAULT NULL, last_name text DEFAULT NULL)
    RETURNS TABLE (invitation_id bigint, token text)
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e text := access_control_internal.normalize_email(email);
    mask bigint;
    iid bigint;
    t record;
BEGIN
    PERFORM access_control_internal.lookup(NULL::access_control.business, business_id);
    /* NULL stays NULL: All Permissions, those defined later too */
    IF permissions IS NOT NULL THEN
        mask := access_control.permission_mask(permissions);
    END IF;
    PERFORM access_control_internal.authorize_portal(business_id, 'users.manage', mask, 0);
    IF EXISTS (SELECT 1 FROM access_control.portal_user u
                WHERE u.business_id = invite_portal_user.business_id AND u.email = e
                  AND u.status = 'active' AND u.can_login) THEN
        RAISE EXCEPTION 'portal user "%" already exists in business %', e, business_id
            USING ERRCODE = '23505', HINT = 'Use set_portal_permissions to change the permissions of an existing portal user.';
    END IF;
    /* an expired pending invitation gives way to the new one */
    UPDATE access_control.invitation v SET status = 'cancelled'
     WHERE v.business_id = invite_portal_user.business_id AND v.email = e
       AND v.status = 'pending' AND v.expires_at <= pg_catalog.now();
    IF EXISTS (SELECT 1 FROM access_control.invitation v
                WHERE v.business_id = invite_portal_user.business_id AND v.email = e AND v.status = 'pending') THEN
        RAISE EXCEPTION 'a pending invitation for "%" already exists in business %', e, business_id
            USING ERRCODE = '23505', HINT = 'Use resend_invitation to send it again, or cancel_invitation first.';
    END IF;
    iid := pg_catalog.nextval('access_control.invitation_id_seq'::pg_catalog.regclass);
    t := access_control_internal.issue_invitation_token(iid);
    INSERT INTO access_control.invitation (id, business_id, email, permissions, first_name, last_name,
                                           token_hash, secret_key_id, expires_at, invited_by, invited_by_portal_user)
    VALUES (iid, business_id, e, mask, first_name, last_name, t.token_hash, t.secret_key_id,
            pg_catalog.now() + access_control_internal.setting_interval('access_control.invitation_ttl'),
            access_control.current_staff_id(), access_control.current_portal_user_id());
    PERFORM pg_catalog.pg_notify('access_control_invitation', iid::text);
    invitation_id := iid;
    token := t.token;
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION access_control.invite_portal_user(bigint, text, text[], text, text) IS 'Invites someone to log in to the business as a portal user with these permissions (NULL: All Permissions); returns the invitation id and its token, shown only this once';

/* Raises 42501 unless the current actor may manage the invitation, as it may send one like it. */
CREATE FUNCTION access_control_internal.authorize_invitation(i access_control.invitation) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF i.business_id IS NULL THEN
        PERFORM access_control_internal.authorize(i.firm_id, i.role);
    ELSE
        PERFORM access_control_internal.authorize_portal(i.business_id, 'users.manage', i.permissions, 0);
    END IF;
END $$;
COMMENT ON FUNCTION access_control_internal.authorize_invitation(access_control.invitation) IS 'Internal: raises 42501 unless the current actor may send an invitation like this one';

/*
 * The delivery badge after an event. Progress (not_sent < sent < delivered
 * < opened) only moves forward; bounced and spam_reported end the send.
 * A bounce after delivered or opened contradicts them and is ignored; a
 * spam report needs a delivered mail and so wins over any progress.
 */
CREATE FUNCTION access_control_internal.next_delivery_state(current_state text, event text) RETURNS text
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
COMMENT ON FUNCTION access_control_internal.next_delivery_state(text, text) IS 'Internal: the delivery state after an event; never moves backwards';

CREATE FUNCTION access_control.record_invitation_event(invitation_id bigint, state text,
    occurred_at timestamptz DEFAULT pg_catalog.now()) RETURNS text
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation;
    next_state text;
BEGIN
    /*
     * A mail provider's webhook carries no user, and needs no actor: it
     * only moves a delivery badge forward. An actor, when set, is checked.
     */
    PERFORM access_control_internal.not_null(invitation_id, 'invitation_id');
    SELECT * INTO i FROM access_control.invitation v WHERE v.id = invitation_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invitation % does not exist', invitation_id
            USING ERRCODE = '22023', HINT = 'Pending invitations are listed in access_control.pending_invitations.';
    END IF;
    PERFORM access_control_internal.check_choice(state, '{not_sent,sent,delivered,opened,bounced,spam_reported}', 'delivery state');
    PERFORM access_control_internal.not_null(occurred_at, 'occurred_at');
    IF access_control.current_actor() IS NOT NULL THEN
        PERFORM access_control_internal.authorize_invitation(i);
    END IF;
    /* an event from before the last send belongs to an earlier token */
    IF occurred_at < i.last_sent_at THEN
        RETURN i.delivery_state;
    END IF;
    next_state := access_control_internal.next_delivery_state(i.delivery_state, state);
    UPDATE access_control.invitation v SET delivery_state = next_state
     WHERE v.id = invitation_id AND v.delivery_state <> next_state;
    RETURN next_state;
END $$;
COMMENT ON FUNCTION access_control.record_invitation_event(bigint, text, timestamptz) IS 'Records a mail-provider event for an invitation; returns the delivery state, which never moves backwards';

CREATE FUNCTION access_control.resend_invitation(invitation_id bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation := access_control_internal.lookup(NULL::access_control.invitation, invitation_id, true);
    available_at timestamptz;
    t record;
BEGIN
    PERFORM access_control_internal.authorize_invitation(i);
    IF i.status <> 'pending' THEN
        RAISE EXCEPTION 'invitation % is %', invitation_id, i.status
            USING ERRCODE = '55000', HINT = pg_catalog.format('Only pending invitations can be resent; invite again with %s.',
                CASE WHEN i.business_id IS NULL THEN 'invite_staff' ELSE 'invite_portal_user' END);
    END IF;
    available_at := i.last_sent_at + access_control_internal.setting_interval('access_control.invitation_resend_cooldown');
    IF i.delivery_state NOT IN ('bounced', 'spam_reported') AND available_at > pg_catalog.now() THEN
        RAISE EXCEPTION 'invitation % was sent too recently to resend', invitation_id
            USING ERRCODE = '55000',
                  HINT = pg_catalog.format('Try again in %s seconds.',
                      pg_catalog.ceil(pg_catalog.date_part('epoch', available_at - pg_catalog.now()))::bigint);
    END IF;
    t := access_control_internal.issue_invitation_token(i.id);
    UPDATE access_control.invitation v
       SET token_hash = t.token_hash, secret_key_id = t.secret_key_id,
           delivery_state = 'not_sent', last_sent_at = pg_catalog.now(),
           expires_at = pg_catalog.now() + access_control_internal.setting_interval('access_control.invitation_ttl')
     WHERE v.id = i.id;
    PERFORM pg_catalog.pg_notify('access_control_invitation', i.id::text);
    RETURN t.token;
END $$;
COMMENT ON FUNCTION access_control.resend_invitation(bigint) IS 'Sends an invitation again with a new token (the old one stops working); returns the token';

CREATE FUNCTION access_control.cancel_invitation(invitation_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation := access_control_internal.lookup(NULL::access_control.invitation, invitation_id, true);
BEGIN
    PERFORM access_control_internal.authorize_invitation(i);
    IF i.status = 'accepted' THEN
        RAISE EXCEPTION 'invitation % was already accepted', invitation_id
            USING ERRCODE = '55000', HINT = CASE WHEN i.business_id IS NULL
                THEN 'Remove the staff member with remove_staff instead.'
                ELSE 'Remove the portal user with remove_portal_user instead.' END;
    END IF;
    UPDATE access_control.invitation v SET status = 'cancelled'
     WHERE v.id = invitation_id AND v.status = 'pending';
END $$;
COMMENT ON FUNCTION access_control.cancel_invitation(bigint) IS 'Cancels a pending invitation: its token stops working';

/*
 * Executable by PUBLIC: the token is the authority. The invitation row is
 * locked before the token is checked, so of two sessions accepting one
 * token, the second sees it accepted. Returns the staff id for a staff
 * invitation, the portal user id for a portal one. Someone who is already
 * an active staff member of the firm keeps their row and role; an active
 * portal user of the business keeps her row and permissions; a removed
 * one (or a contact) comes back in the same row with the invitation's.
 */
CREATE FUNCTION access_control.accept_invitation(token text, first_name text DEFAULT NULL,
    last_name text DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i access_control.invitation;
    s access_control.staff;
    u access_control.portal_user;
BEGIN
    SELECT * INTO i FROM access_control.invitation v
     WHERE v.id = access_control_internal.invitation_token_id(coalesce(token, '')) FOR NO KEY UPDATE;
    PERFORM access_control_internal.check_invitation_token(token, i.token_hash, i.secret_key_id,
        coalesce(i.status = 'pending' AND i.expires_at > pg_catalog.now(), false));
    IF i.business_id IS NOT NULL THEN
        SELECT * INTO u FROM access_control.portal_user x
         WHERE x.business_id = i.business_id AND x.email = i.email FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            INSERT INTO access_control.portal_user (business_id, email, permissions, first_name, last_name)
            VALUES (i.business_id, i.email, i.permissions, coalesce(accept_invitation.first_name, i.first_name),
                    coalesce(accept_invitation.last_name, i.last_name))
            RETURNING * INTO u;
        ELSIF u.status = 'removed' OR NOT u.can_login THEN
            /* reversible by re-inviting: the same row comes back with the invitation's permissions */
            UPDATE access_control.portal_user x
               SET status = 'active', can_login = true, permissions = i.permissions,
                   first_name = coalesce(accept_invitation.first_name, i.first_name, x.first_name),
                   last_name = coalesce(accept_invitation.last_name, i.last_name, x.last_name)
             WHERE x.id = u.id;
        END IF;
        UPDATE access_control.invitation v SET status = 'accepted', accepted_portal_user_id = u.id WHERE v.id = i.id;
        RETURN u.id;
    END IF;
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
COMMENT ON FUNCTION access_control.accept_invitation(text, text, text) IS 'Accepts an invitation with its token: adds (or reactivates) the staff member or portal user and returns the staff id or the portal user id';

/*
 * Pending invitations of both kinds. The view reads invitation as its
 * owner, so it filters as the table's policy does (see rls): system
 * (act_as_system, or a superuser with no actor) reads all of them, owners
 * and admins their firm's staff invitations, an actor holding users.manage
 * on a business its portal invitations, anyone else none. Never a token or
 * a hash. The functions a view
 * calls run with the rights of whoever reads it, so this one calls only
 * functions PUBLIC may execute: the cooldown is read from pg_settings as
 * setting_interval does.
 */
CREATE VIEW access_control.pending_invitations WITH (security_barrier) AS
SELECT v.id, v.firm_id, v.email, v.role, v.delivery_state,
       v.expires_at <= pg_catalog.now() AS expired,
       CASE WHEN v.delivery_state IN ('bounced', 'spam_reported') THEN v.last_sent_at
            ELSE v.last_sent_at + pg_catalog.make_interval(secs => (
                SELECT s.setting::double precision FROM pg_catalog.pg_settings s
                 WHERE s.name = 'access_control.invitation_resend_cooldown'))
       END AS resend_available_at,
       v.created_at, v.last_sent_at, v.expires_at,
       CASE WHEN v.business_id IS NULL THEN 'staff' ELSE 'portal' END AS kind,
       v.business_id, v.first_name, v.last_name,
       CASE WHEN v.business_id IS NULL THEN NULL
            ELSE access_control.permission_names(coalesce(v.permissions, (
                SELECT pg_catalog.bit_or(pg_catalog.int8shl(1, p.bit)) FROM access_control.permission p)))
       END AS permissions,
       v.business_id IS NOT NULL AND v.permissions IS NULL AS all_permissions
  FROM access_control.invitation v
 WHERE v.status = 'pending'
   AND ((SELECT access_control_internal.reader_is_system())
        OR v.firm_id = (SELECT access_control_internal.reader_managed_firm())
        OR (v.business_id IS NOT NULL AND access_control.has_permission(v.business_id, 'users.manage')));
COMMENT ON VIEW access_control.pending_invitations IS 'Pending invitations to join a firm as staff or a business as a portal user, with their delivery state, without tokens, filtered by the current actor';

/*
 * A removed staff member's pending invitations are cancelled with her,
 * however the row was changed (each with its invitation.cancelled audit
 * row): a fired admin cannot come back through an invitation she sent.
 */
CREATE FUNCTION access_control_internal.cancel_invitations_of_removed_staff() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE access_control.invitation v SET status = 'cancelled'
     WHERE v.invited_by = NEW.id AND v.status = 'pending';
    RETURN NULL;
END $$;
COMMENT ON FUNCTION access_control_internal.cancel_invitations_of_removed_staff() IS 'Internal trigger: cancels the pending invitations a removed staff member sent';

CREATE TRIGGER cancel_invitations AFTER UPDATE OF status ON access_control.staff
    FOR EACH ROW WHEN (NEW.status = 'removed' AND OLD.status <> 'removed')
    EXECUTE FUNCTION access_control_internal.cancel_invitations_of_removed_staff();

/* Likewise a removed portal user's pending invitations. */
CREATE FUNCTION access_control_internal.cancel_invitations_of_removed_portal_user() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE access_control.invitation v SET status = 'cancelled'
     WHERE v.invited_by_portal_user = NEW.id AND v.status = 'pending';
    RETURN NULL;
END $$;
COMMENT ON FUNCTION access_control_internal.cancel_invitations_of_removed_portal_user() IS 'Internal trigger: cancels the pending invitations a removed portal user sent';

CREATE TRIGGER cancel_invitations AFTER UPDATE OF status ON access_control.portal_user
    FOR EACH ROW WHEN (NEW.status = 'removed' AND OLD.status <> 'removed')
    EXECUTE FUNCTION access_control_internal.cancel_invitations_of_removed_portal_user();

REVOKE ALL ON TABLE access_control.invitation, access_control.pending_invitations FROM PUBLIC;
REVOKE ALL ON SEQUENCE access_control.invitation_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.issue_invitation_token,
    access_control_internal.invitation_token_id,
    access_control_internal.check_invitation_token,
    access_control_internal.setting_interval,
    access_control.invite_staff,
    access_control.invite_portal_user,
    access_control_internal.authorize_invitation,
    access_control_internal.next_delivery_state,
    access_control_internal.cancel_invitations_of_removed_staff,
    access_control_internal.cancel_invitations_of_removed_portal_user,
    access_control.record_invitation_event,
    access_control.resend_invitation,
    access_control.cancel_invitation,
    access_control.accept_invitation
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_control.accept_invitation(text, text, text) TO PUBLIC;
