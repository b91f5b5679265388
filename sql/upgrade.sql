-- Upgrades: install the first release, use it, update it release by release
-- (1.0, 1.1, 1.2) with ALTER EXTENSION ... UPDATE, and check that the result
-- is the same as a fresh install of the current version, object for object,
-- and answers the same questions the same way.

-- A description of every object of the extension, one row per property that
-- a user could notice: function definitions (volatility, cost, support,
-- security, settings, body), columns, defaults, constraints, indexes,
-- triggers (and whether they fire in replica mode), views, policies,
-- privileges, comments, sequences, the tables pg_dump saves, and the
-- catalog rows the install script writes.
CREATE SCHEMA upgrade_check;
SET check_function_bodies = off;  -- the extension is not installed yet
CREATE FUNCTION upgrade_check.extension_objects()
RETURNS TABLE (kind text, name text, detail text)
LANGUAGE sql STABLE AS $$
    WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'access_control'),
    members AS (
        SELECT d.classid, d.objid
          FROM pg_depend d, ext
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
    rels AS (
        SELECT c.oid, c.oid::regclass::text AS relname, c.relkind
          FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid)
    SELECT 'function', p.oid::regprocedure::text,
           pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '-')
             || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
      FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'relation', r.relname,
           r.relkind::text || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
             || ' options=' || coalesce(c.reloptions::text, '-')
             || ' acl=' || coalesce(c.relacl::text, '-')
             || ' comment=' || coalesce(obj_description(r.oid, 'pg_class'), '-')
      FROM rels r JOIN pg_class c ON c.oid = r.oid
    UNION ALL
    SELECT 'column', r.relname || '.' || a.attname,
           (row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum))::text || ' '
             || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
             || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
             || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-')
             || ' acl=' || coalesce(a.attacl::text, '-')
             || ' comment=' || coalesce(col_description(r.oid, a.attnum), '-')
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
     WHERE r.relkind IN ('r', 'v', 'p')
    UNION ALL
    SELECT 'constraint', r.relname || '.' || co.conname, pg_get_constraintdef(co.oid)
      FROM rels r JOIN pg_constraint co ON co.conrelid = r.oid
     WHERE co.contype <> 'n'  -- NOT NULL, a row here from 18 on, is the column's notnull=
    UNION ALL
    SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
      FROM rels r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'trigger', r.relname || '.' || t.tgname, pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
      FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'view', r.relname, pg_get_viewdef(r.oid)
      FROM rels r WHERE r.relkind = 'v'
    UNION ALL
    SELECT 'policy', r.relname || '.' || po.polname,
           po.polcmd::text || ' ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '-')
             || ' ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '-')
      FROM rels r JOIN pg_policy po ON po.polrelid = r.oid
    UNION ALL
    SELECT 'sequence', r.relname,
           s.seqtypid::regtype || ' ' || s.seqstart || ' ' || s.seqincrement || ' ' || s.seqmin
             || ' ' || s.seqmax || ' ' || s.seqcache || ' ' || s.seqcycle
      FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT 'type', t.oid::regtype::text, t.typtype::text || ' ' || coalesce(
             (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '-')
      FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
     -- not the types made along with another object, members from 17 on:
     -- a table's or view's row type, and any type's array type
     WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
       AND NOT EXISTS (SELECT FROM pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)
    UNION ALL
    SELECT 'event trigger', e.evtname, e.evtevent || ' ' || e.evtfoid::regproc || ' ' || e.evtenabled::text
      FROM pg_event_trigger e JOIN members m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
    UNION ALL
    SELECT 'schema', n.nspname, coalesce(n.nspacl::text, '-')
             || ' member=' || EXISTS (SELECT 1 FROM members m WHERE m.classid = 'pg_namespace'::regclass AND m.objid = n.oid)
             || ' comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
      FROM pg_namespace n WHERE n.nspname IN ('access_control', 'access_control_internal')
    UNION ALL
    SELECT 'dumped table', cfg.tbl::regclass::text, coalesce(cfg.cond, '-')
      FROM pg_extension x,
           unnest(x.extconfig, x.extcondition) AS cfg(tbl, cond)
     WHERE x.extname = 'access_control'
    UNION ALL
    SELECT 'permission', p.name, to_jsonb(p)::text
      FROM access_control.permission p
    UNION ALL
    SELECT 'built-in role', r.name, (to_jsonb(r) - 'id')::text
      FROM access_control.client_role r WHERE r.firm_id IS NULL
$$;
RESET check_function_bodies;

-- The first release, in use: a firm, a client, a member with a role.
CREATE EXTENSION access_control VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'access_control';
SELECT access_control.create_firm('Upgrade Firm', 'owner@upgrade.test') AS f \gset
SELECT access_control.add_staff(:f, 'member@upgrade.test') AS m \gset
SELECT access_control.create_business(:f, 'Client One') AS b1 \gset
SELECT access_control.create_business(:f, 'Client Two') AS b2 \gset
SELECT access_control.grant_client_access(:m, ARRAY[:b1]::bigint[], 'bookkeeper');
CREATE TABLE upgrade_ledger (id bigserial PRIMARY KEY, business_id bigint NOT NULL, amount numeric);
INSERT INTO upgrade_ledger (business_id, amount) VALUES (:b1, 10), (:b1, 20), (:b2, 300);
SET client_min_messages = warning;
SELECT access_control.protect_table('upgrade_ledger', 'business_id', 'invoices.view');
RESET client_min_messages;
CREATE ROLE regress_upgrade;
GRANT SELECT ON upgrade_ledger TO regress_upgrade;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO regress_upgrade;

-- what the member sees before the upgrade
SET ROLE regress_upgrade;
BEGIN;
SELECT access_control.set_actor(:m) \gset
SELECT count(*), sum(amount) FROM upgrade_ledger;
COMMIT;
RESET ROLE;

-- the 1.0 audit triggers carry no arguments: the library names their
-- actions as the current install script does
SELECT action, entity, entity_id IS NOT NULL AS has_entity_id, firm_id = :f AS our_firm
  FROM access_control.audit_log ORDER BY id;

-- Before 1.2, grants to owners and admins were accepted and hidden: an
-- admin with a direct grant (1.0), and a member holding one who is then
-- made an admin (1.1, which kept it), each had a grant that would take
-- effect if they were made members again.
SELECT access_control.add_staff(:f, 'admin@upgrade.test', 'admin') AS adm \gset
SELECT access_control.grant_client_access(:adm, ARRAY[:b2]::bigint[], 'clerk');

-- 1.0 to 1.1: the member sees the same rows
ALTER EXTENSION access_control UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'access_control';
SET ROLE regress_upgrade;
BEGIN;
SELECT access_control.set_actor(:m) \gset
SELECT count(*), sum(amount) FROM upgrade_ledger;
COMMIT;
RESET ROLE;

-- In 1.1: a member with a grant made an admin keeps the grant; the owner
-- joins a team that has a grant.
SELECT access_control.add_staff(:f, 'promoted@upgrade.test') AS pro \gset
SELECT access_control.grant_client_access(:pro, ARRAY[:b1, :b2]::bigint[], 'payer');
SELECT access_control.set_staff_role(:pro, 'admin');
SELECT id AS owner FROM access_control.staff WHERE email = 'owner@upgrade.test' \gset
SELECT access_control.create_team(:f, 'Upgrade Team') AS team \gset
SELECT access_control.add_team_member(:team, :owner);
SELECT access_control.grant_team_access(:team, ARRAY[:b2]::bigint[], 'bookkeeper');
SELECT max(id) AS audit_before_1_2 FROM access_control.audit_log \gset
SELECT s.email, s.role AS staff_role, 'direct' AS kind, b.name AS business_or_team, r.name AS client_role
  FROM access_control.staff_grant g JOIN access_control.staff s ON s.id = g.staff_id
  JOIN access_control.business b ON b.id = g.business_id JOIN access_control.client_role r ON r.id = g.role_id
UNION ALL
SELECT s.email, s.role, 'team', t.name, NULL
  FROM access_control.team_member m JOIN access_control.staff s ON s.id = m.staff_id
  JOIN access_control.team t ON t.id = m.team_id
 ORDER BY 1, 3, 4;

-- 1.1 to 1.2, the current version: the grants and team memberships of
-- owners and admins, which 1.2 refuses, go (a WARNING counts them)
ALTER EXTENSION access_control UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'access_control';
-- what is left is what 1.2 could have made: the member's grant only, and
-- the team without its owner
SELECT s.email, s.role AS staff_role, 'direct' AS kind, b.name AS business_or_team, r.name AS client_role
  FROM access_control.staff_grant g JOIN access_control.staff s ON s.id = g.staff_id
  JOIN access_control.business b ON b.id = g.business_id JOIN access_control.client_role r ON r.id = g.role_id
UNION ALL
SELECT s.email, s.role, 'team', t.name, NULL
  FROM access_control.team_member m JOIN access_control.staff s ON s.id = m.staff_id
  JOIN access_control.team t ON t.id = m.team_id
 ORDER BY 1, 3, 4;
-- each removal is audited by the update, as system, on the firm's chain
SELECT a.action, a.entity, s.email, a.actor, a.actor_kind, a.actor_id, a.firm_id = :f AS our_firm,
       b.name AS business, a.db_user = session_user AS by_the_upgrading_user
  FROM access_control.audit_log a
  JOIN access_control.staff s ON s.id = (coalesce(a.old, a.new) ->> 'staff_id')::bigint
  LEFT JOIN access_control.business b ON b.id = (a.old ->> 'business_id')::bigint
 WHERE a.id > :audit_before_1_2 ORDER BY a.id;
-- made members again now, the two admins see nothing: no grant woke up
SELECT access_control.set_staff_role(:adm, 'member');
SELECT access_control.set_staff_role(:pro, 'member');
SELECT s.email, access_control.staff_can_see_business(s.id, :b1) AS sees_b1,
       access_control.staff_can_see_business(s.id, :b2) AS sees_b2
  FROM access_control.staff s WHERE s.id IN (:adm, :pro) ORDER BY s.id;

-- the same rows after it, the same decisions, the audit chain intact
SET ROLE regress_upgrade;
BEGIN;
SELECT access_control.set_actor(:m) \gset
SELECT access_control.current_staff_id() = :m AS acting_as_member;
SELECT count(*), sum(amount) FROM upgrade_ledger;
SELECT access_control.can_see_business(:b1) AS sees_b1, access_control.can_see_business(:b2) AS sees_b2,
       access_control.has_permission(:b1, 'invoices.view') AS views_b1_invoices;
COMMIT;
RESET ROLE;
SELECT firm_id = :f AS our_firm, ok, first_bad_id FROM access_control.verify_audit_chain() ORDER BY firm_id NULLS FIRST;
-- a change after the upgrade takes effect and is audited on the same chain
SELECT access_control.grant_client_access(:m, ARRAY[:b2]::bigint[], 'bookkeeper');
SET ROLE regress_upgrade;
BEGIN;
SELECT access_control.set_actor(:m) \gset
SELECT count(*), sum(amount) FROM upgrade_ledger;
COMMIT;
RESET ROLE;
SELECT action, entity FROM access_control.audit_log WHERE firm_id = :f ORDER BY id DESC LIMIT 1;
SELECT ok, first_bad_id FROM access_control.verify_audit_chain(:f);

-- every table, sequence, view and function of the two schemas belongs to
-- the extension
SELECT count(*) AS outside_the_extension
  FROM (SELECT 'pg_class'::regclass AS classid, c.oid FROM pg_class c
         WHERE c.relnamespace IN ('access_control'::regnamespace, 'access_control_internal'::regnamespace)
           AND c.relkind IN ('r', 'S', 'v')
        UNION ALL
        SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p
         WHERE p.pronamespace IN ('access_control'::regnamespace, 'access_control_internal'::regnamespace)) o
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = o.classid AND d.objid = o.oid
                      AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e');

REVOKE EXECUTE ON FUNCTION access_control.set_actor(bigint) FROM regress_upgrade;
CREATE TEMP TABLE upgraded AS SELECT * FROM upgrade_check.extension_objects();
DROP TABLE upgrade_ledger;
DROP EXTENSION access_control;

-- a fresh install of the current version
CREATE EXTENSION access_control;
CREATE TEMP TABLE fresh AS SELECT * FROM upgrade_check.extension_objects();

-- access_control is the extension's schema, access_control_internal one of
-- its objects; PUBLIC may use both (in the second, only the reader
-- functions of the row-level security policies are PUBLIC's)
SELECT name, detail FROM fresh WHERE kind = 'schema' ORDER BY name;
-- how much was compared
SELECT kind, count(*) FROM fresh GROUP BY kind ORDER BY kind;
-- every difference, in either direction: none
(SELECT 'only after upgrade' AS "where", * FROM upgraded EXCEPT SELECT 'only after upgrade', * FROM fresh)
UNION ALL
(SELECT 'only in fresh install', * FROM fresh EXCEPT SELECT 'only in fresh install', * FROM upgraded)
ORDER BY 2, 3;

DROP EXTENSION access_control;
DROP ROLE regress_upgrade;
DROP SCHEMA upgrade_check CASCADE;
