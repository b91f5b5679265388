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
 * not FORCE ROW LEVEL SECURITY. The policies look up no table they protect
 * themselves, so none recurses; portal_user and audit_log call
 * has_permission per row, which answers from the actor's cached map.
 */
ALTER TABLE access_control.firm ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.firm FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR id = (SELECT access_control_internal.reader_firm())
    OR EXISTS (SELECT 1 FROM access_control.firm_client fc
                WHERE fc.firm_id = firm.id
                  AND fc.business_id = (SELECT access_control_internal.reader_business())));

ALTER TABLE access_control.staff ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.staff FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_firm()));

ALTER TABLE access_control.business ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.business FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR id = (SELECT access_control_internal.reader_business())
    OR EXISTS (SELECT 1 FROM access_control.firm_client fc
                WHERE fc.business_id = business.id
                  AND fc.firm_id = (SELECT access_control_internal.reader_firm())));

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
    OR EXISTS (SELECT 1 FROM access_control.team t
                WHERE t.id = team_member.team_id
                  AND t.firm_id = (SELECT access_control_internal.reader_firm())));

ALTER TABLE access_control.client_role ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.client_role FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR ((SELECT access_control_internal.reader_firm()) IS NOT NULL
        AND (firm_id IS NULL OR firm_id = (SELECT access_control_internal.reader_firm()))));

ALTER TABLE access_control.staff_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.staff_grant FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR EXISTS (SELECT 1 FROM access_control.staff s
                WHERE s.id = staff_grant.staff_id
                  AND s.firm_id = (SELECT access_control_internal.reader_firm())));

ALTER TABLE access_control.team_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.team_grant FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR EXISTS (SELECT 1 FROM access_control.team t
                WHERE t.id = team_grant.team_id
                  AND t.firm_id = (SELECT access_control_internal.reader_firm())));

ALTER TABLE access_control.portal_user ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.portal_user FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR id = (SELECT access_control_internal.reader_portal_user_id())
    OR access_control.has_permission(business_id, 'users.manage'));

ALTER TABLE access_control.api_key ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.api_key FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR staff_id = (SELECT access_control_internal.reader_staff_id())
    OR EXISTS (SELECT 1 FROM access_control.staff s
                WHERE s.id = api_key.staff_id
                  AND s.firm_id = (SELECT access_control_internal.reader_managed_firm())));

ALTER TABLE access_control.api_key_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.api_key_usage FOR SELECT USING (
    EXISTS (SELECT 1 FROM access_control.api_key k WHERE k.id = api_key_usage.key_id));

ALTER TABLE access_control.invitation ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.invitation FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_managed_firm()));

ALTER TABLE access_control.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_control_read ON access_control.audit_log FOR SELECT USING (
    (SELECT access_control_internal.reader_is_system())
    OR firm_id = (SELECT access_control_internal.reader_managed_firm())
    OR (business_id = (SELECT access_control_internal.reader_business())
        AND access_control.has_permission(business_id, 'users.manage')));

/* No policy: only the owner reads the keys API key secrets are hashed under. */
ALTER TABLE access_control.secret_key ENABLE ROW LEVEL SECURITY;
