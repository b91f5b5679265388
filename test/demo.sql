-- access_control demo: one accounting firm, four people, six clients, and
-- one application table under row-level security. The same SELECT, run as
-- each person, returns different rows.
\set ON_ERROR_STOP 1
\set QUIET on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION access_control;

\echo
\echo '== Northwind Accounting: an owner, an admin and two members'
SELECT access_control.create_firm('Northwind Accounting', 'olivia@northwind.test', 'Olivia', 'Owner') AS firm \gset
SELECT id AS olivia FROM access_control.staff WHERE email = 'olivia@northwind.test' \gset
SELECT access_control.add_staff(:firm, 'adam@northwind.test', 'admin', 'Adam', 'Admin') AS adam \gset
SELECT access_control.add_staff(:firm, 'mia@northwind.test', 'member', 'Mia', 'Member') AS mia \gset
SELECT access_control.add_staff(:firm, 'max@northwind.test', 'member', 'Max', 'Member') AS max \gset
SELECT id, first_name, email, role FROM access_control.staff ORDER BY id;

\echo '== Six clients'
SELECT count(access_control.create_business(:firm, n)) AS clients_created FROM unnest(ARRAY[
    'Alder Bakery', 'Birch Builders', 'Cedar Cafe', 'Dogwood Dental', 'Elm Events', 'Fir Farms']) n;
SELECT id, name FROM access_control.business ORDER BY id;

\echo '== Mia keeps the books of Alder and Birch (bookkeeper: read-only)'
SELECT access_control.grant_client_access(:mia, ARRAY[1, 2]::bigint[], 'bookkeeper') \gset
\echo '== Max is in the Payroll team, which runs Cedar and Dogwood (administrator)'
SELECT access_control.create_team(:firm, 'Payroll') AS payroll \gset
SELECT access_control.add_team_member(:payroll, :max) \gset
SELECT access_control.grant_team_access(:payroll, ARRAY[3, 4]::bigint[], 'administrator') \gset

\echo '== The application table, protected: reading needs invoices.view, writing invoices.pay'
CREATE TABLE invoices (id serial PRIMARY KEY, business_id bigint NOT NULL, number text, amount numeric);
INSERT INTO invoices (business_id, number, amount)
SELECT b.id, upper(left(b.name, 3)) || '-00' || n, 250 * n FROM access_control.business b, generate_series(1, 2) n;
SELECT access_control.protect_table('invoices', 'business_id', 'invoices.view', 'invoices.pay') \gset
CREATE ROLE demo_app;
GRANT SELECT, UPDATE ON invoices TO demo_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO demo_app;
SET ROLE demo_app;

\echo
\echo '== SELECT number, amount FROM invoices -- as each person'
\echo '-- Olivia (owner): every client'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT number, amount FROM invoices ORDER BY number; COMMIT;
\echo '-- Adam (admin): every client'
BEGIN; SELECT access_control.set_actor(:adam) \gset
SELECT count(*) AS invoices_adam_sees FROM invoices; COMMIT;
\echo '-- Mia (member, direct grants): Alder and Birch'
BEGIN; SELECT access_control.set_actor(:mia) \gset
SELECT number, amount FROM invoices ORDER BY number;
\echo '-- Mia tries to mark everything paid: her role is read-only, nothing changes'
UPDATE invoices SET amount = 0 RETURNING number;
COMMIT;
\echo '-- Max (member, via the Payroll team): Cedar and Dogwood'
BEGIN; SELECT access_control.set_actor(:max) \gset
SELECT number, amount FROM invoices ORDER BY number;
\echo '-- Max can pay there'
UPDATE invoices SET amount = amount - 50 WHERE number = 'CED-001' RETURNING number, amount;
COMMIT;
\echo '-- nobody (no actor set): nothing'
SELECT count(*) AS invoices_nobody_sees FROM invoices;

RESET ROLE;
\echo
\echo '== What Max may do on each client'
SELECT b.name AS business, access_control.staff_can_see_business(:max, b.id) AS sees,
       access_control.staff_has_permission(:max, b.id, 'invoices.pay') AS can_pay
  FROM access_control.business b ORDER BY b.id;

\echo '== Max leaves the team: on the very next statement he sees nothing'
SELECT access_control.remove_team_member(:payroll, :max) \gset
SET ROLE demo_app;
BEGIN; SELECT access_control.set_actor(:max) \gset
SELECT count(*) AS invoices_max_sees_now FROM invoices; COMMIT;
RESET ROLE;

\echo '== Nobody can pretend to be Olivia'
SET ROLE demo_app;
\set ON_ERROR_STOP 0
SET access_control.actor = 'staff:1';
SELECT set_config('access_control.actor', 'staff:1', false);
\set ON_ERROR_STOP 1
\set QUIET on
RESET ROLE;

DROP TABLE invoices;
DROP EXTENSION access_control;
DROP ROLE demo_app;
