# test/t/AcFixture.pm: a small firm shared by the TAP tests, and the queries
# that read every access decision about it.
package AcFixture;

use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(build_firm decisions persona_reads persona_reports);

# Two firms: "Main" (owner 1, admin, a member with a direct grant, a member
# through a team, a removed member) with three own clients, and "Partner"
# (a bookkeeper firm linked read-only to one of Main's clients). A custom
# role and permission, a portal user, a contact, a pending invitation and a
# protected table "ledger" with two rows per business. ac_try(query) runs a
# query and returns its rows as text, or "ERROR <sqlstate>".
sub build_firm
{
	my ($node, $db) = @_;
	$node->safe_psql($db, q{
		CREATE EXTENSION IF NOT EXISTS access_control;
		SELECT access_control.define_permission('reports.view', 'View reports', true);
		SELECT access_control.create_firm('Main', 'owner@main.test');                 -- firm 1, staff 1
		SELECT access_control.add_staff(1, 'admin@main.test', 'admin');               -- staff 2
		SELECT access_control.add_staff(1, 'direct@main.test');                       -- staff 3
		SELECT access_control.add_staff(1, 'teamed@main.test');                       -- staff 4
		SELECT access_control.add_staff(1, 'gone@main.test');                         -- staff 5
		SELECT access_control.create_business(1, 'Acme');                             -- business 1
		SELECT access_control.create_business(1, 'Birch');                            -- business 2
		SELECT access_control.create_business(1, 'Cedar');                            -- business 3
		SELECT access_control.create_client_role(1, 'reader', '{invoices.view,reports.view}');
		SELECT access_control.grant_client_access(3, '{1}', 'clerk');
		SELECT access_control.grant_client_access(3, '{2}', 'reader');
		SELECT access_control.create_team(1, 'North');
		SELECT access_control.add_team_member(1, 4);
		SELECT access_control.grant_team_access(1, '{2,3}', 'payer');
		SELECT access_control.grant_client_access(5, '{1,2,3}', 'administrator');
		SELECT access_control.add_team_member(1, 5);
		SELECT access_control.remove_staff(5);
		SELECT access_control.create_firm('Partner', 'owner@partner.test');           -- firm 2, staff 6
		SELECT access_control.add_staff(2, 'keeper@partner.test');                    -- staff 7
		SELECT access_control.invite_partner_firm(1, 2);
		SELECT access_control.accept_partner_invitation(2, 1);
		SELECT access_control.grant_client_access(7, '{1}', 'bookkeeper');
		SELECT access_control.add_portal_user(2, 'boss@birch.test', '{invoices.view,invoices.pay}');
		SELECT access_control.add_contact(2, 'clerk@birch.test', 'Birch Clerk');
		SELECT invitation_id FROM access_control.invite_staff(1, 'invited@main.test', 'admin');
		CREATE TABLE ledger (id serial PRIMARY KEY, business_id bigint NOT NULL, amount int);
		INSERT INTO ledger (business_id, amount) SELECT b, b * 10 + n FROM generate_series(1, 3) b, generate_series(1, 2) n;
		SELECT access_control.protect_table('ledger', read_permission => 'invoices.view');
		CREATE ROLE app LOGIN;
		GRANT SELECT ON ledger TO app;
		GRANT EXECUTE ON FUNCTION access_control.set_actor(bigint), access_control.set_portal_actor(bigint),
			access_control.staff_can_see_business(bigint, bigint), access_control.staff_has_permission(bigint, bigint, text),
			access_control.staff_effective_permissions(bigint, bigint), access_control.staff_effective_permission_mask(bigint, bigint),
			access_control.staff_access(bigint), access_control.business_access(bigint),
			access_control.explain_access(bigint, bigint), access_control.firm_clients(bigint)
		TO app;
		GRANT SELECT ON access_control.pending_invitations, access_control.api_keys TO app;
		CREATE FUNCTION ac_try(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
		DECLARE
			r text;
		BEGIN
			FOR r IN EXECUTE 'SELECT t::text FROM (' || query || ') t' LOOP
				RETURN NEXT r;
			END LOOP;
		EXCEPTION WHEN OTHERS THEN
			RETURN NEXT 'ERROR ' || SQLSTATE;
		END $$;
	});
	return;
}

# Every staff, business and permission (fixed list): one line each, as the
# superuser sees it through the staff_* helpers.
sub decisions
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
		SELECT string_agg(format('%s/%s/%s: %s %s', s.id, b.id, p,
				access_control.staff_can_see_business(s.id, b.id),
				access_control.staff_has_permission(s.id, b.id, p)), E'\n' ORDER BY s.id, b.id, p)
		  FROM access_control.staff s, access_control.business b,
		       unnest('{invoices.view,invoices.pay,bills.manage,reports.view,users.manage}'::text[]) p;
	});
}

# What one persona reads through every read helper, in one transaction as
# the role "app". $set is 'set_actor(N)' or 'set_portal_actor(N)'.
sub persona_reads
{
	my ($node, $db, $set) = @_;
	return $node->safe_psql($db, qq{
		BEGIN;
		SELECT access_control.$set \\gset
		SELECT 'actor ' || access_control.current_actor();
		SELECT 'see ' || string_agg(b || '=' || access_control.can_see_business(b), ' ' ORDER BY b) FROM generate_series(1, 4) b;
		SELECT 'has ' || string_agg(b || ':' || p || '=' || access_control.has_permission(b, p), ' ' ORDER BY b, p)
		  FROM generate_series(1, 3) b, unnest('{invoices.view,invoices.pay,reports.view}'::text[]) p;
		SELECT 'visible ' || access_control.visible_business_ids()::text;
		SELECT 'visible pay ' || access_control.visible_business_ids('invoices.pay')::text;
		SELECT 'mine ' || coalesce(string_agg(business_id || ' ' || name, ', ' ORDER BY business_id), '-') FROM access_control.my_businesses();
		SELECT 'staff ' || string_agg(format('%s/%s %s %s %s', s, b, access_control.staff_can_see_business(s, b),
				access_control.staff_has_permission(s, b, 'invoices.pay'), access_control.staff_effective_permissions(s, b)), '; ' ORDER BY s, b)
		  FROM generate_series(1, 7) s, generate_series(1, 3) b;
		SELECT 'ledger ' || coalesce(string_agg(business_id || ':' || amount, ' ' ORDER BY business_id, amount), '-') FROM ledger;
		COMMIT;
	}, extra_params => [ '-U', 'app' ]);
}

# What one persona reads, in one transaction as the role "app", through the
# functions and views that explain access, whose answers depend on who asks:
# one line per call, its rows or the SQLSTATE of its ERROR.
sub persona_reports
{
	my ($node, $db, $set) = @_;
	my @calls = (
		'SELECT * FROM access_control.staff_access(3)',
		'SELECT * FROM access_control.staff_access(7)',
		'SELECT * FROM access_control.business_access(1)',
		'SELECT * FROM access_control.business_access(2)',
		'SELECT * FROM access_control.explain_access(3, 1)',
		'SELECT * FROM access_control.explain_access(5, 2)',
		'SELECT * FROM access_control.explain_access(7, 1)',
		'SELECT * FROM access_control.firm_clients(1)',
		'SELECT * FROM access_control.firm_clients(2)',
		'SELECT id, firm_id, email, role, delivery_state, expired FROM access_control.pending_invitations ORDER BY id',
		'SELECT id, staff_id, label, expires_at, revoked_at FROM access_control.api_keys ORDER BY id',
		'SELECT s, b, access_control.staff_effective_permission_mask(s, b) FROM generate_series(1, 7) s, generate_series(1, 3) b ORDER BY s, b');
	my $sql = "BEGIN;\nSELECT access_control.$set \\gset\n";
	for my $call (@calls)
	{
		$sql .= "SELECT \$c\$$call\$c\$ || ': ' || coalesce(string_agg(r, '; '), '-') FROM ac_try(\$c\$$call\$c\$) r;\n";
	}
	return $node->safe_psql($db, "$sql COMMIT;", extra_params => [ '-U', 'app' ]);
}

1;
