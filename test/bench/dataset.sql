/*
 * test/bench/dataset.sql: the dataset of make bench, with a fixed seed
 * (described in test/bench/README.md).
 *
 * Run by test/bench/run.sh as a superuser in an empty database, with
 * psql variable ledger_rows (10,000,000 at full scale). The access tables
 * are written directly (INSERT ... SELECT, triggers off) rather than
 * through the management functions: the same rows, built in seconds.
 * The checks at the end prove the result follows the rule of effective
 * access (README.md, "The rule of effective access").
 *
 * Shape (ids are fixed, so the personas are too):
 *   firms 1..1000; firm 1 is the largest (5,000 own clients: every business
 *     whose id is a multiple of 20), firm 2 is small (100 own clients),
 *     firms 3..999 share the other 94,900 businesses at random, and
 *     firm 1000 owns none but is a read-only partner of every business;
 *     firm 1 also has 50 pending and 50 disconnected partner links, which
 *     grant nothing.
 *   staff 1..1000 are the owners of firms 1..1000, 1001..2000 one admin
 *     each, 2001..20000 members (a few removed); 20,000 in all.
 *   teams 1..5000 (200 in firm 1), 50,000 memberships, 200,000 direct
 *     grants and 200,000 team grants, each on a client of the grantee's
 *     own firm; about 2 % of grants have expired, 3 % expire next year.
 *   portal users 1..30000, one for each of businesses 1..30000, so that a
 *     backend can serve 50,000 different actors (with the 20,000 staff);
 *   one custom client role per firm 3..999 ("Reviewer", held by no grant),
 *     which the freshness writer edits.
 *   ledger(id, business_id, created_at, amount, memo): rows in time order
 *     (created_at grows with id over three years), each for a business
 *     drawn at random.
 *
 * Personas (bench.persona): owner_large (staff 1: 5,000 businesses),
 * admin_small (staff 1002: 100), member_10 (staff 2001: 10 direct grants),
 * member_500 (staff 2002: 500 through 20 teams), no_access (staff 2003:
 * a member with no grant) and all_seeing (staff 1000, owner of the partner
 * firm: every business). Staff 2004 is the member the write benchmarks
 * grant to and revoke from; it holds nothing between runs.
 */
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE EXTENSION access_control;
CREATE EXTENSION pg_prewarm;
CREATE SCHEMA bench;

SELECT setseed(0.20240607);

/* Direct writes: no audit rows, no per-statement cache invalidation, no
 * per-row foreign key or mask triggers (the checks below replace them). */
SET session_replication_role = replica;

CREATE TABLE bench.persona (
    name        text PRIMARY KEY,
    staff_id    bigint NOT NULL,
    businesses  integer NOT NULL,       -- how many it must see
    sort        integer NOT NULL
);
INSERT INTO bench.persona VALUES
    ('no_access',   2003,      0, 1),
    ('member_10',   2001,     10, 2),
    ('admin_small', 1002,    100, 3),
    ('member_500',  2002,    500, 4),
    ('owner_large',    1,   5000, 5),
    ('all_seeing',  1000, 100000, 6);

/* ---- firms and businesses ------------------------------------------- */
INSERT INTO access_control.firm (id, name, created_at)
SELECT f, 'Firm ' || f, '2020-01-01'::timestamptz + f * interval '1 hour'
  FROM generate_series(1, 1000) f;

INSERT INTO access_control.business (id, name, created_at)
SELECT b, 'Business ' || b, '2020-01-01'::timestamptz + b * interval '1 minute'
  FROM generate_series(1, 100000) b;

CREATE TABLE bench.owner_of (business_id bigint PRIMARY KEY, firm_id bigint NOT NULL);
INSERT INTO bench.owner_of
SELECT b, CASE WHEN b % 20 = 0 THEN 1
               WHEN b % 20 = 1 AND b <= 2000 THEN 2
               ELSE 3 + floor(random() * 997)::bigint END
  FROM generate_series(1, 100000) b;

/* Clients of each firm numbered 1..n, for drawing them at random. */
CREATE TABLE bench.client (firm_id bigint, n integer, business_id bigint, PRIMARY KEY (firm_id, n));
INSERT INTO bench.client
SELECT firm_id, row_number() OVER (PARTITION BY firm_id ORDER BY business_id), business_id
  FROM bench.owner_of;
CREATE TABLE bench.firm_size AS
SELECT firm_id, count(*)::integer AS n FROM bench.client GROUP BY firm_id;
ALTER TABLE bench.firm_size ADD PRIMARY KEY (firm_id);

INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling, created_at)
SELECT o.firm_id, o.business_id, 'active',
       (SELECT bit_or(int8shl(1, bit)) FROM access_control.permission), '2021-01-01'
  FROM bench.owner_of o;
-- firm 1000: a read-only partner of every business
INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling, created_at)
SELECT 1000, b, 'active',
       (SELECT bit_or(int8shl(1, bit)) FROM access_control.permission WHERE read_only), '2021-06-01'
  FROM generate_series(1, 100000) b;
-- firm 1: partner links that give nothing (pending, disconnected)
INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling, created_at)
SELECT 1, b, CASE WHEN b <= 1000 THEN 'pending' ELSE 'disconnected' END,
       (SELECT bit_or(int8shl(1, bit)) FROM access_control.permission WHERE read_only), '2021-06-01'
  FROM generate_series(1, 2000) b
 WHERE b % 20 = 7 AND b NOT IN (SELECT business_id FROM bench.owner_of WHERE firm_id = 1);

/* ---- staff ------------------------------------------------------------ */
CREATE TABLE bench.member_firm (staff_id bigint PRIMARY KEY, firm_id bigint NOT NULL);
INSERT INTO bench.member_firm
SELECT s, CASE WHEN s <= 2498 THEN 1
               WHEN s <= 2506 THEN 2
               ELSE 3 + (s - 2507) % 997 END
  FROM generate_series(2001, 20000) s;

INSERT INTO access_control.staff (id, firm_id, email, role, status, created_at)
SELECT f, f, 'owner' || f || '@firm' || f || '.test', 'owner', 'active', '2020-01-01'::timestamptz
  FROM generate_series(1, 1000) f
UNION ALL
SELECT 1000 + f, f, 'admin' || f || '@firm' || f || '.test', 'admin', 'active', '2020-01-01'
  FROM generate_series(1, 1000) f
UNION ALL
SELECT m.staff_id, m.firm_id, 'member' || m.staff_id || '@firm' || m.firm_id || '.test', 'member',
       CASE WHEN m.staff_id % 100 = 50 THEN 'removed' ELSE 'active' END, '2020-01-01'
  FROM bench.member_firm m;

/* Members that get random grants and teams: active, not a persona. */
CREATE TABLE bench.ordinary_member AS
SELECT m.staff_id, m.firm_id
  FROM bench.member_firm m
 WHERE m.staff_id > 2004 AND m.staff_id % 100 <> 50;

/* ---- teams and memberships -------------------------------------------- */
CREATE TABLE bench.team_firm (team_id bigint PRIMARY KEY, firm_id bigint NOT NULL);
INSERT INTO bench.team_firm
SELECT t, CASE WHEN t <= 200 THEN 1
               WHEN t <= 202 THEN 2
               ELSE 3 + (t - 203) % 997 END
  FROM generate_series(1, 5000) t;
INSERT INTO access_control.team (id, firm_id, name)
SELECT team_id, firm_id, 'Team ' || team_id FROM bench.team_firm;

CREATE TABLE bench.firm_team AS
SELECT firm_id, row_number() OVER (PARTITION BY firm_id ORDER BY team_id)::integer AS n, team_id
  FROM bench.team_firm;
CREATE INDEX ON bench.firm_team (firm_id, n);
CREATE TABLE bench.firm_teams AS SELECT firm_id, count(*)::integer AS n FROM bench.firm_team GROUP BY firm_id;

-- member_500 is in teams 1..20 and nothing else
INSERT INTO access_control.team_member (team_id, staff_id)
SELECT t, 2002 FROM generate_series(1, 20) t;
CREATE TABLE bench.pick AS
SELECT m.staff_id, m.firm_id, 1 + floor(random() * c.n)::integer AS n
  FROM bench.ordinary_member m
  JOIN bench.firm_teams c ON c.firm_id = m.firm_id
 CROSS JOIN generate_series(1, 5) k;
INSERT INTO access_control.team_member (team_id, staff_id)
SELECT team_id, staff_id FROM (
    SELECT DISTINCT ft.team_id, p.staff_id
      FROM bench.pick p JOIN bench.firm_team ft ON ft.firm_id = p.firm_id AND ft.n = p.n
) x
ORDER BY hashint8(team_id * 100003 + staff_id), team_id, staff_id
LIMIT 50000 - 20;
DROP TABLE bench.pick;

/* ---- grants ----------------------------------------------------------- */
CREATE TABLE bench.builtin_role AS
SELECT row_number() OVER (ORDER BY id)::integer AS n, id AS role_id
  FROM access_control.client_role WHERE firm_id IS NULL;

-- member_10: ten direct grants on firm 1 clients, nothing else
INSERT INTO access_control.staff_grant (staff_id, business_id, role_id, granted_at)
SELECT 2001, c.business_id, (SELECT role_id FROM bench.builtin_role WHERE n = 1 + c.n % 6), '2022-01-01'
  FROM bench.client c WHERE c.firm_id = 1 AND c.n BETWEEN 4001 AND 4010;

CREATE TABLE bench.pick AS
SELECT m.staff_id, m.firm_id, 1 + floor(random() * s.n)::integer AS n,
       1 + floor(random() * 6)::integer AS role_n, random() AS r
  FROM bench.ordinary_member m
  JOIN bench.firm_size s ON s.firm_id = m.firm_id
 CROSS JOIN generate_series(1, 14) k;
INSERT INTO access_control.staff_grant (staff_id, business_id, role_id, expires_at, granted_at)
SELECT staff_id, business_id, role_id, expires_at, '2022-01-01' FROM (
    SELECT DISTINCT ON (p.staff_id, c.business_id) p.staff_id, c.business_id, r.role_id,
           CASE WHEN p.r < 0.02 THEN '2023-01-01'::timestamptz
                WHEN p.r < 0.05 THEN now() + interval '1 year' END AS expires_at
      FROM bench.pick p
      JOIN bench.client c ON c.firm_id = p.firm_id AND c.n = p.n
      JOIN bench.builtin_role r ON r.n = p.role_n
     ORDER BY p.staff_id, c.business_id, p.r
) x
ORDER BY hashint8(staff_id * 100003 + business_id), staff_id, business_id
LIMIT 200000 - 10;
DROP TABLE bench.pick;

-- member_500: teams 1..20 hold 25 disjoint firm 1 clients each
INSERT INTO access_control.team_grant (team_id, business_id, role_id, granted_at)
SELECT 1 + (c.n - 1) / 25, c.business_id, (SELECT role_id FROM bench.builtin_role WHERE n = 1 + c.n % 6), '2022-01-01'
  FROM bench.client c WHERE c.firm_id = 1 AND c.n BETWEEN 1 AND 500;

CREATE TABLE bench.pick AS
SELECT t.team_id, t.firm_id, 1 + floor(random() * s.n)::integer AS n,
       1 + floor(random() * 6)::integer AS role_n, random() AS r
  FROM bench.team_firm t
  JOIN bench.firm_size s ON s.firm_id = t.firm_id
 CROSS JOIN generate_series(1, 60) k
 WHERE t.team_id > 20;
INSERT INTO access_control.team_grant (team_id, business_id, role_id, expires_at, granted_at)
SELECT team_id, business_id, role_id, expires_at, '2022-01-01' FROM (
    SELECT DISTINCT ON (p.team_id, c.business_id) p.team_id, c.business_id, r.role_id,
           CASE WHEN p.r < 0.02 THEN '2023-01-01'::timestamptz
                WHEN p.r < 0.05 THEN now() + interval '1 year' END AS expires_at
      FROM bench.pick p
      JOIN bench.client c ON c.firm_id = p.firm_id AND c.n = p.n
      JOIN bench.builtin_role r ON r.n = p.role_n
     ORDER BY p.team_id, c.business_id, p.r
) x
ORDER BY hashint8(team_id * 100003 + business_id), team_id, business_id
LIMIT 200000 - 500;
DROP TABLE bench.pick;

/* ---- portal users and custom roles -------------------------------------- */
INSERT INTO access_control.portal_user (id, business_id, email, permissions)
SELECT b, b, 'portal' || b || '@client' || b || '.test',
       (SELECT bit_or(int8shl(1, bit)) FROM access_control.permission WHERE read_only)
  FROM generate_series(1, 30000) b;
INSERT INTO access_control.client_role (firm_id, name, permissions)
SELECT f, 'Reviewer', access_control.permission_mask('{profile.view,invoices.view}')
  FROM generate_series(3, 999) f;

SELECT setval('access_control.firm_id_seq', 1000);
SELECT setval('access_control.business_id_seq', 100000);
SELECT setval('access_control.staff_id_seq', 20000);
SELECT setval('access_control.team_id_seq', 5000);
SELECT setval('access_control.portal_user_id_seq', 30000);

/* ---- the application table -------------------------------------------- */
CREATE TABLE public.ledger (
    id          bigint PRIMARY KEY,
    business_id bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    memo        text
);
INSERT INTO public.ledger (id, business_id, created_at, amount, memo)
SELECT g, 1 + floor(random() * 100000)::bigint,
       '2022-01-01'::timestamptz + (g - 1) * (interval '3 years' / :ledger_rows),
       round((random() * 2000 - 500)::numeric, 2),
       'entry ' || g
  FROM generate_series(1, :ledger_rows) g;
CREATE INDEX ledger_business_id_idx ON public.ledger (business_id);
CREATE INDEX ledger_created_at_idx ON public.ledger (created_at);

RESET session_replication_role;

/* ---- checks: the access rules hold for the generated data ------------ */
CREATE FUNCTION pg_temp.must(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'dataset check failed: %', what;
    END IF;
END $$;

SELECT pg_temp.must((SELECT count(*) FROM access_control.firm) = 1000, '1,000 firms');
SELECT pg_temp.must((SELECT count(*) FROM access_control.business) = 100000, '100,000 businesses');
SELECT pg_temp.must((SELECT count(*) FROM access_control.staff) = 20000, '20,000 staff');
SELECT pg_temp.must((SELECT count(*) FROM access_control.team) = 5000, '5,000 teams');
SELECT pg_temp.must((SELECT count(*) FROM access_control.team_member) = 50000, '50,000 team memberships');
SELECT pg_temp.must((SELECT count(*) FROM access_control.staff_grant) = 200000, '200,000 direct grants');
SELECT pg_temp.must((SELECT count(*) FROM access_control.team_grant) = 200000, '200,000 team grants');
SELECT pg_temp.must((SELECT count(*) FROM access_control.portal_user) = 30000, '30,000 portal users');
SELECT pg_temp.must((SELECT count(*) FROM access_control.client_role WHERE firm_id IS NOT NULL) = 997
                    AND NOT EXISTS (SELECT 1 FROM access_control.client_role r
                                     WHERE r.firm_id IS NOT NULL
                                       AND (EXISTS (SELECT 1 FROM access_control.staff_grant g WHERE g.role_id = r.id)
                                            OR EXISTS (SELECT 1 FROM access_control.team_grant g WHERE g.role_id = r.id))),
                    'one custom role per firm 3..999, held by no grant');
SELECT pg_temp.must((SELECT count(*) FROM public.ledger) = :ledger_rows, 'ledger rows');
SELECT pg_temp.must((SELECT max(n) FROM bench.firm_size WHERE firm_id <> 1) < 5000
                    AND (SELECT n FROM bench.firm_size WHERE firm_id = 1) = 5000,
                    'the largest firm has 5,000 own clients');
SELECT pg_temp.must((SELECT n FROM bench.firm_size WHERE firm_id = 2) = 100, 'firm 2 has 100 clients');
SELECT pg_temp.must(NOT EXISTS (
    SELECT 1 FROM access_control.business b
     WHERE (SELECT count(*) FROM access_control.firm_client fc
             WHERE fc.business_id = b.id AND fc.status = 'active' AND fc.firm_id <> 1000) <> 1),
    'every business is the own client of exactly one firm');
SELECT pg_temp.must((SELECT count(*) = 1000 AND count(DISTINCT firm_id) = 1000
                       FROM access_control.staff WHERE role = 'owner' AND status = 'active'),
                    'one active owner per firm');
SELECT pg_temp.must(NOT EXISTS (
    SELECT 1 FROM access_control.staff_grant g JOIN access_control.staff s ON s.id = g.staff_id
     WHERE s.status <> 'active' OR s.role <> 'member'
        OR NOT EXISTS (SELECT 1 FROM access_control.firm_client fc
                        WHERE fc.firm_id = s.firm_id AND fc.business_id = g.business_id
                          AND fc.status = 'active')),
    'direct grants go to active members, on active clients of their own firm');
SELECT pg_temp.must(NOT EXISTS (
    SELECT 1 FROM access_control.team_grant g JOIN access_control.team t ON t.id = g.team_id
     WHERE NOT EXISTS (SELECT 1 FROM access_control.firm_client fc
                        WHERE fc.firm_id = t.firm_id AND fc.business_id = g.business_id
                          AND fc.status = 'active')),
    'team grants are on active clients of the team''s firm');
SELECT pg_temp.must(NOT EXISTS (
    SELECT 1 FROM access_control.team_member tm
      JOIN access_control.team t ON t.id = tm.team_id
      JOIN access_control.staff s ON s.id = tm.staff_id
     WHERE s.firm_id <> t.firm_id OR s.status <> 'active'),
    'team members are active staff of the team''s firm');
SELECT pg_temp.must(NOT EXISTS (SELECT 1 FROM access_control.staff_grant g
                                 WHERE NOT EXISTS (SELECT 1 FROM access_control.client_role r WHERE r.id = g.role_id))
                    AND NOT EXISTS (SELECT 1 FROM access_control.team_grant g
                                     WHERE NOT EXISTS (SELECT 1 FROM access_control.client_role r WHERE r.id = g.role_id)),
                    'grants use existing roles');
SELECT pg_temp.must(NOT EXISTS (SELECT 1 FROM public.ledger l
                                 WHERE l.business_id NOT BETWEEN 1 AND 100000),
                    'ledger rows belong to existing businesses');
SELECT pg_temp.must(NOT EXISTS (SELECT 1 FROM access_control.staff_grant WHERE staff_id IN (2002, 2003, 2004))
                    AND NOT EXISTS (SELECT 1 FROM access_control.team_member WHERE staff_id IN (2001, 2003, 2004)),
                    'personas hold only their own grants');
-- the rule, as the extension computes it, gives each persona its size
SELECT pg_temp.must(
    (SELECT count(*) FROM bench.persona p
      WHERE (SELECT count(*) FROM access_control.business b
              WHERE access_control.staff_can_see_business(p.staff_id, b.id)) <> p.businesses) = 0,
    'each persona sees exactly its number of businesses');

DROP TABLE bench.member_firm, bench.ordinary_member, bench.team_firm, bench.firm_team,
    bench.firm_teams, bench.builtin_role, bench.owner_of;
