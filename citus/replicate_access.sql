/*
 * citus/replicate_access.sql: copies the access data of a Citus coordinator
 * to every worker by logical replication, synchronously.
 *
 * Run it once with psql on the coordinator, as a superuser, in the database
 * that has access_control, after citus_add_node() of every worker:
 *
 *   psql -d app -v publisher='host=coord.internal port=5432 dbname=app user=replicator' \
 *        -f citus/replicate_access.sql
 *
 * publisher is the connection string the workers use to reach the
 * coordinator (a role with REPLICATION and SELECT on the access tables, or
 * a superuser; its password in the workers' ~/.pgpass). Run it again after
 * adding a worker or updating the extension: it starts over.
 *
 * What it does:
 *   1. On the coordinator: the publication access_control of every table of
 *      the extension that decides access (they all have a primary key):
 *      all but the audit log and the API keys' last use, which stay on the
 *      coordinator, where every change is made and every API key is
 *      authenticated.
 *   2. On each worker: empties those tables -- the rows the worker's own
 *      CREATE EXTENSION seeded, its own secret_key included -- and guards
 *      them with a trigger that refuses every write except replication's
 *      (an ordinary trigger, so the apply worker, which runs with
 *      session_replication_role = replica, skips it); then the
 *      subscription access_control_<nodeid>, which copies the coordinator's
 *      rows, its hashing keys included, so API keys verify on every node.
 *   3. Waits until every worker has copied every table.
 *   4. Makes the coordinator's commits wait until every worker has applied
 *      them: synchronous_standby_names lists the subscriptions (ALTER
 *      SYSTEM), and synchronous_commit = remote_apply for this database.
 *      A change to access data committed on the coordinator then holds on
 *      every node from the next statement on. While a worker is down,
 *      commits on the coordinator that write wait for it.
 */
\set ON_ERROR_STOP on
\set QUIET on
\if :{?publisher}
\else
\echo 'usage: psql -v publisher=''<connection string of the coordinator, as workers reach it>'' -f citus/replicate_access.sql'
\quit
\endif

SET client_min_messages = warning;
SET search_path = pg_catalog, pg_temp;

SELECT NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'access_control') AS no_extension,
       NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS no_citus,
       current_setting('wal_level') <> 'logical' AS no_logical
\gset
\if :no_extension
\echo 'replicate_access: access_control is not installed in this database'
\quit
\endif
\if :no_citus
\echo 'replicate_access: citus is not installed in this database'
\quit
\endif
\if :no_logical
\echo 'replicate_access: the coordinator needs wal_level = logical'
\quit
\endif

-- The extension's tables that decide access, from its one list of tables:
-- all but the audit log and the API keys' last use, which only the
-- coordinator writes and reads. (Its cache sentinels hold no rows: each
-- node's own triggers invalidate them.) Each needs its primary key, which
-- replication uses to find the rows that an update or delete changes.
SELECT string_agg(format('access_control.%I', t.name), ', ' ORDER BY t.name) AS ac_tables,
       string_agg(t.name, ', ') FILTER (WHERE NOT EXISTS (
           SELECT FROM pg_index i
            WHERE i.indrelid = format('access_control.%I', t.name)::regclass AND i.indisprimary)) AS no_pkey
  FROM access_control_internal.access_tables() t
 WHERE t.name NOT IN ('audit_log', 'api_key_usage')
\gset
\if :{?no_pkey}
\echo 'replicate_access: these access tables have no primary key: ':no_pkey
\quit
\endif
-- Emptied on each worker: those, and the API keys' last use, which refers
-- to api_key (in replica mode, where foreign keys are not checked).
SELECT :'ac_tables' || ', access_control.api_key_usage' AS ac_truncate \gset

CREATE TEMP TABLE ac_workers AS
SELECT nodeid, nodename, nodeport, 'access_control_' || nodeid AS subname
  FROM pg_dist_node
 WHERE groupid <> 0 AND noderole = 'primary' AND isactive
 ORDER BY nodeid;

SELECT count(*) AS n_workers,
       format('ANY %s (%s)', count(*), string_agg(quote_ident(subname), ', ' ORDER BY nodeid)) AS sync_names
  FROM ac_workers
\gset

-- Starting over: no waiting for workers while the subscriptions change.
ALTER SYSTEM RESET synchronous_standby_names;
SELECT pg_reload_conf() AS reloaded \gset

-- Runs one command (one statement: master_run_on_worker reports only the
-- first of several) on one worker; raises its error, if any.
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION pg_temp.on_worker(w ac_workers, command text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
    res text;
BEGIN
    SELECT success, result INTO ok, res
      FROM pg_catalog.master_run_on_worker(ARRAY[w.nodename], ARRAY[w.nodeport], ARRAY[command], false);
    IF NOT ok THEN
        RAISE EXCEPTION 'on worker %:%: %', w.nodename, w.nodeport, res
            USING HINT = 'The command was: ' || command;
    END IF;
    RETURN res;
END $$;
RESET citus.enable_ddl_propagation;

-- Old subscriptions first: dropping one drops its slot on the coordinator.
SELECT pg_temp.on_worker(w, format('DROP SUBSCRIPTION IF EXISTS %I', w.subname))
  FROM ac_workers w \g /dev/null

SET citus.enable_ddl_propagation = off;
DROP PUBLICATION IF EXISTS access_control;
SELECT format('CREATE PUBLICATION access_control FOR TABLE %s', :'ac_tables') \gexec
RESET citus.enable_ddl_propagation;

-- Each worker, in one statement (one transaction): empty the tables, guard
-- them. Then subscribe.
SELECT pg_temp.on_worker(w, format($cmd$DO $d$
    DECLARE t regclass;
    BEGIN
        PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
        PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
        -- DELETE, not TRUNCATE, which the access tables refuse even here
        FOREACH t IN ARRAY '{%2$s}'::regclass[] LOOP
            EXECUTE format('DELETE FROM %%s', t);
        END LOOP;
        CREATE SCHEMA IF NOT EXISTS access_control_replica;
        REVOKE ALL ON SCHEMA access_control_replica FROM PUBLIC;
        CREATE OR REPLACE FUNCTION access_control_replica.refuse_write() RETURNS trigger
            LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
        BEGIN
            RAISE EXCEPTION 'access data is read-only on a Citus worker'
                USING ERRCODE = 'read_only_sql_transaction',
                      DETAIL = format('%%s is copied from the coordinator by logical replication.', TG_TABLE_NAME),
                      HINT = 'Change access data on the coordinator.';
        END $f$;
        FOREACH t IN ARRAY '{%1$s}'::regclass[] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS replica_only ON %%s', t);
            EXECUTE format('CREATE TRIGGER replica_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %%s
                            FOR EACH STATEMENT EXECUTE FUNCTION access_control_replica.refuse_write()', t);
        END LOOP;
    END $d$$cmd$, :'ac_tables', :'ac_truncate'))
  FROM ac_workers w \g /dev/null

SELECT pg_temp.on_worker(w, format(
    'CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION access_control WITH (copy_data = true)',
    w.subname, :'publisher'))
  FROM ac_workers w \g /dev/null

-- Wait until every worker has copied every table.
DO $$
DECLARE
    w ac_workers;
    pending int;
BEGIN
    FOR i IN 1..600 LOOP
        pending := 0;
        FOR w IN SELECT * FROM ac_workers LOOP
            pending := pending + pg_temp.on_worker(w, format(
                'SELECT count(*) FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid'
                ' WHERE s.subname = %L AND r.srsubstate <> ''r''', w.subname))::int;
        END LOOP;
        IF pending = 0 THEN
            RETURN;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
    RAISE EXCEPTION 'the workers have not copied the access tables after 60 seconds'
        USING HINT = 'See the workers'' logs: can they reach the coordinator with the publisher connection string?';
END $$;

-- From now on a commit that changes access data returns once every worker
-- has applied it.
ALTER SYSTEM SET synchronous_standby_names = :'sync_names';
SELECT pg_reload_conf() AS reloaded \gset
SET citus.enable_ddl_propagation = off;
SELECT format('ALTER DATABASE %I SET synchronous_commit = remote_apply', current_database()) \gexec
RESET citus.enable_ddl_propagation;

\echo 'replicate_access: ':n_workers' worker(s) subscribed to the access data, synchronously (remote_apply)'
