--
-- Portal invitations: the billing account's "Invite New User", on the same
-- machinery as staff invitations, and All Permissions as a standing choice.
-- Everything runs as the application role, which holds only EXECUTE on the
-- functions and SELECT on the tables and views. Time-dependent behaviour is
-- tested without sleeping: expiry and the cooldown by back-dating rows as
-- superuser.
--
SET client_min_messages = warning;
CREATE EXTENSION access_control;
RESET client_min_messages;
\set SHOW_CONTEXT never
\i sql/include/err.sql
-- ids in messages stay the same whatever ran before
SELECT 1 AS ids_fixed FROM (SELECT setval('access_control.firm_id_seq', 7300000),
    setval('access_control.staff_id_seq', 7300000), setval('access_control.business_id_seq', 7300000),
    setval('access_control.portal_user_id_seq', 7300000), setval('access_control.invitation_id_seq', 7300000)) s;

SELECT access_control.create_firm('Invite Books', 'owner@invite-books.example') AS firm \gset
SELECT id AS owner FROM access_control.staff WHERE email = 'owner@invite-books.example' \gset
SELECT access_control.add_staff(:firm, 'member@invite-books.example') AS member \gset
SELECT access_control.create_firm('Other Books', 'owner@other-books.example') AS other_firm \gset
SELECT id AS other_owner FROM access_control.staff WHERE email = 'owner@other-books.example' \gset
SELECT access_control.create_business(:firm, 'Invite Acme') AS acme \gset
SELECT access_control.create_business(:other_firm, 'Other Globex') AS globex \gset
-- Acme's boss holds All Permissions (NULL), with her name; the AP clerk a list
SELECT access_control.add_portal_user(:acme, 'boss@acme.example', NULL, 'Bea', 'Boss') AS boss \gset
SELECT access_control.add_portal_user(:acme, 'ap@acme.example', '{users.manage,invoices.view}') AS ap \gset
SELECT access_control.add_portal_user(:globex, 'gus@globex.example', NULL) AS gus \gset
SELECT id - :boss AS id, email, first_name, last_name, permissions IS NULL AS all_permissions
  FROM access_control.portal_user WHERE business_id = :acme ORDER BY id;

CREATE ROLE pi_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
    access_control.invite_portal_user(bigint, text, text[], text, text),
    access_control.resend_invitation(bigint), access_control.cancel_invitation(bigint),
    access_control.record_invitation_event(bigint, text, timestamptz),
    access_control.remove_portal_user(bigint), access_control.define_permission(text, text, boolean, text[]),
    access_control.act_as_system() TO pi_app;
GRANT SELECT ON access_control.pending_invitations, access_control.portal_user TO pi_app;

-- The boss invites Pat with two permissions; the token is shown once.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT invitation_id AS i1, token AS t1
  FROM access_control.invite_portal_user(:acme, ' Pat@Acme.Example ', '{invoices.view,invoices.pay}', 'Pat', 'Payne') \gset
COMMIT;
SELECT :'t1' ~ ('^ac_inv_' || :i1 || '_[A-Za-z0-9_-]{43}$') AS token_well_formed;
SELECT email, firm_id, role, business_id = :acme AS acme, access_control.permission_names(permissions) AS permissions,
       first_name, last_name, delivery_state, invited_by, invited_by_portal_user = :boss AS by_boss,
       position(convert_to(:'t1', 'UTF8') IN token_hash) = 0 AS token_not_stored
  FROM access_control.invitation WHERE id = :i1;

-- The list, as the boss and as the AP clerk (both hold users.manage on Acme):
-- both kinds of columns, the kind, the names, the permissions.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:ap);
SELECT id = :i1 AS is_i1, kind, firm_id, role, business_id = :acme AS acme, email, first_name, last_name,
       permissions, all_permissions, delivery_state, expired, resend_available_at - last_sent_at AS cooldown
  FROM access_control.pending_invitations;
COMMIT;
-- The firm's owner holds users.manage on its client Acme: she sees it too,
-- and invites Acme's accountant with All Permissions (she holds them all).
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_actor(:owner);
SELECT email, kind FROM access_control.pending_invitations ORDER BY id;
SELECT invitation_id AS i2, token AS t2 FROM access_control.invite_portal_user(:acme, 'acct@acme.example') \gset
SELECT email, kind, cardinality(permissions) = (SELECT count(*) FROM access_control.permission) AS every_permission,
       all_permissions FROM access_control.pending_invitations ORDER BY id;
COMMIT;
SELECT invited_by = :owner AS by_owner, invited_by_portal_user, permissions FROM access_control.invitation WHERE id = :i2;

-- Nobody else reads them: a member without users.manage on Acme, another
-- firm's owner, Globex's user, no actor.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_actor(:member);
SELECT count(*) AS member_sees FROM access_control.pending_invitations;
SELECT access_control.set_actor(:other_owner);
SELECT count(*) AS other_firm_sees FROM access_control.pending_invitations;
SELECT access_control.set_portal_actor(:gus);
SELECT count(*) AS globex_user_sees FROM access_control.pending_invitations;
COMMIT;
SET ROLE pi_app;
SELECT count(*) AS no_actor_sees FROM access_control.pending_invitations;
RESET ROLE;

-- Who may invite: no actor is refused (42501), and so are a member, another
-- firm's owner and another business's user; the AP clerk gives at most what
-- she holds (with implications), so not invoices.pay and not All Permissions.
SET ROLE pi_app;
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''x@acme.example'', ''{invoices.view}'')', :acme));
RESET ROLE;
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_actor(:member);
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''x@acme.example'', ''{invoices.view}'')', :acme));
SELECT access_control.set_actor(:other_owner);
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''x@acme.example'', ''{invoices.view}'')', :acme));
SELECT access_control.set_portal_actor(:gus);
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''x@acme.example'', ''{invoices.view}'')', :acme));
SELECT access_control.set_portal_actor(:ap);
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''x@acme.example'', ''{invoices.pay}'')', :acme));
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''x@acme.example'')', :acme));
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''x@acme.example'', ''{invoices.view}'')', :globex));
-- within what she holds, she may
SELECT invitation_id AS i3 FROM access_control.invite_portal_user(:acme, 'clerk@acme.example', '{invoices.view}') \gset
-- nor may she resend or cancel an invitation that gives more than she holds
SELECT err(format('SELECT access_control.cancel_invitation(%s)', :i2));
COMMIT;

-- Bad input: a clear ERROR with a hint, nothing changed.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''pat@acme.example'')', :acme));
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''ap@acme.example'')', :acme));
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''not an email'')', :acme));
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''y@acme.example'', ''{invoices.steal}'')', :acme));
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''y@acme.example'', ''{NULL}'')', :acme));
SELECT err('SELECT access_control.invite_portal_user(-1, ''y@acme.example'')');
SELECT err('SELECT access_control.invite_portal_user(NULL, ''y@acme.example'')');
COMMIT;
SELECT count(*) AS invitations, count(*) FILTER (WHERE status = 'pending') AS pending FROM access_control.invitation;

-- Resend: within the cooldown an ERROR with the seconds left; after it, a
-- new token and the old one stops working. Delivery badges move as for staff.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT regexp_replace(err(format('SELECT access_control.resend_invitation(%s)', :i1)), '\d+ seconds', 'N seconds') AS too_soon;
SELECT access_control.record_invitation_event(:i1, 'delivered');
SELECT access_control.record_invitation_event(:i1, 'sent');
COMMIT;
UPDATE access_control.invitation SET last_sent_at = last_sent_at - interval '2 minutes', created_at = created_at - interval '2 minutes' WHERE id = :i1;
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.resend_invitation(:i1) AS t1b \gset
SELECT delivery_state FROM access_control.pending_invitations WHERE id = :i1;
COMMIT;
SELECT :'t1b' <> :'t1' AS new_token;
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t1'));

-- Cancel: the token stops working, and the list no longer shows it.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:ap);
SELECT access_control.cancel_invitation(:i3);
SELECT email FROM access_control.pending_invitations ORDER BY id;
COMMIT;

-- Expiry: an expired invitation shows as expired, cannot be accepted, and
-- gives way to a new one for the same email.
UPDATE access_control.invitation SET expires_at = now() - interval '1 second' WHERE id = :i2;
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT email, expired FROM access_control.pending_invitations ORDER BY id;
COMMIT;
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t2'));
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT invitation_id AS i4, token AS t4 FROM access_control.invite_portal_user(:acme, 'acct@acme.example', NULL, 'Ava') \gset
COMMIT;
SELECT id - :i2 AS id_after_i2, status FROM access_control.invitation WHERE email = 'acct@acme.example' ORDER BY id;

-- Accepting (PUBLIC may, the token is the authority) creates the portal
-- user with the invitation's permissions and names, and returns its id.
SET ROLE pi_app;
SELECT access_control.accept_invitation(:'t1b', 'Patricia') AS pat \gset
SELECT access_control.accept_invitation(:'t4') AS acct \gset
RESET ROLE;
SELECT id = :pat AS is_pat, email, first_name, last_name, status, can_login,
       access_control.permission_names(permissions) AS permissions
  FROM access_control.portal_user WHERE id IN (:pat, :acct) ORDER BY id;
SELECT id - :i1 AS id, status, accepted_staff_id, accepted_portal_user_id IN (:pat, :acct) AS accepted_by_user
  FROM access_control.invitation WHERE id IN (:i1, :i4) ORDER BY id;
-- single use: the same token again is refused
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t1b'));
-- Pat acts at once, with what the invitation gave
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:pat);
SELECT access_control.has_permission(:acme, 'invoices.pay') AS pays, access_control.has_permission(:acme, 'users.manage') AS manages;
COMMIT;
-- inviting an active portal user is refused
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''pat@acme.example'')', :acme));
COMMIT;

-- Removal is immediate, and reversible by re-inviting: accepting brings
-- back the same row with the new invitation's permissions.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.remove_portal_user(:pat);
SELECT access_control.set_portal_actor(:pat);
SELECT access_control.has_permission(:acme, 'invoices.view') AS removed_pat_views;
COMMIT;
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT token AS t5 FROM access_control.invite_portal_user(:acme, 'pat@acme.example', '{invoices.view}') \gset
COMMIT;
SET ROLE pi_app;
SELECT access_control.accept_invitation(:'t5') = :pat AS same_user_back;
RESET ROLE;
SELECT email, first_name, last_name, status, access_control.permission_names(permissions) AS permissions
  FROM access_control.portal_user WHERE id = :pat;

-- A removed portal user's pending invitations are cancelled with her.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:ap);
SELECT invitation_id AS i6 FROM access_control.invite_portal_user(:acme, 'temp@acme.example', '{invoices.view}') \gset
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.remove_portal_user(:ap);
COMMIT;
SELECT status FROM access_control.invitation WHERE id = :i6;

-- All Permissions is a standing choice: a permission defined later is held
-- by the boss at once (the catalog change drops the cached maps, in the
-- same transaction too), not by a user given a list.
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.has_permission(:acme, 'invoices.view') AS boss_views;
SELECT access_control.act_as_system();
SELECT access_control.define_permission('reports.export', 'Export reports') > 0 AS defined;
SELECT access_control.set_portal_actor(:boss);
SELECT access_control.has_permission(:acme, 'reports.export') AS boss_exports;
SELECT access_control.set_portal_actor(:pat);
SELECT access_control.has_permission(:acme, 'reports.export') AS pat_exports;
SELECT access_control.set_portal_actor(:acct);
SELECT access_control.has_permission(:acme, 'reports.export') AS accountant_exports;
COMMIT;
-- and so may she give it: within what she holds
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_portal_actor(:boss);
SELECT count(*) AS invited FROM access_control.invite_portal_user(:acme, 'rex@acme.example', '{reports.export}');
ROLLBACK;

-- Whoever may add a portal user may invite one, and see, resend and cancel
-- the invitation: users.manage on the business is the rule, for a member
-- too. Una, a member, holds it on Acme through a client role of two
-- permissions: she invites within those, reads Acme's pending portal
-- invitations, records a bounce, resends and cancels; All Permissions and
-- the owner's invitation that gives more than she holds are refused.
SELECT access_control.add_staff(:firm, 'una@invite-books.example', 'member', 'Una') AS una \gset
SELECT access_control.create_client_role(:firm, 'User desk', '{users.manage,invoices.view}') IS NOT NULL AS role_created;
SELECT access_control.grant_client_access(:una, ARRAY[:acme]::bigint[], 'User desk');
BEGIN;
SET LOCAL ROLE pi_app;
SELECT access_control.set_actor(:owner);
SELECT invitation_id AS i7 FROM access_control.invite_portal_user(:acme, 'wes@acme.example', NULL, 'Wes') \gset
SELECT access_control.set_actor(:una);
SELECT invitation_id AS i8 FROM access_control.invite_portal_user(:acme, 'vic@acme.example', '{invoices.view}', 'Vic') \gset
SELECT email, kind, first_name, CASE WHEN all_permissions THEN 'All Permissions' ELSE permissions::text END AS permissions,
       delivery_state
  FROM access_control.pending_invitations ORDER BY id;
SELECT email, first_name,
       coalesce(access_control.permission_names(permissions)::text, 'All Permissions') AS permissions
  FROM access_control.portal_user WHERE business_id = :acme AND status = 'active' ORDER BY email;
SELECT err(format('SELECT access_control.invite_portal_user(%s, ''yan@acme.example'')', :acme));
SELECT err(format('SELECT access_control.cancel_invitation(%s)', :i7));
SELECT access_control.record_invitation_event(:i8, 'bounced') AS badge;
SELECT access_control.resend_invitation(:i8) ~ ('^ac_inv_' || :i8 || '_') AS resent;
SELECT access_control.cancel_invitation(:i8);
SELECT email FROM access_control.pending_invitations ORDER BY id;
COMMIT;
SELECT email, status, invited_by = :una AS by_una FROM access_control.invitation WHERE id IN (:i7, :i8) ORDER BY id;

SET ROLE pi_app;
SELECT count(*) AS no_actor_reads_users FROM access_control.portal_user;
RESET ROLE;
DROP FUNCTION err(text);
DROP EXTENSION access_control CASCADE;
DROP ROLE pi_app;
