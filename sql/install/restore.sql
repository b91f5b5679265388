/*
 * restore: a dump is restored with session_replication_role = replica (README,
 * "Backups"), so that the audit and permission-check triggers do not fire
 * while the dumped rows are loaded. restore_guard, an ordinary trigger on
 * every table pg_dump carries, makes a plain restore fail on each table
 * with a hint, instead of loading part of the data (src/restore.c).
 */
CREATE FUNCTION access_control_internal.restore_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_restore_guard';
COMMENT ON FUNCTION access_control_internal.restore_guard() IS 'Trigger: refuses to load dumped rows unless session_replication_role = replica, with a hint';
REVOKE ALL ON FUNCTION access_control_internal.restore_guard FROM PUBLIC;
