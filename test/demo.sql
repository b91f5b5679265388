-- access_control demo: a day at Northwind Accounting, told through the rows
-- each person gets from the application's tables under row-level security.
--
-- The DBA installs the extension, creates the firms and wires the
-- application's backend role (demo_app); most steps then run as demo_app,
-- acting for one person per transaction, as an application would.  Refusals
-- that belong to the story are caught by err() and shown as a result
-- instead of stopping the script.  Then the console screens, built as an
-- application builds them with only the grants README "What to grant"
-- lists, for an owner, a member and a portal user; and, table by table,
-- that another firm's rows appear on none of them.
\set ON_ERROR_STOP 1
\set QUIET on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION access_control;

-- err(stmt) runs a statement and says how it went: 'no error', or the
-- error's SQLSTATE, message and hint (the tests' helper).
\ir ../sql/include/err.sql

-- A permission list as a console shows it: long lists by what they are.
CREATE FUNCTION demo_perms(p text[]) RETURNS text LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT array_agg(name) AS every,
                      array_agg(name) FILTER (WHERE read_only) AS ro
                 FROM access_control.permission)
    SELECT CASE
        WHEN p IS NULL THEN NULL
        WHEN p @> c.every THEN 'all ' || cardinality(p) || ' permissions'
        WHEN p @> c.ro AND p <@ c.ro THEN 'the ' || cardinality(p) || ' read-only permissions'
        ELSE array_to_string(p, ', ')
    END FROM c
$$;

\echo
\echo '== Northwind Accounting: an owner, an admin and two members'
SELECT access_control.create_firm('Northwind Accounting', 'olivia@northwind.test', 'Olivia', 'Owner') AS firm \gset
SELECT id AS olivia FROM access_control.staff WHERE email = 'olivia@northwind.test' \gset
SELECT access_control.add_staff(:firm, 'adam@northwind.test', 'admin', 'Adam', 'Admin') AS adam \gset
SELECT access_control.add_staff(:firm, 'mia@northwind.test', 'member', 'Mia', 'Member') AS mia \gset
SELECT access_control.add_staff(:firm, 'max@northwind.test', 'member', 'Max', 'Member') AS max \gset
SELECT id, first_name, email, role FROM access_control.staff ORDER BY id;

\echo '== Six clients'
SELECT access_control.create_business(:firm, 'Alder Bakery') AS alder \gset
SELECT access_control.create_business(:firm, 'Birch Builders') AS birch \gset
SELECT access_control.create_business(:firm, 'Cedar Cafe') AS cedar \gset
SELECT access_control.create_business(:firm, 'Dogwood Dental') AS dogwood \gset
SELECT access_control.create_business(:firm, 'Elm Events') AS elm \gset
SELECT access_control.create_business(:firm, 'Fir Farms') AS fir \gset
SELECT id, name FROM access_control.business ORDER BY id;

\echo '== Mia keeps the books of Alder and Birch (bookkeeper: read-only)'
SELECT access_control.grant_client_access(:mia, ARRAY[:alder, :birch]::bigint[], 'bookkeeper') \gset
\echo '== Max is in the Year-end team, which runs Cedar and Dogwood (administrator)'
SELECT access_control.create_team(:firm, 'Year-end') AS yearend \gset
SELECT access_control.add_team_member(:yearend, :max) \gset
SELECT access_control.grant_team_access(:yearend, ARRAY[:cedar, :dogwood]::bigint[], 'administrator') \gset

\echo '== The application table, protected: reading needs invoices.view, writing invoices.pay'
CREATE TABLE invoices (id serial PRIMARY KEY, business_id bigint NOT NULL, number text, amount numeric);
INSERT INTO invoices (business_id, number, amount)
SELECT b.id, upper(left(b.name, 3)) || '-00' || n, 250 * n FROM access_control.business b, generate_series(1, 2) n;
SELECT access_control.protect_table('invoices', 'business_id', 'invoices.view', 'invoices.pay') \gset

-- The application's backend role: its own tables, acting for people, and
-- the management functions it offers in its console.
CREATE ROLE demo_app;
GRANT SELECT, INSERT, UPDATE ON invoices TO demo_app;
GRANT USAGE ON SEQUENCE invoices_id_seq TO demo_app;
GRANT SELECT ON access_control.staff, access_control.business, access_control.api_keys,
    access_control.pending_invitations TO demo_app;
GRANT EXECUTE ON FUNCTION
    access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
    access_control.add_staff(bigint, text, text, text, text),
    access_control.set_programmatic_access(bigint, boolean),
    access_control.add_team_member(bigint, bigint),
    access_control.create_client_role(bigint, text, text[]),
    access_control.grant_client_access(bigint, bigint[], text, timestamptz),
    access_control.invite_staff(bigint, text, text, text, text),
    access_control.record_invitation_event(bigint, text, timestamptz),
    access_control.resend_invitation(bigint),
    access_control.create_api_key(bigint, text, timestamptz),
    access_control.add_portal_user(bigint, text, text[], text, text),
    access_control.invite_partner_firm(bigint, bigint, text[]),
    access_control.accept_partner_invitation(bigint, bigint),
    access_control.disconnect_partner(bigint, bigint),
    access_control.firm_clients(bigint),
    access_control.staff_access(bigint),
    access_control.business_access(bigint),
    access_control.explain_access(bigint, bigint),
    access_control.staff_effective_permissions(bigint, bigint)
TO demo_app;
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
WITH paid AS (UPDATE invoices SET amount = 0 RETURNING 1) SELECT count(*) AS invoices_changed FROM paid;
COMMIT;
\echo '-- Max (member, via the Year-end team): Cedar and Dogwood'
BEGIN; SELECT access_control.set_actor(:max) \gset
SELECT number, amount FROM invoices ORDER BY number;
\echo '-- Max can pay there'
UPDATE invoices SET amount = amount - 50 WHERE number = 'CED-001' RETURNING number, amount;
COMMIT;
\echo '-- nobody (no actor set): nothing'
SELECT count(*) AS invoices_nobody_sees FROM invoices;
\echo '-- ... and nobody changes nothing: a forgotten set_actor (or SQL injection) is no takeover'
SELECT t.attempt, err(t.stmt) AS outcome
  FROM (VALUES (1, 'add an admin', format($$SELECT access_control.add_staff(%s, 'intruder@evil.test', 'admin')$$, :firm)),
               (2, 'give Mia everything', format($$SELECT access_control.grant_client_access(%s, NULL, 'administrator')$$, :mia)))
       AS t(n, attempt, stmt)
 ORDER BY t.n;
RESET ROLE;

\echo '== What Max may do on each client'
SELECT b.name AS business, access_control.staff_can_see_business(:max, b.id) AS sees,
       access_control.staff_has_permission(:max, b.id, 'invoices.pay') AS can_pay
  FROM access_control.business b ORDER BY b.id;

\echo '== Max leaves the team: on the very next statement he sees nothing'
SELECT access_control.remove_team_member(:yearend, :max) \gset
SET ROLE demo_app;
BEGIN; SELECT access_control.set_actor(:max) \gset
SELECT count(*) AS invoices_max_sees_now FROM invoices; COMMIT;

\echo '== The actor cannot be forged: SET, set_config and writes to the access tables are refused'
SELECT t.attempt, err(t.stmt) AS outcome
  FROM (VALUES (1, 'SET access_control.actor', $$SET access_control.actor = 'staff:1'$$),
               (2, 'SELECT set_config(...)', $$SELECT set_config('access_control.actor', 'staff:1', false)$$),
               (3, 'UPDATE access_control.staff', $$UPDATE access_control.staff SET role = 'owner'$$))
       AS t(n, attempt, stmt)
 ORDER BY t.n;

\echo
\echo '== A payroll module: the platform adds two permissions to the catalog'
RESET ROLE;
SELECT access_control.define_permission('payroll.view', 'See pay runs and payslips', true) \gset
SELECT access_control.define_permission('payroll.run', 'Run payroll and approve payslips', false, '{payroll.view}') \gset
SELECT bit, name, description, read_only,
       access_control.permission_names(implies) AS implies
  FROM access_control.permission WHERE name LIKE 'payroll.%' ORDER BY bit;
\echo '-- and a second protected table: reading needs payroll.view, writing payroll.run'
CREATE TABLE payslips (id serial PRIMARY KEY, business_id bigint NOT NULL, employee text,
                       net_pay numeric, status text NOT NULL DEFAULT 'draft');
INSERT INTO payslips (business_id, employee, net_pay) VALUES
    (:alder, 'Ann Baker', 1850), (:birch, 'Bob Mason', 2400), (:cedar, 'Cleo Barista', 1600),
    (:dogwood, 'Dan Hygienist', 2900), (:elm, 'Eve Planner', 2100), (:fir, 'Finn Farmhand', 1700);
SELECT access_control.protect_table('payslips', 'business_id', 'payroll.view', 'payroll.run') \gset
GRANT SELECT, UPDATE ON payslips TO demo_app;
SET ROLE demo_app;

\echo '== Olivia creates a custom client role, "Payroll officer": payroll.run and nothing else,'
\echo '   and gives it to Max on Cedar and Dogwood'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT access_control.create_client_role(:firm, 'Payroll officer', '{payroll.run}') \gset
SELECT access_control.grant_client_access(:max, ARRAY[:cedar, :dogwood]::bigint[], 'Payroll officer') \gset
SELECT b.name AS client, access_control.staff_effective_permissions(:max, b.id) AS max_may_do
  FROM access_control.business b WHERE b.id IN (:cedar, :dogwood) ORDER BY b.id;
COMMIT;
\echo '-- Max: the payslips of Cedar and Dogwood (payroll.run implies payroll.view) ...'
BEGIN; SELECT access_control.set_actor(:max) \gset
SELECT b.name AS client, p.employee, p.net_pay, p.status
  FROM payslips p JOIN access_control.business b ON b.id = p.business_id ORDER BY p.id;
\echo '-- ... which he approves'
UPDATE payslips SET status = 'approved' RETURNING employee, status;
\echo '-- ... but no invoices: the role does not include invoices.view'
SELECT count(*) AS invoices_max_sees FROM invoices;
COMMIT;
\echo '-- Mia: payroll.view is read-only, so it joined the built-in bookkeeper role by itself'
BEGIN; SELECT access_control.set_actor(:mia) \gset
SELECT b.name AS client, p.employee, p.net_pay, p.status
  FROM payslips p JOIN access_control.business b ON b.id = p.business_id ORDER BY p.id;
COMMIT;

\echo
\echo '== Olivia invites Nora to join as a member'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT invitation_id AS inv, token AS first_token
  FROM access_control.invite_staff(:firm, 'nora@northwind.test', 'member', 'Nora', 'New') \gset
COMMIT;
SELECT :inv AS invitation_id, :'first_token' AS token;
\echo '-- The token is in clear only in this result, for the application to mail;'
\echo '-- the database keeps only a hash of it.'
\echo '== Delivery tracking: the mail provider''s webhooks move the badge;'
\echo '   Olivia clicks "Resend" too soon, then again after the mail bounced'
-- The webhook handler acts for nobody, so the audit log names System.
SELECT access_control.record_invitation_event(:inv, 'sent') AS badge;
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT err(format('SELECT access_control.resend_invitation(%s)', :inv)) AS resend;
COMMIT;
SELECT access_control.record_invitation_event(:inv, 'bounced') AS badge;
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT access_control.resend_invitation(:inv) AS second_token \gset
COMMIT;
SELECT :'second_token' AS new_token;
\echo '-- The second mail arrives and is opened; a late "delivered" does not move the badge back'
SELECT e.event AS webhook, access_control.record_invitation_event(:inv, e.event) AS badge
  FROM unnest('{sent,delivered,opened,delivered}'::text[]) WITH ORDINALITY AS e(event, n) ORDER BY n;
\echo '-- The pending invitations list'
SELECT email, role, delivery_state, expired,
       round(extract(epoch FROM resend_available_at - now())) || ' s' AS resend_in,
       round(extract(epoch FROM expires_at - now()) / 86400) || ' days' AS expires_in
  FROM access_control.pending_invitations;
\echo '== Nora clicks the link: the first token no longer works, the second does'
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'first_token')) AS first_token;
SELECT access_control.accept_invitation(:'second_token') AS nora \gset
SELECT id, first_name, email, role, status FROM access_control.staff WHERE id = :nora;
\echo '-- Olivia puts her in the Year-end team and gives her Fir Farms as bookkeeper'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT access_control.add_team_member(:yearend, :nora) \gset
SELECT access_control.grant_client_access(:nora, ARRAY[:fir]::bigint[], 'bookkeeper') \gset
COMMIT;
\echo '-- Nora logs in: her account switcher, and the invoices she sees'
BEGIN; SELECT access_control.set_actor(:nora) \gset
SELECT * FROM access_control.my_businesses();
SELECT number, amount FROM invoices ORDER BY number;
COMMIT;

\echo
\echo '== API keys: Mia makes one for her reconciliation script; it is shown this once'
BEGIN; SELECT access_control.set_actor(:mia) \gset
SELECT access_control.create_api_key(:mia, 'reconciliation script') AS mia_key \gset
COMMIT;
SELECT :'mia_key' AS api_key;
\echo '-- The script authenticates with the key and acts as Mia'
BEGIN;
SELECT access_control.authenticate(:'mia_key') AS staff_id, access_control.current_actor();
SELECT number, amount FROM invoices ORDER BY number;
COMMIT;
\echo '-- A wrong or malformed key gets the same refusal'
SELECT k.what AS api_key, err(format('SELECT access_control.authenticate(%L)', k.key)) AS outcome
  FROM (VALUES (1, 'right id, wrong secret', regexp_replace(:'mia_key', '^(ac_[0-9]+_).*$', '\1') || repeat('A', 43)),
               (2, 'not a key at all', 'let-me-in')) AS k(n, what, key)
 ORDER BY k.n;
\echo '-- The keys console shows the key, never its secret'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT k.id, s.email AS staff, k.label, k.last_used_at IS NOT NULL AS used, k.revoked_at
  FROM access_control.api_keys k JOIN access_control.staff s ON s.id = k.staff_id;
\echo '== Olivia switches off programmatic access for Mia: the key stops working at once'
SELECT access_control.set_programmatic_access(:mia, false) \gset
COMMIT;
SELECT err(format('SELECT access_control.authenticate(%L)', :'mia_key')) AS mia_key_now;
\echo '-- Mia herself still logs in to the application as usual'
BEGIN; SELECT access_control.set_actor(:mia) \gset
SELECT count(*) AS invoices_mia_sees FROM invoices; COMMIT;

\echo
\echo '== Cedar Cafe''s owner, Carla, gets a client-portal login: every permission, on Cedar only'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT access_control.add_portal_user(:cedar, 'carla@cedar.test') AS carla \gset
COMMIT;
\echo '-- Carla sees Cedar''s invoices, and nothing else'
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT number, amount FROM invoices ORDER BY number; COMMIT;
\echo '== An outside firm, Harbor Tax Advisers (owner Hana, member Sam), is to file Cedar''s taxes'
RESET ROLE;
SELECT access_control.create_firm('Harbor Tax Advisers', 'hana@harbor.test', 'Hana', 'Harbor') AS harbor \gset
SELECT id AS hana FROM access_control.staff WHERE email = 'hana@harbor.test' \gset
SET ROLE demo_app;
BEGIN; SELECT access_control.set_actor(:hana) \gset
SELECT access_control.add_staff(:harbor, 'sam@harbor.test', 'member', 'Sam', 'Tax') AS sam \gset
COMMIT;
\echo '-- Carla invites Harbor to Cedar Cafe; with no ceiling given, the link is read-only'
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT access_control.invite_partner_firm(:cedar, :harbor) \gset
COMMIT;
\echo '-- Hana sees the invitation pending, accepts it, and gives Sam the administrator role'
BEGIN; SELECT access_control.set_actor(:hana) \gset
SELECT * FROM access_control.firm_clients(:harbor);
SELECT access_control.accept_partner_invitation(:harbor, :cedar) \gset
SELECT access_control.grant_client_access(:sam, ARRAY[:cedar]::bigint[], 'administrator') \gset
SELECT * FROM access_control.firm_clients(:harbor);
COMMIT;
\echo '-- Sam sees Cedar''s invoices ...'
BEGIN; SELECT access_control.set_actor(:sam) \gset
SELECT number, amount FROM invoices ORDER BY number;
\echo '-- ... and can change nothing: the read-only ceiling caps even an administrator'
WITH paid AS (UPDATE invoices SET amount = 0 RETURNING 1) SELECT count(*) AS invoices_changed FROM paid;
SELECT err(format($$INSERT INTO invoices (business_id, number, amount) VALUES (%s, 'CED-003', 999)$$, :cedar)) AS new_invoice;
COMMIT;
\echo '-- Hana''s console shows why'
BEGIN; SELECT access_control.set_actor(:hana) \gset
SELECT path, role, demo_perms(permissions) AS permissions FROM access_control.explain_access(:sam, :cedar);
COMMIT;
\echo '== The return is filed; Carla disconnects Harbor, and Sam sees nothing from then on'
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT access_control.disconnect_partner(:cedar, :harbor) \gset
COMMIT;
BEGIN; SELECT access_control.set_actor(:sam) \gset
SELECT count(*) AS invoices_sam_sees FROM invoices; COMMIT;
\echo '-- Hana''s client list keeps Cedar, as disabled'
BEGIN; SELECT access_control.set_actor(:hana) \gset
SELECT * FROM access_control.firm_clients(:harbor); COMMIT;

\echo
\echo '== Seeing access, as Olivia''s console shows it'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
\echo '-- Nora''s "manage access" page (staff_access)'
SELECT business_name, direct, via_teams, roles, demo_perms(permissions) AS permissions
  FROM access_control.staff_access(:nora);
\echo '-- Who can see Cedar Cafe (business_access)'
SELECT email, staff_role, direct, via_teams, demo_perms(permissions) AS permissions
  FROM access_control.business_access(:cedar);
\echo '-- Why Max may do what he does on Cedar, and why nothing on Alder (explain_access)'
SELECT c.client, e.path, e.role, demo_perms(e.permissions) AS permissions
  FROM (VALUES (1, :cedar, 'Cedar Cafe'), (2, :alder, 'Alder Bakery')) AS c(n, id, client),
       access_control.explain_access(:max, c.id) WITH ORDINALITY AS e(path, role, permissions, k)
 ORDER BY c.n, e.k;
COMMIT;
\echo '-- A member may look at her own access only'
BEGIN; SELECT access_control.set_actor(:mia) \gset
SELECT err(format('SELECT * FROM access_control.staff_access(%s)', :max)) AS mia_looks_at_max;
COMMIT;

RESET ROLE;

\echo
\echo '======================================================================'
\echo '== The console screens, as an application builds them'
\echo '======================================================================'
\echo '-- demo_app gets what README "What to grant" lists for the screens, no'
\echo '-- more: SELECT on the extension''s tables and views, which row-level'
\echo '-- security filters by the actor, and EXECUTE on the functions they call.'
GRANT SELECT ON ALL TABLES IN SCHEMA access_control TO demo_app;
GRANT EXECUTE ON FUNCTION
    access_control.grant_all_clients(bigint, text, timestamptz),
    access_control.set_client_roles(bigint, bigint[], text[]),
    access_control.revoke_client_access(bigint, bigint[]),
    access_control.grant_staff_access(bigint, bigint[], text, timestamptz),
    access_control.set_portal_permissions(bigint, text[]),
    access_control.invite_portal_user(bigint, text, text[], text, text),
    access_control.set_partner_listing(bigint, boolean),
    access_control.find_partner_firms(text),
    access_control.business_partners(bigint)
TO demo_app;
SELECT c.relname AS table_or_view, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS kind,
       c.relrowsecurity AS row_level_security
  FROM pg_class c
 WHERE c.relnamespace = 'access_control'::regnamespace AND c.relkind IN ('r', 'v')
   AND has_table_privilege('demo_app', c.oid, 'SELECT')
 ORDER BY c.relkind, c.relname;

\echo '-- Another firm signs up: Summit Ledger (owner Sofia, member Sid), with a client,'
\echo '-- a custom role, a team, grants, a portal user, invitations, an API key in use'
\echo '-- and audit rows. None of it may appear on any of Northwind''s or Cedar''s screens.'
SELECT access_control.create_firm('Summit Ledger', 'sofia@summit.test', 'Sofia', 'Summit') AS summit \gset
SELECT access_control.add_staff(:summit, 'sid@summit.test', 'member', 'Sid', 'Summit') AS sid \gset
SELECT access_control.create_business(:summit, 'Spruce Supplies') AS spruce \gset
SELECT access_control.create_client_role(:summit, 'Summit reviewer', '{bills.view,bills.approve}') \gset
SELECT access_control.create_team(:summit, 'Audit desk') AS desk \gset
SELECT access_control.add_team_member(:desk, :sid) \gset
SELECT access_control.grant_team_access(:desk, ARRAY[:spruce]::bigint[], 'Summit reviewer') \gset
SELECT access_control.grant_client_access(:sid, ARRAY[:spruce]::bigint[], 'clerk') \gset
SELECT access_control.grant_all_clients(:sid, 'bookkeeper') \gset
SELECT access_control.add_portal_user(:spruce, 'stan@spruce.test', NULL, 'Stan', 'Spruce') \gset
SELECT count(*) AS invited FROM access_control.invite_staff(:summit, 'sue@summit.test', 'admin') \gset
SELECT count(*) AS invited FROM access_control.invite_portal_user(:spruce, 'sal@spruce.test', '{bills.view}') \gset
SELECT access_control.create_api_key(:sid, 'Summit sync') AS summit_key \gset
BEGIN; SELECT access_control.authenticate(:'summit_key') \gset
COMMIT;
-- The DBA notes every row that is Summit's, by table, to count them on
-- each screen below.
CREATE TABLE demo_summit (tbl text, id bigint);
INSERT INTO demo_summit
SELECT 'firm', :summit
UNION ALL SELECT 'staff', id FROM access_control.staff WHERE firm_id = :summit
UNION ALL SELECT 'business', business_id FROM access_control.firm_client WHERE firm_id = :summit
UNION ALL SELECT 'team', id FROM access_control.team WHERE firm_id = :summit
UNION ALL SELECT 'client_role', id FROM access_control.client_role WHERE firm_id = :summit
UNION ALL SELECT 'portal_user', id FROM access_control.portal_user WHERE business_id = :spruce
UNION ALL SELECT 'api_key', k.id FROM access_control.api_key k
                 JOIN access_control.staff s ON s.id = k.staff_id WHERE s.firm_id = :summit
UNION ALL SELECT 'invitation', id FROM access_control.invitation WHERE firm_id = :summit OR business_id = :spruce
UNION ALL SELECT 'audit_log', id FROM access_control.audit_log WHERE firm_id = :summit OR business_id = :spruce;
GRANT SELECT ON demo_summit TO demo_app;
-- For one actor: the rows it reads of every table and view of the
-- extension, and how many of them are Summit's. It runs with the caller's
-- rights, so row-level security filters it as it filters the screens.
CREATE FUNCTION demo_reads() RETURNS TABLE (table_or_view text, rows_read bigint, summits bigint)
LANGUAGE sql STABLE AS $$
    WITH o AS (SELECT array_agg(id) FILTER (WHERE tbl = 'firm') AS firm,
                      array_agg(id) FILTER (WHERE tbl = 'staff') AS staff,
                      array_agg(id) FILTER (WHERE tbl = 'business') AS business,
                      array_agg(id) FILTER (WHERE tbl = 'team') AS team,
                      array_agg(id) FILTER (WHERE tbl = 'client_role') AS client_role,
                      array_agg(id) FILTER (WHERE tbl = 'portal_user') AS portal_user,
                      array_agg(id) FILTER (WHERE tbl = 'api_key') AS api_key,
                      array_agg(id) FILTER (WHERE tbl = 'invitation') AS invitation,
                      array_agg(id) FILTER (WHERE tbl = 'audit_log') AS audit_log
                 FROM demo_summit)
    SELECT 'firm', count(*), count(*) FILTER (WHERE x.id = ANY (o.firm)) FROM access_control.firm x, o
    UNION ALL SELECT 'staff', count(*), count(*) FILTER (WHERE x.id = ANY (o.staff)) FROM access_control.staff x, o
    UNION ALL SELECT 'business', count(*), count(*) FILTER (WHERE x.id = ANY (o.business)) FROM access_control.business x, o
    UNION ALL SELECT 'firm_client', count(*), count(*) FILTER (WHERE x.firm_id = ANY (o.firm) OR x.business_id = ANY (o.business))
                FROM access_control.firm_client x, o
    UNION ALL SELECT 'team', count(*), count(*) FILTER (WHERE x.id = ANY (o.team)) FROM access_control.team x, o
    UNION ALL SELECT 'team_member', count(*), count(*) FILTER (WHERE x.team_id = ANY (o.team) OR x.staff_id = ANY (o.staff))
                FROM access_control.team_member x, o
    UNION ALL SELECT 'client_role', count(*), count(*) FILTER (WHERE x.id = ANY (o.client_role)) FROM access_control.client_role x, o
    UNION ALL SELECT 'permission (shared catalog)', count(*), 0 FROM access_control.permission x
    UNION ALL SELECT 'staff_grant', count(*), count(*) FILTER (WHERE x.staff_id = ANY (o.staff) OR x.business_id = ANY (o.business))
                FROM access_control.staff_grant x, o
    UNION ALL SELECT 'all_clients_grant', count(*), count(*) FILTER (WHERE x.staff_id = ANY (o.staff))
                FROM access_control.all_clients_grant x, o
    UNION ALL SELECT 'team_grant', count(*), count(*) FILTER (WHERE x.team_id = ANY (o.team) OR x.business_id = ANY (o.business))
                FROM access_control.team_grant x, o
    UNION ALL SELECT 'portal_user', count(*), count(*) FILTER (WHERE x.id = ANY (o.portal_user) OR x.business_id = ANY (o.business))
                FROM access_control.portal_user x, o
    UNION ALL SELECT 'api_key', count(*), count(*) FILTER (WHERE x.id = ANY (o.api_key)) FROM access_control.api_key x, o
    UNION ALL SELECT 'api_key_usage', count(*), count(*) FILTER (WHERE x.key_id = ANY (o.api_key)) FROM access_control.api_key_usage x, o
    UNION ALL SELECT 'secret_key (hashing keys)', count(*), 0 FROM access_control.secret_key x
    UNION ALL SELECT 'invitation', count(*), count(*) FILTER (WHERE x.id = ANY (o.invitation)) FROM access_control.invitation x, o
    UNION ALL SELECT 'audit_log', count(*), count(*) FILTER (WHERE x.id = ANY (o.audit_log) OR x.firm_id = ANY (o.firm)
                                                              OR x.business_id = ANY (o.business))
                FROM access_control.audit_log x, o
    UNION ALL SELECT 'view pending_invitations', count(*), count(*) FILTER (WHERE x.id = ANY (o.invitation))
                FROM access_control.pending_invitations x, o
    UNION ALL SELECT 'view api_keys', count(*), count(*) FILTER (WHERE x.id = ANY (o.api_key)) FROM access_control.api_keys x, o
$$;
SET ROLE demo_app;

\echo
\echo '== Screen 1: Northwind''s Staff page, as Olivia (owner)'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
\echo '-- The staff list: SELECT on staff, which gives her firm''s staff only'
SELECT first_name || ' ' || last_name AS name, email, role, status, programmatic_access AS api_keys_allowed
  FROM access_control.staff ORDER BY array_position('{owner,admin,member}', role), first_name;
\echo '-- "Invite": Quinn, as a member; the pending invitations (kind staff)'
SELECT count(*) AS invited FROM access_control.invite_staff(:firm, 'quinn@northwind.test', 'member', 'Quinn', 'Quill') \gset
SELECT first_name, last_name, email, role, delivery_state, expired, resend_available_at > now() AS resend_waits
  FROM access_control.pending_invitations WHERE kind = 'staff' ORDER BY id;
\echo '-- The "manage access" modal for Nora. Olivia first gives her the "New Client'
\echo '-- Role" for all client accounts, bookkeeper, which covers clients added later too.'
SELECT access_control.grant_all_clients(:nora, 'bookkeeper') \gset
\echo '-- Per client: her direct role (the dropdown), her teams'' roles, the all-clients role'
SELECT business_name AS client, direct_role, team_roles, via_teams, all_clients_role,
       cardinality(permissions) AS n_permissions
  FROM access_control.staff_access(:nora) ORDER BY business_name;
\echo '-- Save: her direct roles become clerk on Alder and payer on Fir (set_client_roles)'
SELECT access_control.set_client_roles(:nora, ARRAY[:alder, :fir]::bigint[], '{clerk,payer}') \gset
\echo '-- Olivia unticks Alder; the console shows the NOTICE: Nora keeps Alder all the same'
SET LOCAL client_min_messages = notice;
SELECT access_control.revoke_client_access(:nora, ARRAY[:alder]::bigint[]) \gset
SET LOCAL client_min_messages = warning;
SELECT business_name AS client, direct_role, team_roles, all_clients_role
  FROM access_control.staff_access(:nora) WHERE business_id IN (:alder, :fir) ORDER BY business_name;
COMMIT;
\echo '-- Nora (member): the same staff list, no invitations (they are for owners and'
\echo '-- admins), her own access but nobody else''s; Carla (portal user): no staff page'
BEGIN; SELECT access_control.set_actor(:nora) \gset
SELECT (SELECT count(*) FROM access_control.staff) AS staff_nora_reads,
       (SELECT count(*) FROM access_control.pending_invitations WHERE kind = 'staff') AS staff_invitations_nora_reads,
       (SELECT count(*) FROM access_control.staff_access(:nora)) AS clients_in_her_own_modal,
       err(format('SELECT * FROM access_control.staff_access(%s)', :max)) AS max_s_modal;
COMMIT;
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT (SELECT count(*) FROM access_control.staff) AS staff_carla_reads,
       err(format('SELECT * FROM access_control.staff_access(%s)', :nora)) AS nora_s_modal;
COMMIT;

\echo
\echo '== Screen 2: a bill-pay console''s per-client roles, as Olivia'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
\echo '-- The role picker: SELECT on client_role gives the built-in roles and Northwind''s own'
SELECT name, CASE WHEN firm_id IS NULL THEN 'built in' ELSE 'Northwind' END AS made_by,
       demo_perms(access_control.permission_names(permissions)) AS permissions
  FROM access_control.client_role ORDER BY firm_id NULLS FIRST, name;
\echo '-- Cedar Cafe''s page: who works on it, with each one''s role there (business_access)'
SELECT first_name || ' ' || last_name AS name, staff_role, direct_role, team_roles, via_teams
  FROM access_control.business_access(:cedar) ORDER BY staff_id;
\echo '-- "Add staff to this client": Mia as approver (grant_staff_access), and the list again'
SELECT access_control.grant_staff_access(:cedar, ARRAY[:mia]::bigint[], 'approver') \gset
SELECT first_name || ' ' || last_name AS name, staff_role, direct_role, team_roles, via_teams
  FROM access_control.business_access(:cedar) ORDER BY staff_id;
COMMIT;
\echo '-- Nora (member): the same role picker, but not the client''s staff list;'
\echo '-- Carla (portal user): neither'
BEGIN; SELECT access_control.set_actor(:nora) \gset
SELECT (SELECT count(*) FROM access_control.client_role) AS roles_nora_reads,
       err(format('SELECT * FROM access_control.business_access(%s)', :cedar)) AS cedar_s_staff;
COMMIT;
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT (SELECT count(*) FROM access_control.client_role) AS roles_carla_reads,
       err(format('SELECT * FROM access_control.business_access(%s)', :cedar)) AS cedar_s_staff;
COMMIT;

\echo
\echo '== Screen 3: Cedar Cafe''s Partner tab, and a partner firm''s client list'
\echo '-- Hana lists Harbor in the partner directory'
BEGIN; SELECT access_control.set_actor(:hana) \gset
SELECT access_control.set_partner_listing(:harbor, true) \gset
COMMIT;
\echo '-- Carla (Cedar''s portal user, All Permissions) searches the directory and invites Harbor again'
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT name FROM access_control.find_partner_firms('tax');
SELECT access_control.invite_partner_firm(:cedar, :harbor, '{invoices.view,payments.view,bills.view}') \gset
SELECT firm_name, status, demo_perms(ceiling) AS ceiling,
       invited_at IS NOT NULL AS invited, connected_at IS NOT NULL AS connected
  FROM access_control.business_partners(:cedar);
COMMIT;
\echo '-- Harbor''s Clients page, as Hana: Cedar is pending; she accepts'
BEGIN; SELECT access_control.set_actor(:hana) \gset
SELECT name, status FROM access_control.firm_clients(:harbor);
SELECT access_control.accept_partner_invitation(:harbor, :cedar) \gset
SELECT name, status FROM access_control.firm_clients(:harbor);
COMMIT;
\echo '-- The Partner tab now'
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT firm_name, status, demo_perms(ceiling) AS ceiling, connected_at IS NOT NULL AS connected
  FROM access_control.business_partners(:cedar);
COMMIT;
\echo '-- Staff holding users.manage on Cedar read its Partner tab too: Olivia (owner)'
\echo '-- and Nora (member, administrator there by her team); Mia (approver) does not'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT count(*) AS partners_olivia_reads FROM access_control.business_partners(:cedar);
SELECT access_control.set_actor(:nora) \gset
SELECT count(*) AS partners_nora_reads FROM access_control.business_partners(:cedar);
SELECT access_control.set_actor(:mia) \gset
SELECT err(format('SELECT * FROM access_control.business_partners(%s)', :cedar)) AS mia_opens_the_tab;
COMMIT;

\echo
\echo '== Screen 4: Cedar Cafe''s billing account, "Additional users", as Carla'
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
\echo '-- "Add user": Cody, who enters bills; "Invite new user": Dana, who approves them'
SELECT access_control.add_portal_user(:cedar, 'cody@cedar.test', '{bills.view,bills.manage}', 'Cody', 'Clerk') AS cody \gset
SELECT count(*) AS invited
  FROM access_control.invite_portal_user(:cedar, 'dana@cedar.test', '{bills.view,bills.approve}', 'Dana', 'Day') \gset
\echo '-- Cody gets "All Permissions": a standing choice, permissions defined later included'
SELECT access_control.set_portal_permissions(:cody, NULL) \gset
\echo '-- The users (SELECT on portal_user: Cedar''s only) and the pending invitations (kind portal)'
SELECT coalesce(first_name || ' ' || last_name, email) AS name, email,
       CASE WHEN NOT can_login THEN 'contact, no login'
            WHEN permissions IS NULL THEN 'All Permissions'
            ELSE demo_perms(access_control.permission_names(permissions)) END AS permissions
  FROM access_control.portal_user ORDER BY id;
SELECT first_name || ' ' || last_name AS name, email,
       CASE WHEN all_permissions THEN 'All Permissions' ELSE array_to_string(permissions, ', ') END AS permissions,
       delivery_state, expired
  FROM access_control.pending_invitations WHERE kind = 'portal' ORDER BY id;
COMMIT;
\echo '-- Nora, a member, holds users.manage on Cedar (the Year-end team''s administrator'
\echo '-- role): she reads the same screen and may invite, within what she holds'
BEGIN; SELECT access_control.set_actor(:nora) \gset
SELECT count(*) AS invited
  FROM access_control.invite_portal_user(:cedar, 'eli@cedar.test', '{invoices.view}', 'Eli', 'Eddy') \gset
SELECT email FROM access_control.portal_user ORDER BY id;
SELECT email, array_to_string(permissions, ', ') AS permissions FROM access_control.pending_invitations
 WHERE kind = 'portal' ORDER BY id;
COMMIT;
\echo '-- Mia, a member without users.manage on Cedar (approver there), reads none of it, invites nobody'
BEGIN; SELECT access_control.set_actor(:mia) \gset
SELECT (SELECT count(*) FROM access_control.portal_user) AS users_mia_reads,
       (SELECT count(*) FROM access_control.pending_invitations) AS invitations_mia_reads,
       err(format($$SELECT access_control.invite_portal_user(%s, 'x@cedar.test', '{invoices.view}')$$, :cedar)) AS mia_invites;
COMMIT;

\echo
\echo '== Screen 5: the audit screen, SELECT on audit_log as each actor reads it (newest first)'
-- the screen's query, kept as the application keeps it: each actor reads
-- through it what the policies let that actor read
CREATE TEMPORARY VIEW audit_screen AS
SELECT a.id, a.action, a.entity,
       CASE a.actor_kind WHEN 'system' THEN 'System' ELSE coalesce(s.first_name, p.first_name, p.email, a.actor) END AS who,
       b.name AS client
  FROM access_control.audit_log a
  LEFT JOIN access_control.staff s ON a.actor_kind = 'staff' AND s.id = a.actor_id
  LEFT JOIN access_control.portal_user p ON a.actor_kind = 'portal' AND p.id = a.actor_id
  LEFT JOIN access_control.business b ON b.id = a.business_id;
\echo '-- Olivia (owner): Northwind''s rows (firm_id), its staff''s changes on clients included'
BEGIN; SELECT access_control.set_actor(:olivia) \gset
SELECT action, entity, who, client FROM audit_screen ORDER BY id DESC LIMIT 8;
COMMIT;
\echo '-- Carla (portal user with users.manage on Cedar): Cedar''s rows; staff names are'
\echo '-- the firms'', so she reads the actor''s kind and id'
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
SELECT action, entity, who, client FROM audit_screen ORDER BY id DESC LIMIT 8;
COMMIT;
\echo '-- Nora (member): members read no audit rows'
BEGIN; SELECT access_control.set_actor(:nora) \gset
SELECT count(*) AS audit_rows_nora_reads FROM access_control.audit_log;
COMMIT;
DROP VIEW audit_screen;

\echo
\echo '== Summit''s rows on every table and view, per actor: "rows read (of them Summit''s)"'
\echo '-- Each actor runs demo_reads() as demo_app; system (the DBA) shows what there is.'
CREATE TEMPORARY TABLE demo_tally (actor text, table_or_view text, rows_read bigint, summits bigint, k bigint);
BEGIN; SELECT access_control.set_actor(:olivia) \gset
INSERT INTO demo_tally SELECT 'owner', r.* FROM demo_reads() WITH ORDINALITY AS r(t, rows_read, summits, k);
COMMIT;
BEGIN; SELECT access_control.set_actor(:nora) \gset
INSERT INTO demo_tally SELECT 'member', r.* FROM demo_reads() WITH ORDINALITY AS r(t, rows_read, summits, k);
COMMIT;
BEGIN; SELECT access_control.set_portal_actor(:carla) \gset
INSERT INTO demo_tally SELECT 'portal', r.* FROM demo_reads() WITH ORDINALITY AS r(t, rows_read, summits, k);
COMMIT;
INSERT INTO demo_tally SELECT 'none', r.* FROM demo_reads() WITH ORDINALITY AS r(t, rows_read, summits, k);
RESET ROLE;
INSERT INTO demo_tally SELECT 'system', r.* FROM demo_reads() WITH ORDINALITY AS r(t, rows_read, summits, k);
SELECT table_or_view,
       max(rows_read || ' (' || summits || ')') FILTER (WHERE actor = 'owner') AS "Olivia, owner",
       max(rows_read || ' (' || summits || ')') FILTER (WHERE actor = 'member') AS "Nora, member",
       max(rows_read || ' (' || summits || ')') FILTER (WHERE actor = 'portal') AS "Carla, portal",
       max(rows_read || ' (' || summits || ')') FILTER (WHERE actor = 'none') AS "no actor",
       max(rows_read || ' (' || summits || ')') FILTER (WHERE actor = 'system') AS "system"
  FROM demo_tally GROUP BY table_or_view ORDER BY min(k);
\echo '-- Summit''s rows read by Northwind''s and Cedar''s actors, all tables together; and'
\echo '-- every row read with no actor but the shared permission catalog'
SELECT sum(summits) FILTER (WHERE actor IN ('owner', 'member', 'portal')) AS summit_rows_they_read,
       sum(rows_read) FILTER (WHERE actor = 'none' AND table_or_view NOT LIKE 'permission%') AS rows_read_with_no_actor
  FROM demo_tally;
DROP TABLE demo_tally, demo_summit;
DROP FUNCTION demo_reads();

RESET ROLE;
\echo
\echo '== The audit log, as the DBA (or a role granted SELECT on it) reads it'
-- One line per entry: who did it, what, to which client, and what changed.
CREATE TEMPORARY VIEW demo_log AS
SELECT a.id, a.firm_id, a.business_id,
       CASE WHEN a.actor = 'system' THEN 'System'
            ELSE coalesce(who.first_name, p.email, a.actor) END AS who,
       a.action, a.entity, b.name AS client,
       concat_ws(': ', subject.first_name,
           CASE WHEN a.old IS NOT NULL AND a.new IS NOT NULL THEN
                (SELECT string_agg(format('%s %s -> %s', k, a.old ->> k, a.new ->> k), ', ' ORDER BY k)
                   FROM jsonb_object_keys(a.new) AS k WHERE k NOT LIKE '%\_at' AND k NOT LIKE '%\_id')
                ELSE coalesce(r.name, t.name, entry ->> 'label', entry ->> 'email', entry ->> 'name',
                              'status ' || (entry ->> 'status')) END) AS detail
  FROM access_control.audit_log a
  CROSS JOIN LATERAL (SELECT coalesce(a.new, a.old) AS entry) j
  LEFT JOIN access_control.staff who ON a.actor = 'staff:' || who.id
  LEFT JOIN access_control.portal_user p ON a.actor = 'portal:' || p.id
  LEFT JOIN access_control.business b ON b.id = a.business_id
  LEFT JOIN access_control.staff subject
         ON subject.id = CASE WHEN a.entity = 'staff' AND a.old IS NOT NULL THEN a.entity_id
                              ELSE (entry ->> 'staff_id')::bigint END
  LEFT JOIN access_control.client_role r ON r.id = (entry ->> 'role_id')::bigint
  LEFT JOIN access_control.team t ON t.id = (entry ->> 'team_id')::bigint;
\echo '-- Northwind''s last 10 entries'
SELECT id, who, action, entity, client, detail
  FROM (SELECT * FROM demo_log WHERE firm_id = :firm ORDER BY id DESC LIMIT 10) last ORDER BY id;
\echo '-- Cedar Cafe''s entries since Carla got her login'
SELECT l.id, l.who, l.action, l.entity, f.name AS firm, l.detail
  FROM demo_log l LEFT JOIN access_control.firm f ON f.id = l.firm_id
 WHERE l.business_id = :cedar AND l.id >= (SELECT min(id) FROM demo_log WHERE action = 'portal_user.added')
 ORDER BY l.id;
\echo '-- No secret is in it: neither the API key nor either invitation token'
SELECT count(*) AS log_rows,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM unnest(ARRAY[regexp_replace(:'mia_key', '^ac_[0-9]+_', ''),
                                      regexp_replace(:'first_token', '^ac_inv_[0-9]+_', ''),
                                      regexp_replace(:'second_token', '^ac_inv_[0-9]+_', '')]) AS secret
            WHERE strpos(a::text, secret) > 0)) AS rows_holding_a_secret
  FROM access_control.audit_log a;
\echo '-- Every firm''s hash chain verifies'
SELECT coalesce(f.name, '(rows without a firm)') AS chain, v.ok, v.first_bad_id
  FROM access_control.verify_audit_chain() v LEFT JOIN access_control.firm f ON f.id = v.firm_id
 ORDER BY v.firm_id NULLS LAST;
\echo '-- and the log is append-only, even for a superuser'
SELECT t.attempt, err(t.stmt) AS outcome
  FROM (VALUES (1, 'UPDATE', $$UPDATE access_control.audit_log SET actor = 'system'$$),
               (2, 'DELETE', $$DELETE FROM access_control.audit_log$$),
               (3, 'TRUNCATE', $$TRUNCATE access_control.audit_log$$))
       AS t(n, attempt, stmt)
 ORDER BY t.n;

DROP VIEW demo_log;
DROP TABLE invoices, payslips;
DROP FUNCTION err(text), demo_perms(text[]);
DROP EXTENSION access_control;
DROP ROLE demo_app;
