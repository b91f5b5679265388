-- The standing all-clients grant (the console's "New Client Role" for all
-- client accounts): grant_all_clients and revoke_all_clients as the
-- application calls them. The member holds the role on every active client
-- of the firm, clients linked later included, until it is revoked or
-- expires; a direct or team grant adds to it; staff_access and
-- explain_access show it.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never
\i sql/include/err.sql

-- Acme: owner Olive, admin Adam, members Mia and Ned (Ned in team Payroll,
-- which holds approver on Birch). Clients Alder and Birch; Pine invited
-- Acme as a read-only partner. Far: another firm with its owner, a member
-- and a client.
SELECT access_control.create_firm('Acme Books', 'olive@acme.test', 'Olive', 'Oak') AS acme \gset
SELECT id AS olive FROM access_control.staff WHERE email = 'olive@acme.test' \gset
SELECT access_control.add_staff(:acme, 'adam@acme.test', 'admin') AS adam \gset
SELECT access_control.add_staff(:acme, 'mia@acme.test', 'member', 'Mia', 'Moss') AS mia \gset
SELECT access_control.add_staff(:acme, 'ned@acme.test', 'member', 'Ned', 'Nash') AS ned \gset
SELECT access_control.create_business(:acme, 'Alder') AS alder \gset
SELECT access_control.create_business(:acme, 'Birch') AS birch \gset
SELECT access_control.create_business('Pine') AS pine \gset
SELECT access_control.invite_partner_firm(:pine, :acme);
SELECT access_control.accept_partner_invitation(:acme, :pine);
SELECT access_control.create_team(:acme, 'Payroll') AS payroll \gset
SELECT access_control.add_team_member(:payroll, :ned);
SELECT access_control.grant_team_access(:payroll, ARRAY[:birch]::bigint[], 'approver');
SELECT access_control.create_firm('Far Firm', 'owner@far.test') AS far \gset
SELECT id AS faro FROM access_control.staff WHERE email = 'owner@far.test' \gset
SELECT access_control.add_staff(:far, 'fay@far.test') AS fay \gset
SELECT access_control.create_business(:far, 'Far Client') AS farclient \gset

-- The application's role runs the functions and acts; act(staff, q) acts
-- as the staff member and runs q, showing how it ended (err). sees(staff)
-- is the member's account switcher, read on its own statement: what the
-- rule (and RLS) gives her now. standing() lists the all-clients grants,
-- read by a superuser's function.
CREATE ROLE regress_ac_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint),
    access_control.grant_all_clients(bigint, text, timestamptz),
    access_control.revoke_all_clients(bigint),
    access_control.grant_client_access(bigint, bigint[], text, timestamptz),
    access_control.revoke_client_access(bigint, bigint[]),
    access_control.revoke_staff_access(bigint, bigint[]),
    access_control.set_client_access(bigint, bigint[], text),
    access_control.set_client_roles(bigint, bigint[], text[]),
    access_control.create_business(bigint, text),
    access_control.accept_partner_invitation(bigint, bigint),
    access_control.set_staff_role(bigint, text),
    access_control.staff_access(bigint),
    access_control.business_access(bigint),
    access_control.explain_access(bigint, bigint)
TO regress_ac_app;
GRANT SELECT ON access_control.all_clients_grant TO regress_ac_app;
CREATE FUNCTION act(staff bigint, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM access_control.set_actor(staff);
    RETURN err(q);
END $$;
CREATE FUNCTION sees(staff bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM access_control.set_actor(staff);
    RETURN coalesce((SELECT string_agg(b.name, ', ' ORDER BY b.name) FROM access_control.my_businesses() b), '(nothing)');
END $$;
CREATE FUNCTION standing() RETURNS TABLE (staff text, role text, expires boolean)
LANGUAGE sql SECURITY DEFINER AS $$
    SELECT split_part(s.email, '@', 1), r.name, g.expires_at IS NOT NULL
      FROM access_control.all_clients_grant g
      JOIN access_control.staff s ON s.id = g.staff_id
      JOIN access_control.client_role r ON r.id = g.role_id
     ORDER BY 1
$$;
-- The screens read in a transaction that acts as Olive (set_actor returns
-- nothing: \gset keeps its empty row out of the output).
SET ROLE regress_ac_app;

-- Mia has no grant: she sees nothing.
SELECT sees(:mia) AS mia_sees;

-- Olive gives Mia clerk on all clients. Pine's read-only ceiling cuts
-- clerk's write permissions there, and the NOTICE says so.
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L)', :mia, 'clerk'));
SELECT * FROM standing();
SELECT sees(:mia) AS mia_sees;

-- A client linked later is covered on the next statement: the firm's own
-- new client, and a partner once its invitation is accepted (not while it
-- is pending).
SELECT act(:olive, format('SELECT access_control.create_business(%s, %L)', :acme, 'Cedar'));
SELECT sees(:mia) AS mia_sees;
RESET ROLE;
SELECT access_control.create_business('Spruce') AS spruce \gset
SELECT access_control.invite_partner_firm(:spruce, :acme, ARRAY['bills.view']);
SET ROLE regress_ac_app;
SELECT sees(:mia) AS mia_sees;
SELECT act(:olive, format('SELECT access_control.accept_partner_invitation(%s, %s)', :acme, :spruce));
SELECT sees(:mia) AS mia_sees;

-- The manage-access modal: the all-clients role on every row, no direct
-- role, no team; each client's ceiling caps the standing role as it caps
-- any grant (Spruce gives only bills.view).
BEGIN;
SELECT access_control.set_actor(:olive) \gset
SELECT business_name, direct, via_teams, roles, direct_role, team_roles, all_clients_role
  FROM access_control.staff_access(:mia);
SELECT business_name, permissions FROM access_control.staff_access(:mia);
COMMIT;

-- A direct grant adds to the standing one (OR of the roles): payer on Alder.
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :mia, :alder, 'payer'));
BEGIN;
SELECT access_control.set_actor(:olive) \gset
SELECT business_name, direct, roles, direct_role, all_clients_role, permissions
  FROM access_control.staff_access(:mia) WHERE business_id = :alder;
SELECT path, role, permissions FROM access_control.explain_access(:mia, :alder);
COMMIT;

-- Ned: bookkeeper on all clients beside his team's approver on Birch.
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L)', :ned, 'bookkeeper'));
BEGIN;
SELECT access_control.set_actor(:olive) \gset
SELECT business_name, direct, via_teams, roles, direct_role, team_roles, all_clients_role
  FROM access_control.staff_access(:ned);
SELECT path, role FROM access_control.explain_access(:ned, :birch);

-- The client page: who sees Alder, with names and the direct and team
-- roles there; then Birch.
SELECT email, first_name, last_name, staff_role, direct, via_teams, direct_role, team_roles,
       cardinality(permissions) AS n_permissions
  FROM access_control.business_access(:alder);
SELECT email, direct, via_teams, direct_role, team_roles FROM access_control.business_access(:birch);
COMMIT;

-- Granting again changes the role.
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L)', :ned, 'accountant'));
SELECT * FROM standing();

-- Revoking a direct grant on a client the member keeps through another
-- path says which: Ned, given payer directly on Alder and Birch, keeps
-- Alder through the all-clients grant, Birch through team Payroll and it.
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s, %s]::bigint[], %L)', :ned, :alder, :birch, 'payer'));
SELECT act(:olive, format('SELECT access_control.revoke_client_access(%s, ARRAY[%s, %s]::bigint[])', :ned, :alder, :birch));
SELECT sees(:ned) AS ned_sees;
-- with no direct grant there, the NOTICE says that too (revoke_staff_access)
SELECT act(:olive, format('SELECT access_control.revoke_staff_access(%s, ARRAY[%s]::bigint[])', :pine, :ned));
-- The Saves say the same for the direct grants they remove: the modal's
-- (set_client_access) and the per-client one (set_client_roles).
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :ned, :alder, 'payer'));
SELECT act(:olive, format('SELECT access_control.set_client_access(%s, %L::bigint[])', :ned, '{}'));
SELECT act(:olive, format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :ned, :birch, 'payer'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, ARRAY[%s]::bigint[], ARRAY[%L])', :ned, :alder, 'clerk'));
SELECT act(:olive, format('SELECT access_control.set_client_roles(%s, %L::bigint[], %L::text[])', :ned, '{}', '{}'));
-- a member whose removed grant was her only path gets no NOTICE
SELECT act(:faro, format('SELECT access_control.grant_client_access(%s, ARRAY[%s]::bigint[], %L)', :fay, :farclient, 'payer'));
SELECT act(:faro, format('SELECT access_control.set_client_access(%s, %L::bigint[])', :fay, '{}'));
SELECT sees(:fay) AS fay_sees;

-- Revoking ends it on the next statement: Mia keeps only her direct grant.
SELECT act(:adam, format('SELECT access_control.revoke_all_clients(%s)', :mia));
SELECT sees(:mia) AS mia_sees;
SELECT * FROM standing();
-- Revoking when there is none changes nothing and says so.
SELECT act(:adam, format('SELECT access_control.revoke_all_clients(%s)', :mia));

-- Expiry: a standing grant that has expired gives nothing (the expiry is
-- moved into the past by the DBA, since a test waits for no clock).
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L, now() + interval %L)', :mia, 'clerk', '1 day'));
SELECT * FROM standing();
SELECT sees(:mia) AS mia_sees;
RESET ROLE;
UPDATE access_control.all_clients_grant SET expires_at = now() - interval '1 minute' WHERE staff_id = :mia;
SET ROLE regress_ac_app;
SELECT sees(:mia) AS mia_sees;
BEGIN;
SELECT access_control.set_actor(:olive) \gset
SELECT path, role FROM access_control.explain_access(:mia, :birch);
COMMIT;
SELECT act(:olive, format('SELECT access_control.revoke_all_clients(%s)', :mia));

-- Errors: each one clear, with a hint where there is something to do, and
-- nothing changed.
SELECT err(format('SELECT access_control.grant_all_clients(%s, %L)', :mia, 'clerk')) AS no_actor;
SELECT err(format('SELECT access_control.revoke_all_clients(%s)', :ned)) AS no_actor;
SELECT act(:mia, format('SELECT access_control.grant_all_clients(%s, %L)', :mia, 'administrator')) AS member_actor;
SELECT act(:faro, format('SELECT access_control.grant_all_clients(%s, %L)', :mia, 'clerk')) AS other_firm;
SELECT act(:faro, format('SELECT access_control.revoke_all_clients(%s)', :ned)) AS other_firm;
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L)', :olive, 'clerk')) AS to_owner;
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L)', :adam, 'clerk')) AS to_admin;
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L)', :mia, 'boss')) AS unknown_role;
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, NULL)', :mia)) AS null_role;
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L, now() - interval %L)', :mia, 'clerk', '1 hour')) AS past_expiry;
SELECT act(:olive, format('SELECT access_control.grant_all_clients(NULL, %L)', 'clerk')) AS null_staff;
SELECT act(:olive, format('SELECT access_control.grant_all_clients(%s, %L)', 999999, 'clerk')) AS unknown_staff;
SELECT act(:olive, 'SELECT access_control.revoke_all_clients(NULL)') AS null_staff;
SELECT * FROM standing();
SELECT sees(:mia) AS mia_sees;

-- The table, read by the application: a firm's staff read their firm's
-- rows, another firm's staff and no actor read none.
BEGIN;
SELECT access_control.set_actor(:mia) \gset
SELECT count(*) AS mia_reads FROM access_control.all_clients_grant;
COMMIT;
BEGIN;
SELECT access_control.set_actor(:faro) \gset
SELECT count(*) AS far_reads FROM access_control.all_clients_grant;
COMMIT;
SELECT count(*) AS nobody_reads FROM access_control.all_clients_grant;

-- Making Ned an admin removes his standing grant (counted among his direct
-- grants) with his team membership: no hidden grant wakes up on demotion.
SELECT act(:olive, format('SELECT access_control.set_staff_role(%s, %L)', :ned, 'admin'));
SELECT * FROM standing();
RESET ROLE;

-- A custom role in use by a standing grant cannot be dropped.
SELECT access_control.create_client_role(:acme, 'Reviewer', ARRAY['bills.view']) AS reviewer \gset
SELECT access_control.grant_all_clients(:mia, 'Reviewer');
SELECT err(format('SELECT access_control.drop_client_role(%s)', :reviewer)) AS drop_in_use;
SELECT access_control.revoke_all_clients(:mia);
SELECT access_control.drop_client_role(:reviewer);

-- Audited as access changes.
SELECT action, entity, entity_id = :mia AS is_mia FROM access_control.audit_log
 WHERE entity = 'all_clients_grant' ORDER BY id;

DROP FUNCTION act(bigint, text), sees(bigint), standing(), err(text);
DROP OWNED BY regress_ac_app;
DROP ROLE regress_ac_app;
DROP EXTENSION access_control;
