-- The threat model: a SQL user with nothing but PUBLIC's privileges cannot
-- become an actor, write the extension's tables or read its secrets; the
-- actor lasts until the end of the transaction; SECURITY DEFINER code and
-- the C helpers never call what a caller planted on its search_path.
CREATE EXTENSION access_control;
\set VERBOSITY default

SELECT access_control.create_firm('TM Firm', 'tm-owner@tm.test') AS firm \gset
SELECT id AS owner FROM access_control.staff WHERE email = 'tm-owner@tm.test' \gset
SELECT access_control.add_staff(:firm, 'tm-member@tm.test', 'member') AS member \gset
SELECT access_control.create_business(:firm, 'TM Client') AS client \gset
SELECT access_control.grant_client_access(:member, ARRAY[:client]::bigint[], 'clerk');
SELECT access_control.create_api_key(:member, 'tm key') AS tm_key \gset
SET client_min_messages = warning;
CREATE TABLE tm_ledger (id serial PRIMARY KEY, business_id bigint NOT NULL, memo text);
INSERT INTO tm_ledger (business_id, memo) VALUES (:client, 'secret ledger row');
SELECT access_control.protect_table('tm_ledger');
RESET client_min_messages;

-- A role with nothing but PUBLIC's privileges (and SELECT on the table).
CREATE ROLE tm_plain NOLOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE ON tm_ledger TO tm_plain;

-- It is the session user too, as if it had logged in.
SET SESSION AUTHORIZATION tm_plain;
SELECT session_user, current_user, access_control.current_actor(), count(*) AS visible_rows FROM tm_ledger;
-- Setting the actor directly, in every spelling.
SET access_control.actor = 'staff:1';
SET LOCAL access_control.actor = 'staff:1';
SELECT set_config('access_control.actor', 'staff:' || :member, false);
SELECT set_config('access_control.actor', 'staff:' || :member || ':key:1', true);
ALTER ROLE tm_plain SET access_control.actor = 'staff:1';
-- Any other setting of the prefix is refused too, not kept as a placeholder.
SET access_control.anything = 'x';
SELECT set_config('access_control.anything', 'x', false);
-- Becoming someone else.
SET ROLE postgres;
SET ROLE pg_read_all_data;
-- The actor functions are not PUBLIC's.
SELECT access_control.set_actor(:member);
SELECT access_control.set_portal_actor(1);
SELECT access_control.clear_actor();
-- The management functions are not PUBLIC's either.
SELECT access_control.create_api_key(:member, 'mine now');
SELECT access_control.revoke_api_key(1);
SELECT access_control.set_programmatic_access(:member, true);
SELECT access_control.rotate_secret_key();
-- Nothing changed.
SELECT session_user, current_user, access_control.current_actor(), count(*) AS visible_rows FROM tm_ledger;
RESET SESSION AUTHORIZATION;

-- Writing any of the extension's tables: INSERT, UPDATE, DELETE and
-- TRUNCATE are refused on every one of them.
CREATE FUNCTION tm_try_writes() RETURNS TABLE (tbl text, refused text[])
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    col text;
    stmt text;
    codes text[];
BEGIN
    FOR t, col IN
        SELECT c.oid::regclass, a.attname
          FROM pg_depend d
          JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1
         WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'access_control')
           AND c.relkind IN ('r', 'p')
         ORDER BY c.relname
    LOOP
        codes := '{}';
        FOREACH stmt IN ARRAY ARRAY[
            format('INSERT INTO %s DEFAULT VALUES', t),
            format('UPDATE %s SET %I = %I', t, col, col),
            format('DELETE FROM %s', t),
            format('TRUNCATE %s', t),
            format('SELECT * FROM %s', t)]
        LOOP
            BEGIN
                EXECUTE stmt;
                codes := codes || 'ALLOWED'::text;
            EXCEPTION WHEN OTHERS THEN
                codes := codes || SQLSTATE::text;
            END;
        END LOOP;
        tbl := t::text;
        refused := codes;
        RETURN NEXT;
    END LOOP;
END $$;
SET SESSION AUTHORIZATION tm_plain;
-- each cell: INSERT, UPDATE, DELETE, TRUNCATE, SELECT (42501: refused)
SELECT count(*) >= 14 AS every_table_tried,
       count(*) FILTER (WHERE refused[1:4] = '{42501,42501,42501,42501}') = count(*) AS all_writes_refused,
       count(*) FILTER (WHERE refused[5] = '42501') = count(*) - 2 AS all_but_two_unreadable
  FROM tm_try_writes();
SELECT tbl, refused FROM tm_try_writes() WHERE refused[1:4] <> '{42501,42501,42501,42501}';
-- Reading the key hashes and the hashing keys.
SELECT secret_hash FROM access_control.api_key;
SELECT key FROM access_control.secret_key;
SELECT * FROM access_control.api_keys;
SELECT * FROM access_control.api_key_usage;
SELECT session_user, current_user, access_control.current_actor(), count(*) AS visible_rows FROM tm_ledger;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS ledger_rows, count(*) FILTER (WHERE memo = 'secret ledger row') AS unchanged FROM tm_ledger;

-- What PUBLIC may use in the schema (tm_plain holds nothing else there).
SELECT p.oid::regprocedure AS executable_by_public
  FROM pg_proc p WHERE p.pronamespace = 'access_control'::regnamespace
   AND has_function_privilege('tm_plain', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text;
-- and nothing of the internal schema: no USAGE on it, no EXECUTE in it.
SELECT has_schema_privilege('tm_plain', 'access_control_internal', 'USAGE') AS internal_usage,
       count(*) FILTER (WHERE has_function_privilege('tm_plain', p.oid, 'EXECUTE')) AS internal_executable,
       count(*) AS internal_functions
  FROM pg_proc p WHERE p.pronamespace = 'access_control_internal'::regnamespace;
SELECT c.relname AS readable_by_public
  FROM pg_class c WHERE c.relnamespace = 'access_control'::regnamespace
   AND c.relkind IN ('r', 'v', 'm', 'p')
   AND has_table_privilege('tm_plain', c.oid, 'SELECT')
 ORDER BY 1;
SELECT c.relname AS writable_by_public
  FROM pg_class c WHERE c.relnamespace = 'access_control'::regnamespace
   AND c.relkind IN ('r', 'v', 'm', 'p', 'S')
   AND (has_table_privilege('tm_plain', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
        OR (c.relkind = 'S' AND has_sequence_privilege('tm_plain', c.oid, 'USAGE, UPDATE')))
 ORDER BY 1;
SELECT has_schema_privilege('tm_plain', 'access_control', 'USAGE') AS schema_usage,
       has_schema_privilege('tm_plain', 'access_control', 'CREATE') AS schema_create;

-- The actor lasts until the end of the transaction.
BEGIN;
SELECT access_control.set_actor(:member);
SELECT access_control.current_actor() = 'staff:' || :member AS acting;
COMMIT;
SELECT access_control.current_actor() AS after_commit;
BEGIN;
SELECT access_control.set_actor(:member);
ROLLBACK;
SELECT access_control.current_actor() AS after_rollback;
-- Outside a transaction block it ends with the statement.
SELECT access_control.set_actor(:member);
SELECT access_control.current_actor() AS next_statement;
-- ROLLBACK TO SAVEPOINT restores the earlier actor; RELEASE keeps the later.
BEGIN;
SELECT access_control.set_actor(:owner);
SAVEPOINT a;
SELECT access_control.set_actor(:member);
SELECT access_control.current_actor() = 'staff:' || :member AS member_acting;
ROLLBACK TO SAVEPOINT a;
SELECT access_control.current_actor() = 'staff:' || :owner AS owner_again;
SAVEPOINT b;
SELECT access_control.authenticate(:'tm_key') = :member AS by_key;
RELEASE SAVEPOINT b;
SELECT access_control.current_actor() = 'staff:' || :member AS member_after_release;
SAVEPOINT c;
SELECT access_control.clear_actor();
ROLLBACK TO SAVEPOINT c;
SELECT access_control.current_actor() = 'staff:' || :member AS member_after_rollback_to;
COMMIT;
SELECT access_control.current_actor() AS after_commit;
-- A failed statement does not leave a half-set actor behind.
BEGIN;
SELECT access_control.set_actor(:member);
SAVEPOINT d;
SELECT access_control.set_actor(-5);
ROLLBACK TO SAVEPOINT d;
SELECT access_control.current_actor() = 'staff:' || :member AS still_member;
ROLLBACK;

-- What a DBA grants works on its own. A view, and a function without
-- SECURITY DEFINER, run what they call with the rights of their caller, so
-- each calls only functions PUBLIC may execute; granting it never needs a
-- grant on what it calls. (The internal _* functions are called only from
-- SECURITY DEFINER code; trigger functions fire without an EXECUTE check.)
SELECT o.object,
       coalesce(array_agg(DISTINCT m[1]) FILTER (WHERE NOT q.public), '{}') AS calls_not_public
  FROM (SELECT 'view ' || c.oid::regclass AS object, pg_get_viewdef(c.oid) AS body
          FROM pg_class c
         WHERE c.relnamespace = 'access_control'::regnamespace AND c.relkind = 'v'
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure, p.prosrc
          FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
         WHERE p.pronamespace = 'access_control'::regnamespace AND NOT p.prosecdef
           AND l.lanname IN ('sql', 'plpgsql') AND p.prorettype <> 'trigger'::regtype
           AND p.proname !~ '^_') AS o
  LEFT JOIN LATERAL regexp_matches(o.body, 'access_control\.(\w+)\s*\(', 'g') AS m ON true
  LEFT JOIN LATERAL (SELECT bool_and(has_function_privilege('public', f.oid, 'EXECUTE')) AS public
                       FROM pg_proc f
                      WHERE f.pronamespace = 'access_control'::regnamespace AND f.proname = m[1]) AS q ON true
 GROUP BY o.object
 ORDER BY o.object;

-- Planted functions and operators in a schema earlier on the caller's
-- search_path are never called: not by the SECURITY DEFINER functions, and
-- not by the queries the C helpers run as the extension's owner.
CREATE SCHEMA tm_evil AUTHORIZATION tm_plain;
CREATE TABLE tm_evil.calls (what text);
ALTER TABLE tm_evil.calls OWNER TO tm_plain;
SET ROLE tm_plain;
CREATE FUNCTION tm_evil.eq8(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO tm_evil.calls VALUES ('= bigint as ' || current_user); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR tm_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = tm_evil.eq8);
CREATE FUNCTION tm_evil.eqt(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO tm_evil.calls VALUES ('= text as ' || current_user); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR tm_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = tm_evil.eqt);
CREATE FUNCTION tm_evil.liketext(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO tm_evil.calls VALUES ('~~ as ' || current_user); RETURN a OPERATOR(pg_catalog.~~) b; END $$;
CREATE OPERATOR tm_evil.~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = tm_evil.liketext);
CREATE FUNCTION tm_evil.btrim(a text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN INSERT INTO tm_evil.calls VALUES ('btrim as ' || current_user); RETURN pg_catalog.btrim(a); END $$;
CREATE FUNCTION tm_evil.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN INSERT INTO tm_evil.calls VALUES ('now as ' || current_user); RETURN pg_catalog.now(); END $$;
GRANT USAGE ON SCHEMA tm_evil TO PUBLIC;
GRANT INSERT ON tm_evil.calls TO PUBLIC;
RESET ROLE;
-- The trusted caller (here the superuser) with the planted schema first.
SET search_path = tm_evil, pg_catalog, public;
SELECT access_control.create_api_key(:member, '  planted  ') AS planted_key \gset
SELECT access_control.add_staff(:firm, 'tm-planted@tm.test') AS planted_staff \gset
SELECT access_control.set_programmatic_access(:planted_staff, false);
SELECT access_control.remove_staff(:planted_staff);
BEGIN;
SET LOCAL ROLE tm_plain;
SELECT access_control.authenticate(:'planted_key') AS planted_auth \gset
SELECT access_control.can_see_business(:client) AS can_see;
SELECT access_control.has_permission(:client, 'bills.view') AS has_bills_view;
SELECT memo FROM public.tm_ledger;
COMMIT;
SELECT access_control.revoke_api_key(substring(:'planted_key' from '^ac_([0-9]+)_')::bigint);
SELECT count(*) AS planted_calls FROM tm_evil.calls;
-- The plant works where it is meant to: in the caller's own query.
SELECT 2::bigint = 2::bigint AS callers_own_comparison;
RESET search_path;
SELECT what AS planted_calls FROM tm_evil.calls;
SELECT :planted_auth = :member AS authenticated_as_member;

-- A placeholder set before the library is loaded does not survive the load.
\c
SET SESSION AUTHORIZATION tm_plain;
SET access_control.actor = 'staff:1';
SET access_control.anything = 'x';
SELECT access_control.current_actor();
SHOW access_control.actor;
SHOW access_control.anything;
SELECT count(*) AS visible_rows FROM tm_ledger;
RESET SESSION AUTHORIZATION;

-- No actor, no authority. A role granted the management functions (as the
-- application's request role is) changes nothing in any firm without an
-- actor: a forgotten set_actor, or SQL injection, is no takeover.
-- (sql/fail_closed.sql calls every function so.)
CREATE ROLE tm_app NOLOGIN;
GRANT EXECUTE ON FUNCTION access_control.set_staff_role(bigint, text), access_control.remove_staff(bigint),
    access_control.grant_client_access(bigint, bigint[], text, timestamptz),
    access_control.add_staff(bigint, text, text, text, text),
    access_control.create_api_key(bigint, text, timestamptz) TO tm_app;
SET SESSION AUTHORIZATION tm_app;
SELECT access_control.set_staff_role(:member, 'owner');
SELECT access_control.remove_staff(:owner);
SELECT access_control.grant_client_access(:member, ARRAY[:client]::bigint[], 'administrator');
SELECT access_control.add_staff(:firm, 'intruder@evil.test', 'admin');
SELECT access_control.create_api_key(:owner, 'stolen');
RESET SESSION AUTHORIZATION;
SELECT email, role, status FROM access_control.staff WHERE firm_id = :firm ORDER BY id;

-- The permission catalog's trigger pins search_path too: an operator
-- planted first on a superuser's search_path is not called when a
-- permission is deleted (here refused, since a built-in role holds it).
SELECT access_control.define_permission('tm.unused', 'Planted-operator bait', true) AS tm_bit \gset
SET ROLE tm_plain;
CREATE FUNCTION tm_evil.ne84(a bigint, b integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'planted <> ran as %', current_user; RETURN a OPERATOR(pg_catalog.<>) b; END $$;
CREATE OPERATOR tm_evil.<> (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = tm_evil.ne84);
RESET ROLE;
SET search_path = tm_evil, pg_catalog, public;
DELETE FROM access_control.permission WHERE name = 'tm.unused';
RESET search_path;

-- Implication cycles are refused for any statement shape: one UPDATE of
-- two rows that point at each other is a cycle, though each row alone is not.
SELECT access_control.define_permission('tm.a', 'Cycle bait A') AS tm_a,
       access_control.define_permission('tm.b', 'Cycle bait B') AS tm_b \gset
UPDATE access_control.permission
   SET implies = CASE name WHEN 'tm.a' THEN int8shl(1, :tm_b) ELSE int8shl(1, :tm_a) END
 WHERE name IN ('tm.a', 'tm.b');
SELECT name, implies FROM access_control.permission WHERE name IN ('tm.a', 'tm.b') ORDER BY name;
-- A chain (no cycle) in one statement is fine.
UPDATE access_control.permission
   SET implies = CASE name WHEN 'tm.a' THEN int8shl(1, :tm_b) ELSE 0 END
 WHERE name IN ('tm.a', 'tm.b');
SELECT name, access_control.permission_names(implies) AS implies
  FROM access_control.permission WHERE name IN ('tm.a', 'tm.b') ORDER BY name;

-- TRUNCATE of an access table is refused, even for a superuser: it would
-- change access without an audit row.
BEGIN;
TRUNCATE access_control.team_grant;
ROLLBACK;
CREATE FUNCTION tm_try_truncate() RETURNS TABLE (tbl text, outcome text)
LANGUAGE plpgsql SET client_min_messages = warning AS $$
DECLARE t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
         WHERE c.relnamespace = 'access_control'::regnamespace AND c.relkind = 'r'
           AND c.relname !~ '^cache_sentinel'
         ORDER BY c.relname
    LOOP
        BEGIN
            EXECUTE format('TRUNCATE %s CASCADE', t);
            outcome := 'TRUNCATED';
            RAISE EXCEPTION USING ERRCODE = 'ACTR0';
        EXCEPTION WHEN OTHERS THEN
            IF SQLSTATE <> 'ACTR0' THEN
                outcome := SQLSTATE;
            END IF;
        END;
        tbl := t::text;
        RETURN NEXT;
    END LOOP;
END $$;
SELECT count(*) >= 16 AS tried, count(*) FILTER (WHERE outcome = '42501') = count(*) AS all_refused
  FROM tm_try_truncate();
SELECT * FROM tm_try_truncate() WHERE outcome <> '42501';

-- A removed admin's pending invitations are cancelled with her, audited:
-- a fired admin cannot come back under another address.
SELECT access_control.add_staff(:firm, 'tm-admin@tm.test', 'admin') AS tm_admin \gset
BEGIN;
SELECT access_control.set_actor(:tm_admin);
SELECT token AS comeback_token FROM access_control.invite_staff(:firm, 'tm-admin@elsewhere.test', 'admin') \gset
COMMIT;
BEGIN;
SELECT access_control.set_actor(:owner);
SELECT access_control.remove_staff(:tm_admin);
COMMIT;
SELECT email, status FROM access_control.invitation WHERE email = 'tm-admin@elsewhere.test';
SELECT action, actor = 'staff:' || :owner AS by_owner FROM access_control.audit_log
 WHERE entity = 'invitation' AND new->>'status' = 'cancelled';
SELECT access_control.accept_invitation(:'comeback_token');

-- A WITH HOLD cursor opened under an actor keeps that actor's rows after
-- COMMIT: PostgreSQL runs it to the end at COMMIT. A pooled connection
-- should close such a cursor before the next transaction (README, wiring).
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO tm_app;
GRANT SELECT ON tm_ledger TO tm_app;
SET SESSION AUTHORIZATION tm_app;
BEGIN;
SELECT access_control.set_actor(:member);
DECLARE tm_held CURSOR WITH HOLD FOR SELECT memo FROM tm_ledger;
COMMIT;
SELECT access_control.current_actor() AS actor_now, count(*) AS rows_now FROM tm_ledger;
FETCH ALL FROM tm_held;
CLOSE tm_held;
RESET SESSION AUTHORIZATION;

DROP SCHEMA tm_evil CASCADE;
DROP TABLE tm_ledger;
DROP FUNCTION tm_try_writes();
DROP FUNCTION tm_try_truncate();
DROP ROLE tm_plain;
DROP EXTENSION access_control;
DROP ROLE tm_app;
