-- test/citus/fixture.sql: the firm of make test-citus, built on the
-- coordinator by a superuser after citus/replicate_access.sql; every row
-- reaches the workers by replication.
--
-- Firm "Main": owner (staff 1), a member with direct grants (staff 2: clerk
-- on Acme, reader on Birch), a member through a team (staff 3: payer on
-- Cedar and Dune), and six clients, so that a multi-shard query meets
-- shards on both workers. A portal user of Birch who may view invoices,
-- an API key of staff 2, and the table ledger twice: "ledger" distributed
-- by business_id, "ledger_single" a plain table on the coordinator with
-- the same rows, both protected by protect_table.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

SELECT access_control.create_firm('Main', 'owner@main.test');                 -- firm 1, staff 1
SELECT access_control.add_staff(1, 'direct@main.test');                       -- staff 2
SELECT access_control.add_staff(1, 'teamed@main.test');                       -- staff 3
SELECT access_control.create_business(1, name)
  FROM unnest('{Acme,Birch,Cedar,Dune,Elm,Fir}'::text[]) WITH ORDINALITY AS b(name, n)
 ORDER BY n;                                                                  -- businesses 1..6
SELECT access_control.create_client_role(1, 'reader', '{invoices.view}');
SELECT access_control.grant_client_access(2, '{1}', 'clerk');
SELECT access_control.grant_client_access(2, '{2}', 'reader');
SELECT access_control.create_team(1, 'North');                                -- team 1
SELECT access_control.add_team_member(1, 3);
SELECT access_control.grant_team_access(1, '{3,4}', 'payer');
SELECT access_control.add_portal_user(2, 'boss@birch.test', '{invoices.view}');  -- portal user 1

-- The application's role, created on the coordinator (Citus creates it on
-- the workers), with what the README says a backend needs.
CREATE ROLE app LOGIN;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
    access_control.clear_actor(), access_control.revoke_client_access(bigint, bigint[]),
    access_control.grant_client_access(bigint, bigint[], text, timestamptz)
  TO app;

CREATE TABLE ledger (id bigint, business_id bigint NOT NULL, amount int, PRIMARY KEY (business_id, id));
SELECT create_distributed_table('ledger', 'business_id');
CREATE TABLE ledger_single (id bigint, business_id bigint NOT NULL, amount int, PRIMARY KEY (business_id, id));
INSERT INTO ledger SELECT n, b, b * 100 + n FROM generate_series(1, 6) b, generate_series(1, 3) n;
INSERT INTO ledger_single SELECT * FROM ledger;
SELECT access_control.protect_table('ledger', 'business_id', 'invoices.view', 'invoices.pay');
SELECT access_control.protect_table('ledger_single', 'business_id', 'invoices.view', 'invoices.pay');
GRANT SELECT, INSERT, UPDATE, DELETE ON ledger, ledger_single TO app;

-- An API key of staff 2, handed to the checks as the application would
-- hold it.
CREATE TABLE api_key_of_staff_2 AS SELECT access_control.create_api_key(2, 'citus test') AS key;
GRANT SELECT ON api_key_of_staff_2 TO app;

-- A role that several principals share, each told apart only by the API
-- key it authenticates with (authenticate is PUBLIC's): it may read the
-- ledger and nothing of access_control. It may also open a second session
-- of itself with dblink, so that the checks can run two sessions at once.
CREATE ROLE tenant LOGIN;
GRANT SELECT ON ledger, ledger_single, api_key_of_staff_2 TO tenant;
CREATE EXTENSION dblink;
GRANT EXECUTE ON FUNCTION dblink_connect_u(text, text) TO tenant;

-- try(statement): runs it and tells what happened, as "<n> rows" or the
-- SQLSTATE and message of its error, so a refused write is one line of
-- output on every node alike.
CREATE FUNCTION try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE statement;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n || ' rows';
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE || ': ' || regexp_replace(SQLERRM, '_[0-9]+"', '"');
END $$;
GRANT EXECUTE ON FUNCTION try(text) TO app;
