/*
 * rls: row-level security on the extension's own tables, so that granting
 * SELECT on them to the application's role is safe. An actor reads exactly
 * the rows its console screens need, never another firm's; no actor reads
 * nothing but the permission catalog; system reads everything (see
 * readers). The README states each table's rule.
 *
 * Only SELECT policies: nobody but the owner writes these tables (PUBLIC
 * has no write privilege, and a role granted one anyway finds no policy
 * that lets it write). The owner, and so every SECURITY DEFINER function,
 * trigger and C helper of the extension, reads them whole: the tables are
 * not FORCE ROW LEVEL SECURITY.
 *
 * Each policy is self-contained: it reads no other table with the caller's
 * rights, only calls functions PUBLIC may execute (the readers, which read
 * as the owner, and has_permission), so a role granted SELECT on one table
 * alone reads it, and no policy recurses. Each reader runs in a scalar
 * subquery, once per statement (cast to bigint[], so that ANY takes the
 * array it returns rather than reading the subquery as a set of rows), and
 * the row is matched by an indexed column against its answer; portal_user,
 * invitation and audit_log call has_permission per row, which answers
 * from the actor's cached map.
 */
ALTER TABLE access_control.firm ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.firm FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR id = (SELECT access_control_internal.reader_firm())
    OR id = ANY ((SELECT access_control_internal.reader_business_firm_ids())::bigint[]));

ALTER TABLE access_control.staff ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.staff FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_firm()));

ALTER TABLE access_control.business ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.business FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR id = (SELECT access_control_internal.reader_business())
    OR id = ANY ((SELECT access_control_internal.reader_firm_business_ids())::bigint[]));

ALTER TABLE access_control.firm_client ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.firm_client FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_firm())
    OR business_id = (SELECT access_control_internal.reader_business()));

ALTER TABLE access_control.team ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.team FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_firm()));

ALTER TABLE access_control.team_member ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.team_member FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR team_id = ANY ((SELECT access_control_internal.reader_firm_team_ids())::bigint[]));

ALTER TABLE access_control.client_role ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.client_role FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR ((SELECT access_control_internal.reader_firm()) IS NOT NULL
        AND (firm_id IS NULL OR firm_id = (SELECT access_control_internal.reader_firm()))));

ALTER TABLE access_control.staff_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.staff_grant FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR staff_id = ANY ((SELECT access_control_internal.reader_firm_staff_ids())::bigint[]));

ALTER TABLE access_control.all_clients_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.all_clients_grant FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR staff_id = ANY ((SELECT access_control_internal.reader_firm_staff_ids())::bigint[]));

ALTER TABLE access_control.team_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.team_grant FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR team_id = ANY ((SELECT access_control_internal.reader_firm_team_ids())::bigint[]));

ALTER TABLE access_control.portal_user ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.portal_user FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR id = (SELECT access_control_internal.reader_portal_user_id())
    OR access_control.has_permission(business_id, 'users.manage'));

ALTER TABLE access_control.api_key ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.api_key FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR id = ANY ((SELECT access_control_internal.reader_api_key_ids())::bigint[]));

ALTER TABLE access_control.api_key_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.api_key_usage FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR key_id = ANY ((SELECT access_control_internal.reader_api_key_ids())::bigint[]));

ALTER TABLE access_control.invitation ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.invitation FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_managed_firm())
    OR (business_id IS NOT NULL AND access_control.has_permission(business_id, 'users.manage')));

ALTER TABLE access_control.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.audit_log FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_managed_firm())
    OR (business_id = (SELECT access_control_internal.reader_business())
        AND access_control.has_permission(business_id, 'users.manage')));

/* No policy: only the owner reads the keys API key secrets are hashed under. */
ALTER TABLE access_control.secret_key ENABLE ROW LEVEL SECURITY;
