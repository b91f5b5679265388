-- Row-level security on the extension's own tables: granting SELECT on them
-- to the application's role is safe. Each actor reads exactly the rows its
-- screens need and never another firm's; no actor reads nothing; system
-- reads everything. Every table and view of the extension is read here by
-- every kind of actor, as a role with nothing but SELECT and EXECUTE.
SET client_min_messages = warning;
CREATE EXTENSION access_control;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Acme Accounting: owner Olivia, admin Adam, members Mia (clerk on Alpha,
-- in team Payroll) and Max (administrator on Bravo, so users.manage there),
-- Rex (removed). Clients Alpha and Bravo; Pending Pets invited Acme.
SELECT access_control.create_firm('Acme Accounting', 'olivia@acme.test', 'Olivia', 'Owner') AS acme \gset
SELECT id AS olivia FROM access_control.staff WHERE email = 'olivia@acme.test' \gset
SELECT access_control.add_staff(:acme, 'adam@acme.test', 'admin') AS adam \gset
SELECT access_control.add_staff(:acme, 'mia@acme.test') AS mia \gset
SELECT access_control.add_staff(:acme, 'max@acme.test') AS max \gset
SELECT access_control.add_staff(:acme, 'rex@acme.test') AS rex \gset
SELECT access_control.create_business(:acme, 'Alpha Bakery') AS alpha \gset
SELECT access_control.create_business(:acme, 'Bravo Builders') AS bravo \gset
SELECT access_control.create_business('Pending Pets') AS pets \gset
SELECT access_control.invite_partner_firm(:pets, :acme);
SELECT access_control.create_client_role(:acme, 'acme reviewer', '{bills.view}');
SELECT access_control.grant_client_access(:mia, ARRAY[:alpha]::bigint[], 'clerk');
SELECT access_control.grant_client_access(:max, ARRAY[:bravo]::bigint[], 'administrator');
SELECT access_control.grant_client_access(:rex, ARRAY[:alpha]::bigint[], 'clerk');
SELECT access_control.remove_staff(:rex);
SELECT access_control.create_team(:acme, 'Acme Payroll') AS payroll \gset
SELECT access_control.add_team_member(:payroll, :mia);
SELECT access_control.grant_team_access(:payroll, ARRAY[:bravo]::bigint[], 'bookkeeper');
SELECT access_control.create_api_key(:olivia, 'olivia laptop') AS olivia_key \gset
SELECT access_control.create_api_key(:mia, 'mia script') AS mia_key \gset
SELECT 1 FROM access_control.invite_staff(:acme, 'newbie@acme.test');
-- Alpha's own users: its boss (every permission, so users.manage), a
-- clerk who reads bills, and a contact. Bravo's boss.
SELECT access_control.add_portal_user(:alpha, 'boss@alpha.test') AS alpha_boss \gset
SELECT access_control.add_portal_user(:alpha, 'clerk@alpha.test', '{bills.view}') AS alpha_clerk \gset
SELECT access_control.add_contact(:alpha, 'cfo@alpha.test', 'Alpha CFO');
SELECT access_control.add_portal_user(:bravo, 'boss@bravo.test') AS bravo_boss \gset

-- Other LLP: owner Owen and member Oscar, its own client Zulu (with a
-- portal user), a team, a custom role, a key, an invitation; and Alpha's
-- read-only partner firm.
SELECT access_control.create_firm('Other LLP', 'owen@other.test') AS other \gset
SELECT id AS owen FROM access_control.staff WHERE email = 'owen@other.test' \gset
SELECT access_control.add_staff(:other, 'oscar@other.test') AS oscar \gset
SELECT access_control.create_business(:other, 'Zulu Zoo') AS zulu \gset
SELECT access_control.create_client_role(:other, 'other auditor', '{bills.view}');
SELECT access_control.create_team(:other, 'Other Audit') AS other_team \gset
SELECT access_control.add_team_member(:other_team, :oscar);
SELECT access_control.grant_team_access(:other_team, ARRAY[:zulu]::bigint[], 'other auditor');
SELECT access_control.grant_client_access(:oscar, ARRAY[:zulu]::bigint[], 'clerk');
SELECT access_control.create_api_key(:owen, 'owen sync') AS owen_key \gset
SELECT 1 FROM access_control.invite_staff(:other, 'newbie@other.test');
SELECT access_control.add_portal_user(:zulu, 'boss@zulu.test') AS zulu_boss \gset
SELECT access_control.invite_partner_firm(:alpha, :other);
SELECT access_control.accept_partner_invitation(:other, :alpha);
SELECT access_control.grant_client_access(:oscar, ARRAY[:alpha]::bigint[], 'bookkeeper');

-- Keys that were used, so api_keys shows last_used_at.
BEGIN;
SELECT access_control.authenticate(:'mia_key') = :mia AS mia_authenticated;
SELECT access_control.authenticate(:'owen_key') = :owen AS owen_authenticated;
COMMIT;

-- The application's role: SELECT on every table and view of the
-- extension, EXECUTE on the actor functions. A back-office role may also
-- act as system.
CREATE ROLE rls_app;
CREATE ROLE rls_backoffice;
DO $$
DECLARE r regclass;
BEGIN
    FOR r IN SELECT c.oid::regclass FROM pg_class c
              WHERE c.relnamespace = 'access_control'::regnamespace AND c.relkind IN ('r', 'v', 'p')
    LOOP
        EXECUTE format('GRANT SELECT ON %s TO rls_app, rls_backoffice', r);
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint)
    TO rls_app;
GRANT EXECUTE ON FUNCTION access_control.act_as_system() TO rls_backoffice;

-- What each actor reads: rls_look(who) records, as the role it runs as,
-- the rows of every table and view it can read; rls_seen() names them
-- afterwards, as the superuser. The sentinel tables hold no rows.
CREATE TEMP TABLE seen (who text, tbl text, tid tid, id bigint);
GRANT INSERT ON seen TO rls_app, rls_backoffice;
CREATE FUNCTION rls_look(who text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'access_control'::regnamespace AND c.relkind = 'r'
                AND c.relname NOT LIKE 'cache_sentinel%'
    LOOP
        EXECUTE format('INSERT INTO pg_temp.seen SELECT %L, %L, ctid, NULL FROM access_control.%I', who, t, t);
    END LOOP;
    INSERT INTO pg_temp.seen SELECT who, 'api_keys (view)', NULL, k.id FROM access_control.api_keys k;
    INSERT INTO pg_temp.seen SELECT who, 'pending_invitations (view)', NULL, v.id FROM access_control.pending_invitations v;
END $$;
GRANT EXECUTE ON FUNCTION rls_look(text) TO rls_app, rls_backoffice;

CREATE VIEW rls_labels AS
SELECT 'firm' AS tbl, ctid AS tid, NULL::bigint AS id, name AS label FROM access_control.firm
UNION ALL SELECT 'staff', ctid, NULL, email FROM access_control.staff
UNION ALL SELECT 'business', ctid, NULL, name FROM access_control.business
UNION ALL SELECT 'firm_client', fc.ctid, NULL, f.name || ' - ' || b.name || ' (' || fc.status || ')'
    FROM access_control.firm_client fc JOIN access_control.firm f ON f.id = fc.firm_id
    JOIN access_control.business b ON b.id = fc.business_id
UNION ALL SELECT 'team', ctid, NULL, name FROM access_control.team
UNION ALL SELECT 'team_member', m.ctid, NULL, t.name || ': ' || s.email
    FROM access_control.team_member m JOIN access_control.team t ON t.id = m.team_id
    JOIN access_control.staff s ON s.id = m.staff_id
UNION ALL SELECT 'client_role', ctid, NULL, CASE WHEN firm_id IS NULL THEN 'built-in ' ELSE '' END || name
    FROM access_control.client_role
UNION ALL SELECT 'staff_grant', g.ctid, NULL, s.email || ' on ' || b.name
    FROM access_control.staff_grant g JOIN access_control.staff s ON s.id = g.staff_id
    JOIN access_control.business b ON b.id = g.business_id
UNION ALL SELECT 'team_grant', g.ctid, NULL, t.name || ' on ' || b.name
    FROM access_control.team_grant g JOIN access_control.team t ON t.id = g.team_id
    JOIN access_control.business b ON b.id = g.business_id
UNION ALL SELECT 'portal_user', ctid, NULL, email FROM access_control.portal_user
UNION ALL SELECT 'api_key', ctid, NULL, label FROM access_control.api_key
UNION ALL SELECT 'api_key_usage', u.ctid, NULL, k.label
    FROM access_control.api_key_usage u JOIN access_control.api_key k ON k.id = u.key_id
UNION ALL SELECT 'invitation', ctid, NULL, email FROM access_control.invitation
UNION ALL SELECT 'audit_log', a.ctid, NULL, coalesce(f.name, '-') || ' / ' || coalesce(b.name, '-')
    FROM access_control.audit_log a LEFT JOIN access_control.firm f ON f.id = a.firm_id
    LEFT JOIN access_control.business b ON b.id = a.business_id
UNION ALL SELECT 'permission', ctid, NULL, 'a permission' FROM access_control.permission
UNION ALL SELECT 'secret_key', ctid, NULL, 'a secret key' FROM access_control.secret_key
UNION ALL SELECT 'api_keys (view)', NULL, id, label FROM access_control.api_key
UNION ALL SELECT 'pending_invitations (view)', NULL, id, email FROM access_control.invitation;

-- One line per table: the rows read, named, with a count where a name repeats.
CREATE FUNCTION rls_seen(who_ text) RETURNS TABLE (tbl text, rows_read text) LANGUAGE sql AS $$
    WITH named AS (
        SELECT s.tbl, l.label, count(*) AS n
          FROM seen s JOIN rls_labels l
            ON l.tbl = s.tbl AND (l.tid = s.tid OR l.id = s.id)
         WHERE s.who = who_
         GROUP BY s.tbl, l.label)
    SELECT t.tbl, coalesce((SELECT string_agg(n.label || CASE WHEN n.n > 1 THEN ' x' || n.n ELSE '' END, ', ' ORDER BY n.label)
                              FROM named n WHERE n.tbl = t.tbl), '')
      FROM (SELECT DISTINCT tbl FROM rls_labels) t
     ORDER BY t.tbl
$$;

-- No actor: nothing, in every table and view but the public permission catalog.
SET ROLE rls_app;
SELECT rls_look('nobody');
RESET ROLE;
SELECT * FROM rls_seen('nobody');

-- System (a back-office role that may act as system): everything but the
-- secret keys, which only the extension's owner reads.
BEGIN;
SET LOCAL ROLE rls_backoffice;
SELECT access_control.act_as_system();
SELECT rls_look('system');
COMMIT;
SELECT * FROM rls_seen('system');
SELECT (SELECT count(*) FROM seen WHERE who = 'system' AND tbl = 'audit_log')
     = (SELECT count(*) FROM access_control.audit_log) AS system_reads_whole_audit_log;

-- Acme's owner: her firm, its staff (the removed one too), teams,
-- memberships, roles (built-in and Acme's), links and their businesses
-- (Pending Pets too), grants, the invitations, every key of the firm, the
-- firm's audit rows, and the portal users and contacts of the clients
-- where she holds users.manage.
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:olivia);
SELECT rls_look('owner');
COMMIT;
SELECT * FROM rls_seen('owner');

-- Acme's admin reads what the owner reads.
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:adam);
SELECT rls_look('admin');
COMMIT;
SELECT (SELECT array_agg(row(t.*) ORDER BY t.tbl) FROM rls_seen('admin') t)
     = (SELECT array_agg(row(t.*) ORDER BY t.tbl) FROM rls_seen('owner') t) AS admin_reads_as_owner;

-- A member: the firm, its staff, teams, memberships, roles, links,
-- businesses and grants; only her own key; no invitation, no audit row, no
-- portal user (she does not hold users.manage anywhere).
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:mia);
SELECT rls_look('member');
COMMIT;
SELECT * FROM rls_seen('member');

-- A member holding users.manage on Bravo also reads Bravo's portal users.
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:max);
SELECT rls_look('member with users.manage');
COMMIT;
SELECT * FROM rls_seen('member with users.manage') WHERE tbl IN ('portal_user', 'api_key', 'audit_log');

-- Alpha's boss (users.manage): her business, its partner links and their
-- firms, its portal users and contacts, its audit rows.
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_portal_actor(:alpha_boss);
SELECT rls_look('portal user with users.manage');
COMMIT;
SELECT * FROM rls_seen('portal user with users.manage');

-- Alpha's clerk (no users.manage): her business, its links, herself.
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_portal_actor(:alpha_clerk);
SELECT rls_look('portal user');
COMMIT;
SELECT * FROM rls_seen('portal user');

-- The owner of Alpha's partner firm: Other's own world, and of Acme's
-- client Alpha only the business and Other's link with it; nothing of Acme.
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:owen);
SELECT rls_look('partner firm owner');
COMMIT;
SELECT * FROM rls_seen('partner firm owner');

-- Each grant works alone: a role granted SELECT on one table or view and
-- nothing else reads it, as any actor, without a permission error (the
-- policies read no other table with the caller's rights), and reads the
-- same rows as the role granted every table. rls_one_look() grants
-- rls_one each relation in turn, reads it as rls_one, and revokes it.
CREATE ROLE rls_one;
CREATE FUNCTION rls_one_look() RETURNS TABLE (tbl text, rows_read text) LANGUAGE plpgsql AS $$
DECLARE
    rel text;
    n bigint;
BEGIN
    FOR rel IN SELECT c.relname FROM pg_class c
                WHERE c.relnamespace = 'access_control'::regnamespace AND c.relkind IN ('r', 'v', 'p')
                ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT ON access_control.%I TO rls_one', rel);
        BEGIN
            SET LOCAL ROLE rls_one;
            EXECUTE format('SELECT count(*) FROM access_control.%I', rel) INTO n;
            RESET ROLE;
            tbl := rel;
            rows_read := n::text;
        EXCEPTION WHEN OTHERS THEN
            tbl := rel;
            rows_read := SQLSTATE || ' ' || SQLERRM;
        END;
        EXECUTE format('REVOKE SELECT ON access_control.%I FROM rls_one', rel);
        RETURN NEXT;
    END LOOP;
END $$;
-- What the role granted everything read, per relation, for comparison.
CREATE FUNCTION rls_full_count(who_ text, rel text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM seen s
     WHERE s.who = who_
       AND s.tbl = CASE rel WHEN 'api_keys' THEN 'api_keys (view)'
                            WHEN 'pending_invitations' THEN 'pending_invitations (view)'
                            ELSE rel END
$$;
BEGIN;
SELECT access_control.set_actor(:olivia);
CREATE TEMP TABLE one_owner AS SELECT * FROM rls_one_look();
COMMIT;
BEGIN;
SELECT access_control.set_actor(:mia);
CREATE TEMP TABLE one_member AS SELECT * FROM rls_one_look();
COMMIT;
BEGIN;
SELECT access_control.set_portal_actor(:alpha_boss);
CREATE TEMP TABLE one_boss AS SELECT * FROM rls_one_look();
COMMIT;
BEGIN;
SELECT access_control.set_portal_actor(:alpha_clerk);
CREATE TEMP TABLE one_clerk AS SELECT * FROM rls_one_look();
COMMIT;
BEGIN;
SELECT access_control.set_actor(:owen);
CREATE TEMP TABLE one_partner AS SELECT * FROM rls_one_look();
COMMIT;
-- Rows each actor read with the one grant (an error would show here as
-- its SQLSTATE and message); secret_key has no policy, so none.
SELECT o.tbl, o.rows_read AS owner, m.rows_read AS member, p.rows_read AS partner_owner,
       b.rows_read AS portal_boss, c.rows_read AS portal_clerk
  FROM one_owner o JOIN one_member m USING (tbl) JOIN one_partner p USING (tbl)
  JOIN one_boss b USING (tbl) JOIN one_clerk c USING (tbl)
 ORDER BY o.tbl;
-- ... the same rows as with every grant (no line: all equal).
SELECT x.who, x.tbl, x.rows_read, rls_full_count(x.who, x.tbl) AS with_every_grant
  FROM (SELECT 'owner' AS who, * FROM one_owner
        UNION ALL SELECT 'member', * FROM one_member
        UNION ALL SELECT 'partner firm owner', * FROM one_partner
        UNION ALL SELECT 'portal user with users.manage', * FROM one_boss
        UNION ALL SELECT 'portal user', * FROM one_clerk) x
 WHERE x.rows_read IS DISTINCT FROM rls_full_count(x.who, x.tbl)::text
 ORDER BY 1, 2;
-- ... and the role holds no privilege on any relation of the extension
-- afterwards but PUBLIC's.
SELECT c.relname AS still_granted_to_rls_one
  FROM pg_class c WHERE c.relnamespace = 'access_control'::regnamespace
   AND c.relacl::text LIKE '%rls_one=%';
DROP TABLE one_owner, one_member, one_boss, one_clerk, one_partner;
DROP FUNCTION rls_full_count(text, text);
DROP FUNCTION rls_one_look();
DROP ROLE rls_one;

-- A removed member reads nothing, nor does a session whose API key was
-- revoked after it authenticated.
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:rex);
SELECT rls_look('removed member');
COMMIT;
SELECT access_control.create_api_key(:mia, 'mia old') AS mia_old_key \gset
BEGIN;
SELECT access_control.authenticate(:'mia_old_key') = :mia AS authenticated;
SELECT access_control.revoke_api_key(id) FROM access_control.api_key WHERE label = 'mia old';
SET LOCAL ROLE rls_app;
SELECT access_control.current_actor() = 'staff:' || :mia AS still_mia;
SELECT rls_look('revoked key');
COMMIT;
SELECT w.who, count(s.*) FILTER (WHERE s.tbl <> 'permission') AS rows_read_but_permissions
  FROM (VALUES ('nobody'), ('removed member'), ('revoked key')) w(who)
  LEFT JOIN seen s ON s.who = w.who GROUP BY w.who ORDER BY w.who;

-- No cross-firm row, in any table or view, for any actor: nothing of Other
-- LLP reaches Acme's staff or Alpha's clerk, nothing of Acme reaches
-- Other's owner except Alpha (its client too) and Other's link with it;
-- Alpha's boss reads only what concerns Alpha.
CREATE VIEW rls_tenant AS
SELECT 'firm' AS tbl, ctid AS tid, NULL::bigint AS id, ARRAY[id] AS firms, NULL::bigint AS business FROM access_control.firm
UNION ALL SELECT 'staff', ctid, NULL, ARRAY[firm_id], NULL FROM access_control.staff
UNION ALL SELECT 'business', b.ctid, NULL, (SELECT array_agg(fc.firm_id) FROM access_control.firm_client fc WHERE fc.business_id = b.id), b.id
    FROM access_control.business b
UNION ALL SELECT 'firm_client', ctid, NULL, ARRAY[firm_id], business_id FROM access_control.firm_client
UNION ALL SELECT 'team', ctid, NULL, ARRAY[firm_id], NULL FROM access_control.team
UNION ALL SELECT 'team_member', m.ctid, NULL, ARRAY[t.firm_id], NULL
    FROM access_control.team_member m JOIN access_control.team t ON t.id = m.team_id
UNION ALL SELECT 'client_role', ctid, NULL, CASE WHEN firm_id IS NOT NULL THEN ARRAY[firm_id] END, NULL FROM access_control.client_role
UNION ALL SELECT 'staff_grant', g.ctid, NULL, ARRAY[s.firm_id], NULL
    FROM access_control.staff_grant g JOIN access_control.staff s ON s.id = g.staff_id
UNION ALL SELECT 'team_grant', g.ctid, NULL, ARRAY[t.firm_id], NULL
    FROM access_control.team_grant g JOIN access_control.team t ON t.id = g.team_id
UNION ALL SELECT 'portal_user', ctid, NULL, NULL, business_id FROM access_control.portal_user
UNION ALL SELECT 'api_key', k.ctid, NULL, ARRAY[s.firm_id], NULL
    FROM access_control.api_key k JOIN access_control.staff s ON s.id = k.staff_id
UNION ALL SELECT 'api_key_usage', u.ctid, NULL, ARRAY[s.firm_id], NULL
    FROM access_control.api_key_usage u JOIN access_control.api_key k ON k.id = u.key_id
    JOIN access_control.staff s ON s.id = k.staff_id
UNION ALL SELECT 'invitation', ctid, NULL, ARRAY[firm_id], NULL FROM access_control.invitation
UNION ALL SELECT 'audit_log', ctid, NULL, CASE WHEN firm_id IS NOT NULL THEN ARRAY[firm_id] END, business_id
    FROM access_control.audit_log
UNION ALL SELECT 'api_keys (view)', NULL, k.id, ARRAY[s.firm_id], NULL
    FROM access_control.api_key k JOIN access_control.staff s ON s.id = k.staff_id
UNION ALL SELECT 'pending_invitations (view)', NULL, id, ARRAY[firm_id], NULL FROM access_control.invitation;
-- A row read by a firm's staff must be the firm's own (or shared: a
-- built-in role, a business the firm is linked with); one read by a portal
-- user must be about her business.
SELECT s.who, s.tbl, count(*) AS foreign_rows
  FROM seen s JOIN rls_tenant t ON t.tbl = s.tbl AND (t.tid = s.tid OR t.id = s.id)
 WHERE CASE
         WHEN s.who IN ('owner', 'admin', 'member', 'member with users.manage')
           THEN NOT (t.firms IS NULL AND t.tbl = 'client_role'
                     OR :acme = ANY (t.firms)
                     OR t.tbl = 'portal_user' AND t.business IN (SELECT business_id FROM access_control.firm_client WHERE firm_id = :acme))
         WHEN s.who = 'partner firm owner'
           THEN NOT (t.firms IS NULL AND t.tbl = 'client_role' OR :other = ANY (t.firms))
         WHEN s.who LIKE 'portal user%'
           THEN t.business IS DISTINCT FROM :alpha AND NOT (t.tbl = 'firm' AND t.firms[1] IN (SELECT firm_id FROM access_control.firm_client WHERE business_id = :alpha))
         ELSE false
       END
 GROUP BY s.who, s.tbl ORDER BY s.who, s.tbl;
-- (no row: nobody read a row of another tenant)
SELECT count(DISTINCT who) AS actors_checked FROM seen;

-- The policies are cheap: one look-up of the actor per statement, not per row.
SET ROLE rls_app;
BEGIN;
SELECT access_control.set_actor(:olivia);
EXPLAIN (COSTS OFF) SELECT * FROM access_control.staff;
COMMIT;
RESET ROLE;
-- So is every table's: as a staff actor and as a portal actor, each plan
-- scans only the table read, never another one per row (no SubPlan); the
-- look-ups are InitPlans, each run once. (secret_key has no policy: its
-- plan is an empty result that scans nothing.)
CREATE FUNCTION rls_plan_shape() RETURNS TABLE (tbl text, initplans int, subplans int, scans text)
    LANGUAGE plpgsql AS $$
DECLARE
    line text;
    scanned text[];
BEGIN
    FOR tbl IN SELECT c.relname FROM pg_class c
                WHERE c.relnamespace = 'access_control'::regnamespace AND c.relkind = 'r'
                ORDER BY c.relname
    LOOP
        initplans := 0;
        subplans := 0;
        scanned := '{}';
        FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT * FROM access_control.%I', tbl) LOOP
            initplans := initplans + (line ~ 'InitPlan')::int;
            subplans := subplans + (line ~ 'SubPlan')::int;
            IF line !~ 'Bitmap Index Scan' AND line ~ ' Scan (using \S+ )?on ' THEN
                scanned := scanned || substring(line FROM ' Scan (?:using \S+ )?on (\w+)');
            END IF;
        END LOOP;
        scans := array_to_string(scanned, ', ');
        RETURN NEXT;
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION rls_plan_shape() TO rls_app;
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:olivia);
SELECT * FROM rls_plan_shape();
COMMIT;
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_portal_actor(:alpha_boss);
-- (only secret_key's line: every other plan scans its own table alone)
SELECT tbl, initplans, subplans, scans FROM rls_plan_shape()
 WHERE subplans > 0 OR scans IS DISTINCT FROM tbl;
COMMIT;
DROP FUNCTION rls_plan_shape();

-- Writing stays refused, even to a role granted write privileges: only
-- SELECT policies exist.
GRANT INSERT, UPDATE, DELETE ON access_control.team TO rls_app;
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:olivia);
INSERT INTO access_control.team (id, firm_id, name) VALUES (999999, :acme, 'sneaky');
ROLLBACK;
BEGIN;
SET LOCAL ROLE rls_app;
SELECT access_control.set_actor(:olivia);
UPDATE access_control.team SET name = 'renamed' RETURNING name;
ROLLBACK;
REVOKE INSERT, UPDATE, DELETE ON access_control.team FROM rls_app;

DROP VIEW rls_tenant;
DROP VIEW rls_labels;
DROP FUNCTION rls_seen(text);
DROP FUNCTION rls_look(text);
DROP TABLE seen;
DROP EXTENSION access_control;
DROP ROLE rls_app;
DROP ROLE rls_backoffice;
