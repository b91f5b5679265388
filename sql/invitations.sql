-- Invitations to join a firm as staff. Time-dependent behaviour is tested without
-- sleeping: expiry and the resend cooldown by back-dating rows as superuser
-- (UPDATE access_control.invitation ...), and one check of the settings
-- themselves by setting them small.
CREATE EXTENSION access_control;
\set VERBOSITY terse
\i sql/include/err.sql
SELECT access_control.create_firm('Inv Firm', 'owner@inv.test') AS f \gset
SELECT access_control.add_staff(:f, 'old@inv.test') AS old \gset

-- Inviting returns the id and a token shown once; the row holds only a hash.
SELECT invitation_id AS i1, token AS t1 FROM access_control.invite_staff(:f, ' New@Inv.Test ', 'admin', 'Nia') \gset
SELECT :'t1' ~ ('^ac_inv_' || :i1 || '_[A-Za-z0-9_-]{43}$') AS token_well_formed;
SELECT email, role, first_name, status, delivery_state, octet_length(token_hash) AS hash_bytes,
       position(convert_to(:'t1', 'UTF8') IN token_hash) = 0 AS token_not_stored,
       expires_at - created_at AS ttl
  FROM access_control.invitation WHERE id = :i1;

-- Bad input: a clear ERROR, nothing changed.
SELECT err(format('SELECT access_control.invite_staff(%s, ''new@inv.test'')', :f));
SELECT err(format('SELECT access_control.invite_staff(%s, ''owner@inv.test'')', :f));
SELECT err(format('SELECT access_control.invite_staff(%s, ''x@inv.test'', ''boss'')', :f));
SELECT err(format('SELECT access_control.invite_staff(%s, ''not an email'')', :f));
SELECT err('SELECT access_control.invite_staff(-1, ''x@inv.test'')');
SELECT err('SELECT access_control.resend_invitation(-1)');
SELECT err('SELECT access_control.cancel_invitation(NULL)');
SELECT err(format('SELECT access_control.record_invitation_event(%s, ''read'')', :i1));
SELECT count(*) AS invitations FROM access_control.invitation;

-- The view: no token, no hash; resend available a minute after sending.
SELECT id = :i1 AS is_i1, email, role, delivery_state, expired,
       resend_available_at - last_sent_at AS cooldown, expires_at - created_at AS ttl
  FROM access_control.pending_invitations;
-- A role granted SELECT on the view reads nothing with no actor; acting as
-- system (act_as_system) it reads every pending invitation, and the
-- cooldown follows the setting.
CREATE ROLE inv_reader;
GRANT SELECT ON access_control.pending_invitations TO inv_reader;
GRANT EXECUTE ON FUNCTION access_control.act_as_system() TO inv_reader;
SET ROLE inv_reader;
SELECT count(*) AS no_actor_reads FROM access_control.pending_invitations;
BEGIN;
SELECT access_control.act_as_system();
SELECT id = :i1 AS is_i1, email, delivery_state, expired, resend_available_at - last_sent_at AS cooldown
  FROM access_control.pending_invitations;
COMMIT;
RESET ROLE;
BEGIN;
SET LOCAL access_control.invitation_resend_cooldown = '90s';
SET LOCAL ROLE inv_reader;
SELECT access_control.act_as_system();
SELECT resend_available_at - last_sent_at AS cooldown FROM access_control.pending_invitations;
ROLLBACK;

-- Delivery events: every (current state, incoming event) pair. Each cell
-- sets the state as superuser, records the event, shows the result, and
-- rolls back. The badge never moves backwards; bounced and spam_reported
-- are final for a send; a bounce after delivered/opened is contradicted
-- and ignored; a spam report implies delivery and wins over progress.
CREATE FUNCTION after_event(inv bigint, cur text, ev text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    BEGIN
        UPDATE access_control.invitation SET delivery_state = cur WHERE id = inv;
        r := access_control.record_invitation_event(inv, ev);
        IF r <> (SELECT delivery_state FROM access_control.invitation WHERE id = inv) THEN
            r := r || ' (not stored!)';
        END IF;
        RAISE SQLSTATE 'ZZ000' USING MESSAGE = r;
    EXCEPTION WHEN SQLSTATE 'ZZ000' THEN
        GET STACKED DIAGNOSTICS r = MESSAGE_TEXT;
    END;
    RETURN r;
END $$;
SELECT c.state AS "current \ event",
       after_event(:i1, c.state, 'not_sent') AS not_sent,
       after_event(:i1, c.state, 'sent') AS sent,
       after_event(:i1, c.state, 'delivered') AS delivered,
       after_event(:i1, c.state, 'opened') AS opened,
       after_event(:i1, c.state, 'bounced') AS bounced,
       after_event(:i1, c.state, 'spam_reported') AS spam_reported
  FROM unnest('{not_sent,sent,delivered,opened,bounced,spam_reported}'::text[]) WITH ORDINALITY AS c(state, n)
 ORDER BY c.n;

-- Late, duplicate, out-of-order webhooks in sequence.
SELECT access_control.record_invitation_event(:i1, 'sent') AS after_sent;
SELECT access_control.record_invitation_event(:i1, 'opened') AS after_opened;
SELECT access_control.record_invitation_event(:i1, 'delivered') AS after_late_delivered;
SELECT access_control.record_invitation_event(:i1, 'opened') AS after_duplicate_opened;

-- Resending inside the cooldown: ERROR with the seconds left (the send is
-- back-dated 15 s, in the same transaction, so the number is fixed).
BEGIN;
UPDATE access_control.invitation SET last_sent_at = now() - interval '15 seconds' WHERE id = :i1;
SELECT err(format('SELECT access_control.resend_invitation(%s)', :i1));
-- The cooldown setting is honoured: with 10 s, 15 s ago is long enough.
SET LOCAL access_control.invitation_resend_cooldown = '10s';
SELECT access_control.resend_invitation(:i1) AS t2 \gset
RESET access_control.invitation_resend_cooldown;
SELECT :'t2' ~ ('^ac_inv_' || :i1 || '_[A-Za-z0-9_-]{43}$') AS new_token_well_formed, :'t1' <> :'t2' AS token_changed;
SELECT delivery_state, last_sent_at = now() AS sent_now, expires_at - last_sent_at AS ttl
  FROM access_control.invitation WHERE id = :i1;
-- An event from before the resend belongs to the old send and is ignored.
SELECT access_control.record_invitation_event(:i1, 'opened', now() - interval '1 minute') AS late_event_of_old_send;
-- Right after a resend: inside the cooldown again, unless it bounced.
SELECT err(format('SELECT access_control.resend_invitation(%s)', :i1));
COMMIT;
SELECT access_control.record_invitation_event(:i1, 'bounced') AS bounced;
BEGIN;
SET LOCAL ROLE inv_reader;
SELECT access_control.act_as_system();
SELECT delivery_state, resend_available_at = last_sent_at AS resend_at_once
  FROM access_control.pending_invitations WHERE id = :i1;
COMMIT;
SELECT access_control.resend_invitation(:i1) AS t3 \gset
SELECT delivery_state AS after_resend FROM access_control.invitation WHERE id = :i1;

-- The replaced tokens stop working; a wrong, malformed or NULL token gets
-- the same error.
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t1'));
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t2'));
SELECT err(format('SELECT access_control.accept_invitation(%L)', left(:'t3', -4) || 'AAAA'));
SELECT err('SELECT access_control.accept_invitation(''ac_inv_999999_' || repeat('A', 43) || ''')');
SELECT err('SELECT access_control.accept_invitation(''hello'')');
SELECT err('SELECT access_control.accept_invitation(NULL)');

-- PUBLIC may accept (and do nothing else).
CREATE ROLE inv_public;
SET ROLE inv_public;
SELECT access_control.accept_invitation(:'t3', 'Nina') AS nia \gset
SELECT err(format('SELECT access_control.resend_invitation(%s)', :i1));
RESET ROLE;
SELECT id = :nia AS returned_id, email, role, first_name, status FROM access_control.staff WHERE email = 'new@inv.test';
SELECT status, accepted_staff_id IS NOT NULL AS has_staff FROM access_control.invitation WHERE id = :i1;
-- Single use.
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t3'));
SELECT err(format('SELECT access_control.resend_invitation(%s)', :i1));
SELECT err(format('SELECT access_control.cancel_invitation(%s)', :i1));
SELECT count(*) AS pending FROM access_control.pending_invitations;

-- Expired: back-dated as superuser; the view says so, accepting fails
-- with the same error, and inviting again replaces it.
SELECT invitation_id AS i4, token AS t4 FROM access_control.invite_staff(:f, 'late@inv.test') \gset
UPDATE access_control.invitation SET expires_at = now() - interval '1 second' WHERE id = :i4;
SELECT email, expired FROM access_control.pending_invitations;
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t4'));
SELECT invitation_id AS i5, token AS t5 FROM access_control.invite_staff(:f, 'late@inv.test') \gset
SELECT id = :i4 AS old_one, status FROM access_control.invitation WHERE email = 'late@inv.test' ORDER BY id;
-- A short TTL setting applies to invitations sent from then on.
SET access_control.invitation_ttl = '1h';
SELECT access_control.resend_invitation(:i5) IS NOT NULL AS resent
  FROM (SELECT set_config('access_control.invitation_resend_cooldown', '0', true)) AS s;
RESET access_control.invitation_ttl;
SELECT expires_at - last_sent_at AS ttl FROM access_control.invitation WHERE id = :i5;

-- Cancelled: the token stops working; cancelling again changes nothing.
SELECT access_control.cancel_invitation(:i5);
SELECT access_control.cancel_invitation(:i5);
SELECT err(format('SELECT access_control.accept_invitation(%L)', :'t5'));
SELECT status FROM access_control.invitation WHERE id = :i5;

-- Accepting for a removed staff email reactivates the same staff row, with
-- the invitation's role.
SELECT access_control.remove_staff(:old);
SELECT invitation_id AS i6, token AS t6 FROM access_control.invite_staff(:f, 'old@inv.test', 'admin') \gset
SELECT access_control.accept_invitation(:'t6') = :old AS same_row;
SELECT email, role, status FROM access_control.staff WHERE id = :old;

-- With an actor: a member may not invite; an admin may invite members but
-- not owners; an admin sees its firm's pending invitations.
SELECT access_control.add_staff(:f, 'plain@inv.test') AS plain \gset
BEGIN;
SELECT access_control.set_actor(:plain);
SELECT err(format('SELECT access_control.invite_staff(%s, ''a@inv.test'')', :f));
SELECT count(*) AS member_sees FROM access_control.pending_invitations;
SELECT access_control.set_actor(:nia);
SELECT err(format('SELECT access_control.invite_staff(%s, ''a@inv.test'', ''owner'')', :f));
SELECT invitation_id > 0 AS admin_invited FROM access_control.invite_staff(:f, 'a@inv.test');
SELECT email FROM access_control.pending_invitations;
ROLLBACK;

DROP FUNCTION after_event(bigint, text, text);
DROP FUNCTION err(text);
DROP ROLE inv_public;
REVOKE SELECT ON access_control.pending_invitations FROM inv_reader;
REVOKE EXECUTE ON FUNCTION access_control.act_as_system() FROM inv_reader;
DROP ROLE inv_reader;
DROP EXTENSION access_control;
