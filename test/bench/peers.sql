/*
 * test/bench/peers.sql: the ways of protecting the ledger that make bench
 * compares (test/bench/README.md, "Peers"), each written as a user would
 * by hand.
 *
 * One ledger table carries every variant at once, each as a SELECT policy
 * for its own role: PostgreSQL applies to a query only the policies of the
 * role running it, so a query as bench_p1 is filtered by P1 alone, and the
 * variants can be timed in turns inside one session, on the same buffers,
 * with no DDL between them. (Ten million rows per peer would cost more disk
 * and build time than the whole run.)
 *
 *   bench_raw   P0 and P0': BYPASSRLS. P0 reads everything; P0', the
 *               oracle, adds business_id = ANY('{...}') with the visible
 *               ids written out as a literal.
 *   bench_p1    P1: a plain SQL EXISTS policy.
 *   bench_p2    P2: a PL/pgSQL can_see_business(business_id) function.
 *   bench_p3    P3: business_id = ANY (ARRAY(SELECT ...)), the best
 *               hand-written practice.
 *   bench_ours  this extension: protect_table('ledger'), that is
 *               can_see_business(business_id).
 *   bench_ids   this extension, the array form (README.md, visible_business_ids):
 *               business_id = ANY ((SELECT visible_business_ids())::bigint[])
 *               (the cast keeps the parser from reading the parenthesised
 *               SELECT as an ANY (subquery); it runs once, as an InitPlan).
 *
 * The hand-written peers take the staff id from a setting of their own
 * (app.staff_id, set with set_config(..., true) in each transaction) and
 * implement the visibility rule of README.md ("The rule of effective
 * access"): an active link, and the owner or admin role or an unexpired
 * direct or team grant.
 */
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE ROLE bench_raw LOGIN BYPASSRLS;
CREATE ROLE bench_p1 LOGIN;
CREATE ROLE bench_p2 LOGIN;
CREATE ROLE bench_p3 LOGIN;
CREATE ROLE bench_ours LOGIN;
CREATE ROLE bench_ids LOGIN;
CREATE ROLE bench_readers;
GRANT bench_readers TO bench_raw, bench_p1, bench_p2, bench_p3, bench_ours, bench_ids;

GRANT USAGE ON SCHEMA bench TO bench_readers;
GRANT SELECT ON public.ledger, bench.persona TO bench_readers;
GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint) TO bench_readers;
-- the hand-written policies read the access tables as the querying role,
-- as a user's own tables would be read: every row, with no filter of ours
-- (the access tables' row-level security shows a role only its actor's
-- rows, and none to a session that sets no actor, as the peers' do not)
GRANT SELECT ON access_control.staff, access_control.firm_client, access_control.staff_grant,
    access_control.team_member, access_control.team_grant TO bench_p1, bench_p2, bench_p3;
CREATE POLICY bench_peers_read ON access_control.staff FOR SELECT TO bench_p1, bench_p2, bench_p3 USING (true);
CREATE POLICY bench_peers_read ON access_control.firm_client FOR SELECT TO bench_p1, bench_p2, bench_p3 USING (true);
CREATE POLICY bench_peers_read ON access_control.staff_grant FOR SELECT TO bench_p1, bench_p2, bench_p3 USING (true);
CREATE POLICY bench_peers_read ON access_control.team_member FOR SELECT TO bench_p1, bench_p2, bench_p3 USING (true);
CREATE POLICY bench_peers_read ON access_control.team_grant FOR SELECT TO bench_p1, bench_p2, bench_p3 USING (true);

ALTER TABLE public.ledger ENABLE ROW LEVEL SECURITY;

/* Ours: exactly what protect_table makes, scoped to its role. */
SELECT access_control.protect_table('public.ledger');
ALTER POLICY access_control_read ON public.ledger TO bench_ours;
ALTER POLICY access_control_insert ON public.ledger TO bench_ours;
ALTER POLICY access_control_update ON public.ledger TO bench_ours;
ALTER POLICY access_control_delete ON public.ledger TO bench_ours;

CREATE POLICY bench_ids_read ON public.ledger FOR SELECT TO bench_ids
    USING (business_id = ANY ((SELECT access_control.visible_business_ids())::bigint[]));

/* P1 */
CREATE POLICY bench_p1_read ON public.ledger FOR SELECT TO bench_p1 USING (EXISTS (
    SELECT 1
      FROM access_control.staff s
      JOIN access_control.firm_client fc ON fc.firm_id = s.firm_id
     WHERE s.id = current_setting('app.staff_id')::bigint
       AND s.status = 'active'
       AND fc.business_id = ledger.business_id
       AND fc.status = 'active'
       AND (s.role IN ('owner', 'admin')
            OR EXISTS (SELECT 1 FROM access_control.staff_grant g
                        WHERE g.staff_id = s.id AND g.business_id = fc.business_id
                          AND (g.expires_at IS NULL OR g.expires_at > now()))
            OR EXISTS (SELECT 1 FROM access_control.team_member tm
                         JOIN access_control.team_grant tg ON tg.team_id = tm.team_id
                        WHERE tm.staff_id = s.id AND tg.business_id = fc.business_id
                          AND (tg.expires_at IS NULL OR tg.expires_at > now())))));

/* P2 */
CREATE FUNCTION bench.p2_can_see_business(business_id bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    me bigint := current_setting('app.staff_id')::bigint;
BEGIN
    RETURN EXISTS (
        SELECT 1
          FROM access_control.staff s
          JOIN access_control.firm_client fc ON fc.firm_id = s.firm_id
         WHERE s.id = me
           AND s.status = 'active'
           AND fc.business_id = p2_can_see_business.business_id
           AND fc.status = 'active'
           AND (s.role IN ('owner', 'admin')
                OR EXISTS (SELECT 1 FROM access_control.staff_grant g
                            WHERE g.staff_id = s.id AND g.business_id = fc.business_id
                              AND (g.expires_at IS NULL OR g.expires_at > now()))
                OR EXISTS (SELECT 1 FROM access_control.team_member tm
                             JOIN access_control.team_grant tg ON tg.team_id = tm.team_id
                            WHERE tm.staff_id = s.id AND tg.business_id = fc.business_id
                              AND (tg.expires_at IS NULL OR tg.expires_at > now()))));
END $$;
GRANT EXECUTE ON FUNCTION bench.p2_can_see_business(bigint) TO bench_p2;
CREATE POLICY bench_p2_read ON public.ledger FOR SELECT TO bench_p2
    USING (bench.p2_can_see_business(business_id));

/* P3 */
CREATE POLICY bench_p3_read ON public.ledger FOR SELECT TO bench_p3 USING (business_id = ANY (ARRAY(
    SELECT fc.business_id
      FROM access_control.staff s
      JOIN access_control.firm_client fc ON fc.firm_id = s.firm_id AND fc.status = 'active'
     WHERE s.id = current_setting('app.staff_id')::bigint
       AND s.status = 'active' AND s.role IN ('owner', 'admin')
    UNION
    SELECT g.business_id
      FROM access_control.staff s
      JOIN access_control.staff_grant g ON g.staff_id = s.id
      JOIN access_control.firm_client fc
        ON fc.firm_id = s.firm_id AND fc.business_id = g.business_id AND fc.status = 'active'
     WHERE s.id = current_setting('app.staff_id')::bigint
       AND s.status = 'active'
       AND (g.expires_at IS NULL OR g.expires_at > now())
    UNION
    SELECT tg.business_id
      FROM access_control.staff s
      JOIN access_control.team_member tm ON tm.staff_id = s.id
      JOIN access_control.team_grant tg ON tg.team_id = tm.team_id
      JOIN access_control.firm_client fc
        ON fc.firm_id = s.firm_id AND fc.business_id = tg.business_id AND fc.status = 'active'
     WHERE s.id = current_setting('app.staff_id')::bigint
       AND s.status = 'active'
       AND (tg.expires_at IS NULL OR tg.expires_at > now()))));

/* The visible ids of each persona by the hand-written rule (for P0'). */
CREATE FUNCTION bench.rule_ids(me bigint) RETURNS bigint[]
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(b ORDER BY b), '{}') FROM (
        SELECT fc.business_id AS b
          FROM access_control.staff s
          JOIN access_control.firm_client fc ON fc.firm_id = s.firm_id AND fc.status = 'active'
         WHERE s.id = me AND s.status = 'active' AND s.role IN ('owner', 'admin')
        UNION
        SELECT g.business_id
          FROM access_control.staff s
          JOIN access_control.staff_grant g ON g.staff_id = s.id
          JOIN access_control.firm_client fc
            ON fc.firm_id = s.firm_id AND fc.business_id = g.business_id AND fc.status = 'active'
         WHERE s.id = me AND s.status = 'active' AND (g.expires_at IS NULL OR g.expires_at > now())
        UNION
        SELECT tg.business_id
          FROM access_control.staff s
          JOIN access_control.team_member tm ON tm.staff_id = s.id
          JOIN access_control.team_grant tg ON tg.team_id = tm.team_id
          JOIN access_control.firm_client fc
            ON fc.firm_id = s.firm_id AND fc.business_id = tg.business_id AND fc.status = 'active'
         WHERE s.id = me AND s.status = 'active' AND (tg.expires_at IS NULL OR tg.expires_at > now())) x
$$;
