--
-- Portal users and contacts: a business's own users, one business each
--
SET client_min_messages = warning;
CREATE EXTENSION access_control;
RESET client_min_messages;
\set SHOW_CONTEXT never
-- ids in messages stay the same whatever ran before: start this test's ids at known values
SELECT 1 AS ids_fixed FROM (SELECT setval('access_control.firm_id_seq', 7200000),
    setval('access_control.staff_id_seq', 7200000), setval('access_control.business_id_seq', 7200000),
    setval('access_control.portal_user_id_seq', 7200000)) s;

SELECT access_control.create_firm('Portal Books', 'owner@portal-books.example') AS firm \gset
SELECT id AS owner FROM access_control.staff WHERE email = 'owner@portal-books.example' \gset
SELECT access_control.add_staff(:firm, 'member@portal-books.example') AS member \gset
SELECT access_control.create_firm('Portal Partner', 'owner@portal-partner.example') AS partner \gset
SELECT id AS partner_owner FROM access_control.staff WHERE email = 'owner@portal-partner.example' \gset
SELECT access_control.create_business(:firm, 'Portal Acme') AS acme \gset
SELECT access_control.create_business(:firm, 'Portal Globex') AS globex \gset
-- the partner firm keeps Acme's books read-only
INSERT INTO access_control.firm_client (firm_id, business_id, status, ceiling)
SELECT :partner, :acme, 'active', bit_or(pg_catalog.int8shl(1, bit)) FROM access_control.permission WHERE read_only;

CREATE TABLE portal_bills (id int PRIMARY KEY, business_id bigint NOT NULL, amount numeric NOT NULL);
INSERT INTO portal_bills VALUES (1, :acme, 100), (2, :acme, 250), (3, :globex, 75);
SELECT access_control.protect_table('portal_bills', 'business_id', 'bills.view', 'bills.manage');
CREATE ROLE portal_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON portal_bills TO portal_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
    access_control.add_portal_user(bigint, text, text[], text, text), access_control.set_portal_permissions(bigint, text[]),
    access_control.remove_portal_user(bigint), access_control.add_contact(bigint, text, text) TO portal_app;

-- the system adds Acme's first user with All Permissions (NULL, a standing choice)
SELECT access_control.add_portal_user(:acme, 'Boss@Acme.example') AS boss \gset
SELECT access_control.add_portal_user(:globex, 'gina@globex.example', '{bills.view}') AS gina \gset
SELECT :boss AS boss, :gina AS gina;
SELECT id, email, status, can_login, permissions IS NULL AS all_permissions
  FROM access_control.portal_user WHERE id IN (:boss, :gina) ORDER BY id;

-- Acme's boss adds an AP user who manages users and reads bills
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.add_portal_user(:acme, 'ap@acme.example', '{bills.view,users.manage}') AS ap \gset
COMMIT;

-- a portal actor sees only its own business
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.current_actor() = 'portal:' || :ap AS acting;
SELECT access_control.current_portal_user_id() = :ap AS portal_user_id_is_ap,
       access_control.current_staff_id() AS staff_id;
SELECT * FROM portal_bills ORDER BY id;
SELECT access_control.can_see_business(:globex) AS sees_globex, access_control.has_permission(:acme, 'contacts.view') AS implied_contacts_view;
UPDATE portal_bills SET amount = 0 RETURNING *;
COMMIT;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:gina);
SELECT * FROM portal_bills ORDER BY id;
COMMIT;

-- no escalation: the AP user gives only what it holds, and only in Acme
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.add_portal_user(:acme, 'mallory@acme.example', '{bills.view,bills.manage}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.add_portal_user(:acme, 'mallory@acme.example');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.set_portal_permissions(:ap, '{bills.view,bills.approve,users.manage}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.set_portal_permissions(:boss, '{bills.view}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.add_portal_user(:globex, 'mallory@globex.example', '{bills.view}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:gina);
SELECT access_control.add_portal_user(:globex, 'mallory@globex.example', '{bills.view}');
ROLLBACK;
SELECT email, access_control.permission_names(permissions) AS permissions FROM access_control.portal_user
 WHERE business_id IN (:acme, :globex) AND email <> 'boss@acme.example' ORDER BY email;

-- within what it holds, it may: a clerk with bills.view
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.add_portal_user(:acme, 'clerk@acme.example', '{bills.view}') AS clerk \gset
COMMIT;

-- the boss lets the clerk enter bills: the clerk's next statement may write
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:clerk);
UPDATE portal_bills SET amount = amount + 1 WHERE id = 1 RETURNING *;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.set_portal_permissions(:clerk, '{bills.manage}');
SELECT access_control.set_portal_actor(:clerk);
UPDATE portal_bills SET amount = amount + 1 WHERE id = 1 RETURNING *;
COMMIT;

-- removal is immediate; adding the same email again brings back the same user
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.remove_portal_user(:clerk);
SELECT access_control.set_portal_actor(:clerk);
SELECT * FROM portal_bills ORDER BY id;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.add_portal_user(:acme, 'clerk@acme.example', '{bills.view}') = :clerk AS same_user;
SELECT access_control.set_portal_actor(:clerk);
SELECT * FROM portal_bills ORDER BY id;
COMMIT;

-- contacts: records without login, never an actor
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.add_contact(:acme, 'cfo@acme.example', 'Pat Moneypenny') AS cfo \gset
COMMIT;
SELECT email, name, can_login, status, permissions FROM access_control.portal_user WHERE id = :cfo;
SELECT access_control.set_portal_actor(:cfo);
SELECT access_control.set_portal_permissions(:cfo, '{bills.view}');
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.add_contact(:acme, 'cto@acme.example', 'Sam Circuit');
ROLLBACK;
SELECT count(*) AS contacts FROM access_control.portal_user WHERE business_id = :acme AND NOT can_login;

-- staff: an owner of a firm linked to the business manages its portal users
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:owner);
SELECT access_control.add_portal_user(:globex, 'gus@globex.example', '{bills.view,bills.manage}') IS NOT NULL AS added;
COMMIT;
-- a member manages the portal users of a client where she holds
-- users.manage (through a client role), within what she holds; not where
-- she has no access. A read-only partner firm lacks users.manage on Acme.
SELECT access_control.create_client_role(:firm, 'User admin', '{users.manage,bills.view}') IS NOT NULL AS role_created;
SELECT access_control.grant_client_access(:member, ARRAY[:globex]::bigint[], 'User admin');
SELECT id AS gus FROM access_control.portal_user WHERE email = 'gus@globex.example' \gset
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:member);
SELECT access_control.add_portal_user(:globex, 'mo@globex.example', '{bills.view}', 'Mo') IS NOT NULL AS added;
COMMIT;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:member);
SELECT access_control.add_portal_user(:globex, 'max@globex.example', '{bills.manage}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:member);
SELECT access_control.remove_portal_user(:gus);
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:member);
SELECT access_control.add_portal_user(:acme, 'eve@acme.example', '{bills.view}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:partner_owner);
SELECT access_control.add_portal_user(:acme, 'eve@acme.example', '{bills.view}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:partner_owner);
SELECT access_control.remove_portal_user(:ap);
ROLLBACK;
SELECT count(*) AS eves FROM access_control.portal_user WHERE email = 'eve@acme.example';
SELECT status FROM access_control.portal_user WHERE id = :ap;

-- bad input
SELECT access_control.add_portal_user(7299999, 'x@example.com');
SELECT access_control.add_portal_user(:acme, 'not an email');
SELECT access_control.add_portal_user(:acme, 'AP@acme.example', '{bills.view}');
SELECT access_control.add_portal_user(:acme, 'y@acme.example', '{bills.view,bills.pay}');
SELECT access_control.set_portal_permissions(7299999, '{bills.view}');
SELECT access_control.add_contact(:acme, 'cfo@acme.example', 'Pat Again');
SELECT access_control.add_contact(:acme, 'z@acme.example', ' ');
SELECT access_control.set_portal_permissions(:ap, '{bills.view,bills.steal}');

-- All Permissions, chosen later: set_portal_permissions(id, NULL) makes
-- the standing choice (a NULL mask). Giving it needs every permission of
-- the catalog: the boss (All Permissions) may, the AP user (a list) may not.
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.set_portal_permissions(:clerk, NULL);
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.set_portal_permissions(:clerk, NULL);
COMMIT;
SELECT email, permissions IS NULL AS all_permissions FROM access_control.portal_user WHERE id = :clerk;
-- a permission added to the catalog afterwards is the clerk's at once,
-- not the AP user's, whose list it is not on
SELECT access_control.define_permission('payroll.view', 'See pay runs', true) > 0 AS defined;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:clerk);
SELECT access_control.has_permission(:acme, 'payroll.view') AS clerk_views_payroll;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.has_permission(:acme, 'payroll.view') AS ap_views_payroll;
COMMIT;
-- taking All Permissions away needs every permission too; the boss sets a
-- list again, and the clerk holds exactly that
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.set_portal_permissions(:clerk, '{bills.view}');
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.set_portal_permissions(:clerk, '{bills.view}');
SELECT access_control.set_portal_actor(:clerk);
SELECT access_control.has_permission(:acme, 'payroll.view') AS clerk_views_payroll,
       access_control.has_permission(:acme, 'bills.view') AS clerk_views_bills;
COMMIT;
-- staff: the firm's owner holds every permission on its own client, so may
-- give Globex's user All Permissions; the member, with two, may not
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:member);
SELECT access_control.set_portal_permissions(:gina, NULL);
ROLLBACK;
BEGIN;
SET LOCAL ROLE portal_app;
SELECT access_control.set_actor(:owner);
SELECT access_control.set_portal_permissions(:gina, NULL);
COMMIT;

SELECT email, status, can_login,
       CASE WHEN permissions IS NULL THEN 'all'
            ELSE access_control.permission_names(permissions)::text END AS permissions
  FROM access_control.portal_user WHERE business_id IN (:acme, :globex) ORDER BY email;

DROP TABLE portal_bills;
DROP OWNED BY portal_app;
DROP ROLE portal_app;
DROP EXTENSION access_control;
