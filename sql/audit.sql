-- The audit log: what each management call writes, who it names as the
-- actor, that secrets never reach it, that it is append-only, and that its
-- hash chain finds tampering.
CREATE EXTENSION access_control;
\set VERBOSITY default

\i sql/include/err.sql

-- Nothing is logged by installing the extension.
SELECT count(*) AS rows_after_install FROM access_control.audit_log;

-- A firm with an owner and a member, two clients, a team, grants.
SELECT access_control.create_firm('AU Firm', 'au-olga@firm.test') AS firm \gset
SELECT id AS olga FROM access_control.staff WHERE email = 'au-olga@firm.test' \gset
SELECT access_control.add_staff(:firm, 'au-max@firm.test', 'member', 'Max') AS max \gset
SELECT access_control.create_business(:firm, 'AU Apple') AS apple \gset
SELECT access_control.create_business(:firm, 'AU Birch') AS birch \gset
SELECT access_control.create_team(:firm, 'AU Team') AS team \gset
SELECT access_control.add_team_member(:team, :max);
SELECT access_control.grant_client_access(:max, ARRAY[:apple]::bigint[], 'clerk');
SELECT access_control.grant_client_access(:max, ARRAY[:apple]::bigint[], 'bookkeeper');
SELECT access_control.grant_team_access(:team, ARRAY[:birch]::bigint[], 'clerk');
SELECT access_control.set_staff_role(:max, 'admin');
SELECT access_control.set_programmatic_access(:max, false);
SELECT access_control.set_programmatic_access(:max, true);
SELECT access_control.create_client_role(:firm, 'AU Role', '{bills.view}') AS role \gset
SELECT access_control.alter_client_role(:role, '{bills.view,invoices.view}');
SELECT access_control.drop_client_role(:role);
SELECT access_control.create_api_key(:max, 'au key') AS max_key \gset
SELECT substring(:'max_key' from '^ac_([0-9]+)_')::bigint AS key_id \gset
SELECT access_control.revoke_api_key(:key_id);
SELECT access_control.add_portal_user(:apple, 'au-pia@apple.test', '{invoices.view}') AS pia \gset
SELECT access_control.remove_portal_user(:pia);
SELECT access_control.revoke_client_access(:max, ARRAY[:apple]::bigint[]);
SELECT access_control.remove_team_member(:team, :max);
SELECT access_control.remove_staff(:max);
SELECT access_control.drop_team(:team);

-- A partner firm invited to Apple, accepting, then disconnected.
SELECT access_control.create_firm('AU Partner', 'au-paul@partner.test') AS partner \gset
SELECT access_control.invite_partner_firm(:apple, :partner);
SELECT access_control.accept_partner_invitation(:partner, :apple);
SELECT access_control.disconnect_partner(:apple, :partner);

-- What each call wrote: ids and timestamps named or left out.
CREATE VIEW au_log AS
SELECT a.id, a.action,
       CASE a.firm_id WHEN :firm THEN 'firm' WHEN :partner THEN 'partner' ELSE coalesce(a.firm_id::text, '-') END AS firm,
       CASE a.business_id WHEN :apple THEN 'apple' WHEN :birch THEN 'birch' ELSE coalesce(a.business_id::text, '-') END AS business,
       CASE a.actor WHEN 'staff:' || :olga THEN 'staff:olga' WHEN 'staff:' || :max THEN 'staff:max' ELSE a.actor END AS actor,
       a.entity,
       a.old - '{id,firm_id,staff_id,business_id,team_id,created_at,granted_at,revoked_at,secret_key_id}'::text[] AS old,
       a.new - '{id,firm_id,staff_id,business_id,team_id,created_at,granted_at,revoked_at,secret_key_id}'::text[] AS new
  FROM access_control.audit_log a;
SELECT action, firm, business, actor, entity, old, new FROM au_log ORDER BY id;

-- Each row names the transaction and the login behind it.
SELECT count(DISTINCT txid) > 10 AS many_transactions,
       bool_and(db_user = session_user) AS db_user_is_session_user,
       bool_and(hash IS NOT NULL AND octet_length(hash) = 32) AS hashed
  FROM access_control.audit_log;
-- The entity ids: the row's id, or the staff member / team it is about.
SELECT action, entity_id = CASE entity WHEN 'staff' THEN :max WHEN 'staff_grant' THEN :max
                                       WHEN 'team_grant' THEN :team WHEN 'team_member' THEN :max
                                       WHEN 'api_key' THEN :key_id WHEN 'firm_client' THEN business_id END AS right_entity
  FROM access_control.audit_log
 WHERE entity IN ('staff_grant', 'team_grant', 'team_member', 'api_key', 'firm_client')
    OR (entity = 'staff' AND action <> 'staff.added')
 ORDER BY id;

-- Secrets never reach the log: no row holds the key's hash, or any key of it.
SELECT count(*) AS rows_holding_the_secret_hash
  FROM access_control.audit_log a, access_control.api_key k
 WHERE k.id = :key_id
   AND (position(encode(k.secret_hash, 'hex') IN a::text) > 0
        OR position(encode(k.secret_hash, 'base64') IN a::text) > 0
        OR position(k.secret_hash IN convert_to(a::text, 'UTF8')) > 0);
SELECT count(*) AS rows_naming_a_secret_column
  FROM access_control.audit_log
 WHERE old ? 'secret_hash' OR new ? 'secret_hash';

-- Direct DML by a superuser is logged as system.
SELECT max(id) AS mark FROM access_control.audit_log \gset
UPDATE access_control.business SET name = 'AU Apple Ltd' WHERE id = :apple;
SELECT action, business, actor, entity, old, new FROM au_log WHERE id > :mark ORDER BY id;

-- A staff actor's change is logged as that staff member.
SELECT max(id) AS mark FROM access_control.audit_log \gset
BEGIN;
SELECT access_control.set_actor(:olga);
SELECT access_control.add_staff(:firm, 'au-mo@firm.test', 'member') AS mo \gset
COMMIT;
SELECT action, firm, actor, entity, new - 'email'::text AS new FROM au_log WHERE id > :mark ORDER BY id;

-- An UPDATE that changes no logged column writes no row.
SELECT max(id) AS mark FROM access_control.audit_log \gset
UPDATE access_control.staff SET role = role WHERE firm_id = :firm;
UPDATE access_control.client_role SET permissions = permissions;
UPDATE access_control.firm_client SET ceiling = ceiling;
SELECT count(*) AS rows_for_updates_that_changed_nothing FROM access_control.audit_log WHERE id > :mark;

-- A new permission: the built-in roles take it in once (no second, empty
-- role.changed), and link ceilings widen with it: the firm's own clients
-- as client.changed, the read-only partner link as partner.changed.
SELECT access_control.invite_partner_firm(:apple, :partner);
SELECT access_control.accept_partner_invitation(:partner, :apple);
SELECT max(id) AS mark FROM access_control.audit_log \gset
SELECT access_control.define_permission('reports.view', 'View reports', true) AS reports_bit;
SELECT l.action, l.firm, l.business, l.actor, l.entity, r.name AS role, l.old, l.new - 'description'::text AS new
  FROM au_log l
  JOIN access_control.audit_log a ON a.id = l.id
  LEFT JOIN access_control.client_role r ON a.entity = 'client_role' AND r.id = a.entity_id
 WHERE l.id > :mark ORDER BY l.id;
SELECT bool_and(ok) AS chains_verify FROM access_control.verify_audit_chain();

-- Append-only: UPDATE, DELETE and TRUNCATE are refused, even to a superuser.
SELECT count(*) AS rows_before, md5(string_agg(a::text, ',' ORDER BY id)) AS sum_before
  FROM access_control.audit_log a \gset
SELECT err('UPDATE access_control.audit_log SET actor = ''staff:1''');
SELECT err('DELETE FROM access_control.audit_log');
SELECT err('TRUNCATE access_control.audit_log');
SET session_replication_role = replica;
SELECT err('DELETE FROM access_control.audit_log');
RESET session_replication_role;
UPDATE access_control.audit_log SET actor = 'staff:1' WHERE id = :mark;
SELECT count(*) = :rows_before AS nothing_deleted,
       md5(string_agg(a::text, ',' ORDER BY id)) = :'sum_before' AS nothing_changed
  FROM access_control.audit_log a;
SELECT f.name AS firm, v.ok, v.first_bad_id
  FROM access_control.verify_audit_chain() v LEFT JOIN access_control.firm f ON f.id = v.firm_id
 ORDER BY v.firm_id;

-- Not for PUBLIC: reading the log, purging, verifying.
CREATE ROLE au_plain;
SET ROLE au_plain;
SELECT err('SELECT count(*) FROM access_control.audit_log');
SELECT err('SELECT access_control.purge_audit_log(now())');
SELECT err('SELECT * FROM access_control.verify_audit_chain()');
RESET ROLE;
-- A role the DBA lets purge is still refused: only a superuser purges.
GRANT EXECUTE ON FUNCTION access_control.purge_audit_log(timestamptz) TO au_plain;
SET ROLE au_plain;
SELECT err('SELECT access_control.purge_audit_log(now())');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION access_control.purge_audit_log(timestamptz) FROM au_plain;
DROP ROLE au_plain;

-- Purge keeps each chain verifiable from its first kept row.
SELECT clock_timestamp() AS cut \gset
SELECT access_control.add_staff(:firm, 'au-kim@firm.test') AS kim \gset
SELECT access_control.create_business('AU Walnut') AS walnut \gset
SELECT count(*) AS older FROM access_control.audit_log WHERE occurred_at < :'cut' \gset
SELECT access_control.purge_audit_log(:'cut') = :older AS purged_the_older_rows;
SELECT action, firm, actor FROM au_log ORDER BY id;
SELECT firm_id = :firm AS our_firm, ok, first_bad_id FROM access_control.verify_audit_chain() ORDER BY firm_id;
SELECT ok, first_bad_id FROM access_control.verify_audit_chain(:firm);

-- Tampering (a superuser switching the guard off) is found, at that row.
SELECT access_control.set_staff_role(:kim, 'admin');
SELECT access_control.set_staff_role(:kim, 'member');
SELECT min(id) AS victim FROM access_control.audit_log WHERE action = 'staff.role_changed' \gset
ALTER TABLE access_control.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE access_control.audit_log SET new = '{"role": "owner"}' WHERE id = :victim;
ALTER TABLE access_control.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
SELECT ok, first_bad_id = :victim AS the_tampered_row FROM access_control.verify_audit_chain(:firm);
SELECT firm_id IS NULL AS no_firm, ok FROM access_control.verify_audit_chain() ORDER BY firm_id;
-- A deleted row breaks the link of the next one.
ALTER TABLE access_control.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE access_control.audit_log SET new = '{"role": "admin"}' WHERE id = :victim;
SELECT ok AS repaired FROM access_control.verify_audit_chain(:firm);
DELETE FROM access_control.audit_log WHERE id = :victim;
ALTER TABLE access_control.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
SELECT ok, first_bad_id > :victim AS the_next_row FROM access_control.verify_audit_chain(:firm);

DROP VIEW au_log;
DROP FUNCTION err(text);
DROP EXTENSION access_control;
