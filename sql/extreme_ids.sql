-- Extreme business ids (INT64_MIN, INT64_MAX, 0 and negative ones, as a
-- DBA may insert them directly) in maps large enough for the helpers'
-- per-statement bitmap (64 businesses and more): every answer is right and
-- no helper reads or writes outside its memory.
CREATE EXTENSION access_control;
SELECT pg_postmaster_start_time() AS start \gset
SELECT access_control.create_firm('Extreme Books', 'owner@extreme.test') AS firm \gset
SELECT id AS owner FROM access_control.staff WHERE email = 'owner@extreme.test' \gset
SELECT access_control.add_staff(:firm, 'member@extreme.test') AS member \gset

-- 70 businesses: the two extremes, 0, -1, and 66 ordinary ids.
INSERT INTO access_control.business (id, name)
SELECT i, 'Extreme ' || i
  FROM unnest(ARRAY[-9223372036854775808, 9223372036854775807, 0, -1]::bigint[]
              || ARRAY(SELECT g::bigint FROM generate_series(1, 66) g)) AS i;
INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling)
SELECT :firm, b.id, 'active', (SELECT bit_or(int8shl(1, bit)) FROM access_control.permission)
  FROM access_control.business b;
SELECT access_control.grant_client_access(:member, ARRAY(SELECT id FROM access_control.business), 'clerk');

-- An application table with rows for each business and for ids nobody
-- holds, among them the neighbours of the extremes.
CREATE TABLE extreme_ledger (business_id bigint NOT NULL);
INSERT INTO extreme_ledger SELECT id FROM access_control.business, generate_series(1, 3);
INSERT INTO extreme_ledger VALUES (-9223372036854775807), (9223372036854775806), (-2), (67), (100000);
SELECT access_control.protect_table('extreme_ledger', 'business_id', 'bills.view');

-- The owner (a map of 70) and the member (the same 70 through grants),
-- each over every row: 215 calls per statement, far past the bitmap's
-- threshold.
CREATE FUNCTION extreme_counts(actor bigint) RETURNS TABLE (seen bigint, extremes_seen bigint, strangers_seen bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM access_control.set_actor(actor);
    RETURN QUERY
    SELECT count(*) FILTER (WHERE access_control.can_see_business(l.business_id)),
           count(*) FILTER (WHERE access_control.has_permission(l.business_id, 'bills.view')
                              AND l.business_id IN (-9223372036854775808, 9223372036854775807)),
           count(*) FILTER (WHERE access_control.can_see_business(l.business_id)
                              AND l.business_id NOT IN (SELECT id FROM access_control.business))
      FROM extreme_ledger l;
END $$;
SELECT 'owner' AS who, * FROM extreme_counts(:owner)
UNION ALL SELECT 'member', * FROM extreme_counts(:member);
-- The policy path, and the list of ids.
CREATE ROLE extreme_app;
GRANT SELECT ON extreme_ledger TO extreme_app;
BEGIN;
SELECT access_control.set_actor(:member);
SET LOCAL ROLE extreme_app;
SELECT count(*) AS rows_through_policy, min(business_id), max(business_id) FROM extreme_ledger;
SELECT cardinality(access_control.visible_business_ids()) AS visible,
       (access_control.visible_business_ids())[1] AS first_id,
       (access_control.visible_business_ids())[70] AS last_id;
ROLLBACK;
-- A map of 64 spread over the whole range: no bitmap, the same answers.
DELETE FROM access_control.staff_grant;
SELECT access_control.grant_client_access(:member,
    ARRAY(SELECT id FROM access_control.business WHERE id NOT BETWEEN 1 AND 6), 'clerk');
SELECT * FROM extreme_counts(:member);
-- A map of 67 at the very top of the range: a bitmap that ends at
-- INT64_MAX, asked about 200 ids up to it.
INSERT INTO access_control.business (id, name)
SELECT 9223372036854775807 - g, 'Top ' || g FROM generate_series(1, 66) g;
INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling)
SELECT :firm, b.id, 'active', (SELECT bit_or(int8shl(1, bit)) FROM access_control.permission)
  FROM access_control.business b WHERE b.name LIKE 'Top %';
DELETE FROM access_control.staff_grant;
SELECT access_control.grant_client_access(:member,
    ARRAY(SELECT id FROM access_control.business WHERE id > 9223372036854775807 - 67), 'clerk');
BEGIN;
SELECT access_control.set_actor(:member);
SELECT count(*) FILTER (WHERE access_control.can_see_business(x)) AS top_seen, count(*) AS asked,
       bool_and(access_control.can_see_business(x)) FILTER (WHERE x > 9223372036854775807 - 67) AS all_67_seen
  FROM generate_series(9223372036854775807 - 199, 9223372036854775807) x;
ROLLBACK;
SELECT pg_postmaster_start_time() = :'start' AS same_server;
DROP TABLE extreme_ledger;
DROP FUNCTION extreme_counts(bigint);
DROP ROLE extreme_app;
DROP EXTENSION access_control;
