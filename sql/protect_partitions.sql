-- protect_table on a partitioned table protects every partition, at every
-- level, and a partition created or attached later is protected when it
-- appears (an event trigger): reading or writing a partition directly is
-- no way around the policy. Inheritance children are protected the same
-- way.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never

SELECT access_control.create_firm('Part Books', 'owner@part.test') AS firm \gset
SELECT access_control.add_staff(:firm, 'member@part.test') AS member \gset
SELECT access_control.create_business(:firm, 'Part Mine') AS mine \gset
SELECT access_control.create_business(:firm, 'Part Other') AS other \gset
SELECT access_control.grant_client_access(:member, ARRAY[:mine]::bigint[], 'clerk');

CREATE ROLE part_app;
-- the application role may touch every table of the schema, partitions included
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO part_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO part_app;

-- A ledger partitioned by business, one partition itself partitioned.
CREATE TABLE part_ledger (business_id bigint NOT NULL, year int NOT NULL, memo text) PARTITION BY LIST (business_id);
CREATE TABLE part_ledger_mine PARTITION OF part_ledger FOR VALUES IN (:mine);
CREATE TABLE part_ledger_other PARTITION OF part_ledger FOR VALUES IN (:other) PARTITION BY RANGE (year);
CREATE TABLE part_ledger_other_2024 PARTITION OF part_ledger_other FOR VALUES FROM (2024) TO (2025);
INSERT INTO part_ledger VALUES (:mine, 2024, 'mine'), (:other, 2024, 'other 2024');
SELECT access_control.protect_table('part_ledger');

-- Every partition carries the policies now.
SELECT c.relname, c.relrowsecurity AS rls,
       (SELECT array_agg(p.polname ORDER BY p.polname) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c WHERE c.relname LIKE 'part_ledger%' AND c.relkind IN ('r', 'p') ORDER BY c.relname;

-- The member, through the parent and through each partition directly.
SET SESSION AUTHORIZATION part_app;
BEGIN;
SELECT access_control.set_actor(:member);
SELECT memo AS via_parent FROM part_ledger ORDER BY memo;
SELECT memo AS own_partition FROM part_ledger_mine;
SELECT memo AS via_partition FROM part_ledger_other;
SELECT memo AS via_subpartition FROM part_ledger_other_2024;
WITH u AS (UPDATE part_ledger_other_2024 SET memo = 'overwritten' RETURNING 1) SELECT count(*) AS rows_updated FROM u;
WITH d AS (DELETE FROM part_ledger_other RETURNING 1) SELECT count(*) AS rows_deleted FROM d;
INSERT INTO part_ledger_other_2024 VALUES (:other, 2024, 'planted');
ROLLBACK;
RESET SESSION AUTHORIZATION;

-- Partitions that appear later: created as PARTITION OF, attached, and
-- attached with partitions of their own.
CREATE TABLE part_ledger_other_2025 PARTITION OF part_ledger_other FOR VALUES FROM (2025) TO (2026);
CREATE TABLE part_ledger_other_2026 (business_id bigint NOT NULL, year int NOT NULL, memo text);
ALTER TABLE part_ledger_other ATTACH PARTITION part_ledger_other_2026 FOR VALUES FROM (2026) TO (2027);
CREATE TABLE part_ledger_third (business_id bigint NOT NULL, year int NOT NULL, memo text) PARTITION BY RANGE (year);
CREATE TABLE part_ledger_third_all PARTITION OF part_ledger_third FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
ALTER TABLE part_ledger ATTACH PARTITION part_ledger_third FOR VALUES IN (999999);
INSERT INTO part_ledger VALUES (:other, 2025, 'other 2025'), (:other, 2026, 'other 2026'), (999999, 2024, 'third');
SELECT c.relname, c.relrowsecurity AS rls,
       (SELECT array_agg(p.polname ORDER BY p.polname) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c WHERE c.relname LIKE 'part_ledger%' AND c.relkind IN ('r', 'p') ORDER BY c.relname;
SET SESSION AUTHORIZATION part_app;
BEGIN;
SELECT access_control.set_actor(:member);
SELECT count(*) AS rows_2025 FROM part_ledger_other_2025;
SELECT count(*) AS rows_2026 FROM part_ledger_other_2026;
SELECT count(*) AS rows_third FROM part_ledger_third_all;
ROLLBACK;
RESET SESSION AUTHORIZATION;
-- A table created elsewhere is left alone.
CREATE TABLE part_unrelated (business_id bigint);
SELECT relrowsecurity AS unrelated_rls FROM pg_class WHERE relname = 'part_unrelated';

-- Calling protect_table again with a read permission replaces the
-- policies on every partition.
SELECT access_control.protect_table('part_ledger', 'business_id', 'invoices.view');
SELECT count(DISTINCT pg_get_expr(p.polqual, p.polrelid)) AS read_quals,
       min(pg_get_expr(p.polqual, p.polrelid)) AS read_qual
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
 WHERE c.relname LIKE 'part_ledger%' AND p.polname = 'access_control_read';

-- Inheritance: children are protected too, now and when they appear.
CREATE TABLE inh_ledger (business_id bigint NOT NULL, memo text);
CREATE TABLE inh_ledger_old () INHERITS (inh_ledger);
INSERT INTO inh_ledger_old VALUES (:other, 'old other');
SELECT access_control.protect_table('inh_ledger');
CREATE TABLE inh_ledger_new () INHERITS (inh_ledger);
INSERT INTO inh_ledger_new VALUES (:other, 'new other');
CREATE TABLE inh_ledger_late (business_id bigint NOT NULL, memo text);
ALTER TABLE inh_ledger_late INHERIT inh_ledger;
INSERT INTO inh_ledger_late VALUES (:other, 'late other');
SELECT c.relname, c.relrowsecurity AS rls,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c WHERE c.relname LIKE 'inh_ledger%' AND c.relkind = 'r' ORDER BY c.relname;
SET SESSION AUTHORIZATION part_app;
BEGIN;
SELECT access_control.set_actor(:member);
SELECT count(*) AS parent_rows FROM inh_ledger;
SELECT count(*) AS old_rows FROM inh_ledger_old;
SELECT count(*) AS new_rows FROM inh_ledger_new;
SELECT count(*) AS late_rows FROM inh_ledger_late;
ROLLBACK;
RESET SESSION AUTHORIZATION;

DROP TABLE part_ledger, part_unrelated, inh_ledger CASCADE;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM part_app;
DROP EXTENSION access_control;
DROP ROLE part_app;
