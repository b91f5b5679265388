-- The planner and the row helpers: a policy calling them can use the
-- business_id index (their support function offers an index condition),
-- and the planner knows how many rows the policy keeps for the current
-- actor, so a member with a few clients and an owner with many get the
-- plan that suits each; the answers are the oracle's in every case, in
-- generic plans and PL/pgSQL loops too.
CREATE EXTENSION access_control;
SELECT access_control.create_firm('Plan Firm', 'owner@plan.test') AS f \gset
SELECT id AS o FROM access_control.staff WHERE email = 'owner@plan.test' \gset
SELECT access_control.add_staff(:f, 'member@plan.test') AS m \gset
SELECT array_agg(access_control.create_business(:f, 'PB' || g) ORDER BY g) AS bs FROM generate_series(1, 200) g \gset
SELECT access_control.create_firm('Other Firm', 'owner@other.test') AS f2 \gset
SELECT count(access_control.create_business(:f2, 'OB' || g)) FROM generate_series(1, 100) g;
SELECT access_control.grant_client_access(:m, (:'bs'::bigint[])[1:3], 'bookkeeper');

-- 300 clients with 100 rows each, stored client by client; one row of each
-- client an hour, twelve seconds apart. 30,000 rows: ANALYZE reads them
-- all, so the statistics, and the plans, are the same on every run.
SELECT min(id) AS first FROM access_control.business \gset
CREATE TABLE plan_ledger (id bigserial PRIMARY KEY, business_id bigint NOT NULL,
                          created_at timestamptz NOT NULL, amount numeric)
    WITH (autovacuum_enabled = false);
INSERT INTO plan_ledger (business_id, created_at, amount)
SELECT b.id, timestamptz '2026-01-01 00:00:00+00' + ((g - 1) * 300 + b.id - :first) * interval '12 seconds', g
  FROM access_control.business b, generate_series(1, 100) g
 ORDER BY b.id, g;
CREATE INDEX ON plan_ledger (business_id);
CREATE INDEX ON plan_ledger (created_at);
ANALYZE plan_ledger;
SELECT access_control.protect_table('plan_ledger', 'business_id', 'invoices.view');
CREATE ROLE regress_plan;
GRANT SELECT ON plan_ledger TO regress_plan;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO regress_plan;
SET max_parallel_workers_per_gather = 0;
-- the last five hours: five rows of each client, 1,500 in all
\set recent '2026-01-04 23:00:00+00'
-- the rows the planner expects a query to return
CREATE FUNCTION estimated_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;

SET ROLE regress_plan;
BEGIN;
SELECT access_control.set_actor(:m) \gset
-- a member with 3 of the 300 clients: the planner expects their rows, and
-- none where the member lacks the permission (bookkeepers do not pay)
SELECT estimated_rows('SELECT * FROM plan_ledger') AS estimated, count(*) AS actual FROM plan_ledger;
SELECT estimated_rows($$SELECT * FROM plan_ledger WHERE access_control.has_permission(business_id, 'invoices.pay')$$) AS estimated,
       count(*) AS actual FROM plan_ledger WHERE access_control.has_permission(business_id, 'invoices.pay');
-- the business_id index; its condition is exact, so no per-row check is left
EXPLAIN (COSTS OFF) SELECT sum(amount) FROM plan_ledger;
SELECT count(*) AS n, sum(amount) AS total FROM plan_ledger \gset member_all_
-- the user's own filter on created_at (leakproof) is the only filter: the
-- member's 300 rows are fewer than the 1,500 recent ones spread over the
-- table, so the business_id index still
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM plan_ledger WHERE created_at >= :'recent';
SELECT count(*) AS n, sum(amount) AS total FROM plan_ledger WHERE created_at >= :'recent' \gset member_recent_
-- the latest twenty: the member's 300 rows, sorted (an index scan backwards
-- on created_at would read a hundred rows for each one kept)
EXPLAIN (COSTS OFF) SELECT id FROM plan_ledger ORDER BY created_at DESC LIMIT 20;
SELECT count(*) AS n, sum(id) AS ids FROM (SELECT id FROM plan_ledger ORDER BY created_at DESC LIMIT 20) l \gset member_latest_
-- a point lookup by primary key
EXPLAIN (COSTS OFF) SELECT amount FROM plan_ledger WHERE id = 1;
COMMIT;

BEGIN;
SELECT access_control.set_actor(:o) \gset
-- the owner sees 200 of the 300 clients
SELECT estimated_rows('SELECT * FROM plan_ledger') AS estimated, count(*) AS actual FROM plan_ledger;
-- every row: seeing more than a quarter of the businesses, the owner gets
-- no business_id index condition, so a sequential scan
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM plan_ledger;
SELECT count(*) AS n, sum(amount) AS total FROM plan_ledger \gset owner_all_
-- the owner's recent rows: the created_at index
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM plan_ledger WHERE created_at >= :'recent';
SELECT count(*) AS n, sum(amount) AS total FROM plan_ledger WHERE created_at >= :'recent' \gset owner_recent_
-- the latest twenty: created_at backwards, stopping after about thirty rows
EXPLAIN (COSTS OFF) SELECT id FROM plan_ledger ORDER BY created_at DESC LIMIT 20;
SELECT count(*) AS n, sum(id) AS ids FROM (SELECT id FROM plan_ledger ORDER BY created_at DESC LIMIT 20) l \gset owner_latest_
COMMIT;
RESET ROLE;

-- the oracle: row security bypassed, the visible ids written out
SELECT 'member' AS actor, :member_all_n AS n, :member_all_total AS total,
       (count(*), sum(amount)) = (:member_all_n, :member_all_total) AS same_as_oracle
  FROM plan_ledger WHERE business_id = ANY ((:'bs'::bigint[])[1:3])
UNION ALL
SELECT 'owner', :owner_all_n, :owner_all_total,
       (count(*), sum(amount)) = (:owner_all_n, :owner_all_total)
  FROM plan_ledger WHERE business_id = ANY (:'bs'::bigint[]);
SELECT 'member' AS actor, :member_recent_n AS n, :member_recent_total AS total,
       (count(*), sum(amount)) = (:member_recent_n, :member_recent_total) AS same_as_oracle
  FROM plan_ledger WHERE business_id = ANY ((:'bs'::bigint[])[1:3]) AND created_at >= :'recent'
UNION ALL
SELECT 'owner', :owner_recent_n, :owner_recent_total,
       (count(*), sum(amount)) = (:owner_recent_n, :owner_recent_total)
  FROM plan_ledger WHERE business_id = ANY (:'bs'::bigint[]) AND created_at >= :'recent';
SELECT 'member' AS actor, :member_latest_n AS n,
       (count(*), sum(id)) = (:member_latest_n, :member_latest_ids) AS same_as_oracle
  FROM (SELECT id FROM plan_ledger WHERE business_id = ANY ((:'bs'::bigint[])[1:3])
         ORDER BY created_at DESC LIMIT 20) l
UNION ALL
SELECT 'owner', :owner_latest_n,
       (count(*), sum(id)) = (:owner_latest_n, :owner_latest_ids)
  FROM (SELECT id FROM plan_ledger WHERE business_id = ANY (:'bs'::bigint[])
         ORDER BY created_at DESC LIMIT 20) l;

-- planning never fails for want of an actor or of statistics: no actor (who
-- sees nothing), an actor who is no longer staff, a table never analyzed;
-- nor for an unknown permission
SET ROLE regress_plan;
SELECT estimated_rows('SELECT * FROM plan_ledger') AS estimated, count(*) AS actual FROM plan_ledger;
RESET ROLE;
UPDATE access_control.staff SET status = 'removed' WHERE email = 'member@plan.test';
SET ROLE regress_plan;
BEGIN;
SELECT access_control.set_actor(:m) \gset
SELECT count(*) FROM plan_ledger WHERE created_at >= :'recent';
COMMIT;
RESET ROLE;
UPDATE access_control.staff SET status = 'active' WHERE email = 'member@plan.test';
-- an unknown permission is an error when the query runs, not while it is
-- planned (no index condition is offered for it)
SET ROLE regress_plan;
BEGIN;
SELECT access_control.set_actor(:m) \gset
EXPLAIN (COSTS OFF) SELECT count(*) FROM plan_ledger WHERE access_control.has_permission(business_id, 'invoices.viewed');
SELECT count(*) FROM plan_ledger WHERE access_control.has_permission(business_id, 'invoices.viewed');
ROLLBACK;
RESET ROLE;
CREATE TABLE plan_fresh (business_id bigint) WITH (autovacuum_enabled = false);
INSERT INTO plan_fresh SELECT unnest(:'bs'::bigint[]);
SELECT access_control.protect_table('plan_fresh');
GRANT SELECT ON plan_fresh TO regress_plan;
SET ROLE regress_plan;
BEGIN;
SELECT access_control.set_actor(:m) \gset
SELECT count(*) FROM plan_fresh;
COMMIT;
RESET ROLE;
DROP TABLE plan_fresh;

-- the same answers from a generic prepared plan, actor after actor: the
-- plan made for the member serves the owner, more slowly but rightly
PREPARE q AS SELECT count(*) FROM plan_ledger;
SET plan_cache_mode = force_generic_plan;
SET ROLE regress_plan;
BEGIN;
SELECT access_control.set_actor(:m) \gset
EXECUTE q;
COMMIT;
BEGIN;
SELECT access_control.set_actor(:o) \gset
EXECUTE q;
COMMIT;
EXECUTE q;  -- no actor
RESET ROLE;
RESET plan_cache_mode;
DEALLOCATE q;

-- a PL/pgSQL loop sees a change made inside the same transaction at once
DO $$
DECLARE n int; i int;
BEGIN
    PERFORM access_control.set_actor(s.id) FROM access_control.staff s WHERE s.email = 'member@plan.test';
    FOR i IN 1..2 LOOP
        SET LOCAL ROLE regress_plan;
        SELECT count(DISTINCT business_id) INTO n FROM plan_ledger;
        RAISE NOTICE 'round %: the member sees % clients', i, n;
        RESET ROLE;
        PERFORM access_control.clear_actor();  -- the grant is made by the system
        PERFORM access_control.grant_client_access(s.id, ARRAY(SELECT id FROM access_control.business WHERE name = 'PB100'), 'bookkeeper')
           FROM access_control.staff s WHERE s.email = 'member@plan.test';
        PERFORM access_control.set_actor(s.id) FROM access_control.staff s WHERE s.email = 'member@plan.test';
    END LOOP;
END $$;

RESET max_parallel_workers_per_gather;
DROP FUNCTION estimated_rows(text);
DROP TABLE plan_ledger;
DROP EXTENSION access_control;
DROP ROLE regress_plan;
