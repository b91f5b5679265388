-- Partner firms: a business invites an outside bookkeeping firm, which gets
-- read-only access once it accepts, and loses it when either side disconnects.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Northwind keeps its books with Home Books (its own firm, full ceiling) and
-- invites Ledger Partners, an outside firm.
SELECT access_control.create_firm('Home Books', 'hana@home.test') AS home \gset
SELECT id AS hana FROM access_control.staff WHERE email = 'hana@home.test' \gset
SELECT access_control.create_business(:home, 'Northwind Traders') AS nw \gset
SELECT access_control.create_firm('Ledger Partners', 'paula@ledger.test') AS ledger \gset
SELECT id AS paula FROM access_control.staff WHERE email = 'paula@ledger.test' \gset
SELECT access_control.add_staff(:ledger, 'ben@ledger.test', 'member') AS ben \gset
SELECT access_control.create_business(:ledger, 'Ledger Own Client') AS own \gset
-- Northwind's portal users: its CEO manages users, its clerk does not.
INSERT INTO access_control.portal_user (business_id, email, name, permissions)
VALUES (:nw, 'ceo@northwind.test', 'CEO', access_control.permission_mask('{users.manage,bills.view}')),
       (:nw, 'clerk@northwind.test', 'Clerk', access_control.permission_mask('{bills.view}'));
SELECT id AS ceo FROM access_control.portal_user WHERE email = 'ceo@northwind.test' \gset
SELECT id AS clerk FROM access_control.portal_user WHERE email = 'clerk@northwind.test' \gset

-- The application's table, protected: reading needs bills.view, writing bills.manage.
CREATE TABLE bills (
    id          serial PRIMARY KEY,
    business_id bigint NOT NULL,
    number      text NOT NULL,
    amount      numeric NOT NULL
);
INSERT INTO bills (business_id, number, amount) VALUES
    (:nw, 'NW-1', 100), (:nw, 'NW-2', 200), (:own, 'OWN-1', 50);
SELECT access_control.protect_table('bills', 'business_id', 'bills.view', 'bills.manage');
CREATE ROLE regress_partner_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON bills TO regress_partner_app;
GRANT USAGE ON SEQUENCE bills_id_seq TO regress_partner_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
    access_control.clear_actor() TO regress_partner_app;

-- bills_as(staff) runs as the application's role (so RLS applies) and acts
-- as the staff member; it lists the bill numbers that person sees.
CREATE FUNCTION bills_as(staff bigint) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE r text;
BEGIN
    PERFORM access_control.set_actor(staff);
    SELECT coalesce(string_agg(number, ' ' ORDER BY number), '(none)') INTO r FROM public.bills;
    RETURN r;
END $$;
ALTER FUNCTION bills_as(bigint) OWNER TO regress_partner_app;
CREATE VIEW who_sees AS
SELECT 'Hana (Home Books owner)' AS who, bills_as(:hana) AS sees
UNION ALL SELECT 'Paula (Ledger owner)', bills_as(:paula)
UNION ALL SELECT 'Ben (Ledger member)', bills_as(:ben);

-- Before any invitation.
SELECT * FROM who_sees;

-- Only the business side invites: not Northwind's clerk, not Ledger's owner.
BEGIN;
SELECT access_control.set_portal_actor(:clerk);
SELECT access_control.invite_partner_firm(:nw, :ledger);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:paula);
SELECT access_control.invite_partner_firm(:nw, :ledger);
ROLLBACK;

-- The CEO invites Ledger with the default ceiling: the read-only permissions
-- she holds herself (bills.view, and contacts.view, which users.manage implies).
BEGIN;
SELECT access_control.set_portal_actor(:ceo);
SELECT access_control.invite_partner_firm(:nw, :ledger);
COMMIT;
SELECT status, access_control.permission_names(ceiling) AS ceiling
  FROM access_control.firm_client WHERE firm_id = :ledger AND business_id = :nw;
SELECT * FROM access_control.firm_clients(:ledger);

-- Pending: nobody at Ledger sees Northwind, and its admins cannot assign it yet.
SELECT * FROM who_sees;
SELECT access_control.grant_client_access(:ben, ARRAY[:nw]::bigint[], 'administrator');

-- Only Ledger's owners and admins accept: not Ben, not Home Books' owner.
BEGIN;
SELECT access_control.set_actor(:ben);
SELECT access_control.accept_partner_invitation(:ledger, :nw);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:hana);
SELECT access_control.accept_partner_invitation(:ledger, :nw);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:paula);
SELECT access_control.accept_partner_invitation(:ledger, :nw);
-- Paula assigns Ben to Northwind, even as administrator: the ceiling caps him.
SELECT access_control.grant_client_access(:ben, ARRAY[:nw]::bigint[], 'administrator');
SELECT * FROM access_control.firm_clients(:ledger);
COMMIT;

-- Active: Ledger's owner and Ben read Northwind's bills; Home Books is unchanged.
SELECT * FROM who_sees;
SELECT access_control.staff_effective_permissions(:ben, :nw) AS ben_on_northwind;
SELECT access_control.staff_has_permission(:ben, :nw, 'bills.manage') AS ben_manages,
       access_control.staff_has_permission(:paula, :nw, 'bills.manage') AS paula_manages,
       access_control.staff_has_permission(:hana, :nw, 'bills.manage') AS hana_manages;

-- A write as Ben is refused and touches nothing.
SET ROLE regress_partner_app;
BEGIN;
SELECT access_control.set_actor(:ben);
SELECT number FROM bills ORDER BY number;
UPDATE bills SET amount = 0 RETURNING number;
DELETE FROM bills RETURNING number;
INSERT INTO bills (business_id, number, amount) VALUES (:nw, 'NW-3', 1);
ROLLBACK;
RESET ROLE;
SELECT number, amount FROM bills ORDER BY number;

-- Inviting an active firm again is an error; the link is unchanged.
SELECT access_control.invite_partner_firm(:nw, :ledger);
SELECT status FROM access_control.firm_client WHERE firm_id = :ledger AND business_id = :nw;

-- The CEO disconnects Ledger: every Ledger user loses Northwind at once, and
-- Ledger lists it as disabled. Home Books keeps its access.
BEGIN;
SELECT access_control.set_portal_actor(:ceo);
SELECT access_control.disconnect_partner(:nw, :ledger);
COMMIT;
SELECT * FROM who_sees;
SELECT * FROM access_control.firm_clients(:ledger);
SELECT access_control.staff_effective_permissions(:ben, :nw) IS NULL AS ben_has_nothing;
-- Disconnecting again changes nothing; accepting a disconnected link is refused.
SELECT access_control.disconnect_partner(:nw, :ledger);
SELECT access_control.accept_partner_invitation(:ledger, :nw);

-- Re-invite, this time letting Ledger enter bills (bills.manage implies
-- bills.view). The CEO does not hold bills.manage, so she cannot give it
-- (sql/partner_ceiling.sql); the system can.
BEGIN;
SELECT access_control.set_portal_actor(:ceo);
SELECT access_control.invite_partner_firm(:nw, :ledger, '{bills.manage}');
ROLLBACK;
SELECT access_control.invite_partner_firm(:nw, :ledger, '{bills.manage}');
SELECT * FROM access_control.firm_clients(:ledger);
SELECT * FROM who_sees;
SELECT access_control.accept_partner_invitation(:ledger, :nw);
SELECT * FROM who_sees;
-- Ben's assignment survived the disconnect; the new ceiling now lets him write.
SELECT access_control.staff_effective_permissions(:ben, :nw) AS ben_on_northwind;
SET ROLE regress_partner_app;
BEGIN;
SELECT access_control.set_actor(:ben);
UPDATE bills SET amount = amount + 1 RETURNING number, amount;
ROLLBACK;
RESET ROLE;

-- The firm's side may disconnect too: Paula ends it.
BEGIN;
SELECT access_control.set_actor(:paula);
SELECT access_control.disconnect_partner(:nw, :ledger);
COMMIT;
SELECT * FROM who_sees;
SELECT * FROM access_control.firm_clients(:ledger);

-- A third firm declines: its link is deleted and never listed.
SELECT access_control.create_firm('Gamma Audit', 'gil@gamma.test') AS gamma \gset
SELECT id AS gil FROM access_control.staff WHERE email = 'gil@gamma.test' \gset
SELECT access_control.invite_partner_firm(:nw, :gamma);
SELECT * FROM access_control.firm_clients(:gamma);
BEGIN;
SELECT access_control.set_actor(:gil);
SELECT access_control.decline_partner_invitation(:gamma, :nw);
SELECT * FROM access_control.firm_clients(:gamma);
COMMIT;
SELECT count(*) AS gamma_links FROM access_control.firm_client WHERE firm_id = :gamma;
-- A declined firm can be invited again.
SELECT access_control.invite_partner_firm(:nw, :gamma, '{bills.view}');
SELECT * FROM access_control.firm_clients(:gamma);

-- Nobody acts on another firm's links: Gil cannot disconnect Ledger.
BEGIN;
SELECT access_control.set_actor(:gil);
SELECT access_control.disconnect_partner(:nw, :ledger);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:gil);
SELECT * FROM access_control.firm_clients(:ledger);
ROLLBACK;

-- Partner management is not for PUBLIC.
SET ROLE regress_partner_app;
SELECT access_control.invite_partner_firm(:nw, :ledger);
SELECT * FROM access_control.firm_clients(:ledger);
RESET ROLE;

DROP VIEW who_sees;
DROP FUNCTION bills_as(bigint);
DROP TABLE bills;
DROP EXTENSION access_control;
DROP ROLE regress_partner_app;
