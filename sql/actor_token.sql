-- access_control.actor_token, the actor as Citus workers receive it. Only
-- the actor functions set it on a client's own connection; on a connection
-- that names itself Citus's it may be SET, but it acts only when it
-- verifies for the Citus distributed transaction and the role it was made
-- for, so on one node, without Citus, no token ever acts. Without Citus
-- the actor functions make no token.
CREATE EXTENSION access_control;
SELECT access_control.create_firm('Token Firm', 'owner@token.test') AS o \gset
SELECT firm_id AS f FROM access_control.staff WHERE id = :o \gset
SELECT access_control.create_business(:f, 'Token Client') AS b \gset
CREATE TABLE ledger_tok (business_id bigint, amount int);
INSERT INTO ledger_tok VALUES (:b, 1), (:b, 2);
SELECT access_control.protect_table('ledger_tok');
CREATE ROLE regress_tok;
GRANT SELECT ON ledger_tok TO regress_tok;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO regress_tok;

SET ROLE regress_tok;
-- a client's own connection may not set it, not even to a well-formed token
SET access_control.actor_token = 'staff:1/1/10000000001/1/1/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
BEGIN;
SET LOCAL access_control.actor_token = 'staff:1';
ROLLBACK;
SELECT count(*) FROM ledger_tok;
-- a connection that names itself Citus's may, but the token is an error
-- on every protected read: there is no distributed transaction here
SET application_name = 'citus_internal gpid=10000000001';
SET access_control.actor_token = 'staff:1/1/10000000001/1/1/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
SELECT count(*) FROM ledger_tok;
SELECT access_control.current_actor();
SET access_control.actor_token = 'staff:1';
SELECT count(*) FROM ledger_tok;
-- only superusers may read it, even in the session that set it
-- (the message's wording differs between PostgreSQL versions: its code shows)
DO $$
DECLARE q text;
BEGIN
    FOREACH q IN ARRAY ARRAY['SHOW access_control.actor_token',
                             'SELECT current_setting(''access_control.actor_token'')'] LOOP
        BEGIN
            EXECUTE q;
            RAISE NOTICE '%: read', q;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE '%: 42501, refused', q;
        END;
    END LOOP;
END $$;
SELECT count(*) FROM pg_settings WHERE name = 'access_control.actor_token';
RESET access_control.actor_token;
RESET application_name;
SELECT count(*) FROM ledger_tok;
-- set_actor works as before and, without Citus, sets no token
BEGIN;
SELECT access_control.set_actor(:o);
SELECT count(*) FROM ledger_tok;
RESET ROLE;
SELECT current_setting('access_control.actor_token') AS token;
COMMIT;

DROP TABLE ledger_tok;
DROP EXTENSION access_control;
DROP ROLE regress_tok;
