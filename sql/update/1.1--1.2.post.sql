
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

/*
 * 1.2 refuses direct grants and team memberships to owners and admins, who
 * see every client by their staff role (and the all-clients grant, new in
 * 1.2, holds no row yet). Before, such a row was accepted, had no effect
 * while the role lasted, and took effect when the person was made a member
 * again. The update removes them, so that the database is one 1.2 could
 * have produced. It runs after the audit triggers are attached above, so
 * each removal is audited (access.revoked, team.member_removed) with the
 * actor of the update, system. A WARNING counts them: PostgreSQL shows no
 * NOTICE from an extension script.
 */
DO $$
DECLARE
    grants bigint;
    teams bigint;
BEGIN
    DELETE FROM access_control.staff_grant g USING access_control.staff s
     WHERE s.id = g.staff_id AND s.role IN ('owner', 'admin');
    GET DIAGNOSTICS grants = ROW_COUNT;
    DELETE FROM access_control.team_member m USING access_control.staff s
     WHERE s.id = m.staff_id AND s.role IN ('owner', 'admin');
    GET DIAGNOSTICS teams = ROW_COUNT;
    IF grants + teams > 0 THEN
        RAISE WARNING 'removed % direct grant(s) and % team membership(s) held by owners and admins', grants, teams
            USING DETAIL = 'Owners and admins see every client by their staff role; 1.2 refuses such grants, so none takes effect when one is made a member.',
                  HINT = 'Each removal is in access_control.audit_log (access.revoked, team.member_removed).';
    END IF;
END $$;
