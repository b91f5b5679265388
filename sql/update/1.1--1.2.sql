/*
 * From 1.1 to 1.2. The Makefile builds access_control--1.1--1.2.sql from
 * this file followed by every function and view definition, comment and
 * privilege of the 1.2 install script as CREATE OR REPLACE (replace.awk),
 * so the functions an upgrade leaves are exactly those of a fresh install.
 * This part makes what those statements cannot: the internal schema, and
 * the objects that move into it.
 */

\echo Use "ALTER EXTENSION access_control UPDATE TO '1.2'" to load this file. \quit

CREATE SCHEMA access_control_internal;

/* Objects other objects depend on move, keeping their oids. */
DO $$
BEGIN
    EXECUTE 'ALTER TABLE access_control.cache_sentinel SET SCHEMA access_control_internal';
    EXECUTE 'ALTER TABLE access_control.cache_sentinel_grants SET SCHEMA access_control_internal';
END $$;
ALTER FUNCTION access_control.row_helper_support(internal) SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.invalidate_cache() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.check_permission_mask() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.audit() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.audit_log_guard() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control.restore_guard() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control._join_builtin_roles() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control_internal._join_builtin_roles() RENAME TO join_builtin_roles;
ALTER FUNCTION access_control._revoke_keys_of_removed_staff() SET SCHEMA access_control_internal;
ALTER FUNCTION access_control_internal._revoke_keys_of_removed_staff() RENAME TO revoke_keys_of_removed_staff;

/* The other internal functions nothing depends on are defined afresh below. */
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'access_control'::regnamespace AND p.proname LIKE '\_%'
    LOOP
        EXECUTE pg_catalog.format('DROP FUNCTION %s', f);
    END LOOP;
END $$;


/*
 * The cache is invalidated by firm, staff member and portal user, from a
 * row trigger on each access table (which logical replication's apply
 * fires too): the staff buckets and their triggers go.
 */
DO $$
DECLARE
    tbl regclass;
BEGIN
    FOR tbl IN SELECT t.tgrelid FROM pg_catalog.pg_trigger t
                WHERE t.tgname = 'invalidate_staff_cache_insert' LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER invalidate_staff_cache_insert ON %s', tbl);
        EXECUTE pg_catalog.format('DROP TRIGGER invalidate_staff_cache_update ON %s', tbl);
        EXECUTE pg_catalog.format('DROP TRIGGER invalidate_staff_cache_delete ON %s', tbl);
    END LOOP;
    FOR i IN 0..15 LOOP
        EXECUTE pg_catalog.format('DROP TABLE access_control.%I', 'cache_sentinel_staff_' || i);
    END LOOP;
END $$;
DROP FUNCTION access_control.invalidate_staff_cache();
CREATE FUNCTION access_control_internal.invalidate_row() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_invalidate_row';
DO $$
DECLARE
    tbl regclass;
BEGIN
    FOR tbl IN SELECT t.tgrelid FROM pg_catalog.pg_trigger t WHERE t.tgname = 'invalidate_cache' LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER invalidate_cache ON %s', tbl);
        EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_cache BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
                        ON %s FOR EACH STATEMENT
                        EXECUTE FUNCTION access_control_internal.invalidate_cache(''rows'')', tbl);
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_cache', tbl);
        EXECUTE pg_catalog.format('CREATE TRIGGER invalidate_row AFTER INSERT OR UPDATE OR DELETE
                        ON %s FOR EACH ROW
                        EXECUTE FUNCTION access_control_internal.invalidate_row(%L)', tbl,
                        (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = tbl));
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER invalidate_row', tbl);
    END LOOP;
END $$;

/* Invitations record who sent them, so that removing her cancels them. */
ALTER TABLE access_control.invitation ADD COLUMN invited_by bigint REFERENCES access_control.staff;
CREATE INDEX invitation_invited_by ON access_control.invitation (invited_by) WHERE status = 'pending';

/*
 * The partner directory: a firm is listed by its owners. The Partner tab
 * shows when a link was invited and connected; for links made before 1.2
 * the creation time stands for both where it applies (a link made active
 * with a full ceiling is the firm's own client, which nobody invited).
 * Filling them in is no access change: the audit trigger stays out of it.
 */
ALTER TABLE access_control.firm ADD COLUMN listed boolean NOT NULL DEFAULT false;
ALTER TABLE access_control.firm_client ADD COLUMN invited_at timestamptz;
ALTER TABLE access_control.firm_client ADD COLUMN connected_at timestamptz;
ALTER TABLE access_control.firm_client DISABLE TRIGGER audit;
UPDATE access_control.firm_client fc
   SET invited_at = CASE WHEN fc.ceiling & all_bits.mask = all_bits.mask AND fc.status <> 'pending'
                         THEN NULL ELSE fc.created_at END,
       connected_at = CASE WHEN fc.status = 'pending' THEN NULL ELSE fc.created_at END
  FROM (SELECT coalesce(bit_or(int8shl(1, p.bit)), 0) AS mask FROM access_control.permission p) all_bits;
ALTER TABLE access_control.firm_client ENABLE TRIGGER audit;

/* The links' status and ceiling in the primary key's index: the rule reads a firm's links from it alone. */
ALTER TABLE access_control.firm_client DROP CONSTRAINT firm_client_pkey,
    ADD CONSTRAINT firm_client_pkey PRIMARY KEY (firm_id, business_id) INCLUDE (status, ceiling);

/*
 * Portal users have names, and NULL permissions stand for All Permissions
 * (those defined later too). Users added before 1.2 keep the list they
 * were given. add_portal_user takes the names: the old signature goes.
 */
ALTER TABLE access_control.portal_user ALTER COLUMN permissions DROP NOT NULL;
ALTER TABLE access_control.portal_user ADD COLUMN first_name text;
ALTER TABLE access_control.portal_user ADD COLUMN last_name text;
DROP FUNCTION access_control.add_portal_user(bigint, text, text[]);

/* Invitations invite portal users too: a business, its permissions, who accepted or sent it. */
ALTER TABLE access_control.invitation ALTER COLUMN firm_id DROP NOT NULL;
ALTER TABLE access_control.invitation ALTER COLUMN role DROP NOT NULL;
ALTER TABLE access_control.invitation ADD COLUMN business_id bigint REFERENCES access_control.business;
ALTER TABLE access_control.invitation ADD COLUMN permissions bigint;
ALTER TABLE access_control.invitation ADD COLUMN accepted_portal_user_id bigint REFERENCES access_control.portal_user;
ALTER TABLE access_control.invitation ADD COLUMN invited_by_portal_user bigint REFERENCES access_control.portal_user;
ALTER TABLE access_control.invitation DROP CONSTRAINT invitation_check;
ALTER TABLE access_control.invitation ADD CONSTRAINT invitation_check
    CHECK ((status = 'accepted') = (accepted_staff_id IS NOT NULL OR accepted_portal_user_id IS NOT NULL));
ALTER TABLE access_control.invitation ADD CONSTRAINT invitation_kind_check
    CHECK (CASE WHEN business_id IS NULL
                THEN firm_id IS NOT NULL AND role IS NOT NULL AND permissions IS NULL
                     AND accepted_portal_user_id IS NULL AND invited_by_portal_user IS NULL
                ELSE firm_id IS NULL AND role IS NULL AND accepted_staff_id IS NULL END);
CREATE UNIQUE INDEX invitation_one_pending_portal ON access_control.invitation (business_id, email) WHERE status = 'pending';
CREATE INDEX invitation_invited_by_portal_user ON access_control.invitation (invited_by_portal_user) WHERE status = 'pending';
CREATE TRIGGER check_permission_mask BEFORE INSERT OR UPDATE OF permissions ON access_control.invitation
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.check_permission_mask('permissions');

/*
 * staff_access and business_access return more columns: the replayed
 * CREATE OR REPLACE cannot change a result type, so the old ones go.
 */
DROP FUNCTION access_control.staff_access(bigint);
DROP FUNCTION access_control.business_access(bigint);

/*
 * The standing all-clients grant. Its audit and refuse_truncate triggers
 * come with the other tables' (the .post.sql file); the cache triggers,
 * the restore guard and the pg_dump registration here.
 */
CREATE TABLE access_control.all_clients_grant (
    staff_id    bigint PRIMARY KEY REFERENCES access_control.staff,
    role_id     bigint NOT NULL REFERENCES access_control.client_role,
    expires_at  timestamptz,
    granted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON access_control.all_clients_grant (role_id);
CREATE TRIGGER invalidate_cache BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON access_control.all_clients_grant FOR EACH STATEMENT
    EXECUTE FUNCTION access_control_internal.invalidate_cache('rows');
ALTER TABLE access_control.all_clients_grant ENABLE ALWAYS TRIGGER invalidate_cache;
CREATE TRIGGER invalidate_row AFTER INSERT OR UPDATE OR DELETE
    ON access_control.all_clients_grant FOR EACH ROW
    EXECUTE FUNCTION access_control_internal.invalidate_row('all_clients_grant');
ALTER TABLE access_control.all_clients_grant ENABLE ALWAYS TRIGGER invalidate_row;
CREATE TRIGGER restore_guard BEFORE INSERT ON access_control.all_clients_grant
    FOR EACH STATEMENT EXECUTE FUNCTION access_control_internal.restore_guard();
SELECT pg_catalog.pg_extension_config_dump('access_control.all_clients_grant', '');

/*
 * The audit log's actor as columns of its own. actor_kind and actor_id are
 * generated from the actor text every row already has (and its hash
 * covers), so rows written before 1.2 get them too, without an UPDATE of
 * the append-only log (adding them rewrites the table; no row trigger
 * fires). api_key_id is NULL on the rows written before 1.2: their actor
 * text never named the key.
 */
CREATE FUNCTION access_control_internal.actor_kind(actor text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_actor_kind';
CREATE FUNCTION access_control_internal.actor_id(actor text) RETURNS bigint
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_actor_id';
ALTER TABLE access_control.audit_log
    ADD COLUMN actor_kind text NOT NULL GENERATED ALWAYS AS (access_control_internal.actor_kind(actor)) STORED,
    ADD COLUMN actor_id bigint GENERATED ALWAYS AS (access_control_internal.actor_id(actor)) STORED,
    ADD COLUMN api_key_id bigint;
DROP INDEX access_control.audit_log_actor_time_idx;
CREATE INDEX audit_log_actor_time_idx ON access_control.audit_log (actor_kind, actor_id, occurred_at);
CREATE INDEX audit_log_api_key_time_idx ON access_control.audit_log (api_key_id, occurred_at) WHERE api_key_id IS NOT NULL;
