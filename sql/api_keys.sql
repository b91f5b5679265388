-- API keys: create_api_key, authenticate, revoke_api_key, the api_keys view
-- and the programmatic-access switch, as an application sees them.
CREATE EXTENSION access_control;
\set VERBOSITY default
\set SHOW_CONTEXT never

\i sql/include/err.sql

-- A firm with an owner, an admin and two members; another firm.
SELECT access_control.create_firm('AK Keys Firm', 'ak-olga@keys.test') AS firm \gset
SELECT id AS olga FROM access_control.staff WHERE email = 'ak-olga@keys.test' \gset
SELECT access_control.add_staff(:firm, 'ak-adele@keys.test', 'admin') AS adele \gset
SELECT access_control.add_staff(:firm, 'ak-max@keys.test', 'member') AS max \gset
SELECT access_control.add_staff(:firm, 'ak-mia@keys.test', 'member') AS mia \gset
SELECT access_control.create_firm('AK Other Firm', 'ak-otto@other.test') AS other \gset
SELECT id AS otto FROM access_control.staff WHERE email = 'ak-otto@other.test' \gset
SELECT access_control.create_business(:firm, 'AK Apple') AS apple \gset
SELECT access_control.create_business(:firm, 'AK Birch') AS birch \gset
SELECT access_control.grant_client_access(:max, ARRAY[:apple]::bigint[], 'clerk');

-- An application table, protected, readable by an application role.
CREATE TABLE ak_ledger (id serial PRIMARY KEY, business_id bigint NOT NULL, memo text);
INSERT INTO ak_ledger (business_id, memo) VALUES (:apple, 'apple rent'), (:apple, 'apple wages'), (:birch, 'birch rent');
SELECT access_control.protect_table('ak_ledger');
CREATE ROLE ak_app NOLOGIN;
GRANT SELECT ON ak_ledger TO ak_app;

-- The key is returned once, in the documented shape.
SELECT access_control.create_api_key(:max, 'nightly export') AS max_key \gset
SELECT :'max_key' ~ '^ac_[0-9]+_[A-Za-z0-9_-]{43}$' AS well_formed;
SELECT substring(:'max_key' from '^ac_([0-9]+)_')::bigint AS max_key_id \gset
SELECT staff_id = :max AS for_max, label, expires_at, revoked_at
  FROM access_control.api_key WHERE id = :max_key_id;
-- Two keys for the same member differ.
SELECT access_control.create_api_key(:max, 'second') AS max_key2 \gset
SELECT :'max_key' <> :'max_key2' AS different;
SELECT substring(:'max_key2' from '^ac_([0-9]+)_')::bigint AS max_key2_id \gset

-- Bad calls: nothing is created.
SELECT count(*) AS keys_before FROM access_control.api_key \gset
SELECT access_control.create_api_key(:max, '  ');
SELECT access_control.create_api_key(:max, NULL);
SELECT access_control.create_api_key(:max, 'old', now() - interval '1 day');
SELECT err(format('SELECT access_control.create_api_key(%s, %L)', -1, 'x'));
SELECT err(format('SELECT access_control.create_api_key(%s, %L)', 'NULL', 'x'));
SELECT count(*) = :keys_before AS nothing_created FROM access_control.api_key;

-- The key works: the application role sees Max's rows only, as Max.
BEGIN;
SET LOCAL ROLE ak_app;
SELECT access_control.authenticate(:'max_key') = :max AS authenticated_as_max;
SELECT access_control.current_actor() = 'staff:' || :max AS actor_is_max;
SELECT access_control.current_staff_id() = :max AS staff_id_is_max,
       access_control.current_portal_user_id() AS portal_user_id;
SELECT memo FROM ak_ledger ORDER BY id;
COMMIT;
-- The actor ended with the transaction.
SELECT access_control.current_actor();
SELECT memo FROM ak_ledger ORDER BY id;

-- Last use is recorded; the view shows no secret and no hash.
SELECT column_name FROM information_schema.columns
 WHERE table_schema = 'access_control' AND table_name = 'api_keys' ORDER BY ordinal_position;
SELECT label, last_used_at IS NOT NULL AS used, expires_at, revoked_at
  FROM access_control.api_keys WHERE staff_id = :max ORDER BY id;

-- Every failure is the same 28P01 error and leaves no actor.
SELECT access_control.authenticate('ac_' || :max_key_id || '_' || repeat('A', 43));  -- wrong secret
SELECT substring(:'max_key' from '^ac_[0-9]+(_.*)$') AS max_secret \gset
SELECT access_control.authenticate('ac_999999999' || :'max_secret'); -- unknown id
SELECT access_control.authenticate(left(:'max_key', -1));          -- truncated
SELECT access_control.authenticate(:'max_key' || 'A');             -- too long
SELECT access_control.authenticate(replace(:'max_key', 'ac_', 'xx_')); -- bad prefix
SELECT access_control.authenticate('ac_' || :max_key_id);          -- no secret
SELECT access_control.authenticate('');                            -- empty
SELECT access_control.authenticate(NULL);                          -- NULL
SELECT access_control.authenticate(:'max_key2' || ' ');            -- trailing space
SELECT access_control.authenticate('ac_0' || :max_key_id || :'max_secret'); -- leading zero
-- a right secret under another key's id
SELECT access_control.authenticate('ac_' || :max_key2_id || :'max_secret');
SELECT access_control.current_actor();
-- The same SQLSTATE, message, detail and hint for all of them.
CREATE FUNCTION ak_auth_error(k text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
    PERFORM access_control.authenticate(k);
    RETURN 'authenticated';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN concat_ws(' | ', st, msg, det, hint);
END $$;
SELECT ak_auth_error(k) AS error, count(*)
  FROM unnest(ARRAY['ac_' || :max_key_id || '_' || repeat('A', 43), 'ac_999999999' || :'max_secret',
                    left(:'max_key', -1), :'max_key' || 'A', replace(:'max_key', 'ac_', 'xx_'),
                    'ac_' || :max_key_id, '', NULL, :'max_key2' || ' ', 'ac_0' || :max_key_id || :'max_secret',
                    'ac_' || :max_key2_id || :'max_secret', 'ac_-1' || :'max_secret',
                    'ac_99999999999999999999999' || :'max_secret']) AS k
 GROUP BY 1;

-- A failed authenticate inside a transaction leaves nothing behind.
BEGIN;
SAVEPOINT s;
SELECT access_control.authenticate(left(:'max_key', -1));
ROLLBACK TO SAVEPOINT s;
SELECT access_control.current_actor();
COMMIT;

-- Expired: the same error.
SELECT access_control.create_api_key(:max, 'short lived', now() + interval '1 hour') AS short_key \gset
SELECT access_control.authenticate(:'short_key') = :max AS works_before_expiry;
UPDATE access_control.api_key SET expires_at = now() - interval '1 second'
 WHERE id = substring(:'short_key' from '^ac_([0-9]+)_')::bigint;
SELECT access_control.authenticate(:'short_key');

-- Revoked: a session using the key loses access on its next statement.
BEGIN;
SET LOCAL ROLE ak_app;
SELECT access_control.authenticate(:'max_key2') = :max AS authenticated;
SELECT memo FROM ak_ledger ORDER BY id;
RESET ROLE;
SELECT access_control.revoke_api_key(:max_key2_id);   -- Max revokes his own key
SET LOCAL ROLE ak_app;
SELECT memo FROM ak_ledger ORDER BY id;
COMMIT;
SELECT access_control.authenticate(:'max_key2');
SELECT revoked_at IS NOT NULL AS revoked FROM access_control.api_keys WHERE id = :max_key2_id;
-- Revoking again changes nothing; an unknown key is an error.
SELECT revoked_at AS first_revoked_at FROM access_control.api_key WHERE id = :max_key2_id \gset
SELECT access_control.revoke_api_key(:max_key2_id);
SELECT revoked_at = :'first_revoked_at' AS unchanged FROM access_control.api_key WHERE id = :max_key2_id;
SELECT access_control.revoke_api_key(-1);
SELECT access_control.revoke_api_key(NULL);

-- Programmatic access off: the session loses access on its next statement,
-- the key stops working; switched back on, the same key works again.
BEGIN;
SET LOCAL ROLE ak_app;
SELECT access_control.authenticate(:'max_key') = :max AS authenticated;
SELECT memo FROM ak_ledger ORDER BY id;
RESET ROLE;
UPDATE access_control.staff SET programmatic_access = false WHERE id = :max;  -- as the DBA
SET LOCAL ROLE ak_app;
SELECT memo FROM ak_ledger ORDER BY id;
ROLLBACK;
SELECT access_control.set_programmatic_access(:max, false);
SELECT access_control.authenticate(:'max_key');
-- set_actor still works for Max: the switch is about keys only.
BEGIN;
SELECT access_control.set_actor(:max);
SET LOCAL ROLE ak_app;
SELECT memo FROM ak_ledger ORDER BY id;
ROLLBACK;
SELECT access_control.set_programmatic_access(:max, true);
BEGIN;
SET LOCAL ROLE ak_app;
SELECT access_control.authenticate(:'max_key') = :max AS works_again;
SELECT memo FROM ak_ledger ORDER BY id;
COMMIT;

-- Authority with an actor set.
SELECT access_control.create_api_key(:mia, 'mia key') AS mia_key \gset
SELECT substring(:'mia_key' from '^ac_([0-9]+)_')::bigint AS mia_key_id \gset
SELECT access_control.create_api_key(:olga, 'olga key') AS olga_key \gset
SELECT substring(:'olga_key' from '^ac_([0-9]+)_')::bigint AS olga_key_id \gset
BEGIN;
SELECT access_control.set_actor(:max);
-- a member makes keys for himself only, and revokes only his own
SELECT access_control.create_api_key(:max, 'made by max') ~ '^ac_' AS own_key_made;
SELECT err(format('SELECT access_control.create_api_key(%s, %L)', :mia, 'for mia'));
SELECT err(format('SELECT access_control.revoke_api_key(%s)', :mia_key_id));
-- a member sees his own keys only
SELECT count(*) > 0 AS sees_own, bool_and(staff_id = :max) AS only_own FROM access_control.api_keys;
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:adele);
-- an admin revokes a member's key, but not an owner's, and makes no keys for others
SELECT access_control.revoke_api_key(:mia_key_id);
SELECT revoked_at IS NOT NULL AS mia_key_revoked FROM access_control.api_keys WHERE id = :mia_key_id;
SELECT err(format('SELECT access_control.revoke_api_key(%s)', :olga_key_id));
SELECT err(format('SELECT access_control.create_api_key(%s, %L)', :mia, 'for mia'));
-- an admin sees the keys of the firm
SELECT count(DISTINCT staff_id) AS staff_with_keys FROM access_control.api_keys;
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:otto);
-- another firm's owner can do nothing with them, and sees none of them
SELECT err(format('SELECT access_control.revoke_api_key(%s)', :mia_key_id));
SELECT count(*) AS visible FROM access_control.api_keys WHERE staff_id IN (:max, :mia, :olga);
ROLLBACK;
BEGIN;
SELECT access_control.set_actor(:olga);
SELECT access_control.revoke_api_key(:olga_key_id);   -- an owner revokes her own
SELECT access_control.revoke_api_key(:mia_key_id);    -- and a member's
ROLLBACK;
-- A session authenticated with a key cannot make more keys.
BEGIN;
SELECT access_control.authenticate(:'max_key') = :max AS authenticated;
SELECT access_control.create_api_key(:max, 'minted by a key');
ROLLBACK;

-- Removed staff: the key stops working, the session loses access on its
-- next statement, and the key stays revoked when the member comes back.
BEGIN;
SET LOCAL ROLE ak_app;
SELECT access_control.authenticate(:'max_key') = :max AS authenticated;
SELECT memo FROM ak_ledger ORDER BY id;
RESET ROLE;
UPDATE access_control.staff SET status = 'removed' WHERE id = :max;  -- as the DBA
SET LOCAL ROLE ak_app;
SELECT memo FROM ak_ledger ORDER BY id;
ROLLBACK;
SELECT access_control.remove_staff(:max);
SELECT access_control.authenticate(:'max_key');
SELECT count(*) AS unrevoked_keys_of_max FROM access_control.api_key WHERE staff_id = :max AND revoked_at IS NULL;
SELECT access_control.add_staff(:firm, 'ak-max@keys.test', 'member') = :max AS same_row;
SELECT access_control.authenticate(:'max_key');
SELECT access_control.create_api_key(:max, 'after return') AS max_key3 \gset
SELECT access_control.authenticate(:'max_key3') = :max AS new_key_works;

-- No secret is stored anywhere: search every table for each key's secret,
-- in text and in hex.
CREATE TEMP TABLE ak_secrets AS
SELECT s AS secret,
       encode(decode(rpad(translate(s, '-_', '+/'), 44, '='), 'base64'), 'hex') AS secret_hex
  FROM (SELECT substring(k from '^ac_[0-9]+_(.*)$') AS s
          FROM unnest(ARRAY[:'max_key', :'max_key2', :'max_key3', :'short_key', :'mia_key', :'olga_key']) AS k) x;
SELECT count(*) AS secrets, bool_and(length(secret_hex) = 64) AS each_32_bytes FROM ak_secrets;
DO $$
DECLARE
    t regclass;
    n bigint;
    found text[] := '{}';
BEGIN
    FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'v', 'm')
                AND ns.nspname NOT IN ('information_schema') AND ns.nspname NOT LIKE 'pg_toast%'
                -- 18's view of shared memory per NUMA node errors without NUMA support
                AND c.oid IS DISTINCT FROM to_regclass('pg_catalog.pg_shmem_allocations_numa')
    LOOP
        EXECUTE format('SELECT count(*) FROM %s x, ak_secrets s
                         WHERE strpos(x::text, s.secret) > 0 OR strpos(x::text, s.secret_hex) > 0', t) INTO n;
        IF n > 0 THEN
            found := found || t::text;
        END IF;
    END LOOP;
    -- ak_secrets itself is listed: the search finds what is there
    RAISE NOTICE 'tables holding a secret: %', found;
END $$;

DROP TABLE ak_ledger;
DROP ROLE ak_app;
DROP FUNCTION err(text);
DROP FUNCTION ak_auth_error(text);
DROP EXTENSION access_control;
