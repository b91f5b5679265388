-- Bad input to every SQL function of the extension, generated from pg_proc:
-- NULL in each argument, empty strings, a 1 MB string, ids 0, -1 and the
-- largest bigint, unknown words, and malformed API keys. Every call runs in
-- a subtransaction that is rolled back. Per function: the SQLSTATEs raised,
-- and "ok" / "null" when some call returned (a value / NULL). Any internal
-- error (class XX) is listed with its message; the server must not restart.
CREATE EXTENSION access_control;
SELECT pg_postmaster_start_time() AS start \gset
SELECT access_control.create_firm('Sweep Firm', 'owner@sweep.test');
SELECT access_control.add_staff(1, 'member@sweep.test');
SELECT access_control.create_business(1, 'Sweep Client');
SELECT access_control.create_team(1, 'Sweep Team');
SELECT access_control.add_portal_user(1, 'portal@sweep.test');
SELECT access_control.create_client_role(1, 'sweeper', '{invoices.view}');
SELECT set_config('sweep.key', access_control.create_api_key(2, 'sweep'), false) IS NOT NULL AS key_made;
CREATE TABLE sweep_ledger (business_id bigint);

CREATE TEMP TABLE outcome (fn text, call text, state text, message text);

-- The values tried for an argument of type t named n: a sensible one first
-- (used in every other position), then the bad ones.
CREATE FUNCTION pg_temp.sample(t regtype, n text, key text) RETURNS text[] LANGUAGE sql AS $$
SELECT CASE
    WHEN t IN ('bigint'::regtype, 'integer'::regtype) THEN
        ARRAY['1', '0', '-1', CASE WHEN t = 'integer'::regtype THEN '2147483647' ELSE '9223372036854775807' END]
    WHEN t = 'text'::regtype THEN
        ARRAY[CASE WHEN n ~ 'email' THEN quote_literal('new@sweep.test')
                   WHEN n IN ('role', 'target_role') THEN quote_literal('member')
                   WHEN n IN ('permission', 'needed', 'read_permission', 'write_permission') THEN quote_literal('invoices.view')
                   WHEN n IN ('api_key', 'token') THEN quote_literal(key)
                   ELSE quote_literal('Sweep') END,
              quote_literal(''), 'repeat(''x'', 1048576)', quote_literal('bogus'),
              quote_literal(E'\x01\x7f\u00ff\u2603 ' || repeat('\u00e9', 40)),
              quote_literal('zz' || substr(key, 3)), quote_literal(left(key, length(key) - 5)),
              quote_literal('ac_'), quote_literal('ac_1_'), quote_literal('ac_-1_' || split_part(key, '_', 3)),
              quote_literal('ac_99999999999999999999_' || split_part(key, '_', 3))]
    WHEN t = 'text[]'::regtype THEN
        ARRAY[CASE WHEN n ~ 'permission|ceiling|implies' THEN '''{invoices.view}''::text[]' ELSE '''{Sweep}''::text[]' END,
              '''{}''::text[]', '''{NULL}''::text[]', '''{bogus}''::text[]', '''{""}''::text[]',
              'ARRAY[repeat(''x'', 1048576)]']
    WHEN t = 'bigint[]'::regtype THEN
        ARRAY['''{1}''::bigint[]', '''{}''::bigint[]', '''{NULL}''::bigint[]',
              '''{0,-1,9223372036854775807}''::bigint[]', 'array_fill(1::bigint, ARRAY[100000])']
    WHEN t = 'boolean'::regtype THEN ARRAY['true', 'false']
    WHEN t = 'timestamptz'::regtype THEN
        ARRAY['NULL::timestamptz', '''infinity''::timestamptz', '''-infinity''::timestamptz', '''2000-01-01''::timestamptz']
    WHEN t = 'regclass'::regtype THEN
        ARRAY['''sweep_ledger''::regclass', '0::regclass', '''pg_class''::regclass']
    WHEN t = 'name'::regtype THEN
        ARRAY['''business_id''::name', '''''::name', '''bogus''::name']
    WHEN t = 'anyelement'::regtype THEN ARRAY['''Sweep''::text']
    WHEN t = 'jsonb'::regtype THEN ARRAY['''{}''::jsonb', '''[]''::jsonb', '''null''::jsonb']
    WHEN t = 'interval'::regtype THEN ARRAY['''1 day''::interval', '''-1 day''::interval', '''infinity''::interval']
    ELSE ARRAY['NULL::' || t::text]
END
$$;

DO $sweep$
DECLARE
    f record;
    types regtype[];
    names text[];
    n int;
    i int;
    v text;
    defaults text[];
    args text[];
    calls text[];
    c text;
    st text;
    msg text;
    returned_null boolean;
BEGIN
    FOR f IN
        SELECT p.oid, p.pronamespace::regnamespace AS nsp, p.proname, p.proretset, p.prorettype,
               p.oid::regprocedure::text AS sig,
               coalesce((SELECT array_agg(t ORDER BY o) FROM unnest(p.proargtypes::regtype[]) WITH ORDINALITY u(t, o)), '{}') AS types,
               coalesce(p.proargnames, '{}') AS names
          FROM pg_proc p
         WHERE p.pronamespace IN ('access_control'::regnamespace, 'access_control_internal'::regnamespace)
           AND p.prokind = 'f'
           AND p.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype)
           AND NOT ('internal'::regtype = ANY (p.proargtypes::regtype[]))
         ORDER BY sig
    LOOP
        types := f.types;
        names := f.names;
        n := coalesce(array_length(types, 1), 0);
        defaults := '{}';
        FOR i IN 1 .. n LOOP
            defaults := defaults || (pg_temp.sample(types[i], names[i], current_setting('sweep.key')))[1];
        END LOOP;
        calls := ARRAY[array_to_string(defaults, ', ')];
        FOR i IN 1 .. n LOOP
            args := defaults;
            args[i] := 'NULL::' || types[i]::text;
            calls := calls || array_to_string(args, ', ');
            FOREACH v IN ARRAY (pg_temp.sample(types[i], names[i], current_setting('sweep.key')))[2:] LOOP
                args := defaults;
                args[i] := v;
                calls := calls || array_to_string(args, ', ');
            END LOOP;
        END LOOP;
        FOREACH c IN ARRAY calls LOOP
            BEGIN
                IF f.proretset THEN
                    EXECUTE format('SELECT count(*) = 0 FROM %s.%I(%s)', f.nsp, f.proname, c) INTO returned_null;
                ELSIF f.prorettype = 'void'::regtype THEN
                    EXECUTE format('SELECT %s.%I(%s)', f.nsp, f.proname, c);
                    returned_null := false;
                ELSE
                    EXECUTE format('SELECT %s.%I(%s) IS NULL', f.nsp, f.proname, c) INTO returned_null;
                END IF;
                RAISE EXCEPTION USING ERRCODE = CASE WHEN returned_null THEN 'ACNUL' ELSE 'ACOK0' END;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
                INSERT INTO outcome VALUES (f.sig, left(c, 200),
                    CASE st WHEN 'ACOK0' THEN 'ok' WHEN 'ACNUL' THEN 'null' ELSE st END, msg);
            END;
        END LOOP;
    END LOOP;
END
$sweep$;

-- One line per function: what its calls ended in.
SELECT fn AS function, string_agg(DISTINCT state, ' ' ORDER BY state) AS outcomes
  FROM outcome GROUP BY fn ORDER BY fn;

-- Internal errors (elog, class XX) or a lost connection would show here.
SELECT fn, call, state, left(message, 120) AS message
  FROM outcome WHERE state ~ '^(XX|58|08|57)' ORDER BY 1, 2;

-- Every function of the two schemas was swept (triggers and the planner
-- support function aside).
SELECT count(DISTINCT fn) AS swept, count(*) AS calls FROM outcome;
SELECT p.oid::regprocedure AS not_swept
  FROM pg_proc p
 WHERE p.pronamespace IN ('access_control'::regnamespace, 'access_control_internal'::regnamespace)
   AND p.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype)
   AND p.oid::regprocedure::text NOT IN (SELECT fn FROM outcome)
 ORDER BY 1;

-- Nothing was left changed, and the server did not restart.
SELECT count(*) AS firms, (SELECT count(*) FROM access_control.staff) AS staff,
       (SELECT count(*) FROM access_control.staff_grant) AS grants,
       (SELECT count(*) FROM access_control.permission) AS permissions
  FROM access_control.firm;
SELECT pg_postmaster_start_time() = :'start' AS same_server;
DROP TABLE sweep_ledger;
DROP EXTENSION access_control;
