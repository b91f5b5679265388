-- The checks of a direct grant, made by one query (the links locked, the
-- active ones counted, whether a ceiling cuts the role): a grant names
-- every business without an active link (pending, disconnected, another
-- firm's, NULL) and writes nothing; an owner or admin is refused after the
-- link check; the ceiling NOTICE comes only for the (business, role) pairs
-- a ceiling cuts, one per distinct cut.
CREATE EXTENSION access_control;
\i sql/include/err.sql
SELECT access_control.create_firm('Check Firm', 'owner@check.test') AS f \gset
SELECT id AS owner FROM access_control.staff WHERE email = 'owner@check.test' \gset
SELECT access_control.add_staff(:f, 'admin@check.test', 'admin') AS admin \gset
SELECT access_control.add_staff(:f, 'm@check.test') AS m \gset
SELECT access_control.create_business(:f, 'Own Client') AS own \gset
SELECT access_control.create_business(:f, 'Second Client') AS own2 \gset
-- partners: read-only, invoices only, pending, disconnected
SELECT access_control.create_business('Read Client') AS ro \gset
SELECT access_control.invite_partner_firm(:ro, :f, '{invoices.view,bills.view}');
SELECT access_control.accept_partner_invitation(:f, :ro);
SELECT access_control.create_business('Invoice Client') AS inv \gset
SELECT access_control.invite_partner_firm(:inv, :f, '{invoices.view}');
SELECT access_control.accept_partner_invitation(:f, :inv);
SELECT access_control.create_business('Invoice Client 2') AS inv2 \gset
SELECT access_control.invite_partner_firm(:inv2, :f, '{invoices.view}');
SELECT access_control.accept_partner_invitation(:f, :inv2);
SELECT access_control.create_business('Pending Client') AS pend \gset
SELECT access_control.invite_partner_firm(:pend, :f, '{invoices.view}');
SELECT access_control.create_business('Gone Client') AS gone \gset
SELECT access_control.invite_partner_firm(:gone, :f, '{invoices.view}');
SELECT access_control.accept_partner_invitation(:f, :gone);
SELECT access_control.disconnect_partner(:gone, :f);
SELECT access_control.create_firm('Far Firm', 'owner@far.test') AS far \gset
SELECT access_control.create_business(:far, 'Far Client') AS farb \gset
SELECT access_control.create_client_role(:f, 'reader', '{invoices.view}') AS reader \gset

CREATE TEMP VIEW grants AS
SELECT b.name AS business, r.name AS role
  FROM access_control.staff_grant g
  JOIN access_control.business b ON b.id = g.business_id
  JOIN access_control.client_role r ON r.id = g.role_id
 WHERE g.staff_id = :m ORDER BY b.id;

-- Every business without an active link is named, in order; nothing is written.
SELECT err(format('SELECT access_control.grant_client_access(%s, ARRAY[%s, %s, %s, %s, %s, NULL]::bigint[], %L)',
                  :m, :farb, :own, :gone, :ro, :pend, 'clerk'));
SELECT err(format('SELECT access_control.grant_client_access(%s, ARRAY[%s, %s]::bigint[], %L)', :m, :pend, :pend, 'clerk'));
SELECT err(format('SELECT access_control.set_client_roles(%s, ARRAY[%s, %s]::bigint[], ARRAY[%L, %L])',
                  :m, :own, :gone, 'clerk', 'reader'));
SELECT * FROM grants;

-- An owner or admin: the link check first, then the refusal.
SELECT err(format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :admin, :farb, 'clerk'));
SELECT err(format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :admin, :own, 'clerk'));
SELECT err(format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :owner, :own, 'clerk'));

-- Within every ceiling: no NOTICE; a business listed twice is granted once.
SELECT access_control.grant_client_access(:m, ARRAY[:own, :own, :own2]::bigint[], 'clerk');
SELECT access_control.grant_client_access(:m, ARRAY[:ro, :inv]::bigint[], 'reader');
SELECT * FROM grants;
-- Cut on two businesses alike, and differently on a third: one NOTICE per cut.
SELECT access_control.grant_client_access(:m, ARRAY[:own, :inv2, :inv, :ro]::bigint[], 'clerk');
-- Pairs: only the new pair whose role a ceiling cuts gets a NOTICE.
SELECT access_control.set_client_roles(:m, ARRAY[:own, :ro, :inv, :inv2]::bigint[], ARRAY['payer', 'reader', 'payer', 'reader']);
SELECT * FROM grants;

DROP VIEW grants;
DROP FUNCTION err(text);
DROP EXTENSION access_control;
