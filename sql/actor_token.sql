-- access_control.actor_token, the actor as Citus workers receive it: anyone
-- may set it, but it acts only when it verifies, so on one node as on a
-- Citus worker no role becomes an actor by setting it. Without Citus the
-- actor functions make no token.
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
-- a made-up token, well-formed or not, is an error on every protected read
SET access_control.actor_token = 'staff:1/1/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
SELECT count(*) FROM ledger_tok;
SELECT access_control.current_actor();
SET access_control.actor_token = 'staff:1';
SELECT count(*) FROM ledger_tok;
-- only superusers may read it
SHOW access_control.actor_token;
RESET access_control.actor_token;
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
