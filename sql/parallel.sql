-- The helpers give the same answers inside parallel workers.
CREATE EXTENSION access_control;
SELECT access_control.create_firm('Parallel Partners', 'owner@par.test') AS f \gset
SELECT access_control.add_staff(:f, 'member@par.test') AS m \gset
SELECT array_agg(access_control.create_business(:f, 'P' || g) ORDER BY g) AS bs FROM generate_series(1, 20) g \gset
SELECT access_control.grant_client_access(:m, (:'bs'::bigint[])[3:5], 'bookkeeper');
CREATE TABLE ledger_par (business_id bigint, amount int);
INSERT INTO ledger_par SELECT b, g FROM unnest(:'bs'::bigint[]) b, generate_series(1, 500) g;
ANALYZE ledger_par;
SELECT access_control.protect_table('ledger_par');
CREATE ROLE regress_par;
GRANT SELECT ON ledger_par TO regress_par;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO regress_par;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- every plan that can run in a worker does (force_parallel_mode before 16)
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'on', false) AS parallel_query_forced;
SET ROLE regress_par;
BEGIN;
SELECT access_control.set_actor(:m);
EXPLAIN (COSTS OFF) SELECT count(*) FROM ledger_par;
SELECT count(*), count(DISTINCT business_id), sum(amount) FROM ledger_par;
SELECT count(*) FROM ledger_par WHERE business_id = ANY (access_control.visible_business_ids());
COMMIT;
RESET ROLE;
SELECT id AS o FROM access_control.staff WHERE email = 'owner@par.test' \gset
SET ROLE regress_par;
BEGIN;
SELECT access_control.set_actor(:o);
SELECT count(*), count(DISTINCT business_id) FROM ledger_par;
COMMIT;
RESET ROLE;

-- a change made earlier in the transaction reaches the workers too
BEGIN;
SELECT access_control.set_actor(:m);
DELETE FROM access_control.staff_grant WHERE staff_id = :m AND business_id = (:'bs'::bigint[])[5];
SET LOCAL ROLE regress_par;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ledger_par;
SELECT count(*), count(DISTINCT business_id) FROM ledger_par;
ROLLBACK;

DROP TABLE ledger_par;
DROP EXTENSION access_control;
DROP ROLE regress_par;
