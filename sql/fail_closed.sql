-- Fail closed: no actor means no authority. The application's request role
-- holds EXECUTE on every management function (what "What to grant" gives
-- it); with no actor set, each of them refuses with 42501 and a hint naming
-- set_actor and act_as_system, before it looks anything up, and changes
-- nothing. Only sign-up (create_firm, create_business(name)), tokens and
-- keys that carry their own proof (accept_invitation, authenticate) and the
-- mail provider's webhook (record_invitation_event) need no actor. A
-- superuser with no actor acts as system; so does a role granted
-- act_as_system(), until the end of its transaction.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- The victim firm, set up by the system (a superuser with no actor).
SELECT access_control.create_firm('Victim Books', 'owner@victim.test') AS victim \gset
SELECT id AS victim_owner FROM access_control.staff WHERE email = 'owner@victim.test' \gset
SELECT access_control.add_staff(:victim, 'admin@victim.test', 'admin') AS victim_admin \gset
SELECT access_control.add_staff(:victim, 'member@victim.test', 'member') AS victim_member \gset
SELECT access_control.create_business(:victim, 'Victim Client') AS client \gset
SELECT access_control.create_team(:victim, 'Victim Team') AS team \gset
SELECT access_control.create_client_role(:victim, 'victim-secret-role', '{invoices.view}') AS custom_role \gset
SELECT access_control.grant_client_access(:victim_member, ARRAY[:client]::bigint[], 'clerk');
SELECT access_control.create_api_key(:victim_member, 'member key') AS member_key \gset
SELECT id AS key_id FROM access_control.api_key \gset
SELECT invitation_id AS invitation, token AS invitation_token
  FROM access_control.invite_staff(:victim, 'newcomer@victim.test') \gset
SELECT access_control.add_portal_user(:client, 'boss@client.test') AS portal \gset
-- The attacker's own firm.
SELECT access_control.create_firm('Attacker Books', 'owner@attacker.test') AS attacker \gset
SELECT id AS attacker_owner FROM access_control.staff WHERE email = 'owner@attacker.test' \gset
-- Every change so far was made by the system.
SELECT actor, count(*) AS audit_rows FROM access_control.audit_log GROUP BY actor;

-- The application's request role: EXECUTE on every function of the
-- schema but act_as_system and the two superuser-only ones, and SELECT on
-- the two views.
CREATE ROLE fc_app NOLOGIN;
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p
              WHERE p.pronamespace = 'access_control'::regnamespace
                AND p.proname NOT IN ('act_as_system', 'rotate_secret_key', 'purge_audit_log')
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO fc_app', f);
    END LOOP;
END $$;
GRANT SELECT ON access_control.pending_invitations, access_control.api_keys TO fc_app;
SELECT has_function_privilege('fc_app', 'access_control.set_staff_role(bigint, text)', 'EXECUTE') AS app_may_execute;

-- The attacks of a forgotten set_actor (or of SQL injection): each one
-- would take over another tenant.
SELECT count(*) AS audit_rows_before FROM access_control.audit_log \gset
SET SESSION AUTHORIZATION fc_app;
SELECT access_control.current_actor() AS actor;
SELECT access_control.set_staff_role(:victim_member, 'owner');
SELECT access_control.remove_staff(:victim_owner);
SELECT access_control.grant_client_access(:victim_member, ARRAY[:client]::bigint[], 'administrator');
SELECT access_control.add_staff(:victim, 'intruder@attacker.test', 'admin');
SELECT access_control.create_api_key(:victim_owner, 'stolen');
SELECT access_control.set_programmatic_access(:victim_owner, false);
SELECT access_control.invite_staff(:victim, 'intruder@attacker.test', 'owner');
SELECT access_control.resend_invitation(:invitation);
-- Nor does it read anything: no names, no ids, no keys.
SELECT * FROM access_control.firm_clients(:victim);
SELECT * FROM access_control.staff_access(:victim_member);
SELECT access_control.staff_effective_permissions(:victim_member, :client);
SELECT count(*) AS keys_listed FROM access_control.api_keys;
SELECT count(*) AS invitations_listed FROM access_control.pending_invitations;
-- The authority check comes first: an id that does not exist gets the same answer.
SELECT access_control.set_staff_role(999999, 'owner');
RESET SESSION AUTHORIZATION;
-- Nothing changed.
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM access_control.audit_log;
SELECT email, role, status, programmatic_access FROM access_control.staff WHERE firm_id = :victim ORDER BY id;
SELECT s.email, r.name AS role FROM access_control.staff_grant g
  JOIN access_control.staff s ON s.id = g.staff_id JOIN access_control.client_role r ON r.id = g.role_id;
SELECT count(*) AS api_keys FROM access_control.api_key;

-- Every function the role may execute, called with the victim's ids and
-- no actor, each in a subtransaction that is rolled back. Listed: the
-- calls that were not refused with 42501 and a hint naming set_actor and
-- act_as_system, and what they returned ("nothing": NULL, false, an empty
-- array or no rows). Left out: the actor functions, and the functions that
-- need no actor (called below).
CREATE FUNCTION fc_sample(t regtype, n text) RETURNS text LANGUAGE sql AS $$
SELECT CASE
    WHEN t = 'bigint'::regtype THEN CASE n
        WHEN 'firm_id' THEN current_setting('fc.victim')
        WHEN 'staff_id' THEN current_setting('fc.member')
        WHEN 'business_id' THEN current_setting('fc.client')
        WHEN 'team_id' THEN current_setting('fc.team')
        WHEN 'role_id' THEN current_setting('fc.role')
        WHEN 'key_id' THEN current_setting('fc.key')
        WHEN 'invitation_id' THEN current_setting('fc.invitation')
        WHEN 'portal_user_id' THEN current_setting('fc.portal')
        WHEN 'mask' THEN '512'
        ELSE '1' END
    WHEN t = 'integer'::regtype THEN '1'
    WHEN t = 'bigint[]'::regtype THEN CASE
        WHEN n ~ 'staff' THEN 'ARRAY[' || current_setting('fc.member') || ']::bigint[]'
        ELSE 'ARRAY[' || current_setting('fc.client') || ']::bigint[]' END
    WHEN t = 'text'::regtype THEN CASE
        WHEN n ~ 'email' THEN quote_literal('intruder@attacker.test')
        WHEN n ~ 'role' THEN quote_literal('admin')
        WHEN n ~ 'permission' OR n = 'needed' THEN quote_literal('invoices.view')
        WHEN n = 'state' THEN quote_literal('delivered')
        ELSE quote_literal('Pwned') END
    WHEN t = 'text[]'::regtype THEN CASE
        WHEN n = 'roles' THEN '''{clerk}''::text[]'
        ELSE '''{invoices.view}''::text[]' END
    WHEN t = 'boolean'::regtype THEN 'false'
    ELSE 'NULL::' || t::text
END
$$;
SELECT set_config('fc.victim', :'victim', false), set_config('fc.member', :'victim_member', false),
       set_config('fc.client', :'client', false), set_config('fc.team', :'team', false),
       set_config('fc.role', :'custom_role', false), set_config('fc.key', :'key_id', false),
       set_config('fc.invitation', :'invitation', false), set_config('fc.portal', :'portal', false) \gset
CREATE TABLE fc_calls AS
SELECT p.oid::regprocedure::text AS fn, p.prorettype = 'void'::regtype AS void,
       format('SELECT count(*) FILTER (WHERE NOT (r IS NULL OR r::text IN (''f'', ''false'', ''{}''))) FROM access_control.%I(%s) AS r',
              p.proname,
              (SELECT coalesce(string_agg(fc_sample(a.t, coalesce(p.proargnames[a.i], '')), ', ' ORDER BY a.i), '')
                 FROM unnest(p.proargtypes::regtype[]) WITH ORDINALITY AS a(t, i))) AS call
  FROM pg_proc p
 WHERE p.pronamespace = 'access_control'::regnamespace
   AND p.proname !~ '^_'
   AND p.prokind = 'f'
   AND p.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype, 'event_trigger'::regtype)
   AND NOT ('internal'::regtype = ANY (p.proargtypes::regtype[]))
   AND has_function_privilege('fc_app', p.oid, 'EXECUTE')
   AND p.proname NOT IN ('set_actor', 'set_portal_actor', 'clear_actor', 'authenticate',
                        'create_firm', 'accept_invitation', 'record_invitation_event', 'protect_table')
   AND p.oid <> 'access_control.create_business(text)'::regprocedure;
CREATE TABLE fc_outcome (fn text, outcome text, hint text);
GRANT SELECT ON fc_calls TO fc_app;
GRANT INSERT ON fc_outcome TO fc_app;
SET SESSION AUTHORIZATION fc_app;
DO $sweep$
DECLARE
    c record;
    answered bigint;
    st text;
    h text;
BEGIN
    FOR c IN SELECT * FROM fc_calls ORDER BY fn LOOP
        BEGIN
            EXECUTE c.call INTO answered;
            RAISE EXCEPTION USING ERRCODE = CASE WHEN c.void THEN 'ACOK0' WHEN answered = 0 THEN 'ACNUL' ELSE 'ACOK0' END;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, h = PG_EXCEPTION_HINT;
            INSERT INTO fc_outcome VALUES (c.fn,
                CASE st WHEN 'ACOK0' THEN 'answered' WHEN 'ACNUL' THEN 'nothing' ELSE st END, h);
        END;
    END LOOP;
END
$sweep$;
RESET SESSION AUTHORIZATION;
SELECT count(*) >= 40 AS swept_many,
       count(*) FILTER (WHERE outcome = '42501') >= 35 AS refused_many
  FROM fc_outcome;
SELECT fn AS not_refused, outcome FROM fc_outcome
 WHERE outcome <> '42501' OR hint IS NULL OR hint !~ 'set_actor' OR hint !~ 'act_as_system'
 ORDER BY fn;
SELECT DISTINCT hint AS the_hint FROM fc_outcome WHERE outcome = '42501';

-- What needs no actor works for the role: sign-up, a token, a key, the webhook.
SELECT max(id) AS audit_mark FROM access_control.audit_log \gset
SET SESSION AUTHORIZATION fc_app;
SELECT access_control.create_firm('Newcomer Books', 'owner@newcomer.test') > 0 AS firm_created;
SELECT access_control.create_business('Standalone Shop') > 0 AS business_created;
SELECT access_control.record_invitation_event(:invitation, 'delivered') AS delivery_state;
SELECT access_control.accept_invitation(:'invitation_token') > 0 AS invitation_accepted;
BEGIN;
SELECT access_control.authenticate(:'member_key') = :victim_member AS authenticated;
SELECT access_control.current_actor() = 'staff:' || :victim_member AS acting_as_member;
COMMIT;
SELECT access_control.current_actor() AS actor_after_commit;
RESET SESSION AUTHORIZATION;
SELECT action, actor, db_user FROM access_control.audit_log WHERE id > :audit_mark ORDER BY id;

-- act_as_system(): not PUBLIC's, not the request role's; the DBA grants it
-- to an administrative role, which then acts as system until the end of
-- its transaction. Its changes are audited as system, with its login.
SELECT has_function_privilege('public', 'access_control.act_as_system()', 'EXECUTE') AS public_may,
       has_function_privilege('fc_app', 'access_control.act_as_system()', 'EXECUTE') AS app_may;
SET SESSION AUTHORIZATION fc_app;
SELECT access_control.act_as_system();
RESET SESSION AUTHORIZATION;
CREATE ROLE fc_admin NOLOGIN;
GRANT EXECUTE ON FUNCTION access_control.act_as_system(), access_control.add_staff(bigint, text, text, text, text)
   TO fc_admin;
SET SESSION AUTHORIZATION fc_admin;
BEGIN;
SELECT access_control.act_as_system();
SELECT access_control.current_actor() AS actor;
SELECT access_control.add_staff(:victim, 'temp@victim.test') > 0 AS added;
COMMIT;
SELECT access_control.current_actor() AS actor_after_commit;
SELECT access_control.add_staff(:victim, 'temp2@victim.test');
RESET SESSION AUTHORIZATION;
SELECT action, actor, db_user FROM access_control.audit_log
 WHERE action = 'staff.added' AND new->>'email' LIKE 'temp%' ORDER BY id;

-- A superuser with no actor acts as system; its changes are audited so.
SELECT access_control.current_actor() AS superuser_actor;
SELECT access_control.set_programmatic_access(:victim_admin, false);
SELECT action, actor FROM access_control.audit_log ORDER BY id DESC LIMIT 1;
-- With an actor set, a superuser has that actor's authority, no more.
BEGIN;
SELECT access_control.set_actor(:victim_member);
SELECT access_control.set_programmatic_access(:victim_admin, true);
ROLLBACK;

-- Errors name only what the actor may see: another firm's owner trying a
-- grant in the victim firm gets the denial first, not the victim firm's
-- custom role names in a hint.
BEGIN;
SELECT access_control.set_actor(:attacker_owner);
SELECT access_control.grant_client_access(:victim_member, ARRAY[:client]::bigint[], 'no-such-role');
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:attacker_owner);
SELECT access_control.grant_team_access(:team, ARRAY[:client]::bigint[], 'no-such-role');
ROLLBACK;
-- The victim firm's own admin gets the hint, with its own role names.
BEGIN;
SELECT access_control.set_actor(:victim_admin);
SELECT access_control.grant_client_access(:victim_member, ARRAY[:client]::bigint[], 'no-such-role');
ROLLBACK;

DROP TABLE fc_calls, fc_outcome;
DROP FUNCTION fc_sample(regtype, text);
DROP EXTENSION access_control;
DROP ROLE fc_app;
DROP ROLE fc_admin;
