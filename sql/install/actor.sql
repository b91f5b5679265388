/*
 * actor: who is acting (src/actor.c). The actor is set for the rest of the
 * transaction and read by every helper and management function.
 */
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
COMMENT ON FUNCTION access_control.current_actor() IS 'staff:N, portal:N, system (after act_as_system), or NULL when no actor is set';

CREATE FUNCTION access_control.current_staff_id() RETURNS bigint
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_current_staff_id';
COMMENT ON FUNCTION access_control.current_staff_id() IS 'The id of the staff member acting, or NULL when the actor is not a staff member';

CREATE FUNCTION access_control.current_portal_user_id() RETURNS bigint
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_current_portal_user_id';
COMMENT ON FUNCTION access_control.current_portal_user_id() IS 'The id of the portal user acting, or NULL when the actor is not a portal user';

CREATE FUNCTION access_control.act_as_system() RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_act_as_system';
COMMENT ON FUNCTION access_control.act_as_system() IS 'Act as system (the DBA''s authority) until the end of the transaction; never grant it to an application''s request role';

/*
 * The first call of every management function: the actor with authority
 * ('staff:N', 'portal:N' or 'system'), or 42501 when nobody acts or the
 * session's API key may no longer be used (src/actor.c).
 */
CREATE FUNCTION access_control_internal.actor_authority() RETURNS text
    LANGUAGE c VOLATILE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'ac_actor_authority';
COMMENT ON FUNCTION access_control_internal.actor_authority() IS 'Internal: staff:N, portal:N or system, the actor with authority now; 42501 for nobody or an API key that may no longer be used';

REVOKE ALL ON FUNCTION
    access_control.act_as_system,
    access_control_internal.actor_authority,
    access_control.set_actor,
    access_control.set_portal_actor,
    access_control.clear_actor,
    access_control.current_actor,
    access_control.current_staff_id,
    access_control.current_portal_user_id
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    access_control.current_actor(),
    access_control.current_staff_id(),
    access_control.current_portal_user_id()
TO PUBLIC;
