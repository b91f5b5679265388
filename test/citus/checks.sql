-- test/citus/checks.sql: make test-citus, run as the application role on
-- the coordinator of a Citus cluster (test/citus/run.sh). Each check shows
-- what a person gets from the distributed table "ledger" next to what they
-- get from "ledger_single", the same rows in a plain table on one node.
-- Businesses: 1 Acme, 2 Birch, 3 Cedar, 4 Dune, 5 Elm, 6 Fir; staff 1 is
-- the owner, staff 2 has Acme (clerk) and Birch (reader), staff 3 has
-- Cedar and Dune (payer) through a team; portal user 1 is Birch's.
-- A row is shown as business/amount; amount = business * 100 + n.
\set VERBOSITY terse
\set rows 'SELECT coalesce(string_agg(format(''%s/%s'', business_id, amount), '' '' ORDER BY business_id, id), ''none'') AS rows FROM '
SELECT current_user;

-- check: the ledger's shards lie on both workers
SELECT count(DISTINCT nodeport) AS workers, count(*) AS shards FROM citus_shards WHERE table_name = 'ledger'::regclass;

-- check: the owner sees every row, multi-shard and router, as on one node
BEGIN;
SELECT access_control.set_actor(1);
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
:rows ledger WHERE business_id = 5 \gset d_
:rows ledger_single WHERE business_id = 5 \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
COMMIT;

-- check: a member with direct grants sees Acme and Birch, multi-shard and router
BEGIN;
SELECT access_control.set_actor(2);
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
:rows ledger WHERE business_id = 2 \gset d_
:rows ledger_single WHERE business_id = 2 \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
:rows ledger WHERE business_id = 3 \gset d_
:rows ledger_single WHERE business_id = 3 \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
COMMIT;

-- check: a member through a team sees Cedar and Dune
BEGIN;
SELECT access_control.set_actor(3);
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
:rows ledger WHERE business_id = 4 \gset d_
:rows ledger_single WHERE business_id = 4 \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
COMMIT;

-- check: the portal user sees Birch only
BEGIN;
SELECT access_control.set_portal_actor(1);
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
:rows ledger WHERE business_id = 1 \gset d_
:rows ledger_single WHERE business_id = 1 \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
COMMIT;

-- check: no actor, and after clear_actor, nothing
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
BEGIN;
SELECT access_control.set_actor(1);
SELECT count(*) FROM ledger;
SELECT access_control.clear_actor();
:rows ledger \gset d_
:rows ledger WHERE business_id = 1 \gset r_
SELECT :'d_rows' AS multi_shard, :'r_rows' AS router;
COMMIT;

-- check: the actor follows savepoints on the workers too
BEGIN;
SELECT access_control.set_actor(3);
SELECT count(*) FROM ledger;
SAVEPOINT s;
SELECT access_control.set_actor(1);
SELECT count(*) FROM ledger;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) FROM ledger;
COMMIT;

-- check: writes obey the write permission (invoices.pay): the team member (payer) writes Cedar, not Acme
BEGIN;
SELECT access_control.set_actor(3);
SELECT try('INSERT INTO ledger VALUES (9, 3, 309)') AS distributed, try('INSERT INTO ledger_single VALUES (9, 3, 309)') AS single;
SELECT try('INSERT INTO ledger VALUES (9, 1, 109)') AS distributed, try('INSERT INTO ledger_single VALUES (9, 1, 109)') AS single;
SELECT try('UPDATE ledger SET amount = amount + 1 WHERE business_id IN (1, 3)') AS distributed,
       try('UPDATE ledger_single SET amount = amount + 1 WHERE business_id IN (1, 3)') AS single;
-- moving a row to Acme: Citus refuses to change a row's distribution column
-- at all (0A000), one node refuses it by the policy (42501)
SELECT try('UPDATE ledger SET business_id = 1 WHERE business_id = 3 AND id = 9') AS distributed,
       try('UPDATE ledger_single SET business_id = 1 WHERE business_id = 3 AND id = 9') AS single;
SELECT try('DELETE FROM ledger WHERE amount > 300') AS distributed, try('DELETE FROM ledger_single WHERE amount > 300') AS single;
ROLLBACK;

-- check: a reader (staff 2 on Birch) may not write there; the clerk role on Acme has no invoices.pay either
BEGIN;
SELECT access_control.set_actor(2);
SELECT try('INSERT INTO ledger VALUES (9, 2, 209)') AS distributed, try('INSERT INTO ledger_single VALUES (9, 2, 209)') AS single;
SELECT try('DELETE FROM ledger') AS distributed, try('DELETE FROM ledger_single') AS single;
ROLLBACK;

-- check: an API key session acts as its staff member (staff 2) on every node
SELECT key FROM api_key_of_staff_2 \gset
BEGIN;
SELECT access_control.authenticate(:'key') AS staff_id;
SELECT access_control.current_actor();
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS rows;
:rows ledger WHERE business_id = 1 \gset d_
SELECT :'d_rows' AS router;
COMMIT;

-- check: a revoke on the coordinator holds on the next distributed statement
BEGIN;
SELECT access_control.set_actor(2);
:rows ledger \gset d_
SELECT :'d_rows' AS before_revoke;
COMMIT;
BEGIN;
SELECT access_control.set_actor(1);
SELECT access_control.revoke_client_access(2, '{1}');
COMMIT;
BEGIN;
SELECT access_control.set_actor(2);
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS after_revoke;
:rows ledger WHERE business_id = 1 \gset d_
SELECT :'d_rows' AS router_after_revoke;
COMMIT;

-- check: a grant on the coordinator holds on the next distributed statement
BEGIN;
SELECT access_control.set_actor(1);
SELECT access_control.grant_client_access(2, '{1}', 'clerk');
COMMIT;
BEGIN;
SELECT access_control.set_actor(2);
:rows ledger \gset d_
:rows ledger_single \gset s_
SELECT :'d_rows' = :'s_rows' AS same, :'d_rows' AS after_grant;
COMMIT;

-- check: a token read from another session of the same role does not act, during its transaction or after
-- Two sessions of tenant, a role that many principals share. Session a
-- (over dblink) authenticates with staff 2's key in a transaction that has
-- already reached the workers, so Citus forwards the actor token to them;
-- this session, which has no key, reads the forwarded SET in
-- citus_stat_activity, as any session of the same role may.
\connect citus_test tenant :sockdir :coordinator
\set VERBOSITY terse
SELECT dblink_connect_u('a', format('host=%s port=%s dbname=citus_test user=tenant', :'sockdir', :'coordinator'));
SELECT dblink_exec('a', 'BEGIN');
SELECT n AS a_rows_before FROM dblink('a', 'SELECT count(*) FROM ledger') AS t(n bigint);
SELECT staff_id AS a_authenticated FROM dblink('a', 'SELECT access_control.authenticate(key) FROM api_key_of_staff_2') AS t(staff_id bigint);
SELECT substring(query FROM 'actor_token = ''([^'']+)''') AS token
  FROM citus_stat_activity
 WHERE usename = 'tenant' AND query LIKE 'SET LOCAL access_control.actor_token = %' AND is_worker_query
 LIMIT 1 \gset
SELECT :'token' ~ '^staff:2:key:1/' AS token_read;
SELECT rows AS a_rows FROM dblink('a', :'rows' || 'ledger') AS t(rows text);
-- access_control is not loaded in this session yet, so the coordinator
-- takes the SET as it takes any unknown setting, which Citus would forward
-- to the workers; but the statement that loads the library fails, as the
-- token was made on this node, before anything reaches a worker
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL access_control.actor_token = :'token';
:rows ledger;
ROLLBACK;
-- once access_control is loaded, the SET itself is refused
SELECT access_control.current_actor() AS own_actor;
BEGIN;
SET LOCAL access_control.actor_token = :'token';
ROLLBACK;
-- session a still acts as staff 2, until its transaction ends
SELECT rows AS a_rows FROM dblink('a', :'rows' || 'ledger') AS t(rows text);
SELECT dblink_exec('a', 'COMMIT');
SELECT dblink_disconnect('a');
-- after it: directly on a worker, the SET is refused; on a connection that
-- names itself Citus's, the token is, as it is of no transaction there
\connect citus_test tenant :sockdir :worker1
\set VERBOSITY terse
SET access_control.actor_token = :'token';
SET application_name = 'citus_internal gpid=10000000001';
BEGIN;
SET LOCAL access_control.actor_token = :'token';
SELECT access_control.current_actor();
ROLLBACK;

-- check: on the coordinator, a session posing as a Citus connection of another's transaction gets nothing with its token
-- Session b authenticates with staff 2's key in a transaction that has
-- reached the workers; this session of the same role reads the token, and
-- sessions c and d claim b's distributed transaction on the coordinator
-- itself: each names itself a Citus connection of b's backend
-- (application_name) and has Citus assign it b's transaction number and
-- timestamp, as Citus lets every role do. A token only ever acts on another
-- node than the one that made it, so the coordinator refuses it: at SET,
-- or, in a session where access_control is not loaded yet (which takes the
-- SET as it takes any unknown setting, and has Citus forward it), in the
-- statement that loads it, before anything reaches a worker.
\connect citus_test tenant :sockdir :coordinator
\set VERBOSITY terse
SELECT dblink_connect_u('b', format('host=%s port=%s dbname=citus_test user=tenant', :'sockdir', :'coordinator'));
SELECT dblink_exec('b', 'BEGIN');
SELECT n AS b_rows_before FROM dblink('b', 'SELECT count(*) FROM ledger') AS t(n bigint);
SELECT staff_id AS b_authenticated FROM dblink('b', 'SELECT access_control.authenticate(key) FROM api_key_of_staff_2') AS t(staff_id bigint);
SELECT rows AS b_rows FROM dblink('b', :'rows' || 'ledger_single') AS t(rows text);
SELECT substring(query FROM 'actor_token = ''([^'']+)''') AS token
  FROM citus_stat_activity
 WHERE usename = 'tenant' AND query LIKE 'SET LOCAL access_control.actor_token = %' AND is_worker_query
 LIMIT 1 \gset
SELECT citus_nodeid_for_gpid(split_part(:'token', '/', 3)::bigint) =
       (SELECT nodeid FROM pg_dist_node WHERE nodeport = :'coordinator') AS token_made_on_coordinator;
SELECT format('SET application_name = %L', 'citus_internal gpid=' || split_part(:'token', '/', 3)) AS pose,
       format('SELECT assign_distributed_transaction_id(0, %s, %L)', split_part(:'token', '/', 4),
              timestamptz '2000-01-01 00:00:00+00' + (split_part(:'token', '/', 5) || ' microseconds')::interval) AS claim,
       format('SET LOCAL access_control.actor_token = %L', :'token') AS replay \gset
-- c: access_control loaded first; the SET is refused
SELECT dblink_connect_u('c', format('host=%s port=%s dbname=citus_test user=tenant', :'sockdir', :'coordinator'));
SELECT actor AS c_own_actor FROM dblink('c', 'SELECT access_control.current_actor()') AS t(actor text);
SELECT dblink_exec('c', :'pose');
SELECT dblink_exec('c', 'BEGIN');
SELECT count(*) AS c_claimed FROM dblink('c', :'claim') AS t(r text);
SELECT dblink_exec('c', 'SET LOCAL citus.allow_nested_distributed_execution = on');
SELECT dblink_exec('c', 'SET LOCAL citus.propagate_set_commands = ''local''');
SELECT dblink_exec('c', :'replay');
SELECT dblink_exec('c', 'ROLLBACK');
-- d: access_control not loaded yet; the statement that loads it fails
SELECT dblink_connect_u('d', format('host=%s port=%s dbname=citus_test user=tenant', :'sockdir', :'coordinator'));
SELECT dblink_exec('d', :'pose');
SELECT dblink_exec('d', 'BEGIN');
SELECT count(*) AS d_claimed FROM dblink('d', :'claim') AS t(r text);
SELECT dblink_exec('d', 'SET LOCAL citus.allow_nested_distributed_execution = on');
SELECT dblink_exec('d', 'SET LOCAL citus.propagate_set_commands = ''local''');
SELECT dblink_exec('d', :'replay');
SELECT rows AS d_rows FROM dblink('d', :'rows' || 'ledger') AS t(rows text);
SELECT dblink_exec('d', 'ROLLBACK');
SELECT rows AS d_rows FROM dblink('d', :'rows' || 'ledger_single') AS t(rows text);
SELECT dblink_disconnect('c'), dblink_disconnect('d');
-- session b still acts as staff 2, until its transaction ends
SELECT rows AS b_rows FROM dblink('b', :'rows' || 'ledger') AS t(rows text);
SELECT dblink_exec('b', 'COMMIT');
SELECT dblink_disconnect('b');

-- check: on a worker, nobody becomes an actor by SET: the actor is refused, a forged token or another role's is an error
\connect citus_test app :sockdir :worker1
\set VERBOSITY terse
SELECT current_user, access_control.current_actor();
SET access_control.actor = 'staff:1';
SET access_control.actor_token = 'staff:1/1/10000000001/1/1/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
-- on a connection that names itself Citus's, the SET is taken, but the
-- token does not verify
SET application_name = 'citus_internal gpid=10000000001';
BEGIN;
SET LOCAL access_control.actor_token = 'staff:1/1/10000000001/1/1/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
SELECT access_control.current_actor();
ROLLBACK;
BEGIN;
SET LOCAL access_control.actor_token = 'staff:1';
SELECT access_control.current_actor();
ROLLBACK;
-- a true token, made for the superuser, does not verify for app, not even
-- on a connection that claims the superuser's distributed transaction
\connect citus_test postgres :sockdir :coordinator
BEGIN;
SELECT access_control.set_actor(1);
SELECT current_setting('access_control.actor_token') AS token \gset
ROLLBACK;
SELECT split_part(:'token', '/', 3) AS gpid, split_part(:'token', '/', 4) AS xact_number,
       timestamptz '2000-01-01 00:00:00+00' + (split_part(:'token', '/', 5) || ' microseconds')::interval AS xact_stamp \gset
\connect citus_test app :sockdir :worker1
\set VERBOSITY terse
SELECT format('citus_internal gpid=%s', :'gpid') AS app_name \gset
SET application_name = :'app_name';
BEGIN;
SET LOCAL access_control.actor_token = :'token';
SELECT assign_distributed_transaction_id(0, :'xact_number', :'xact_stamp');
SELECT access_control.current_actor();
ROLLBACK;
RESET application_name;
:rows ledger \gset d_
SELECT :'d_rows' AS without_actor;

-- check: on a worker, the access tables take no writes but replication's, not even a superuser's
\connect citus_test postgres :sockdir :worker1
\set VERBOSITY terse
SELECT current_user;
SELECT try($$SELECT access_control.add_staff(1, 'forged@main.test')$$) AS add_staff;
SELECT try('DELETE FROM access_control.staff_grant') AS delete_grants;
SELECT try('TRUNCATE access_control.secret_key') AS truncate_keys;
SELECT count(*) AS staff FROM access_control.staff;
