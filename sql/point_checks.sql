-- A check of one business by an actor whose access map is not cached (the
-- first statement of a request served through a pool) reads the rule for
-- that business alone; the whole map is built only for an actor checked
-- again and again, or for a statement that checks many rows. The two
-- ways must agree: here every actor kind checks every business, first
-- each business alone in a new session (no map built), then through its
-- map.
CREATE EXTENSION access_control;

SELECT access_control.create_firm('Point Firm', 'owner@point.test') AS f \gset
SELECT id AS owner FROM access_control.staff WHERE email = 'owner@point.test' \gset
SELECT access_control.add_staff(:f, 'admin@point.test', 'admin') AS admin \gset
SELECT access_control.add_staff(:f, 'direct@point.test') AS direct \gset
SELECT access_control.add_staff(:f, 'team@point.test') AS teamed \gset
SELECT access_control.add_staff(:f, 'all@point.test') AS all_clients \gset
SELECT access_control.add_staff(:f, 'expired@point.test') AS expired \gset
SELECT access_control.add_staff(:f, 'none@point.test') AS no_grant \gset
SELECT access_control.add_staff(:f, 'gone@point.test') AS removed \gset
SELECT access_control.create_business(:f, 'Client A') AS b1 \gset
SELECT access_control.create_business(:f, 'Client B') AS b2 \gset
SELECT access_control.create_business(:f, 'Client C') AS b3 \gset
-- a business that made the firm its partner, with a read-only ceiling
SELECT access_control.create_business('Partner Client') AS b4 \gset
SELECT access_control.invite_partner_firm(:b4, :f, '{invoices.view,bills.view}');
SELECT access_control.accept_partner_invitation(:f, :b4);
-- a business that disconnected the firm
SELECT access_control.create_business('Former Client') AS b5 \gset
SELECT access_control.invite_partner_firm(:b5, :f, '{invoices.view}');
SELECT access_control.accept_partner_invitation(:f, :b5);
-- another firm's client
SELECT access_control.create_firm('Other Firm', 'owner@other.test') AS f2 \gset
SELECT access_control.create_business(:f2, 'Other Client') AS b6 \gset

SELECT access_control.grant_client_access(:direct, ARRAY[:b1, :b4, :b5]::bigint[], 'payer');
SELECT access_control.create_team(:f, 'Audit team') AS team \gset
SELECT access_control.add_team_member(:team, :teamed);
SELECT access_control.grant_team_access(:team, ARRAY[:b2]::bigint[], 'approver');
SELECT access_control.grant_client_access(:teamed, ARRAY[:b2]::bigint[], 'clerk');
SELECT access_control.grant_all_clients(:all_clients, 'clerk');
SELECT access_control.grant_client_access(:all_clients, ARRAY[:b3]::bigint[], 'payer');
SELECT access_control.grant_client_access(:expired, ARRAY[:b1, :b2]::bigint[], 'payer');
SELECT access_control.grant_client_access(:removed, ARRAY[:b1]::bigint[], 'payer');
SELECT access_control.remove_staff(:removed);
SELECT access_control.disconnect_partner(:b5, :f);
-- a grant that has expired (no function makes one: the clock is moved back)
UPDATE access_control.staff_grant SET expires_at = now() - interval '1 day'
 WHERE staff_id = :expired AND business_id = :b1;

SELECT access_control.add_portal_user(:b1, 'some@client-a.test', '{invoices.view}') AS portal_some \gset
SELECT access_control.add_portal_user(:b1, 'all@client-a.test', NULL) AS portal_all \gset

CREATE TABLE actors (name text PRIMARY KEY, kind text, id bigint);
INSERT INTO actors VALUES
    ('owner', 'staff', :owner), ('admin', 'staff', :admin), ('direct', 'staff', :direct),
    ('teamed', 'staff', :teamed), ('all_clients', 'staff', :all_clients),
    ('expired', 'staff', :expired), ('no_grant', 'staff', :no_grant), ('removed', 'staff', :removed),
    ('portal_some', 'portal', :portal_some), ('portal_all', 'portal', :portal_all);
CREATE TABLE businesses (name text PRIMARY KEY, id bigint);
INSERT INTO businesses VALUES ('b1', :b1), ('b2', :b2), ('b3', :b3), ('b4', :b4), ('b5', :b5), ('b6', :b6);
CREATE TABLE answers (actor text, business text, way text, mask bigint);

-- Each business alone: a statement of its own per business, for an actor
-- whose map is not cached; a staff member's mask through
-- staff_effective_permission_mask, a portal user's through has_permission
-- per permission (a statement per business and permission).
CREATE FUNCTION check_alone(actor_name text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a actors;
    b businesses;
    m bigint;
    p record;
    sees boolean;
BEGIN
    SELECT * INTO a FROM actors WHERE name = actor_name;
    FOR b IN SELECT * FROM businesses ORDER BY name LOOP
        IF a.kind = 'staff' THEN
            EXECUTE 'SELECT access_control.staff_effective_permission_mask($1, $2)' INTO m USING a.id, b.id;
        ELSE
            PERFORM access_control.set_portal_actor(a.id);
            EXECUTE 'SELECT access_control.can_see_business($1)' INTO sees USING b.id;
            m := NULL;
            IF sees THEN
                m := 0;
                FOR p IN SELECT bit, name FROM access_control.permission WHERE name IN ('invoices.view', 'invoices.pay') LOOP
                    EXECUTE 'SELECT access_control.has_permission($1, $2)' INTO sees USING b.id, p.name;
                    IF sees THEN
                        m := m | (1::bigint << p.bit);
                    END IF;
                END LOOP;
            END IF;
        END IF;
        INSERT INTO answers VALUES (a.name, b.name, 'alone', m);
    END LOOP;
END $$;

-- Through the map: one statement over every business, after
-- visible_business_ids() has built the actor's map; the answers are kept
-- as way.
CREATE FUNCTION check_by_map(actor_name text, way text DEFAULT 'map') RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a actors;
BEGIN
    SELECT * INTO a FROM actors WHERE name = actor_name;
    IF a.kind = 'staff' THEN
        PERFORM access_control.set_actor(a.id);
        PERFORM access_control.visible_business_ids();
        PERFORM access_control.act_as_system();
        INSERT INTO answers
        SELECT a.name, b.name, way, access_control.staff_effective_permission_mask(a.id, b.id)
          FROM businesses b;
    ELSE
        PERFORM access_control.set_portal_actor(a.id);
        PERFORM access_control.visible_business_ids();
        INSERT INTO answers
        SELECT a.name, b.name, way,
               CASE WHEN b.id = ANY (access_control.visible_business_ids()) THEN
                   (SELECT coalesce(bit_or(1::bigint << p.bit), 0) FROM access_control.permission p
                     WHERE p.name IN ('invoices.view', 'invoices.pay')
                       AND b.id = ANY (access_control.visible_business_ids(p.name)))
               END
          FROM businesses b;
    END IF;
END $$;

-- maps this session keeps
CREATE FUNCTION maps_kept() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'access_control map'
$$;

-- one new session per actor: no map cached, each business checked alone
\c
SELECT check_alone('owner'), maps_kept();
\c
SELECT check_alone('admin'), maps_kept();
\c
SELECT check_alone('direct'), maps_kept();
\c
SELECT check_alone('teamed'), maps_kept();
\c
SELECT check_alone('all_clients'), maps_kept();
\c
SELECT check_alone('expired'), maps_kept();
\c
SELECT check_alone('no_grant'), maps_kept();
\c
SELECT check_alone('removed'), maps_kept();
\c
SELECT check_alone('portal_some'), maps_kept();
\c
SELECT check_alone('portal_all'), maps_kept();
\c
BEGIN;
SELECT check_by_map(name) FROM actors ORDER BY name;
COMMIT;
-- kept: a map for each staff member but the owner and admin, who share
-- the firm's, and one for each portal user
SELECT maps_kept();

-- what each actor sees, each business checked alone: the businesses, with
-- whether invoices.view and invoices.pay are held there
SELECT ac.name AS actor,
       coalesce(string_agg(x.business || '(' ||
                           concat_ws(',', CASE WHEN x.mask & v.bit <> 0 THEN 'view' END,
                                          CASE WHEN x.mask & p.bit <> 0 THEN 'pay' END) || ')',
                           ' ' ORDER BY x.business), '-') AS sees
  FROM actors ac
  LEFT JOIN answers x ON x.actor = ac.name AND x.way = 'alone' AND x.mask IS NOT NULL
 CROSS JOIN (SELECT 1::bigint << bit AS bit FROM access_control.permission WHERE name = 'invoices.view') v
 CROSS JOIN (SELECT 1::bigint << bit AS bit FROM access_control.permission WHERE name = 'invoices.pay') p
 GROUP BY ac.name ORDER BY ac.name;

-- the map gives the same masks, for every actor and business
SELECT way, count(*) AS answers FROM answers GROUP BY way ORDER BY way;
SELECT alone.actor, alone.business, alone.mask AS alone, by_map.mask AS by_map
  FROM answers alone JOIN answers by_map USING (actor, business)
 WHERE alone.way = 'alone' AND by_map.way = 'map' AND alone.mask IS DISTINCT FROM by_map.mask;

-- A statement that checks more than four rows at one call site builds
-- the actor's map after the fourth; one that checks three reads the rule
-- for each row alone. Either way, the direct member sees b1 and b4.
\c
BEGIN;
SELECT access_control.set_actor(:direct);
SELECT count(*) FILTER (WHERE access_control.can_see_business(id)) AS seen, count(*) AS checked
  FROM businesses WHERE name IN ('b1', 'b2', 'b3');
SELECT maps_kept();
COMMIT;
\c
BEGIN;
SELECT access_control.set_actor(:direct);
SELECT count(*) FILTER (WHERE access_control.can_see_business(id)) AS seen, count(*) AS checked
  FROM businesses;
SELECT maps_kept();
COMMIT;

-- A firm's links carry their status and ceiling in the primary key's
-- index: where the table's pages are all-visible (after VACUUM), the map
-- reads them from the index alone, fetching no row of the table. The
-- owner's map reads the firm's five links: three own clients, the
-- partner's (capped) and the disconnected one.
CREATE FUNCTION link_reads() RETURNS TABLE (links_read bigint, rows_fetched bigint) LANGUAGE sql AS $$
    SELECT idx_tup_read, idx_tup_fetch FROM pg_stat_user_indexes
     WHERE schemaname = 'access_control' AND indexrelname = 'firm_client_pkey'
$$;
CREATE TABLE link_counts (step text, links_read bigint, rows_fetched bigint);
CREATE FUNCTION count_owner_map_reads(step text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    before record := link_reads();
BEGIN
    PERFORM access_control.set_actor((SELECT id FROM actors WHERE name = 'owner'));
    PERFORM access_control.visible_business_ids();
    PERFORM pg_stat_force_next_flush();
    INSERT INTO link_counts VALUES (step, -before.links_read, -before.rows_fetched);
END $$;
CREATE FUNCTION counted(step text) RETURNS void LANGUAGE sql AS $$
    UPDATE link_counts c SET links_read = c.links_read + r.links_read,
                             rows_fetched = c.rows_fetched + r.rows_fetched
      FROM link_reads() r WHERE c.step = counted.step
$$;
\c
SELECT count_owner_map_reads('before VACUUM');
SELECT counted('before VACUUM');
VACUUM access_control.firm_client;
\c
SELECT count_owner_map_reads('after VACUUM');
SELECT counted('after VACUUM');
SELECT * FROM link_counts ORDER BY step DESC;

-- read from the index alone, every actor's map gives the same masks
\c
BEGIN;
SELECT check_by_map(name, 'map after VACUUM') FROM actors ORDER BY name;
COMMIT;
SELECT way, count(*) AS answers FROM answers GROUP BY way ORDER BY way;
SELECT alone.actor, alone.business, alone.mask AS alone, vacuumed.mask AS vacuumed
  FROM answers alone JOIN answers vacuumed USING (actor, business)
 WHERE alone.way = 'alone' AND vacuumed.way = 'map after VACUUM'
   AND alone.mask IS DISTINCT FROM vacuumed.mask;

DROP EXTENSION access_control;
