
/*
 * After every function of 1.2 exists: the triggers and the event trigger
 * that 1.2 adds.
 */
CREATE TRIGGER check_permission_cycles AFTER INSERT OR UPDATE ON access_control.permission
    FOR EACH STATEMENT EXECUTE FUNCTION access_control_internal.check_permission_cycles();

CREATE TRIGGER cancel_invitations AFTER UPDATE OF status ON access_control.staff
    FOR EACH ROW WHEN (NEW.status = 'removed' AND OLD.status <> 'removed')
    EXECUTE FUNCTION access_control_internal.cancel_invitations_of_removed_staff();
CREATE TRIGGER cancel_invitations AFTER UPDATE OF status ON access_control.portal_user
    FOR EACH ROW WHEN (NEW.status = 'removed' AND OLD.status <> 'removed')
    EXECUTE FUNCTION access_control_internal.cancel_invitations_of_removed_portal_user();

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM access_control_internal.access_tables() WHERE name <> 'audit_log' LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER refuse_truncate BEFORE TRUNCATE ON access_control.%I
                        FOR EACH STATEMENT EXECUTE FUNCTION access_control_internal.refuse_truncate()', t.name);
        EXECUTE pg_catalog.format('ALTER TABLE access_control.%I ENABLE ALWAYS TRIGGER refuse_truncate', t.name);
    END LOOP;
END $$;

CREATE EVENT TRIGGER access_control_protect_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION access_control_internal.protect_new_partitions();

/* The audit trigger takes its entity, id column and action names as arguments. */
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM access_control_internal.access_tables() WHERE audit IS NOT NULL LOOP
        PERFORM access_control_internal.audit_table(pg_catalog.format('access_control.%I', t.name)::regclass,
                                                    t.name, t.audit);
    END LOOP;
END $$;
