-- Seeing access: the manage-access modal, who can see a business, why (or
-- why not) someone has access, and the account switcher.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never
\i sql/include/err.sql

-- Acme: an owner, an admin, and members Mia, Nick (no grants), Eve (an
-- expired grant) and Rex (removed). Other LLP is another firm.
SELECT access_control.create_firm('Acme Accounting', 'olivia@acme.test') AS acme \gset
SELECT id AS olivia FROM access_control.staff WHERE email = 'olivia@acme.test' \gset
SELECT access_control.add_staff(:acme, 'adam@acme.test', 'admin') AS adam \gset
SELECT access_control.add_staff(:acme, 'mia@acme.test') AS mia \gset
SELECT access_control.add_staff(:acme, 'nick@acme.test') AS nick \gset
SELECT access_control.add_staff(:acme, 'eve@acme.test') AS eve \gset
SELECT access_control.add_staff(:acme, 'rex@acme.test') AS rex \gset
SELECT access_control.create_firm('Other LLP', 'owen@other.test') AS other \gset
SELECT id AS owen FROM access_control.staff WHERE email = 'owen@other.test' \gset

-- Acme's clients; a business that invited Acme (pending); one that
-- disconnected Acme; Other's client.
SELECT access_control.create_business(:acme, 'Alpha Bakery') AS alpha \gset
SELECT access_control.create_business(:acme, 'Bravo Builders') AS bravo \gset
SELECT access_control.create_business(:acme, 'Charlie Cafe') AS charlie \gset
SELECT access_control.create_business('Pending Pets') AS pets \gset
SELECT access_control.invite_partner_firm(:pets, :acme);
SELECT access_control.create_business(:acme, 'Gone Garage') AS gone \gset
SELECT access_control.create_business(:other, 'Zulu Zoo') AS zulu \gset

-- Mia reaches Alpha directly (clerk) and through two teams (Payroll as
-- approver, Audit as bookkeeper); Bravo through Payroll only; she also had
-- Gone Garage before it disconnected.
SELECT access_control.grant_client_access(:mia, ARRAY[:alpha, :gone]::bigint[], 'clerk');
SELECT access_control.create_team(:acme, 'Payroll') AS payroll \gset
SELECT access_control.create_team(:acme, 'Audit') AS audit \gset
SELECT access_control.add_team_member(:payroll, :mia);
SELECT access_control.add_team_member(:audit, :mia);
SELECT access_control.grant_team_access(:payroll, ARRAY[:alpha, :bravo]::bigint[], 'approver');
SELECT access_control.grant_team_access(:audit, ARRAY[:alpha]::bigint[], 'bookkeeper');
SELECT access_control.disconnect_partner(:gone, :acme);
SELECT access_control.grant_client_access(:eve, ARRAY[:charlie]::bigint[], 'clerk');
UPDATE access_control.staff_grant SET expires_at = now() - interval '1 day' WHERE staff_id = :eve;
SELECT access_control.grant_client_access(:rex, ARRAY[:charlie]::bigint[], 'clerk');
SELECT access_control.remove_staff(:rex);

-- The manage-access modal for Mia: Alpha direct and via two teams, Bravo via Payroll.
SELECT business_name, direct, via_teams, roles FROM access_control.staff_access(:mia);
SELECT business_name, permissions FROM access_control.staff_access(:mia);
-- The permissions are the C rule's, the ones RLS uses.
SELECT bool_and(a.permissions = access_control.staff_effective_permissions(:mia, a.business_id)) AS same_as_rule
  FROM access_control.staff_access(:mia) a;
-- Owners and admins see every active client by their staff role.
SELECT business_name, direct, via_teams, roles, cardinality(permissions) AS n_permissions
  FROM access_control.staff_access(:olivia);
SELECT business_name, roles FROM access_control.staff_access(:adam);
-- Nobody without access gets a row.
SELECT count(*) AS nick_rows FROM access_control.staff_access(:nick);
SELECT count(*) AS eve_rows FROM access_control.staff_access(:eve);
SELECT count(*) AS rex_rows FROM access_control.staff_access(:rex);

-- Who can see Alpha, and who can see Bravo.
SELECT email, staff_role, direct, via_teams, cardinality(permissions) AS n_permissions
  FROM access_control.business_access(:alpha);
SELECT email, staff_role, direct, via_teams, permissions FROM access_control.business_access(:bravo);
SELECT count(*) AS gone_rows FROM access_control.business_access(:gone);

-- Why Mia has access to Alpha: every path, the ceiling, and the result.
SELECT * FROM access_control.explain_access(:mia, :alpha);
-- An owner's path is the staff role.
SELECT path, role, cardinality(permissions) AS n_permissions FROM access_control.explain_access(:olivia, :alpha);
-- A partner ceiling caps the paths: Acme accepts Pending Pets (read-only).
BEGIN;
SELECT access_control.accept_partner_invitation(:acme, :pets);
SELECT access_control.grant_client_access(:mia, ARRAY[:pets]::bigint[], 'administrator');
SELECT path, role, cardinality(permissions) AS n_permissions FROM access_control.explain_access(:mia, :pets);
SELECT permissions FROM access_control.explain_access(:mia, :pets) WHERE path = 'effective';
ROLLBACK;

-- Why not: each reason.
SELECT 'Rex, removed' AS who, e.* FROM access_control.explain_access(:rex, :charlie) e
UNION ALL SELECT 'Mia, Pending Pets', e.* FROM access_control.explain_access(:mia, :pets) e
UNION ALL SELECT 'Mia, Gone Garage', e.* FROM access_control.explain_access(:mia, :gone) e
UNION ALL SELECT 'Olivia, Gone Garage', e.* FROM access_control.explain_access(:olivia, :gone) e
UNION ALL SELECT 'Mia, Zulu Zoo', e.* FROM access_control.explain_access(:mia, :zulu) e
UNION ALL SELECT 'Nick, Alpha', e.* FROM access_control.explain_access(:nick, :alpha) e
UNION ALL SELECT 'Eve, Charlie', e.* FROM access_control.explain_access(:eve, :charlie) e;

-- The account switcher, as each actor; searching ignores case.
BEGIN;
SELECT access_control.set_actor(:mia);
SELECT * FROM access_control.my_businesses();
SELECT * FROM access_control.my_businesses('ALPHA');
SELECT * FROM access_control.my_businesses('  er ');
SELECT * FROM access_control.my_businesses('zulu');
SELECT * FROM access_control.my_businesses('%');
COMMIT;
BEGIN;
SELECT access_control.set_actor(:olivia);
SELECT name FROM access_control.my_businesses();
SELECT name FROM access_control.my_businesses('b');
COMMIT;
INSERT INTO access_control.portal_user (business_id, email, permissions)
VALUES (:bravo, 'boss@bravo.test', access_control.permission_mask('{bills.view}'));
SELECT id AS boss FROM access_control.portal_user WHERE email = 'boss@bravo.test' \gset
BEGIN;
SELECT access_control.set_portal_actor(:boss);
SELECT name FROM access_control.my_businesses();
COMMIT;
SELECT count(*) AS no_actor_sees FROM access_control.my_businesses();

-- The actor rules. Mia may look at her own access, not at Nick's nor at who
-- can see a business; Adam at anyone of Acme; Owen at nobody of Acme.
BEGIN;
SELECT access_control.set_actor(:mia);
SELECT count(*) AS own_rows FROM access_control.staff_access(:mia);
SELECT count(*) AS own_paths FROM access_control.explain_access(:mia, :alpha);
SELECT err($$SELECT access_control.staff_access($$ || :nick || $$)$$);
SELECT err($$SELECT access_control.explain_access($$ || :nick || $$, $$ || :alpha || $$)$$);
SELECT err($$SELECT access_control.business_access($$ || :alpha || $$)$$);
SELECT err($$SELECT access_control.firm_clients($$ || :acme || $$)$$);
COMMIT;
BEGIN;
SELECT access_control.set_actor(:adam);
SELECT count(*) AS mia_rows FROM access_control.staff_access(:mia);
SELECT count(*) AS alpha_rows FROM access_control.business_access(:alpha);
SELECT err($$SELECT access_control.staff_access($$ || :owen || $$)$$);
SELECT err($$SELECT access_control.business_access($$ || :zulu || $$)$$);
COMMIT;
BEGIN;
SELECT access_control.set_actor(:owen);
SELECT err($$SELECT access_control.staff_access($$ || :mia || $$)$$);
SELECT err($$SELECT access_control.explain_access($$ || :mia || $$, $$ || :alpha || $$)$$);
SELECT err($$SELECT access_control.business_access($$ || :alpha || $$)$$);
SELECT email FROM access_control.business_access(:zulu);
COMMIT;
BEGIN;
SELECT access_control.set_portal_actor(:boss);
SELECT err($$SELECT access_control.staff_access($$ || :mia || $$)$$);
SELECT err($$SELECT access_control.business_access($$ || :bravo || $$)$$);
COMMIT;
-- A removed member sees nothing, not even its own access.
BEGIN;
SELECT access_control.set_actor(:rex);
SELECT count(*) AS rex_own_rows FROM access_control.staff_access(:rex);
COMMIT;
-- Seeing access is not for PUBLIC; the switcher is.
CREATE ROLE regress_seeing_app;
SET ROLE regress_seeing_app;
SELECT err($$SELECT access_control.staff_access(1)$$);
SELECT count(*) AS switcher_rows FROM access_control.my_businesses();
RESET ROLE;
DROP ROLE regress_seeing_app;

-- Bad input: an ERROR with an errcode and a hint, and nothing changed.
CREATE TEMP VIEW links AS
SELECT string_agg(fc.firm_id || '/' || fc.business_id || ':' || fc.status || ':' || fc.ceiling, ' '
                  ORDER BY fc.firm_id, fc.business_id) AS links
  FROM access_control.firm_client fc;
CREATE TEMP TABLE before AS SELECT * FROM links;
SELECT err($$SELECT access_control.staff_access(NULL)$$);
SELECT err($$SELECT access_control.staff_access(999999)$$);
SELECT err($$SELECT access_control.business_access(NULL)$$);
SELECT err($$SELECT access_control.business_access(999999)$$);
SELECT err($$SELECT access_control.explain_access(NULL, $$ || :alpha || $$)$$);
SELECT err($$SELECT access_control.explain_access($$ || :mia || $$, NULL)$$);
SELECT err($$SELECT access_control.explain_access(999999, $$ || :alpha || $$)$$);
SELECT err($$SELECT access_control.explain_access($$ || :mia || $$, 999999)$$);
SELECT err($$SELECT access_control.firm_clients(NULL)$$);
SELECT err($$SELECT access_control.firm_clients(999999)$$);
SELECT err($$SELECT access_control.invite_partner_firm(NULL, $$ || :other || $$)$$);
SELECT err($$SELECT access_control.invite_partner_firm($$ || :alpha || $$, NULL)$$);
SELECT err($$SELECT access_control.invite_partner_firm(999999, $$ || :other || $$)$$);
SELECT err($$SELECT access_control.invite_partner_firm($$ || :alpha || $$, 999999)$$);
SELECT err($$SELECT access_control.invite_partner_firm($$ || :alpha || $$, $$ || :other || $$, '{bills.peek}')$$);
SELECT err($$SELECT access_control.invite_partner_firm($$ || :alpha || $$, $$ || :other || $$, '{bills.view,NULL}')$$);
SELECT err($$SELECT access_control.invite_partner_firm($$ || :alpha || $$, $$ || :other || $$, '{}')$$);
SELECT err($$SELECT access_control.invite_partner_firm($$ || :alpha || $$, $$ || :acme || $$)$$);
SELECT err($$SELECT access_control.accept_partner_invitation(NULL, $$ || :pets || $$)$$);
SELECT err($$SELECT access_control.accept_partner_invitation($$ || :acme || $$, NULL)$$);
SELECT err($$SELECT access_control.accept_partner_invitation($$ || :other || $$, $$ || :pets || $$)$$);
SELECT err($$SELECT access_control.accept_partner_invitation($$ || :acme || $$, $$ || :gone || $$)$$);
SELECT err($$SELECT access_control.accept_partner_invitation($$ || :acme || $$, $$ || :alpha || $$)$$);
SELECT err($$SELECT access_control.decline_partner_invitation($$ || :acme || $$, $$ || :alpha || $$)$$);
SELECT err($$SELECT access_control.decline_partner_invitation($$ || :acme || $$, $$ || :zulu || $$)$$);
SELECT err($$SELECT access_control.decline_partner_invitation(999999, $$ || :pets || $$)$$);
SELECT err($$SELECT access_control.disconnect_partner($$ || :zulu || $$, $$ || :acme || $$)$$);
SELECT err($$SELECT access_control.disconnect_partner(NULL, $$ || :acme || $$)$$);
SELECT err($$SELECT access_control.disconnect_partner($$ || :alpha || $$, NULL)$$);
SELECT (SELECT links FROM before) = (SELECT links FROM links) AS links_unchanged;

DROP VIEW links;
DROP TABLE before;
DROP FUNCTION err(text);
DROP EXTENSION access_control;
