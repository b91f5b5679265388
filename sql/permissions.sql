--
-- Permission catalog, masks and client roles
--
SET client_min_messages = warning;
CREATE EXTENSION access_control;
RESET client_min_messages;
\set SHOW_CONTEXT never
-- ids in messages stay the same whatever ran before: start this test's ids at known values
SELECT 1 AS ids_fixed FROM (SELECT setval('access_control.firm_id_seq', 7100000),
    setval('access_control.staff_id_seq', 7100000), setval('access_control.business_id_seq', 7100000),
    setval('access_control.client_role_id_seq', 7100000)) s;

-- every catalog entry: name -> mask -> name, and what it implies
SELECT p.bit, p.name, p.read_only,
       access_control.permission_names(access_control.permission_mask(ARRAY[p.name])) = ARRAY[p.name] AS round_trip,
       access_control.permission_mask(ARRAY[p.name]) = pg_catalog.int8shl(1, p.bit) AS one_bit,
       access_control.permission_names(access_control.validate_permissions(pg_catalog.int8shl(1, p.bit))) AS closure
  FROM access_control.permission p ORDER BY p.bit;

-- a valid mask comes back closed; unknown bits are named
SELECT access_control.permission_names(access_control.validate_permissions(access_control.permission_mask('{bills.approve,invoices.pay}')));
SELECT access_control.validate_permissions(0);
SELECT access_control.validate_permissions(pg_catalog.int8shl(1, 40) | pg_catalog.int8shl(1, 62) | 1);
SELECT access_control.validate_permissions(-1);
SELECT access_control.permission_mask('{bills.view,bils.manage}');

-- defining permissions: the next free bit; implications close transitively
SELECT access_control.define_permission('reports.view', 'View reports', true);
SELECT access_control.define_permission('reports.export', 'Export reports', false, '{reports.view}');
SELECT access_control.define_permission('reports.schedule', 'Schedule report exports', false, '{reports.export}');
SELECT access_control.permission_names(access_control.validate_permissions(access_control.permission_mask('{reports.schedule}')));
SELECT bit, name, read_only, access_control.permission_names(implies) AS implies
  FROM access_control.permission WHERE name LIKE 'reports.%' ORDER BY bit;
-- the new permissions joined administrator, the read-only one joined bookkeeper
SELECT name, access_control.permission_names(permissions) && '{reports.view}' AS has_view,
       access_control.permission_names(permissions) && '{reports.export,reports.schedule}' AS has_export
  FROM access_control.client_role WHERE firm_id IS NULL ORDER BY name;

-- refusals, each followed by the catalog showing nothing changed
SELECT access_control.define_permission('reports.view', 'Again', true);
SELECT access_control.define_permission('Reports View', 'Bad name');
SELECT access_control.define_permission('reports', 'No action');
SELECT access_control.define_permission('reports.audit', '  ');
SELECT access_control.define_permission('reports.audit', 'Audit reports', false, '{reports.audit}');
SELECT access_control.define_permission('reports.audit', 'Audit reports', false, '{reports.nothing}');
SELECT count(*) AS permissions, max(bit) AS last_bit FROM access_control.permission;
-- a DBA's direct DML cannot make a cycle, change a bit or imply an unknown bit
UPDATE access_control.permission SET implies = implies | access_control.permission_mask('{reports.schedule}')
 WHERE name = 'reports.view';
UPDATE access_control.permission SET bit = 60 WHERE name = 'reports.view';
UPDATE access_control.permission SET implies = pg_catalog.int8shl(1, 61) WHERE name = 'reports.view';
SELECT bit, name, access_control.permission_names(implies) AS implies
  FROM access_control.permission WHERE name LIKE 'reports.%' ORDER BY bit;
-- at most 63 permissions (tried in a transaction that is rolled back)
BEGIN;
SELECT count(access_control.define_permission('filler.p_' || chr(97 + i / 26) || chr(97 + i % 26), 'Filler'))
  FROM pg_catalog.generate_series(1, 63 - (SELECT count(*)::int FROM access_control.permission)) AS i;
SELECT count(*) AS permissions, max(bit) AS last_bit FROM access_control.permission;
SELECT access_control.define_permission('reports.audit', 'Audit reports');
ROLLBACK;
SELECT count(*) AS permissions FROM access_control.permission;

--
-- Client roles, as an application sees them
--
SELECT access_control.create_firm('Perm Books LLP', 'owner@perm-books.example') AS firm \gset
SELECT access_control.create_firm('Perm Other Firm', 'owner@perm-other.example') AS other_firm \gset
SELECT id AS owner FROM access_control.staff WHERE email = 'owner@perm-books.example' \gset
SELECT id AS other_owner FROM access_control.staff WHERE email = 'owner@perm-other.example' \gset
SELECT access_control.add_staff(:firm, 'keeper@perm-books.example') AS keeper \gset
SELECT access_control.add_staff(:firm, 'approver@perm-books.example') AS approver \gset
SELECT access_control.add_staff(:firm, 'clerk@perm-books.example') AS clerk \gset
SELECT access_control.create_business(:firm, 'Perm Acme') AS acme \gset
SELECT access_control.create_business(:firm, 'Perm Globex') AS globex \gset
SELECT :firm AS firm, :owner AS owner, :keeper AS keeper, :approver AS approver, :clerk AS clerk, :acme AS acme, :globex AS globex;

-- nor store an unknown bit in a role, a ceiling or a portal user
UPDATE access_control.client_role SET permissions = permissions | pg_catalog.int8shl(1, 50) WHERE name = 'clerk';
UPDATE access_control.firm_client SET ceiling = -1 WHERE firm_id = :firm;
SELECT business_id, ceiling = (SELECT bit_or(pg_catalog.int8shl(1, bit)) FROM access_control.permission) AS every_permission
  FROM access_control.firm_client WHERE firm_id = :firm ORDER BY business_id;
INSERT INTO access_control.portal_user (business_id, email, permissions)
VALUES (:acme, 'perm-ghost@example.com', pg_catalog.int8shl(1, 61));
SELECT access_control.permission_names(permissions) FROM access_control.client_role WHERE name = 'clerk' AND firm_id IS NULL;
SELECT count(*) AS ghosts FROM access_control.portal_user WHERE email = 'perm-ghost@example.com';


CREATE TABLE perm_bills (id int PRIMARY KEY, business_id bigint NOT NULL, amount numeric NOT NULL);
INSERT INTO perm_bills VALUES (1, :acme, 100), (2, :acme, 250), (3, :globex, 75);
SELECT access_control.protect_table('perm_bills', 'business_id', 'bills.view', 'bills.manage');
CREATE ROLE perm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON perm_bills TO perm_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.create_client_role(bigint, text, text[]),
    access_control.alter_client_role(bigint, text[]), access_control.drop_client_role(bigint),
    access_control.grant_client_access(bigint, bigint[], text, timestamptz) TO perm_app;

SELECT access_control.grant_client_access(:keeper, ARRAY[:acme]::bigint[], 'bookkeeper');
SELECT access_control.grant_client_access(:approver, ARRAY[:acme]::bigint[], 'approver');

-- a bookkeeper reads; writes touch nothing or are refused
BEGIN;
SET LOCAL ROLE perm_app;
SELECT access_control.set_actor(:keeper);
SELECT * FROM perm_bills ORDER BY id;
UPDATE perm_bills SET amount = 0 RETURNING *;
DELETE FROM perm_bills RETURNING *;
INSERT INTO perm_bills VALUES (4, :acme, 1);
ROLLBACK;
SELECT * FROM perm_bills ORDER BY id;

-- an approver reads and may approve, but enters no bills
BEGIN;
SET LOCAL ROLE perm_app;
SELECT access_control.set_actor(:approver);
SELECT id, amount, access_control.has_permission(business_id, 'bills.approve') AS approve,
       access_control.has_permission(business_id, 'bills.manage') AS manage
  FROM perm_bills ORDER BY id;
UPDATE perm_bills SET amount = 0 WHERE id = 1 RETURNING *;
COMMIT;

-- a custom role, created by the firm's owner through the application
BEGIN;
SET LOCAL ROLE perm_app;
SELECT access_control.set_actor(:owner);
SELECT access_control.create_client_role(:firm, 'Bill clerk', '{bills.manage}') AS bill_clerk \gset
SELECT access_control.grant_client_access(:clerk, ARRAY[:acme, :globex]::bigint[], 'Bill clerk');
COMMIT;
SELECT :bill_clerk AS bill_clerk;
SELECT name, access_control.permission_names(permissions) FROM access_control.client_role WHERE firm_id = :firm;

-- edited mid-session: the next statement sees the change
BEGIN;
SET LOCAL ROLE perm_app;
SELECT access_control.set_actor(:clerk);
UPDATE perm_bills SET amount = amount + 1 RETURNING *;
SELECT access_control.set_actor(:owner);
SELECT access_control.alter_client_role(:bill_clerk, '{bills.view}');
SELECT access_control.set_actor(:clerk);
UPDATE perm_bills SET amount = amount + 1 RETURNING *;
SELECT * FROM perm_bills ORDER BY id;
COMMIT;
SELECT * FROM perm_bills ORDER BY id;

-- refusals; each followed by the roles, unchanged
SELECT access_control.create_client_role(:firm, 'Bill clerk', '{bills.view}');
SELECT access_control.create_client_role(:firm, 'bookkeeper', '{bills.view}');
SELECT access_control.create_client_role(:firm, ' ', '{bills.view}');
SELECT access_control.create_client_role(:firm, 'Reader', '{bills.view,bills.read}');
SELECT access_control.create_client_role(:firm, 'Reader', NULL);
SELECT access_control.alter_client_role(:bill_clerk, '{bills.view,nope.nope}');
SELECT access_control.alter_client_role(7199999, '{bills.view}');
SELECT access_control.alter_client_role(id, '{bills.view}') FROM access_control.client_role WHERE name = 'clerk' AND firm_id IS NULL;
SELECT access_control.drop_client_role(id) FROM access_control.client_role WHERE name = 'administrator' AND firm_id IS NULL;
SELECT access_control.drop_client_role(:bill_clerk);
BEGIN;
SELECT access_control.set_actor(:keeper);
SELECT access_control.create_client_role(:firm, 'Sneaky', '{bills.manage}');
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:other_owner);
SELECT access_control.alter_client_role(:bill_clerk, '{bills.manage,bills.approve}');
ROLLBACK;
-- another firm cannot use this firm's custom role
SELECT access_control.create_business(:other_firm, 'Perm Initech') AS initech \gset
SELECT access_control.grant_client_access(:other_owner, ARRAY[:initech]::bigint[], 'Bill clerk');
SELECT name, access_control.permission_names(permissions) FROM access_control.client_role
 WHERE firm_id IN (:firm, :other_firm) OR name = 'clerk' ORDER BY name;
SELECT count(*) AS clerk_grants FROM access_control.staff_grant WHERE role_id = :bill_clerk;

-- once no grant uses it, the role can go
SELECT access_control.revoke_client_access(:clerk, ARRAY[:acme, :globex]::bigint[]);
SELECT access_control.drop_client_role(:bill_clerk);
SELECT count(*) AS custom_roles FROM access_control.client_role WHERE firm_id = :firm;

-- clean up: take the test permissions out of every mask, then drop them (refused while used)
DELETE FROM access_control.permission WHERE name = 'reports.view';
UPDATE access_control.client_role SET permissions = permissions & ~access_control.permission_mask('{reports.view,reports.export,reports.schedule}');
UPDATE access_control.firm_client SET ceiling = ceiling & ~access_control.permission_mask('{reports.view,reports.export,reports.schedule}');
DELETE FROM access_control.permission WHERE name = 'reports.schedule';
DELETE FROM access_control.permission WHERE name = 'reports.export';
DELETE FROM access_control.permission WHERE name = 'reports.view';
SELECT count(*) AS permissions FROM access_control.permission;
DROP TABLE perm_bills;
DROP OWNED BY perm_app;
DROP ROLE perm_app;
DROP EXTENSION access_control;
