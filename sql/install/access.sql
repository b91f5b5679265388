/*
 * access: the C helpers that row-level security policies call, and their
 * planner support (src/planner.c).
 */
CREATE FUNCTION access_control_internal.row_helper_support(internal) RETURNS internal
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_row_helper_support';
COMMENT ON FUNCTION access_control_internal.row_helper_support(internal) IS 'Planner support: lets can_see_business and has_permission use an index on the business column, and estimates the rows they keep for the current actor';

/* COST 3, here and for has_permission: a call costs about as much as a cast and a comparison of int8 (a bitmap test or a short binary search). */
CREATE FUNCTION access_control.can_see_business(business_id bigint) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE COST 3 SUPPORT access_control_internal.row_helper_support
    AS 'MODULE_PATHNAME', 'ac_can_see_business';
COMMENT ON FUNCTION access_control.can_see_business(bigint) IS 'True when the current actor can see the business';

CREATE FUNCTION access_control.has_permission(business_id bigint, permission text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE COST 3 SUPPORT access_control_internal.row_helper_support
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
REVOKE ALL ON FUNCTION
    access_control_internal.row_helper_support,
    access_control.can_see_business,
    access_control.has_permission,
    access_control.visible_business_ids(),
    access_control.visible_business_ids(text),
    access_control.staff_can_see_business,
    access_control.staff_has_permission,
    access_control.staff_effective_permission_mask
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    access_control.can_see_business(bigint),
    access_control.has_permission(bigint, text),
    access_control.visible_business_ids(),
    access_control.visible_business_ids(text)
TO PUBLIC;
