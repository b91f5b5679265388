/*
 * audit: the append-only, hash-chained audit log, its trigger on every
 * state table (see tables), and its purge and verification (src/audit*.c).
 */
/*
 * The generated columns of audit_log, read from its actor text: the kind
 * before the first colon, and the id after it when that is 1 to 18 digits
 * (src/audit.c; as split_part would, without an expression to prepare on
 * every INSERT).
 */
CREATE FUNCTION access_control_internal.actor_kind(actor text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_actor_kind';
COMMENT ON FUNCTION access_control_internal.actor_kind(text) IS 'Internal: the kind of an audit actor text (staff, portal, system): audit_log.actor_kind';
CREATE FUNCTION access_control_internal.actor_id(actor text) RETURNS bigint
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ac_actor_id';
COMMENT ON FUNCTION access_control_internal.actor_id(text) IS 'Internal: the id of an audit actor text, NULL for system: audit_log.actor_id';

/*
 * Append-only log of every change to the state tables, written by the C
 * trigger access_control_internal.audit(). Each row's hash chains it to the previous
 * row of the same firm (rows without a firm form one more chain).
 */
CREATE TABLE access_control.audit_log (
    id          bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    firm_id     bigint,
    business_id bigint,
    actor       text NOT NULL,          -- staff:N, portal:N or system (hashed)
    db_user     text NOT NULL,          -- session_user: the login behind the change
    action      text NOT NULL,
    entity      text NOT NULL,          -- the table changed
    entity_id   bigint,
    old         jsonb,                  -- changed columns, before (whole row on DELETE)
    new         jsonb,                  -- changed columns, after (whole row on INSERT)
    txid        bigint NOT NULL,
    prev_hash   bytea,
    hash        bytea NOT NULL,
    /* the actor as columns: read from actor, so covered by its hash */
    actor_kind  text NOT NULL GENERATED ALWAYS AS (access_control_internal.actor_kind(actor)) STORED,
    actor_id    bigint GENERATED ALWAYS AS (access_control_internal.actor_id(actor)) STORED,
    api_key_id  bigint                  -- the API key the change was made through (hashed when set)
);
COMMENT ON TABLE access_control.audit_log IS 'Append-only, hash-chained log of every change to the access tables; secrets are never logged';
CREATE INDEX audit_log_firm_chain_idx ON access_control.audit_log (firm_id, id);
CREATE INDEX audit_log_firm_time_idx ON access_control.audit_log (firm_id, occurred_at);
CREATE INDEX audit_log_business_time_idx ON access_control.audit_log (business_id, occurred_at) WHERE business_id IS NOT NULL;
CREATE INDEX audit_log_actor_time_idx ON access_control.audit_log (actor_kind, actor_id, occurred_at);
CREATE INDEX audit_log_api_key_time_idx ON access_control.audit_log (api_key_id, occurred_at) WHERE api_key_id IS NOT NULL;
CREATE INDEX audit_log_action_time_idx ON access_control.audit_log (action, occurred_at);
CREATE INDEX audit_log_time_idx ON access_control.audit_log (occurred_at);

CREATE FUNCTION access_control_internal.audit() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_audit';
COMMENT ON FUNCTION access_control_internal.audit() IS 'Trigger: writes one audit_log row per changed row of a state table';

CREATE FUNCTION access_control_internal.audit_log_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ac_audit_log_guard';
COMMENT ON FUNCTION access_control_internal.audit_log_guard() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of audit_log';

/* ENABLE ALWAYS: session_replication_role = replica does not switch it off. */
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON access_control.audit_log
    FOR EACH ROW EXECUTE FUNCTION access_control_internal.audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON access_control.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_control_internal.audit_log_guard();
ALTER TABLE access_control.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE access_control.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

CREATE FUNCTION access_control_internal.audit_table(tbl regclass, entity text, args text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS audit ON %s', tbl);
    EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %s
                    FOR EACH ROW EXECUTE FUNCTION access_control_internal.audit(%s)', tbl,
                   (SELECT string_agg(format('%L', a), ', ' ORDER BY i)
                      FROM unnest(entity || args) WITH ORDINALITY AS u(a, i)));
END $$;
COMMENT ON FUNCTION access_control_internal.audit_table(regclass, text, text[]) IS 'Internal: attaches the audit trigger to a state table, with the entity, its id column and the action rules (see access_tables)';

CREATE FUNCTION access_control.purge_audit_log(before timestamptz) RETURNS bigint
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'ac_purge_audit_log';
COMMENT ON FUNCTION access_control.purge_audit_log(timestamptz) IS 'Superuser only: deletes audit rows older than before (a prefix of each chain); returns how many';

CREATE FUNCTION access_control.verify_audit_chain(firm_id bigint DEFAULT NULL)
    RETURNS TABLE (firm_id bigint, ok boolean, first_bad_id bigint)
    LANGUAGE c STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10
    AS 'MODULE_PATHNAME', 'ac_verify_audit_chain';
COMMENT ON FUNCTION access_control.verify_audit_chain(bigint) IS 'Recomputes the hash chain of one firm (NULL: every chain); first_bad_id is the first row that does not match';
REVOKE ALL ON TABLE access_control.audit_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE access_control.audit_log_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION
    access_control_internal.actor_kind,
    access_control_internal.actor_id,
    access_control_internal.audit,
    access_control_internal.audit_log_guard,
    access_control_internal.audit_table,
    access_control.purge_audit_log,
    access_control.verify_audit_chain
FROM PUBLIC;
