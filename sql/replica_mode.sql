-- session_replication_role = replica (a logical replication apply worker, a
-- DBA's bulk load, a restore) switches ordinary triggers off. The cache
-- invalidation still fires, so a change made that way is honoured by the
-- next statement; the audit trigger does not fire, like any ordinary trigger.
CREATE EXTENSION access_control;
SELECT access_control.create_firm('Replica Firm', 'owner@replica.test') AS f \gset
SELECT access_control.add_staff(:f, 'member@replica.test') AS m \gset
SELECT access_control.create_business(:f, 'Client One') AS b1 \gset
SELECT access_control.create_business(:f, 'Client Two') AS b2 \gset
SELECT access_control.grant_client_access(:m, ARRAY[:b1]::bigint[], 'bookkeeper');
CREATE TABLE replica_ledger (id bigserial PRIMARY KEY, business_id bigint NOT NULL, amount numeric);
INSERT INTO replica_ledger (business_id, amount) VALUES (:b1, 10), (:b1, 20), (:b2, 300);
SET client_min_messages = warning;
SELECT access_control.protect_table('replica_ledger', 'business_id', 'invoices.view');
RESET client_min_messages;
CREATE ROLE regress_replica;
GRANT SELECT ON replica_ledger TO regress_replica;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO regress_replica;

-- which triggers fire in replica mode (A = always): the cache invalidation,
-- the built-in roles taking in a new permission, and the audit log's
-- append-only guards; nothing else
SELECT tgrelid::regclass AS "table", tgname, tgenabled
  FROM pg_trigger
 WHERE tgrelid::regclass::text LIKE 'access_control.%' AND NOT tgisinternal AND tgenabled = 'A'
 ORDER BY tgrelid::regclass::text, tgname;

BEGIN;
SET LOCAL ROLE regress_replica;
SELECT access_control.set_actor(:m) \gset
SELECT count(*), sum(amount) FROM replica_ledger;  -- Client One: 2 rows, 30
COMMIT;

SELECT count(*) AS audit_rows_before FROM access_control.audit_log \gset
SET session_replication_role = replica;
DELETE FROM access_control.staff_grant WHERE staff_id = :m;
INSERT INTO access_control.staff_grant (staff_id, business_id, role_id)
SELECT :m, :b2, id FROM access_control.client_role WHERE firm_id IS NULL AND name = 'bookkeeper';
RESET session_replication_role;

-- the next statement sees the move from Client One to Client Two
BEGIN;
SET LOCAL ROLE regress_replica;
SELECT access_control.set_actor(:m) \gset
SELECT count(*), sum(amount) FROM replica_ledger;  -- Client Two: 1 row, 300
COMMIT;
-- and nothing was audited
SELECT count(*) - :audit_rows_before AS new_audit_rows FROM access_control.audit_log;

DROP TABLE replica_ledger;
DROP EXTENSION access_control;
DROP ROLE regress_replica;
