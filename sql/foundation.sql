-- The core model and the rule of effective access, as users see it:
-- which rows of an application table each person gets.
CREATE EXTENSION access_control;
\set VERBOSITY default

-- A firm with an owner, an admin and three members; another firm.
SELECT access_control.create_firm('Acme Accounting', 'Olivia@Acme.test', 'Olivia', 'Owner') AS acme \gset
SELECT id AS olivia FROM access_control.staff WHERE email = 'olivia@acme.test' \gset
SELECT access_control.add_staff(:acme, 'adam@acme.test', 'admin', 'Adam') AS adam \gset
SELECT access_control.add_staff(:acme, 'dora@acme.test', 'member', 'Dora') AS dora \gset
SELECT access_control.add_staff(:acme, 'tim@acme.test', 'member', 'Tim') AS tim \gset
SELECT access_control.add_staff(:acme, 'rex@acme.test', 'member', 'Rex') AS rex \gset
SELECT access_control.create_firm('Other LLP', 'owen@other.test') AS other \gset
SELECT id AS owen FROM access_control.staff WHERE email = 'owen@other.test' \gset
SELECT email, role, status, programmatic_access FROM access_control.staff ORDER BY id;

-- Six clients of Acme, one of Other.
SELECT access_control.create_business(:acme, 'Alpha Bakery') AS alpha \gset
SELECT access_control.create_business(:acme, 'Bravo Builders') AS bravo \gset
SELECT access_control.create_business(:acme, 'Charlie Cafe') AS charlie \gset
SELECT access_control.create_business(:acme, 'Delta Dental') AS delta \gset
SELECT access_control.create_business(:acme, 'Echo Events') AS echo \gset
SELECT access_control.create_business(:acme, 'Foxtrot Farms') AS foxtrot \gset
SELECT access_control.create_business(:other, 'Zulu Zoo') AS zulu \gset
SELECT f.name AS firm, b.name AS business, fc.status
  FROM access_control.firm_client fc
  JOIN access_control.firm f ON f.id = fc.firm_id
  JOIN access_control.business b ON b.id = fc.business_id
 ORDER BY b.name;

-- Dora gets two clients directly; Tim reaches two through a team; Rex has one.
SELECT access_control.grant_client_access(:dora, ARRAY[:alpha, :bravo]::bigint[], 'bookkeeper');
SELECT access_control.create_team(:acme, 'Payroll') AS payroll \gset
SELECT access_control.add_team_member(:payroll, :tim);
SELECT access_control.grant_team_access(:payroll, ARRAY[:charlie, :delta]::bigint[], 'administrator');
SELECT access_control.grant_client_access(:rex, ARRAY[:echo]::bigint[], 'administrator');

-- The application's table, protected, and the application's role.
CREATE TABLE invoices (
    id          serial PRIMARY KEY,
    business_id bigint NOT NULL,
    number      text NOT NULL,
    amount      numeric NOT NULL
);
INSERT INTO invoices (business_id, number, amount)
SELECT b.id, left(b.name, 1) || '-' || n, 100 * n
  FROM access_control.business b, generate_series(1, 2) n
 ORDER BY b.id, n;
SELECT access_control.protect_table('invoices');
CREATE ROLE regress_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON invoices TO regress_app;
GRANT USAGE ON SEQUENCE invoices_id_seq TO regress_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.clear_actor() TO regress_app;

-- The same query as each person. A helper keeps the listing short: it runs
-- as the application's role (so RLS applies) and acts as the given staff
-- member (or nobody).
CREATE FUNCTION invoices_as(staff bigint) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE r text;
BEGIN
    IF staff IS NULL THEN
        PERFORM access_control.clear_actor();
    ELSE
        PERFORM access_control.set_actor(staff);
    END IF;
    SELECT coalesce(string_agg(number, ' ' ORDER BY number), '(none)') INTO r FROM public.invoices;
    RETURN r;
END $$;
ALTER FUNCTION invoices_as(bigint) OWNER TO regress_app;
SET ROLE regress_app;
SELECT 'owner Olivia' AS who, invoices_as(:olivia) AS sees
UNION ALL SELECT 'admin Adam', invoices_as(:adam)
UNION ALL SELECT 'member Dora (direct)', invoices_as(:dora)
UNION ALL SELECT 'member Tim (team)', invoices_as(:tim)
UNION ALL SELECT 'member Rex (direct)', invoices_as(:rex)
UNION ALL SELECT 'Owen of Other LLP', invoices_as(:owen)
UNION ALL SELECT 'no actor', invoices_as(NULL);
RESET ROLE;

-- The actor lasts until the end of the transaction.
SET ROLE regress_app;
BEGIN;
SELECT access_control.set_actor(:dora);
SELECT access_control.current_actor() = 'staff:' || :dora AS acting_as_dora;
SELECT access_control.current_staff_id() = :dora AS staff_id_is_dora,
       access_control.current_portal_user_id() AS portal_user_id;
SELECT number FROM invoices ORDER BY number;
COMMIT;
SELECT access_control.current_actor() AS after_commit;
SELECT access_control.current_staff_id() AS staff_id, access_control.current_portal_user_id() AS portal_user_id;
SELECT count(*) AS rows_without_actor FROM invoices;
RESET ROLE;

-- Removing Rex revokes at once; his row stays, as removed.
SELECT access_control.remove_staff(:rex);
SELECT invoices_as(:rex) AS rex_after_removal;
SELECT status FROM access_control.staff WHERE id = :rex;
SELECT count(*) AS rex_grants FROM access_control.staff_grant WHERE staff_id = :rex;

-- An expired grant grants nothing.
UPDATE access_control.staff_grant SET expires_at = now() - interval '1 minute'
 WHERE staff_id = :dora AND business_id = :bravo;
SELECT invoices_as(:dora) AS dora_after_expiry;

-- A link that is not active hides the business from the owner too.
UPDATE access_control.firm_client SET status = 'disconnected' WHERE business_id = :foxtrot;
SELECT invoices_as(:olivia) AS olivia_after_disconnect;
UPDATE access_control.firm_client SET status = 'active' WHERE business_id = :foxtrot;

-- Bulk in both directions: one client to many staff, one staff to many clients.
SELECT access_control.grant_staff_access(:echo, ARRAY[:dora, :tim]::bigint[], 'bookkeeper');
SELECT invoices_as(:dora) AS dora, invoices_as(:tim) AS tim;
SELECT access_control.revoke_staff_access(:echo, ARRAY[:dora, :tim]::bigint[]);
SELECT invoices_as(:dora) AS dora, invoices_as(:tim) AS tim;
SELECT access_control.grant_client_access(:dora, NULL, 'bookkeeper');  -- every active client
SELECT invoices_as(:dora) AS dora_everything;
SELECT access_control.revoke_client_access(:dora, ARRAY[:charlie, :delta, :echo]::bigint[]);
SELECT invoices_as(:dora) AS dora_after_revoke;

-- Re-granting changes the role.
SELECT access_control.staff_has_permission(:dora, :alpha, 'invoices.pay') AS dora_can_pay_before;
SELECT access_control.grant_client_access(:dora, ARRAY[:alpha]::bigint[], 'administrator');
SELECT access_control.staff_has_permission(:dora, :alpha, 'invoices.pay') AS dora_can_pay_after;
SELECT r.name FROM access_control.staff_grant g JOIN access_control.client_role r ON r.id = g.role_id
 WHERE g.staff_id = :dora AND g.business_id = :alpha;

-- set_client_access replaces the direct grants with exactly the set.
SELECT access_control.set_client_access(:dora, ARRAY[:echo, :foxtrot]::bigint[], 'bookkeeper');
SELECT invoices_as(:dora) AS dora_after_set;
SELECT access_control.set_client_access(:dora, '{}', 'bookkeeper');
SELECT invoices_as(:dora) AS dora_after_clear;

-- Team membership and team grants come and go.
SELECT access_control.remove_team_member(:payroll, :tim);
SELECT invoices_as(:tim) AS tim_out_of_team;
SELECT access_control.add_team_member(:payroll, :tim);
SELECT access_control.revoke_team_access(:payroll, ARRAY[:delta]::bigint[]);
SELECT invoices_as(:tim) AS tim_without_delta;
SELECT access_control.drop_team(:payroll);
SELECT invoices_as(:tim) AS tim_team_dropped;

-- Helpers about another staff member, and the effective permissions.
SELECT access_control.grant_client_access(:tim, ARRAY[:alpha]::bigint[], 'bookkeeper');
SELECT access_control.staff_can_see_business(:tim, :alpha) AS tim_sees_alpha,
       access_control.staff_can_see_business(:tim, :bravo) AS tim_sees_bravo,
       access_control.staff_has_permission(:tim, :alpha, 'invoices.view') AS tim_views,
       access_control.staff_has_permission(:tim, :alpha, 'invoices.pay') AS tim_pays;
SELECT access_control.staff_effective_permissions(:tim, :alpha);
SELECT access_control.staff_effective_permissions(:tim, :bravo) IS NULL AS no_access_is_null;
SELECT access_control.staff_effective_permissions(:owen, :alpha) IS NULL AS other_firm_is_null;
-- Granted alone, each helper works for a reporting role acting as system
-- (act_as_system): staff_effective_permissions needs no grant on the mask
-- function it is made from, and does not pass it on. Without an actor,
-- they tell nothing.
CREATE ROLE regress_reports;
GRANT EXECUTE ON FUNCTION access_control.act_as_system() TO regress_reports;
GRANT EXECUTE ON FUNCTION access_control.staff_effective_permissions(bigint, bigint) TO regress_reports;
SET ROLE regress_reports;
SELECT access_control.staff_effective_permissions(:tim, :alpha) AS no_actor;
BEGIN;
SELECT access_control.act_as_system();
SELECT access_control.staff_effective_permissions(:tim, :alpha) AS tim_on_alpha,
       access_control.staff_effective_permissions(:tim, :bravo) IS NULL AS tim_on_bravo_is_null;
SELECT access_control.staff_effective_permission_mask(:tim, :alpha);
ROLLBACK;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION access_control.staff_effective_permissions(bigint, bigint) FROM regress_reports;
GRANT EXECUTE ON FUNCTION access_control.staff_effective_permission_mask(bigint, bigint),
    access_control.staff_can_see_business(bigint, bigint),
    access_control.staff_has_permission(bigint, bigint, text) TO regress_reports;
SET ROLE regress_reports;
BEGIN;
SELECT access_control.act_as_system();
SELECT access_control.permission_names(access_control.staff_effective_permission_mask(:tim, :alpha)) AS tim_on_alpha_from_mask,
       access_control.staff_can_see_business(:tim, :alpha) AS tim_sees_alpha,
       access_control.staff_has_permission(:tim, :alpha, 'invoices.view') AS tim_views;
COMMIT;
RESET ROLE;
REVOKE ALL ON FUNCTION access_control.staff_effective_permission_mask(bigint, bigint),
    access_control.staff_can_see_business(bigint, bigint),
    access_control.staff_has_permission(bigint, bigint, text),
    access_control.act_as_system() FROM regress_reports;
DROP ROLE regress_reports;

-- Roles: an admin demoted to member loses the firm-wide view.
SELECT access_control.set_staff_role(:adam, 'member');
SELECT invoices_as(:adam) AS adam_as_member;
SELECT access_control.set_staff_role(:adam, 'admin');
SELECT invoices_as(:adam) AS adam_as_admin;

-- visible_business_ids() for index-friendly policies.
BEGIN;
SELECT access_control.set_actor(:tim);
SELECT access_control.visible_business_ids() = ARRAY[:alpha]::bigint[] AS tim_ids;
SELECT access_control.has_permission(:alpha, 'invoices.view') AS view,
       access_control.has_permission(:alpha, 'invoices.pay') AS pay,
       access_control.can_see_business(:bravo) AS sees_bravo;
COMMIT;

-- Writes need the write permission on the old row and on the new one.
SELECT access_control.protect_table('invoices', 'business_id', 'invoices.view', 'invoices.pay');
SELECT access_control.grant_client_access(:dora, ARRAY[:bravo]::bigint[], 'administrator');
SET ROLE regress_app;
BEGIN;
SELECT access_control.set_actor(:tim);  -- bookkeeper on Alpha: reads only
UPDATE invoices SET amount = 0 RETURNING number;
DELETE FROM invoices RETURNING number;
INSERT INTO invoices (business_id, number, amount) VALUES (:alpha, 'A-3', 1);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:dora);  -- administrator on Bravo
UPDATE invoices SET amount = amount + 1 RETURNING number, amount;
UPDATE invoices SET business_id = :alpha WHERE number = 'B-1';  -- moving it out is refused
ROLLBACK;
RESET ROLE;

-- A table's owner granted protect_table alone protects its own table, and
-- only its own: the function runs with its caller's rights.
CREATE ROLE regress_owner;
CREATE TABLE owned_ledger (business_id bigint NOT NULL, amount numeric);
ALTER TABLE owned_ledger OWNER TO regress_owner;
GRANT EXECUTE ON FUNCTION access_control.protect_table(regclass, name, text, text) TO regress_owner;
SET ROLE regress_owner;
SELECT access_control.protect_table('owned_ledger', 'business_id', 'invoices.view');
\set VERBOSITY terse
SELECT access_control.protect_table('invoices');
\set VERBOSITY default
RESET ROLE;
SELECT polname, pg_get_expr(polqual, polrelid) AS using_expr, pg_get_expr(polwithcheck, polrelid) AS check_expr
  FROM pg_policy WHERE polrelid = 'owned_ledger'::regclass ORDER BY polname;
SELECT count(*) AS invoices_policies FROM pg_policy WHERE polrelid = 'invoices'::regclass;
DROP TABLE owned_ledger;
REVOKE ALL ON FUNCTION access_control.protect_table(regclass, name, text, text) FROM regress_owner;
DROP ROLE regress_owner;

-- Nobody becomes an actor with SET or set_config.
SET ROLE regress_app;
SET access_control.actor = 'staff:1';
SELECT set_config('access_control.actor', 'staff:1', true);
SET access_control.made_up = 'x';
SELECT access_control.current_actor() AS still_nobody, count(*) AS rows_seen FROM invoices;
RESET ROLE;

-- Management functions are not for PUBLIC.
SET ROLE regress_app;
SELECT access_control.grant_client_access(:tim, ARRAY[:bravo]::bigint[], 'administrator');
RESET ROLE;

DROP TABLE invoices;
DROP FUNCTION invoices_as(bigint);
DROP EXTENSION access_control;
DROP ROLE regress_app;
