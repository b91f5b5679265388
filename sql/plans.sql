-- A policy calling the row helpers can use the business_id index (through the
-- helpers' planner support function); answers stay right in generic plans
-- and PL/pgSQL loops.
CREATE EXTENSION access_control;
SELECT access_control.create_firm('Plan Firm', 'owner@plan.test') AS f \gset
SELECT access_control.add_staff(:f, 'member@plan.test') AS m \gset
SELECT array_agg(access_control.create_business(:f, 'PB' || g) ORDER BY g) AS bs FROM generate_series(1, 200) g \gset
SELECT access_control.grant_client_access(:m, (:'bs'::bigint[])[1:3], 'bookkeeper');
CREATE TABLE plan_ledger (id bigserial PRIMARY KEY, business_id bigint NOT NULL,
                          created_at timestamptz NOT NULL, amount numeric);
INSERT INTO plan_ledger (business_id, created_at, amount)
SELECT b, timestamptz '2026-01-01' + g * interval '1 minute', g
  FROM unnest(:'bs'::bigint[]) b, generate_series(1, 200) g;
CREATE INDEX ON plan_ledger (business_id);
CREATE INDEX ON plan_ledger (created_at);
ANALYZE plan_ledger;
SELECT access_control.protect_table('plan_ledger', 'business_id', 'invoices.view');
CREATE ROLE regress_plan;
GRANT SELECT ON plan_ledger TO regress_plan;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO regress_plan;

SET ROLE regress_plan;
BEGIN;
SELECT access_control.set_actor(:m) \gset
-- a member with 3 of 200 clients: the business_id index, helper kept as the check
EXPLAIN (COSTS OFF) SELECT sum(amount) FROM plan_ledger;
SELECT count(*), count(DISTINCT business_id) FROM plan_ledger;
-- the user's own filter on created_at (leakproof) is applied under the policy;
-- the planner does not know how many clients the actor has and keeps the
-- business_id index here
EXPLAIN (COSTS OFF) SELECT count(*) FROM plan_ledger WHERE created_at >= '2026-01-01 03:20:00';
SELECT count(*) FROM plan_ledger WHERE created_at >= '2026-01-01 03:20:00';
-- a point lookup by primary key
EXPLAIN (COSTS OFF) SELECT amount FROM plan_ledger WHERE id = 1;
COMMIT;

-- the same answers from a generic prepared plan, actor after actor
PREPARE q AS SELECT count(*) FROM plan_ledger;
SET plan_cache_mode = force_generic_plan;
BEGIN;
SELECT access_control.set_actor(:m) \gset
EXECUTE q;
COMMIT;
RESET ROLE;
SELECT id AS o FROM access_control.staff WHERE email = 'owner@plan.test' \gset
SET ROLE regress_plan;
BEGIN;
SELECT access_control.set_actor(:o) \gset
EXECUTE q;
COMMIT;
EXECUTE q;  -- no actor
RESET plan_cache_mode;
DEALLOCATE q;

-- a PL/pgSQL loop sees a change made inside the same transaction at once
RESET ROLE;
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

DROP TABLE plan_ledger;
DROP EXTENSION access_control;
DROP ROLE regress_plan;
