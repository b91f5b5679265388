-- The access cache: an actor's access is read once and reused by later
-- statements, and every change is honoured by the next statement: a change
-- made earlier in the same transaction, one made between two evaluations
-- of an expression PL/pgSQL keeps, one applied as a replica. (Changes
-- committed by other sessions: test/isolation/specs/*_visibility.spec.)
CREATE EXTENSION access_control;
SELECT access_control.create_firm('Cache Firm', 'owner@cache.test') AS f \gset
SELECT access_control.add_staff(:f, 'member@cache.test') AS m \gset
SELECT array_agg(access_control.create_business(:f, 'CB' || g) ORDER BY g) AS bs FROM generate_series(1, 3) g \gset
SELECT access_control.grant_client_access(:m, :'bs', 'bookkeeper');

-- how often this transaction has read access_control.staff: once for
-- set_actor when the actor's map is not cached (to tell an unknown actor),
-- then once for each time the actor's access is computed
CREATE FUNCTION staff_reads() RETURNS bigint LANGUAGE sql AS $$
    SELECT seq_scan + idx_scan FROM pg_stat_xact_user_tables
     WHERE relid = 'access_control.staff'::regclass
$$;

BEGIN;
SELECT access_control.set_actor(:m);
SELECT staff_reads() AS before \gset
SELECT cardinality(access_control.visible_business_ids());
SELECT count(*) FILTER (WHERE access_control.can_see_business(b)) FROM unnest(:'bs'::bigint[]) b;
SELECT count(*) FILTER (WHERE access_control.has_permission(b, 'invoices.view')) FROM unnest(:'bs'::bigint[]) b;
-- three statements, one computation (or two, should another session's
-- transaction end just while the first was made)
SELECT staff_reads() - :before < 3 AS reused;
-- a change made in this transaction is seen by its next statement
DELETE FROM access_control.staff_grant WHERE staff_id = :m AND business_id = (:'bs'::bigint[])[1];
SELECT cardinality(access_control.visible_business_ids());
SELECT access_control.can_see_business((:'bs'::bigint[])[1]);
ROLLBACK;

-- the same in the next transaction: the rollback is honoured
BEGIN;
SELECT access_control.set_actor(:m);
SELECT cardinality(access_control.visible_business_ids());
ROLLBACK;

-- PL/pgSQL keeps a simple expression such as IF can_see_business(b) for the
-- whole transaction: each evaluation is a new statement and honours the
-- change made before it, for the same actor
DO $$
DECLARE m bigint; b bigint; i int;
BEGIN
    SELECT id INTO m FROM access_control.staff WHERE email = 'member@cache.test';
    SELECT id INTO b FROM access_control.business WHERE name = 'CB1';
    PERFORM access_control.set_actor(m);
    FOR i IN 1..3 LOOP
        RAISE NOTICE 'round %: sees CB1 %, invoices.view there %, % clients visible', i,
            access_control.can_see_business(b), access_control.has_permission(b, 'invoices.view'),
            cardinality(access_control.visible_business_ids());
        IF i = 1 THEN  -- a DBA's direct change counts like any other
            DELETE FROM access_control.staff_grant WHERE staff_id = m AND business_id = b;
        ELSIF i = 2 THEN
            INSERT INTO access_control.staff_grant (staff_id, business_id, role_id)
            SELECT m, b, r.id FROM access_control.client_role r WHERE r.firm_id IS NULL AND r.name = 'bookkeeper';
        END IF;
    END LOOP;
END $$;

-- logical replication applies changes with session_replication_role =
-- replica, which skips ordinary triggers; the cache's trigger still fires
BEGIN;
SELECT access_control.set_actor(:m);
SELECT cardinality(access_control.visible_business_ids());
SET LOCAL session_replication_role = replica;
DELETE FROM access_control.staff_grant WHERE staff_id = :m AND business_id = (:'bs'::bigint[])[2];
SELECT cardinality(access_control.visible_business_ids());
ROLLBACK;

-- a permission defined in a transaction is known to the statements after it
BEGIN;
SELECT access_control.permission_names(access_control.validate_permissions(access_control.permission_mask('{invoices.pay}')));
SELECT access_control.define_permission('cache.view', 'View the cache', true) AS bit \gset
SELECT access_control.permission_names(access_control.validate_permissions(access_control.permission_mask('{cache.view}')));
SELECT access_control.set_actor(:m);
SELECT access_control.has_permission((:'bs'::bigint[])[3], 'cache.view');
ROLLBACK;

-- a trigger of your own that reads access while its statement is still
-- changing the access tables leaves nothing stale behind: a transaction
-- that writes them reads access afresh from then on
CREATE FUNCTION read_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM access_control.visible_business_ids();
    RETURN NEW;
END $$;
CREATE TRIGGER read_access BEFORE INSERT ON access_control.staff_grant
    FOR EACH ROW EXECUTE FUNCTION read_access();
BEGIN;
SELECT access_control.set_actor(:m);
DELETE FROM access_control.staff_grant WHERE staff_id = :m;
SELECT cardinality(access_control.visible_business_ids());
INSERT INTO access_control.staff_grant (staff_id, business_id, role_id)
SELECT :m, b, r.id FROM unnest(:'bs'::bigint[]) b, access_control.client_role r
 WHERE r.firm_id IS NULL AND r.name = 'bookkeeper';
SELECT cardinality(access_control.visible_business_ids());
ROLLBACK;
DROP TRIGGER read_access ON access_control.staff_grant;
DROP FUNCTION read_access();

-- many rows against a large map: after 64 lookups a call site answers from
-- a bitmap of the map's businesses instead of a binary search; every answer
-- is still the map's, for ids inside, between and outside the visible ones,
-- and for a permission that changes from row to row
SELECT array_agg(access_control.create_business(:f, 'LB' || g) ORDER BY g) AS lbs FROM generate_series(1, 300) g \gset
SELECT access_control.grant_client_access(:m, ARRAY(SELECT b FROM unnest(:'lbs'::bigint[]) WITH ORDINALITY AS u(b, i) WHERE i % 3 = 0), 'bookkeeper');
SELECT access_control.grant_client_access(:m, ARRAY(SELECT b FROM unnest(:'lbs'::bigint[]) WITH ORDINALITY AS u(b, i) WHERE i % 3 <> 0 AND i % 5 = 1), 'administrator');
CREATE FUNCTION wrong_answers() RETURNS TABLE (rows_checked bigint, seen bigint, visible int,
                                               can_see_wrong bigint, pay_wrong bigint, varying_wrong bigint)
LANGUAGE sql AS $$
    SELECT count(*),
           count(*) FILTER (WHERE access_control.can_see_business(b)),
           cardinality(access_control.visible_business_ids()),
           count(*) FILTER (WHERE access_control.can_see_business(b)
                            IS DISTINCT FROM (b = ANY (access_control.visible_business_ids()))),
           count(*) FILTER (WHERE access_control.has_permission(b, 'invoices.pay')
                            IS DISTINCT FROM (b = ANY (access_control.visible_business_ids('invoices.pay')))),
           count(*) FILTER (WHERE access_control.has_permission(b, p)
                            IS DISTINCT FROM (b = ANY (access_control.visible_business_ids(p))))
      FROM generate_series(-5, (SELECT max(id) + 70 FROM access_control.business)) b,
           LATERAL (SELECT CASE WHEN b % 2 = 0 THEN 'invoices.view' ELSE 'invoices.pay' END) AS x(p)
$$;
BEGIN;
SELECT access_control.set_actor(:m);
SELECT * FROM wrong_answers();
SELECT id AS o FROM access_control.staff WHERE email = 'owner@cache.test' \gset
SELECT access_control.set_actor(:o);
SELECT * FROM wrong_answers();
ROLLBACK;
DROP FUNCTION wrong_answers();

-- a change names what it concerns: a grant drops its member's map only, and
-- the owner's map is reused (set_actor reads the map, to know the actor
-- exists, so the count starts before it)
BEGIN;
SELECT access_control.set_actor(:o);
SELECT cardinality(access_control.visible_business_ids()) AS owner_sees;
SELECT access_control.set_actor(:m);
SELECT cardinality(access_control.visible_business_ids()) AS member_sees;
COMMIT;
SELECT access_control.grant_client_access(:m, ARRAY[(:'lbs'::bigint[])[2]], 'bookkeeper');
BEGIN;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:o);
SELECT cardinality(access_control.visible_business_ids()) AS owner_sees;
SELECT staff_reads() - :before AS owner_computed;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:m);
SELECT cardinality(access_control.visible_business_ids()) AS member_sees;
SELECT staff_reads() - :before AS member_computed;
COMMIT;
-- a statement that changes no row drops nothing
DELETE FROM access_control.api_key WHERE false;
BEGIN;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:o);
SELECT cardinality(access_control.visible_business_ids()) AS owner_sees;
SELECT staff_reads() - :before AS owner_computed;
COMMIT;

-- a change in another firm leaves this firm's maps alone; a new client of
-- this firm drops them, and its owner sees the client at once
SELECT access_control.create_firm('Other firm', 'boss@other.test') AS f2 \gset
SELECT access_control.create_business(:f2, 'Other client') IS NOT NULL AS created;
BEGIN;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:o);
SELECT cardinality(access_control.visible_business_ids()) AS owner_sees;
SELECT staff_reads() - :before AS owner_computed;
COMMIT;
SELECT access_control.create_business(:f, 'New client') AS new_client \gset
BEGIN;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:o);
SELECT cardinality(access_control.visible_business_ids()) AS owner_sees,
       access_control.can_see_business(:new_client) AS sees_new_client;
SELECT staff_reads() - :before AS owner_computed;
SELECT access_control.set_actor(:m);
SELECT access_control.can_see_business(:new_client) AS member_sees_new_client;
COMMIT;

-- a member's map in another firm is reused after a grant in this firm
SELECT access_control.add_staff(:f2, 'other@other.test') AS m2 \gset
SELECT access_control.grant_client_access(:m2, ARRAY(SELECT business_id FROM access_control.firm_client WHERE firm_id = :f2), 'bookkeeper');
BEGIN;
SELECT access_control.set_actor(:m2);
SELECT cardinality(access_control.visible_business_ids()) AS other_sees;
COMMIT;
SELECT access_control.grant_client_access(:m, ARRAY[(:'lbs'::bigint[])[4]], 'bookkeeper');
BEGIN;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:m2);
SELECT cardinality(access_control.visible_business_ids()) AS other_sees;
SELECT staff_reads() - :before AS other_computed;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:m);
SELECT cardinality(access_control.visible_business_ids()) AS member_sees;
SELECT staff_reads() - :before AS member_computed;
COMMIT;

-- owners and admins of a firm share one map: an admin's own entry points
-- to the owner's, so no new map is kept for it
SELECT access_control.add_staff(:f, 'admin2@cache.test', 'admin') AS a2 \gset
BEGIN;
SELECT access_control.set_actor(:o);
SELECT cardinality(access_control.visible_business_ids()) AS owner_sees;
COMMIT;
SELECT count(*) AS maps_before FROM pg_backend_memory_contexts WHERE name = 'access_control map' \gset
BEGIN;
SELECT access_control.set_actor(:a2);
SELECT cardinality(access_control.visible_business_ids()) AS admin_sees;
COMMIT;
SELECT count(*) - :maps_before AS new_maps FROM pg_backend_memory_contexts WHERE name = 'access_control map';
BEGIN;
SELECT staff_reads() AS before \gset
SELECT access_control.set_actor(:a2);
SELECT cardinality(access_control.visible_business_ids()) AS admin_sees;
SELECT staff_reads() - :before AS admin_computed;
COMMIT;

-- with a cache of 1kB, which holds no map beyond its statement (least
-- recently used first out), every answer stays right
CREATE TEMP TABLE answers AS
SELECT s.id AS staff_id, fc.business_id,
       access_control.staff_can_see_business(s.id, fc.business_id) AS sees
  FROM access_control.staff s CROSS JOIN access_control.firm_client fc;
SET access_control.cache_size = '1kB';
SELECT count(*) FILTER (WHERE a.sees IS DISTINCT FROM access_control.staff_can_see_business(a.staff_id, a.business_id)) AS wrong,
       count(*) FILTER (WHERE a.sees) AS seen
  FROM answers a;
SELECT coalesce(sum(total_bytes), 0) <= 1024 AS within_size
  FROM pg_backend_memory_contexts WHERE name = 'access_control map';
RESET access_control.cache_size;

DROP FUNCTION staff_reads();
DROP EXTENSION access_control;
