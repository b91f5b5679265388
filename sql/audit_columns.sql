-- The audit log's actor as columns of its own (actor_kind, actor_id, and
-- api_key_id, the API key a change was made through) for every kind of
-- actor; a firm's change on a client carries the firm; the chain covers the
-- new columns; the firm's owner reads the firm's rows, clients included.
SET client_min_messages = warning;
CREATE EXTENSION access_control;
RESET client_min_messages;
\set VERBOSITY default

-- Set up by the system: firm Acme (owner Olga, member Mo), its client
-- Apple with its boss Pia (every permission), and firm Birch (owner Bert).
SELECT access_control.create_firm('AC Acme', 'olga@acme.test') AS acme \gset
SELECT id AS olga FROM access_control.staff WHERE email = 'olga@acme.test' \gset
SELECT access_control.add_staff(:acme, 'mo@acme.test') AS mo \gset
SELECT access_control.create_business(:acme, 'AC Apple') AS apple \gset
SELECT access_control.add_portal_user(:apple, 'pia@apple.test') AS pia \gset
SELECT access_control.create_firm('AC Birch', 'bert@birch.test') AS birch \gset
SELECT id AS bert FROM access_control.staff WHERE email = 'bert@birch.test' \gset
SELECT access_control.create_api_key(:olga, 'olga script') AS olga_key \gset
SELECT substring(:'olga_key' from '^ac_([0-9]+)_')::bigint AS olga_key_id \gset
SELECT max(id) AS mark FROM access_control.audit_log \gset

-- Olga, as herself: a change in her firm and one on her client Apple.
BEGIN;
SELECT access_control.set_actor(:olga);
SELECT access_control.set_staff_role(:mo, 'admin');
SELECT access_control.add_portal_user(:apple, 'quinn@apple.test', '{bills.view}') AS quinn \gset
COMMIT;
-- Pia, Apple's boss, through the portal.
BEGIN;
SELECT access_control.set_portal_actor(:pia);
SELECT access_control.set_portal_permissions(:quinn, '{bills.view,invoices.view}');
COMMIT;
-- Olga's script, through her API key: a change in the firm and on Apple.
BEGIN;
SELECT access_control.authenticate(:'olga_key') = :olga AS authenticated_as_olga;
SELECT access_control.set_staff_role(:mo, 'member');
SELECT access_control.remove_portal_user(:quinn);
COMMIT;
-- The system, by act_as_system().
BEGIN;
SELECT access_control.act_as_system();
SELECT access_control.create_business(:birch, 'AC Beech') AS beech \gset
COMMIT;
-- A DBA's direct DML, with no actor at all.
UPDATE access_control.business SET name = 'AC Apple Ltd' WHERE id = :apple;

-- Who made each change, as columns; names for ids.
SELECT a.action, a.entity,
       CASE a.firm_id WHEN :acme THEN 'acme' WHEN :birch THEN 'birch' ELSE coalesce(a.firm_id::text, '-') END AS firm,
       CASE a.business_id WHEN :apple THEN 'apple' WHEN :beech THEN 'beech' ELSE coalesce(a.business_id::text, '-') END AS business,
       a.actor_kind,
       CASE WHEN a.actor_kind = 'staff' AND a.actor_id = :olga THEN 'olga'
            WHEN a.actor_kind = 'portal' AND a.actor_id = :pia THEN 'pia'
            ELSE coalesce(a.actor_id::text, '-') END AS actor_id,
       CASE a.api_key_id WHEN :olga_key_id THEN 'olga script' ELSE coalesce(a.api_key_id::text, '-') END AS api_key
  FROM access_control.audit_log a WHERE a.id > :mark ORDER BY a.id;

-- On every row the columns say what the actor text says.
SELECT count(*) AS rows,
       bool_and(actor = actor_kind || coalesce(':' || actor_id, '')) AS columns_match_actor,
       bool_and(actor_kind IN ('staff', 'portal', 'system')) AS known_kinds,
       bool_and(api_key_id IS NULL OR actor_kind = 'staff') AS keys_only_for_staff
  FROM access_control.audit_log;

-- They are computed as split_part would: the text before the first colon,
-- and the one after it as a bigint when it is 1 to 18 digits. Any text
-- agrees, odd ones included.
SELECT a AS actor, access_control_internal.actor_kind(a) AS kind, access_control_internal.actor_id(a) AS id,
       access_control_internal.actor_kind(a) = split_part(a, ':', 1)
       AND access_control_internal.actor_id(a) IS NOT DISTINCT FROM
           CASE WHEN split_part(a, ':', 2) ~ '^[0-9]{1,18}$' THEN split_part(a, ':', 2)::bigint END AS as_split_part
  FROM unnest(ARRAY['system', 'staff:1', 'portal:42', 'staff:', ':', '', ':7', 'staff:12:3', 'staff:007',
                    'staff:123456789012345678', 'staff:1234567890123456789', 'staff:1a', 'staff: 1',
                    'staff:-1', E'staff:1\n', 'portal:9:']) WITH ORDINALITY AS u(a, n)
 ORDER BY n;

-- The columns cannot be written apart from the actor they come from.
INSERT INTO access_control.audit_log (firm_id, actor, actor_kind, db_user, action, entity, txid, hash)
VALUES (NULL, 'system', 'staff', 'x', 'x', 'x', 0, '\x00');

-- Every chain verifies, the firm's changes on Apple within Acme's.
SELECT count(*) AS chains, bool_and(ok) AS all_ok FROM access_control.verify_audit_chain();
SELECT ok, first_bad_id FROM access_control.verify_audit_chain(:acme);

-- The hash covers api_key_id: a key named on a row made without one, or
-- taken off a row made with one, breaks the chain at that row.
SELECT min(id) AS key_row FROM access_control.audit_log WHERE api_key_id IS NOT NULL \gset
SELECT min(id) AS olga_row FROM access_control.audit_log WHERE actor_kind = 'staff' AND actor_id = :olga AND api_key_id IS NULL AND id > :mark \gset
BEGIN;
ALTER TABLE access_control.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE access_control.audit_log SET api_key_id = NULL WHERE id = :key_row;
SELECT ok, first_bad_id = :key_row AS bad_at_key_row FROM access_control.verify_audit_chain(:acme);
ROLLBACK;
BEGIN;
ALTER TABLE access_control.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE access_control.audit_log SET api_key_id = :olga_key_id WHERE id = :olga_row;
SELECT ok, first_bad_id = :olga_row AS bad_at_olga_row FROM access_control.verify_audit_chain(:acme);
ROLLBACK;
-- And who acted cannot be rewritten but through the hashed actor.
BEGIN;
ALTER TABLE access_control.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE access_control.audit_log SET actor_id = :pia WHERE id = :olga_row;
ROLLBACK;
BEGIN;
ALTER TABLE access_control.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE access_control.audit_log SET actor = 'portal:' || :pia WHERE id = :olga_row;
SELECT actor_kind, actor_id = :pia AS actor_id_is_pia FROM access_control.audit_log WHERE id = :olga_row;
SELECT ok, first_bad_id = :olga_row AS bad_at_olga_row FROM access_control.verify_audit_chain(:acme);
ROLLBACK;

-- Read as the application: Olga reads exactly Acme's rows, now with its
-- changes on Apple; Bert exactly Birch's, none of Acme's.
CREATE ROLE auc_app;
GRANT USAGE ON SCHEMA access_control TO auc_app;
GRANT SELECT ON access_control.audit_log TO auc_app;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO auc_app;
SELECT count(*) AS acme_rows FROM access_control.audit_log WHERE firm_id = :acme \gset
SELECT count(*) AS birch_rows FROM access_control.audit_log WHERE firm_id = :birch \gset
BEGIN;
SET LOCAL ROLE auc_app;
SELECT access_control.set_actor(:olga);
SELECT count(*) = :acme_rows AS olga_reads_acme_rows,
       bool_and(firm_id = :acme) AS only_acme,
       count(*) FILTER (WHERE action = 'portal_user.added' AND business_id = :apple AND actor_kind = 'staff' AND actor_id = :olga) AS her_change_on_apple
  FROM access_control.audit_log;
COMMIT;
BEGIN;
SET LOCAL ROLE auc_app;
SELECT access_control.set_actor(:bert);
SELECT count(*) = :birch_rows AS bert_reads_birch_rows,
       count(*) FILTER (WHERE firm_id IS DISTINCT FROM :birch) AS other_rows
  FROM access_control.audit_log;
COMMIT;

-- The indexes serve the audit screen's filters: by firm, business, actor,
-- API key and action, newest first.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM access_control.audit_log WHERE firm_id = 1 ORDER BY occurred_at DESC LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM access_control.audit_log WHERE business_id = 1 ORDER BY occurred_at DESC LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM access_control.audit_log WHERE actor_kind = 'staff' AND actor_id = 1 ORDER BY occurred_at DESC LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM access_control.audit_log WHERE api_key_id = 1 ORDER BY occurred_at DESC LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM access_control.audit_log WHERE action = 'access.granted' ORDER BY occurred_at DESC LIMIT 20;
RESET enable_seqscan;
RESET enable_bitmapscan;

DROP OWNED BY auc_app;
DROP ROLE auc_app;
DROP EXTENSION access_control;
