-- Bad input to every management function: a clear ERROR with an errcode and
-- a hint, and nothing changed.
CREATE EXTENSION access_control;
\i sql/include/err.sql
SELECT access_control.create_firm('Err Firm', 'owner@err.test') AS f \gset
SELECT id AS o FROM access_control.staff WHERE email = 'owner@err.test' \gset
SELECT access_control.add_staff(:f, 'm@err.test') AS m \gset
SELECT access_control.create_business(:f, 'Err Client') AS b \gset
SELECT access_control.create_firm('Far Firm', 'owner@far.test') AS far \gset
SELECT id AS fo FROM access_control.staff WHERE email = 'owner@far.test' \gset
SELECT access_control.create_business(:far, 'Far Client') AS fb \gset
SELECT access_control.create_business('Standalone Client') AS lone \gset
SELECT access_control.create_team(:f, 'Err Team') AS t \gset

CREATE TEMP VIEW state AS
SELECT (SELECT count(*) FROM access_control.firm) AS firms,
       (SELECT count(*) FROM access_control.staff) AS staff,
       (SELECT string_agg(role || '/' || status, ',' ORDER BY id) FROM access_control.staff) AS roles,
       (SELECT count(*) FROM access_control.business) AS businesses,
       (SELECT count(*) FROM access_control.staff_grant) AS grants,
       (SELECT count(*) FROM access_control.team) AS teams,
       (SELECT count(*) FROM access_control.team_member) AS members,
       (SELECT count(*) FROM access_control.team_grant) AS team_grants;
CREATE TEMP TABLE before AS SELECT * FROM state;

SELECT err($$SELECT access_control.create_firm(NULL, 'x@y.test')$$);
SELECT err($$SELECT access_control.create_firm('  ', 'x@y.test')$$);
SELECT err($$SELECT access_control.create_firm('New', 'not-an-email')$$);
SELECT err($$SELECT access_control.create_firm('New', NULL)$$);
SELECT err($$SELECT access_control.add_staff(NULL, 'a@err.test')$$);
SELECT err($$SELECT access_control.add_staff(999999, 'a@err.test')$$);
SELECT err($$SELECT access_control.add_staff($$ || :f || $$, 'a@err.test', 'boss')$$);
SELECT err($$SELECT access_control.add_staff($$ || :f || $$, 'M@Err.Test')$$);
SELECT err($$SELECT access_control.set_staff_role($$ || :m || $$, NULL)$$);
SELECT err($$SELECT access_control.set_staff_role($$ || :m || $$, 'superuser')$$);
SELECT err($$SELECT access_control.set_staff_role(999999, 'admin')$$);
SELECT err($$SELECT access_control.set_staff_role($$ || :o || $$, 'member')$$);
SELECT err($$SELECT access_control.remove_staff($$ || :o || $$)$$);
SELECT err($$SELECT access_control.remove_staff(NULL)$$);
SELECT err($$SELECT access_control.create_business($$ || :f || $$, '')$$);
SELECT err($$SELECT access_control.create_business(999999, 'Ghost')$$);
SELECT err($$SELECT access_control.grant_client_access($$ || :m || $$, ARRAY[$$ || :b || $$]::bigint[], 'wizard')$$);
SELECT err($$SELECT access_control.grant_client_access($$ || :m || $$, ARRAY[$$ || :fb || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_client_access($$ || :m || $$, ARRAY[$$ || :lone || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_client_access($$ || :m || $$, ARRAY[$$ || :b || $$, NULL]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_client_access($$ || :m || $$, ARRAY[$$ || :b || $$]::bigint[], 'bookkeeper', now() - interval '1 day')$$);
SELECT err($$SELECT access_control.grant_client_access(NULL, ARRAY[$$ || :b || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_client_access(999999, ARRAY[$$ || :b || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_staff_access($$ || :b || $$, ARRAY[$$ || :m || $$, $$ || :fo || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_staff_access(NULL, ARRAY[$$ || :m || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_staff_access($$ || :b || $$, NULL, 'bookkeeper')$$);
SELECT err($$SELECT access_control.revoke_client_access($$ || :m || $$, NULL)$$);
SELECT err($$SELECT access_control.revoke_staff_access($$ || :b || $$, NULL)$$);
SELECT err($$SELECT access_control.set_client_access($$ || :m || $$, NULL, 'bookkeeper')$$);
SELECT err($$SELECT access_control.set_client_access($$ || :m || $$, ARRAY[$$ || :fb || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.create_team($$ || :f || $$, 'Err Team')$$);
SELECT err($$SELECT access_control.create_team($$ || :f || $$, NULL)$$);
SELECT err($$SELECT access_control.create_team(999999, 'T')$$);
SELECT err($$SELECT access_control.add_team_member($$ || :t || $$, $$ || :fo || $$)$$);
SELECT err($$SELECT access_control.add_team_member(999999, $$ || :m || $$)$$);
SELECT err($$SELECT access_control.add_team_member($$ || :t || $$, 999999)$$);
SELECT err($$SELECT access_control.grant_team_access($$ || :t || $$, ARRAY[$$ || :fb || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.grant_team_access($$ || :t || $$, ARRAY[$$ || :b || $$]::bigint[], 'nobody')$$);
SELECT err($$SELECT access_control.grant_team_access($$ || :t || $$, NULL, 'bookkeeper')$$);
SELECT err($$SELECT access_control.revoke_team_access($$ || :t || $$, NULL)$$);
SELECT err($$SELECT access_control.drop_team(999999)$$);
SELECT err($$SELECT access_control.protect_table('access_control.nonexistent')$$);
SELECT err($$SELECT access_control.protect_table('pg_class', 'business_id')$$);
CREATE TABLE err_app (business_id bigint);
SELECT err($$SELECT access_control.protect_table('err_app', 'business_id', 'invoices.read')$$);
SELECT relrowsecurity FROM pg_class WHERE relname = 'err_app';
SELECT err($$SELECT access_control.set_actor(999999)$$);
SELECT err($$SELECT access_control.set_actor(-1)$$);
SELECT err($$SELECT access_control.has_permission(1, 'no.such')$$);

-- Nothing changed.
SELECT (SELECT row(s.*)::text FROM state s) = (SELECT row(b.*)::text FROM before b) AS unchanged;

-- Removed staff are refused where a live member is needed.
SELECT access_control.remove_staff(:m);
SELECT err($$SELECT access_control.grant_client_access($$ || :m || $$, ARRAY[$$ || :b || $$]::bigint[], 'bookkeeper')$$);
SELECT err($$SELECT access_control.add_team_member($$ || :t || $$, $$ || :m || $$)$$);
SELECT err($$SELECT access_control.set_staff_role($$ || :m || $$, 'admin')$$);
-- and re-adding the same email reactivates the same row
SELECT access_control.add_staff(:f, 'm@err.test') = :m AS same_row;
SELECT role, status FROM access_control.staff WHERE id = :m;

DROP TABLE err_app;
DROP FUNCTION err(text);
DROP VIEW state;
DROP EXTENSION access_control;
