-- The partner directory and the business's Partner tab, as the application
-- calls them: a firm's owners list it (set_partner_listing), a business's
-- admin searches the listed firms to invite one (find_partner_firms), and
-- the Partner tab lists every firm linked to the business
-- (business_partners).
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Home Books keeps Northwind's books (its own client). Ledger Partners and
-- Ledger Lite are outside firms; Gone Firm was connected, then disconnected;
-- Nope Firm declined. Quiet Ledger never lists itself.
SELECT access_control.create_firm('Home Books', 'hana@home.test') AS home \gset
SELECT id AS hana FROM access_control.staff WHERE email = 'hana@home.test' \gset
SELECT access_control.add_staff(:home, 'mo@home.test') AS mo \gset
SELECT access_control.create_business(:home, 'Northwind') AS nw \gset
SELECT access_control.create_firm('Ledger Partners', 'paula@ledger.test') AS ledger \gset
SELECT id AS paula FROM access_control.staff WHERE email = 'paula@ledger.test' \gset
SELECT access_control.add_staff(:ledger, 'pete@ledger.test', 'admin') AS pete \gset
SELECT access_control.create_firm('ledger lite', 'lou@lite.test') AS lite \gset
SELECT id AS lou FROM access_control.staff WHERE email = 'lou@lite.test' \gset
SELECT access_control.create_firm('Gone Firm', 'gus@gone.test') AS gone \gset
SELECT id AS gus FROM access_control.staff WHERE email = 'gus@gone.test' \gset
SELECT access_control.create_firm('Nope Firm', 'nel@nope.test') AS nope \gset
SELECT access_control.create_firm('Quiet Ledger', 'quinn@quiet.test') AS quiet \gset
SELECT access_control.add_portal_user(:nw, 'ceo@northwind.test', '{users.manage,bills.view}') AS ceo \gset
SELECT access_control.add_portal_user(:nw, 'clerk@northwind.test', '{bills.view}') AS clerk \gset
SELECT access_control.invite_partner_firm(:nw, :ledger) AS ignored \gset
SELECT access_control.accept_partner_invitation(:ledger, :nw) AS ignored \gset
SELECT access_control.invite_partner_firm(:nw, :lite, '{bills.view}') AS ignored \gset
SELECT access_control.invite_partner_firm(:nw, :gone) AS ignored \gset
SELECT access_control.accept_partner_invitation(:gone, :nw) AS ignored \gset
SELECT access_control.disconnect_partner(:nw, :gone) AS ignored \gset
SELECT access_control.invite_partner_firm(:nw, :nope) AS ignored \gset
SELECT access_control.decline_partner_invitation(:nope, :nw) AS ignored \gset
SELECT firm_id, status FROM access_control.firm_client ORDER BY firm_id;

-- The application's role: only EXECUTE on the functions, no extension table.
CREATE ROLE regress_pd_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
    access_control.set_partner_listing(bigint, boolean), access_control.find_partner_firms(text),
    access_control.business_partners(bigint), access_control.grant_client_access(bigint, bigint[], text, timestamptz)
TO regress_pd_app;
CREATE VIEW listing AS SELECT name, listed FROM access_control.firm ORDER BY id;
CREATE VIEW links AS SELECT firm_id, status, ceiling, invited_at, connected_at FROM access_control.firm_client ORDER BY 1, 2;
CREATE TEMP TABLE before AS SELECT * FROM listing;
CREATE TEMP TABLE links_before AS SELECT * FROM links;
GRANT SELECT ON listing, links, before, links_before TO regress_pd_app;
SET ROLE regress_pd_app;

-- The directory starts empty: no firm is listed until its owners say so.
BEGIN;
SELECT access_control.set_actor(:paula) AS ignored \gset
SELECT * FROM access_control.find_partner_firms('');
COMMIT;

-- Only a firm's owners list it: not its admin, not another firm's owner,
-- not nobody. Nothing changed.
BEGIN;
SELECT access_control.set_actor(:pete) AS ignored \gset
SELECT access_control.set_partner_listing(:ledger, true);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:hana) AS ignored \gset
SELECT access_control.set_partner_listing(:ledger, true);
ROLLBACK;
BEGIN;
SELECT access_control.set_portal_actor(:ceo) AS ignored \gset
SELECT access_control.set_partner_listing(:ledger, true);
ROLLBACK;
SELECT access_control.set_partner_listing(:ledger, true);
BEGIN;
SELECT access_control.set_actor(:paula) AS ignored \gset
SELECT access_control.set_partner_listing(:ledger, NULL);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:paula) AS ignored \gset
SELECT access_control.set_partner_listing(999999, true);
ROLLBACK;
SELECT (SELECT array_agg(b::text) FROM before b) = (SELECT array_agg(l::text) FROM listing l) AS listing_unchanged;

-- Ledger's and Lite's owners list their firms (twice changes nothing);
-- Gone's lists, then unlists.
BEGIN;
SELECT access_control.set_actor(:paula) AS ignored \gset
SELECT access_control.set_partner_listing(:ledger, true);
COMMIT;
BEGIN;
SELECT access_control.set_actor(:lou) AS ignored \gset
SELECT access_control.set_partner_listing(:lite, true);
SELECT access_control.set_partner_listing(:lite, true);
COMMIT;
BEGIN;
SELECT access_control.set_actor(:gus) AS ignored \gset
SELECT access_control.set_partner_listing(:gone, true);
SELECT access_control.set_partner_listing(:gone, false);
COMMIT;
SELECT * FROM listing;

-- Northwind's CEO searches: listed firms only, case-insensitive substring,
-- by name; blank or NULL lists every listed firm.
BEGIN;
SELECT access_control.set_portal_actor(:ceo) AS ignored \gset
SELECT * FROM access_control.find_partner_firms('LEDGER ');
SELECT * FROM access_control.find_partner_firms('lite');
SELECT * FROM access_control.find_partner_firms('Quiet');
SELECT * FROM access_control.find_partner_firms(NULL);
COMMIT;
-- Any actor may search (a firm's member too); nobody may not.
BEGIN;
SELECT access_control.set_actor(:mo) AS ignored \gset
SELECT name FROM access_control.find_partner_firms('partners');
COMMIT;
SELECT * FROM access_control.find_partner_firms('ledger');
RESET ROLE;

-- At most 50 rows: sixty listed firms named Bulk.
SELECT count(*) AS bulk_firms FROM (
    SELECT access_control.set_partner_listing(access_control.create_firm(format('Bulk %s', lpad(i::text, 2, '0')),
                                                                         format('o%s@bulk.test', i)), true)
      FROM generate_series(1, 60) i) s;
SET ROLE regress_pd_app;
BEGIN;
SELECT access_control.set_portal_actor(:ceo) AS ignored \gset
SELECT count(*) AS found, min(name), max(name) FROM access_control.find_partner_firms('bulk');
COMMIT;

-- The Partner tab of Northwind, for its CEO: every linked firm (its own
-- bookkeeper too) but the one that declined, with status, ceiling and the
-- times of invitation and connection.
BEGIN;
SELECT access_control.set_portal_actor(:ceo) AS ignored \gset
SELECT firm_name, status,
       CASE WHEN cardinality(ceiling) > 12 THEN format('(%s permissions)', cardinality(ceiling))
            ELSE array_to_string(ceiling, ', ') END AS ceiling,
       invited_at IS NOT NULL AS invited, connected_at IS NOT NULL AS connected,
       connected_at >= invited_at AS connected_after_invited
  FROM access_control.business_partners(:nw);
COMMIT;
-- The same for Home Books' owner (the firm's own client, all permissions).
BEGIN;
SELECT access_control.set_actor(:hana) AS ignored \gset
SELECT firm_name, status FROM access_control.business_partners(:nw);
COMMIT;
-- Not for the clerk (no users.manage), Home's member without a grant,
-- Ledger's owner (its read-only ceiling has no users.manage), nor nobody.
BEGIN;
SELECT access_control.set_portal_actor(:clerk) AS ignored \gset
SELECT * FROM access_control.business_partners(:nw);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:mo) AS ignored \gset
SELECT * FROM access_control.business_partners(:nw);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:paula) AS ignored \gset
SELECT * FROM access_control.business_partners(:nw);
ROLLBACK;
SELECT * FROM access_control.business_partners(:nw);
-- A member granted a role with users.manage there sees it.
BEGIN;
SELECT access_control.set_actor(:hana) AS ignored \gset
SELECT access_control.grant_client_access(:mo, ARRAY[:nw]::bigint[], 'administrator');
COMMIT;
BEGIN;
SELECT access_control.set_actor(:mo) AS ignored \gset
SELECT firm_name, status FROM access_control.business_partners(:nw);
-- Bad ids: 22004 and 22023.
SELECT * FROM access_control.business_partners(NULL);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:mo) AS ignored \gset
SELECT * FROM access_control.business_partners(999999);
ROLLBACK;
SELECT (SELECT array_agg(b::text) FROM links_before b) = (SELECT array_agg(l::text) FROM links l) AS links_unchanged;
RESET ROLE;

-- Invited again after the disconnect, Gone is pending: a new invitation
-- time, and no connection time until it accepts.
SELECT invited_at AS gone_first_invited FROM access_control.firm_client WHERE firm_id = :gone \gset
SELECT access_control.invite_partner_firm(:nw, :gone);
SELECT status, invited_at > :'gone_first_invited' AS invited_anew, connected_at IS NULL AS not_connected
  FROM access_control.firm_client WHERE firm_id = :gone;
-- The audit log records listing changes as firm.changed.
SELECT a.action, f.name, a.actor, a.old, a.new
  FROM access_control.audit_log a JOIN access_control.firm f ON f.id = a.firm_id
 WHERE a.action = 'firm.changed' AND f.name NOT LIKE 'Bulk%' ORDER BY a.id;

DROP VIEW listing;
DROP VIEW links;
DROP TABLE before, links_before;
DROP EXTENSION access_control;
DROP OWNED BY regress_pd_app;
DROP ROLE regress_pd_app;
