-- The audit trigger's arguments: the install script gives each audited
-- table's trigger its entity, the column that identifies the entity and the
-- rules that name its actions (the first rule that holds). A rule that is
-- malformed, or that names a column the table lacks, is an error: the
-- change is refused rather than logged under a wrong name.
CREATE EXTENSION access_control;
\i sql/include/err.sql

-- every audited table's trigger, with the arguments it carries
SELECT c.relname AS audited_table, t.tgnargs AS arguments,
       split_part(encode(t.tgargs, 'escape'), '\000', 1) AS entity,
       split_part(encode(t.tgargs, 'escape'), '\000', 2) AS id_column
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'audit' AND c.relnamespace = 'access_control'::regnamespace
 ORDER BY 1;
SELECT pg_get_triggerdef(t.oid)
  FROM pg_trigger t
 WHERE t.tgname = 'audit' AND t.tgrelid = 'access_control.staff'::regclass;

-- rules at work, on a table of one's own (the function is internal: a
-- superuser's only)
CREATE TABLE rules_probe (id bigint, status text, ceiling bigint, firm_id bigint);
SELECT access_control_internal.audit_table('rules_probe', 'probe',
    ARRAY['id', 'U status~done probe.done', 'U status~ probe.reopened',
          'U status!=done ceiling>=all probe.widened', 'D status=done probe.archived']);
INSERT INTO rules_probe VALUES (1, 'open', 0, NULL), (2, 'open', 0, NULL);
UPDATE rules_probe SET status = 'done' WHERE id = 1;
UPDATE rules_probe SET status = 'open' WHERE id = 1;
UPDATE rules_probe SET ceiling = (SELECT sum(1::bigint << bit) FROM access_control.permission) WHERE id = 2;
UPDATE rules_probe SET ceiling = 1 WHERE id = 2;
UPDATE rules_probe SET status = 'done' WHERE id = 2;
DELETE FROM rules_probe;
-- created twice (no rule for INSERT: the default name); done; reopened;
-- widened; widened again (the ceiling held every permission before); done;
-- dropped (1: no rule holds) and archived (2)
SELECT entity, entity_id, action FROM access_control.audit_log WHERE entity = 'probe' ORDER BY id;

-- malformed arguments: each refuses the insert, and the table stays empty
SELECT access_control_internal.audit_table('rules_probe', 'probe', ARRAY['id', 'X probe.bad']);
SELECT err($$INSERT INTO rules_probe VALUES (3, 'open', 0, NULL)$$);
SELECT access_control_internal.audit_table('rules_probe', 'probe', ARRAY['id', 'probe.bad']);
SELECT err($$INSERT INTO rules_probe VALUES (3, 'open', 0, NULL)$$);
SELECT access_control_internal.audit_table('rules_probe', 'probe', ARRAY['id', 'U status<>done probe.bad']);
SELECT err($$INSERT INTO rules_probe VALUES (3, 'open', 0, NULL)$$);
SELECT access_control_internal.audit_table('rules_probe', 'probe', ARRAY['id', 'U ceiling>=some probe.bad']);
SELECT err($$INSERT INTO rules_probe VALUES (3, 'open', 0, NULL)$$);
-- a rule for UPDATE naming a column the table lacks stops an INSERT too
SELECT access_control_internal.audit_table('rules_probe', 'probe', ARRAY['id', 'U colour~ probe.bad']);
SELECT err($$INSERT INTO rules_probe VALUES (3, 'open', 0, NULL)$$);
SELECT access_control_internal.audit_table('rules_probe', 'probe', ARRAY['identifier']);
SELECT err($$INSERT INTO rules_probe VALUES (3, 'open', 0, NULL)$$);
SELECT access_control_internal.audit_table('rules_probe', 'probe', '{}');
SELECT err($$INSERT INTO rules_probe VALUES (3, 'open', 0, NULL)$$);
SELECT count(*) AS probe_rows FROM rules_probe;
SELECT count(*) AS probe_log_rows FROM access_control.audit_log WHERE entity = 'probe';

DROP TABLE rules_probe;
DROP FUNCTION err(text);
DROP EXTENSION access_control;
