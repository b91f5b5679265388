-- Who may add, re-role and remove whom: only owners make or
-- unmake owners; owners and admins manage admins and members; members
-- manage nobody; nobody touches another firm; portal users manage no staff.
-- Each cell runs in a subtransaction that is rolled back, so every cell
-- starts from the same firm: 'ok' or the SQLSTATE raised.
CREATE EXTENSION access_control;
SELECT access_control.create_firm('Auth Firm', 'owner@auth.test') AS f \gset
SELECT access_control.create_firm('Other Firm', 'owner@other.test') AS other \gset
SELECT access_control.add_staff(:f, 'owner2@auth.test', 'owner') IS NOT NULL AS added;
SELECT access_control.add_staff(:f, 'admin@auth.test', 'admin') IS NOT NULL AS added;
SELECT access_control.add_staff(:f, 'member@auth.test', 'member') IS NOT NULL AS added;
SELECT access_control.add_staff(:f, 'tgt-owner@auth.test', 'owner') IS NOT NULL AS added;
SELECT access_control.add_staff(:f, 'tgt-admin@auth.test', 'admin') IS NOT NULL AS added;
SELECT access_control.add_staff(:f, 'tgt-member@auth.test', 'member') IS NOT NULL AS added;
SELECT access_control.create_business(:f, 'Auth Client') AS b \gset
SELECT access_control.add_portal_user(:b, 'portal@client.test') AS portal \gset

CREATE FUNCTION cell(actor text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text;
BEGIN
    BEGIN
        IF actor LIKE 'portal:%' THEN
            PERFORM access_control.set_portal_actor(substr(actor, 8)::bigint);
        ELSE
            PERFORM access_control.set_actor(substr(actor, 7)::bigint);
        END IF;
        EXECUTE q;
        RAISE SQLSTATE 'ZZ000';   -- roll the change back
    EXCEPTION WHEN SQLSTATE 'ZZ000' THEN
        st := 'ok';
    WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
    END;
    RETURN st;
END $$;

-- Operations on the target of each role: add_staff adds a new person with
-- that role; set_staff_role moves the target to each other role; remove_staff
-- removes the target.
CREATE TEMP TABLE actors AS
SELECT * FROM (VALUES
    (1, 'owner',        (SELECT 'staff:' || id FROM access_control.staff WHERE email = 'owner@auth.test')),
    (2, 'admin',        (SELECT 'staff:' || id FROM access_control.staff WHERE email = 'admin@auth.test')),
    (3, 'member',       (SELECT 'staff:' || id FROM access_control.staff WHERE email = 'member@auth.test')),
    (4, 'other firm owner', (SELECT 'staff:' || id FROM access_control.staff WHERE email = 'owner@other.test')),
    (5, 'portal user',  'portal:' || :portal)) AS a(n, label, actor);

CREATE TEMP TABLE ops AS
SELECT n, op, q FROM (VALUES
    (1, 'add owner',            format('SELECT access_control.add_staff(%s, ''new@auth.test'', ''owner'')', :f)),
    (2, 'add admin',            format('SELECT access_control.add_staff(%s, ''new@auth.test'', ''admin'')', :f)),
    (3, 'add member',           format('SELECT access_control.add_staff(%s, ''new@auth.test'', ''member'')', :f)),
    (4, 'owner -> admin',       'SELECT access_control.set_staff_role(id, ''admin'') FROM access_control.staff WHERE email = ''tgt-owner@auth.test'''),
    (5, 'owner -> member',      'SELECT access_control.set_staff_role(id, ''member'') FROM access_control.staff WHERE email = ''tgt-owner@auth.test'''),
    (6, 'admin -> owner',       'SELECT access_control.set_staff_role(id, ''owner'') FROM access_control.staff WHERE email = ''tgt-admin@auth.test'''),
    (7, 'admin -> member',      'SELECT access_control.set_staff_role(id, ''member'') FROM access_control.staff WHERE email = ''tgt-admin@auth.test'''),
    (8, 'member -> owner',      'SELECT access_control.set_staff_role(id, ''owner'') FROM access_control.staff WHERE email = ''tgt-member@auth.test'''),
    (9, 'member -> admin',      'SELECT access_control.set_staff_role(id, ''admin'') FROM access_control.staff WHERE email = ''tgt-member@auth.test'''),
    (10, 'remove owner',        'SELECT access_control.remove_staff(id) FROM access_control.staff WHERE email = ''tgt-owner@auth.test'''),
    (11, 'remove admin',        'SELECT access_control.remove_staff(id) FROM access_control.staff WHERE email = ''tgt-admin@auth.test'''),
    (12, 'remove member',       'SELECT access_control.remove_staff(id) FROM access_control.staff WHERE email = ''tgt-member@auth.test''')
) AS o(n, op, q);

SELECT o.op,
       max(CASE a.n WHEN 1 THEN cell(a.actor, o.q) END) AS "owner",
       max(CASE a.n WHEN 2 THEN cell(a.actor, o.q) END) AS "admin",
       max(CASE a.n WHEN 3 THEN cell(a.actor, o.q) END) AS "member",
       max(CASE a.n WHEN 4 THEN cell(a.actor, o.q) END) AS "other firm",
       max(CASE a.n WHEN 5 THEN cell(a.actor, o.q) END) AS "portal"
  FROM ops o CROSS JOIN actors a
 GROUP BY o.n, o.op ORDER BY o.n;

-- Invitations follow the same authority as add_staff.
INSERT INTO ops VALUES
    (13, 'invite owner',  format('SELECT access_control.invite_staff(%s, ''new@auth.test'', ''owner'')', :f)),
    (14, 'invite admin',  format('SELECT access_control.invite_staff(%s, ''new@auth.test'', ''admin'')', :f)),
    (15, 'invite member', format('SELECT access_control.invite_staff(%s, ''new@auth.test'', ''member'')', :f));
SELECT o.op,
       max(CASE a.n WHEN 1 THEN cell(a.actor, o.q) END) AS "owner",
       max(CASE a.n WHEN 2 THEN cell(a.actor, o.q) END) AS "admin",
       max(CASE a.n WHEN 3 THEN cell(a.actor, o.q) END) AS "member",
       max(CASE a.n WHEN 4 THEN cell(a.actor, o.q) END) AS "other firm",
       max(CASE a.n WHEN 5 THEN cell(a.actor, o.q) END) AS "portal"
  FROM ops o CROSS JOIN actors a
 WHERE o.n > 12
 GROUP BY o.n, o.op ORDER BY o.n;

-- Nothing changed: every cell was rolled back.
SELECT email, role, status FROM access_control.staff ORDER BY id;
SELECT count(*) AS invitations FROM access_control.invitation;

DROP FUNCTION cell(text, text);
DROP EXTENSION access_control;
