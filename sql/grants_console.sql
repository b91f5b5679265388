-- The console's grant operations, as the application calls them: the
-- manage-access modal's Save (set_client_access keeps kept clients' roles),
-- the per-client Save (set_client_roles), no grants to owners and admins,
-- and the NOTICEs for calls that change nothing or are capped by a ceiling.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never
\i sql/include/err.sql

-- Acme: owner Olive, admin Adam, members Mia and Ned; three own clients and
-- one client (Pine) that invited Acme as a read-only partner. Far: another
-- firm with a member and a client.
SELECT access_control.create_firm('Acme Books', 'olive@acme.test') AS acme \gset
SELECT id AS olive FROM access_control.staff WHERE email = 'olive@acme.test' \gset
SELECT access_control.add_staff(:acme, 'adam@acme.test', 'admin') AS adam \gset
SELECT access_control.add_staff(:acme, 'mia@acme.test') AS mia \gset
SELECT access_control.add_staff(:acme, 'ned@acme.test') AS ned \gset
SELECT access_control.create_business(:acme, 'Alder') AS alder \gset
SELECT access_control.create_business(:acme, 'Birch') AS birch \gset
SELECT access_control.create_business(:acme, 'Cedar') AS cedar \gset
SELECT access_control.create_business('Pine') AS pine \gset
SELECT access_control.invite_partner_firm(:pine, :acme);
SELECT access_control.accept_partner_invitation(:acme, :pine);
SELECT access_control.create_team(:acme, 'Payroll') AS payroll \gset
SELECT access_control.add_team_member(:payroll, :ned);
SELECT access_control.grant_team_access(:payroll, ARRAY[:cedar]::bigint[], 'clerk');
SELECT access_control.create_firm('Far Firm', 'owner@far.test') AS far \gset
SELECT id AS faro FROM access_control.staff WHERE email = 'owner@far.test' \gset
SELECT access_control.add_staff(:far, 'fay@far.test') AS fay \gset
SELECT access_control.create_business(:far, 'Far Client') AS farclient \gset

-- The application's role may run the management functions and act; it
-- reads no extension table. act(staff, q) acts as the staff member and runs
-- q, showing how it ended (err). grants() is what the tests read: every
-- direct grant, by a superuser's function.
CREATE ROLE regress_gc_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint),
    access_control.grant_client_access(bigint, bigint[], text, timestamptz),
    access_control.grant_staff_access(bigint, bigint[], text, timestamptz),
    access_control.revoke_client_access(bigint, bigint[]),
    access_control.revoke_staff_access(bigint, bigint[]),
    access_control.set_client_access(bigint, bigint[], text),
    access_control.set_client_roles(bigint, bigint[], text[]),
    access_control.add_team_member(bigint, bigint),
    access_control.grant_team_access(bigint, bigint[], text, timestamptz),
    access_control.revoke_team_access(bigint, bigint[]),
    access_control.set_staff_role(bigint, text)
TO regress_gc_app;
CREATE FUNCTION act(staff bigint, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM access_control.set_actor(staff);
    RETURN err(q);
END $$;
CREATE FUNCTION grants() RETURNS TABLE (staff text, business text, role text, expires boolean)
LANGUAGE sql SECURITY DEFINER AS $$
    SELECT split_part(s.email, '@', 1), b.name, r.name, g.expires_at IS NOT NULL
      FROM access_control.staff_grant g
      JOIN access_control.staff s ON s.id = g.staff_id
      JOIN access_control.business b ON b.id = g.business_id
      JOIN access_control.client_role r ON r.id = g.role_id
     ORDER BY 1, 2
$$;
CREATE FUNCTION team_members() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
    SELECT coalesce(string_agg(split_part(s.email, '@', 1), ', ' ORDER BY s.email), '(none)')
      FROM access_control.team_member m JOIN access_control.staff s ON s.id = m.staff_id
$$;
SET ROLE regress_gc_app;
SELECT has_table_privilege('access_control.staff_grant', 'SELECT') AS app_reads_grants;

-- The modal's Save: Mia gets Alder and Birch as clerk, then Alder becomes
-- approver until next year.
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, ARRAY[%s, %s]::bigint[], %L)', :mia, :alder, :birch, 'clerk'));
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L, now() + interval %L)', :mia, :alder, 'approver', '1 year'));
SELECT * FROM grants();
-- Saving Alder and Cedar: Cedar is new and needs a role; without one,
-- ERROR and nothing changed (Birch is still there).
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, ARRAY[%s, %s]::bigint[])', :mia, :alder, :cedar));
SELECT * FROM grants();
-- With a role: Alder keeps approver and its expiry, Birch goes, Cedar is payer.
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, ARRAY[%s, %s]::bigint[], %L)', :mia, :alder, :cedar, 'payer'));
SELECT * FROM grants();
-- Saving only kept clients needs no role: Cedar goes, Alder stays as it was.
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, ARRAY[%s]::bigint[])', :mia, :alder));
SELECT * FROM grants();
-- A new client without an active link: ERROR, and Alder is not removed either.
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, ARRAY[%s]::bigint[], %L)', :mia, :farclient, 'clerk'));
SELECT * FROM grants();

-- The per-client Save: the direct grants become exactly these pairs.
-- Alder keeps approver (and its expiry), Birch is new as clerk.
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s, %s]::bigint[], ARRAY[%L, %L])', :mia, :alder, :birch, 'approver', 'clerk'));
SELECT * FROM grants();
-- Alder changes to payer (a changed role starts without expiry); Birch goes.
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :mia, :alder, 'payer'));
SELECT * FROM grants();
-- Bad calls: ERROR with a hint, and the grants are as they were.
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s, %s]::bigint[], ARRAY[%L])', :mia, :alder, :birch, 'clerk'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s, %s]::bigint[], ARRAY[%L, %L])', :mia, :birch, :birch, 'clerk', 'payer'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :mia, :birch, 'wizard'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :mia, :farclient, 'clerk'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], NULL)', :mia, :birch));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :fay, :farclient, 'clerk'));
SELECT act(:mia, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :mia, :birch, 'clerk'));
SELECT * FROM grants();
-- Far's member on an Acme client, even by Far's own owner: no active link.
SELECT act(:faro, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :fay, :alder, 'clerk'));
SELECT * FROM grants();

-- Owners and admins see every client by their staff role: a grant to them
-- is refused by every path, and nothing is written (not even Mia's part of
-- a one-client-many-staff grant).
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :adam, :alder, 'clerk'));
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, NULL, %L)', :olive, 'clerk'));
SELECT act(:olive, format('SELECT access_control.grant_staff_access(%s, ARRAY[%s, %s]::bigint[], %L)', :birch, :mia, :adam, 'clerk'));
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, ARRAY[%s]::bigint[], %L)', :adam, :alder, 'clerk'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :adam, :alder, 'clerk'));
SELECT act(:olive, format('SELECT access_control.add_team_member(%s, %s)', :payroll, :adam));
SELECT * FROM grants();
SELECT team_members();
-- Clearing an admin's (absent) grants is allowed: it gives nothing.
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, %L::bigint[])', :adam, '{}'));

-- Calls that change nothing say so. Mia has no grant on Birch:
SELECT act(:olive, format('SELECT access_control.revoke_client_access(%s, ARRAY[%s, %s]::bigint[])', :mia, :birch, :cedar));
-- Ned sees Cedar only through Payroll: revoking his (absent) direct grant
-- leaves that; with a direct grant too, the direct grant goes and the
-- NOTICE says he keeps Cedar.
SELECT act(:olive, format('SELECT access_control.revoke_staff_access(%s, ARRAY[%s]::bigint[])', :cedar, :ned));
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :ned, :cedar, 'payer'));
SELECT act(:olive, format('SELECT access_control.revoke_client_access(%s, ARRAY[%s]::bigint[])', :ned, :cedar));
SELECT * FROM grants() WHERE staff = 'ned';
-- A team grant that does not exist.
SELECT act(:olive, format('SELECT access_control.revoke_team_access(%s, ARRAY[%s, %s]::bigint[])', :payroll, :alder, :cedar));
-- Twelve at once: the NOTICE lists ten and counts the rest.
SELECT act(:olive, format('SELECT access_control.revoke_client_access(%s, ARRAY(SELECT generate_series(1001, 1012)::bigint))', :mia));

-- A role above a partner ceiling: granted, with a NOTICE naming what Pine's
-- read-only ceiling cuts. A role within the ceiling says nothing.
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s, %s]::bigint[], %L)', :mia, :alder, :pine, 'clerk'));
SELECT act(:olive, format('SELECT access_control.grant_team_access(%s, ARRAY[%s]::bigint[], %L)', :payroll, :pine, 'payer'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s, %s]::bigint[], ARRAY[%L, %L])', :mia, :alder, :pine, 'clerk', 'bookkeeper'));
SELECT * FROM grants();

-- Making Mia an admin removes her grants and her team membership (they
-- would lie hidden); made a member again, she has nothing until granted.
SELECT act(:olive, format('SELECT access_control.add_team_member(%s, %s)', :payroll, :mia));
SELECT act(:olive, format('SELECT access_control.set_staff_role(%s, %L)', :mia, 'admin'));
SELECT act(:olive, format('SELECT access_control.set_staff_role(%s, %L)', :mia, 'member'));
SELECT * FROM grants();
SELECT team_members();
RESET ROLE;
SELECT access_control.staff_can_see_business(:mia, :alder) AS mia_sees_alder;

DROP FUNCTION act(bigint, text);
DROP FUNCTION grants();
DROP FUNCTION team_members();
DROP FUNCTION err(text);
DROP EXTENSION access_control;
DROP OWNED BY regress_gc_app;
DROP ROLE regress_gc_app;
