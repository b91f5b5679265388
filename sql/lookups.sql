-- lookup, the row an id names, as every management function reads it: for
-- each access table with an id, the row (locked or not), a missing id with
-- the hint saying where the ids are listed, a NULL id naming the argument;
-- a type it does not know; and the authority check before all of these.
CREATE EXTENSION access_control;
\i sql/include/err.sql
SELECT access_control.create_firm('Look Firm', 'owner@look.test') AS f \gset
SELECT id AS o FROM access_control.staff WHERE email = 'owner@look.test' \gset
SELECT access_control.create_business(:f, 'Look Client') AS b \gset
SELECT access_control.create_team(:f, 'Look Team') AS t \gset
SELECT access_control.create_client_role(:f, 'looker', '{invoices.view}') AS r \gset
SELECT access_control.add_portal_user(:b, 'portal@look.test') AS p \gset
SELECT invitation_id AS i FROM access_control.invite_staff(:f, 'new@look.test') \gset
SELECT access_control.create_api_key(:o, 'look') IS NOT NULL AS key_made;
SELECT id AS k FROM access_control.api_key \gset

-- Each table's row, read and read with lock: its columns come back.
SELECT (access_control_internal.lookup(NULL::access_control.staff, :o)).email AS staff,
       (access_control_internal.lookup(NULL::access_control.staff, :o, true)).role AS staff_locked,
       (access_control_internal.lookup(NULL::access_control.firm, :f)).name AS firm,
       (access_control_internal.lookup(NULL::access_control.firm, :f, true)).name AS firm_locked;
SELECT (access_control_internal.lookup(NULL::access_control.business, :b)).name AS business,
       (access_control_internal.lookup(NULL::access_control.business, :b, true)).name AS business_locked,
       (access_control_internal.lookup(NULL::access_control.team, :t)).name AS team,
       (access_control_internal.lookup(NULL::access_control.team, :t, true)).name AS team_locked;
SELECT (access_control_internal.lookup(NULL::access_control.client_role, :r)).name AS role,
       (access_control_internal.lookup(NULL::access_control.client_role, :r, true)).name AS role_locked,
       (access_control_internal.lookup(NULL::access_control.portal_user, :p)).email AS portal_user,
       (access_control_internal.lookup(NULL::access_control.portal_user, :p, true)).email AS portal_user_locked;
SELECT (access_control_internal.lookup(NULL::access_control.invitation, :i)).email AS invitation,
       (access_control_internal.lookup(NULL::access_control.invitation, :i, true)).status AS invitation_locked,
       (access_control_internal.lookup(NULL::access_control.api_key, :k)).label AS api_key,
       (access_control_internal.lookup(NULL::access_control.api_key, :k, true)).label AS api_key_locked;

-- With lock, the row is locked (the table then shows RowShareLock, taken
-- by a row lock); without, it is only read.
BEGIN;
SELECT (access_control_internal.lookup(NULL::access_control.team, :t)).id = :t AS looked_up;
SELECT l.mode FROM pg_locks l WHERE l.relation = 'access_control.team'::regclass AND l.pid = pg_backend_pid() ORDER BY 1;
ROLLBACK;
BEGIN;
SELECT (access_control_internal.lookup(NULL::access_control.team, :t, true)).id = :t AS looked_up;
SELECT l.mode FROM pg_locks l WHERE l.relation = 'access_control.team'::regclass AND l.pid = pg_backend_pid() ORDER BY 1;
ROLLBACK;

-- A missing id: each table's own message and hint, with and without lock.
SELECT err(format('SELECT access_control_internal.lookup(NULL::access_control.%s, 999999, %L)', t, l))
  FROM unnest(ARRAY['staff', 'firm', 'business', 'team', 'client_role', 'portal_user', 'invitation', 'api_key']) WITH ORDINALITY AS u(t, n),
       unnest(ARRAY[false, true]) AS l
 ORDER BY n, l;

-- A NULL id names the argument of the function that took it.
SELECT err(format('SELECT access_control_internal.lookup(NULL::access_control.%s, NULL)', t))
  FROM unnest(ARRAY['staff', 'firm', 'business', 'team', 'client_role', 'portal_user', 'invitation', 'api_key']) WITH ORDINALITY AS u(t, n)
 ORDER BY n;

-- A row type without a look-up by id, with or without an id.
SELECT err($$SELECT access_control_internal.lookup(NULL::access_control.staff_grant, 1)$$);
SELECT err($$SELECT access_control_internal.lookup(NULL::access_control.staff_grant, NULL)$$);
SELECT err($$SELECT access_control_internal.lookup('x'::text, 1)$$);

-- Without authority (here: no actor), nobody learns whether an id exists,
-- nor anything else: the same error for every call.
CREATE ROLE look_app NOLOGIN;
GRANT USAGE ON SCHEMA access_control_internal TO look_app;
GRANT EXECUTE ON FUNCTION access_control_internal.lookup(anyelement, bigint, boolean),
    access_control_internal.actor_authority() TO look_app;
SET SESSION AUTHORIZATION look_app;
SELECT err(format('SELECT access_control_internal.lookup(NULL::access_control.staff, %s)', :o));
SELECT err($$SELECT access_control_internal.lookup(NULL::access_control.staff, 999999)$$);
SELECT err($$SELECT access_control_internal.lookup(NULL::access_control.staff, NULL)$$);
SELECT err($$SELECT access_control_internal.lookup('x'::text, 1)$$);
RESET SESSION AUTHORIZATION;
REVOKE ALL ON FUNCTION access_control_internal.lookup(anyelement, bigint, boolean),
    access_control_internal.actor_authority() FROM look_app;
REVOKE ALL ON SCHEMA access_control_internal FROM look_app;
DROP ROLE look_app;

DROP FUNCTION err(text);
DROP EXTENSION access_control;
