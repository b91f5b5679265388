-- A portal user inviting a partner firm gives it at most what she holds:
-- an explicit ceiling wider than her own permissions is refused (42501);
-- a NULL ceiling is the read-only permissions she holds, not every
-- read-only permission. Otherwise she could invite a firm she controls and
-- use, through it, permissions she was never given.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never

SELECT access_control.create_business('Ceiling Shop') AS shop \gset
-- Pia manages users and views invoices there; nothing else.
SELECT access_control.add_portal_user(:shop, 'pia@shop.test', '{users.manage,invoices.view}') AS pia \gset
SELECT access_control.permission_names(access_control.validate_permissions(permissions)) AS pia_holds
  FROM access_control.portal_user WHERE id = :pia;
-- A firm Pia controls.
SELECT access_control.create_firm('Pia Partners', 'pia@partners.test') AS pia_firm \gset
SELECT id AS pia_staff FROM access_control.staff WHERE email = 'pia@partners.test' \gset

CREATE TABLE ceiling_invoices (id int PRIMARY KEY, business_id bigint NOT NULL, paid boolean NOT NULL DEFAULT false);
INSERT INTO ceiling_invoices VALUES (1, :shop), (2, :shop);
SELECT access_control.protect_table('ceiling_invoices', 'business_id', 'invoices.view', 'invoices.pay');
CREATE ROLE ceiling_app;
GRANT SELECT, UPDATE ON ceiling_invoices TO ceiling_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
    access_control.invite_partner_firm(bigint, bigint, text[]),
    access_control.accept_partner_invitation(bigint, bigint),
    access_control.disconnect_partner(bigint, bigint),
    access_control.add_portal_user(bigint, text, text[], text, text) TO ceiling_app;
SET SESSION AUTHORIZATION ceiling_app;

-- The attack: a ceiling of what she does not hold.
BEGIN;
SELECT access_control.set_portal_actor(:pia);
SELECT access_control.invite_partner_firm(:shop, :pia_firm, '{payments.pay,invoices.pay,bills.approve}');
ROLLBACK;
-- One permission too many is as bad.
BEGIN;
SELECT access_control.set_portal_actor(:pia);
SELECT access_control.invite_partner_firm(:shop, :pia_firm, '{invoices.view,invoices.pay}');
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS links FROM access_control.firm_client WHERE business_id = :shop;
SET SESSION AUTHORIZATION ceiling_app;

-- NULL: the read-only permissions she holds (invoices.view, and
-- contacts.view, which users.manage implies), not every read-only one.
BEGIN;
SELECT access_control.set_portal_actor(:pia);
SELECT access_control.invite_partner_firm(:shop, :pia_firm);
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT status, access_control.permission_names(ceiling) AS ceiling
  FROM access_control.firm_client WHERE business_id = :shop;
SET SESSION AUTHORIZATION ceiling_app;

-- Accepted as the firm's owner, the firm views invoices and pays none.
BEGIN;
SELECT access_control.set_actor(:pia_staff);
SELECT access_control.accept_partner_invitation(:pia_firm, :shop);
COMMIT;
BEGIN;
SELECT access_control.set_actor(:pia_staff);
SELECT count(*) AS invoices_seen FROM ceiling_invoices;
UPDATE ceiling_invoices SET paid = true;
SELECT access_control.has_permission(:shop, 'payments.pay') AS may_pay;
-- nor can it hand out, through a portal user of its own, what the ceiling cuts
SELECT access_control.add_portal_user(:shop, 'accomplice@partners.test', '{payments.pay}');
ROLLBACK;

-- Within what she holds, an explicit ceiling is hers to give.
BEGIN;
SELECT access_control.set_portal_actor(:pia);
SELECT access_control.disconnect_partner(:shop, :pia_firm);
SELECT access_control.invite_partner_firm(:shop, :pia_firm, '{invoices.view}');
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT status, access_control.permission_names(ceiling) AS ceiling
  FROM access_control.firm_client WHERE business_id = :shop;
-- The system (no actor, a superuser) is not capped.
SELECT access_control.invite_partner_firm(:shop, :pia_firm, '{invoices.pay}');
SELECT status, access_control.permission_names(ceiling) AS ceiling
  FROM access_control.firm_client WHERE business_id = :shop;
SELECT count(*) FILTER (WHERE paid) AS invoices_paid FROM ceiling_invoices;

DROP TABLE ceiling_invoices;
DROP EXTENSION access_control;
DROP ROLE ceiling_app;
