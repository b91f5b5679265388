# A streaming hot standby answers every read helper, and every function and
# view that explains access, as the primary does, for each persona (owner,
# admin, members, a removed member, partner staff, a portal user), with
# nothing written on a read path; a revoke on the primary holds on the
# standby's next statement once replayed; authenticate works there too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AcFixture;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
build_firm($primary, 'postgres');
my $key = $primary->safe_psql('postgres', q{SELECT access_control.create_api_key(3, 'sync')});
$primary->backup('b');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

my @personas = ('set_actor(1)', 'set_actor(2)', 'set_actor(3)', 'set_actor(4)',
	'set_actor(5)', 'set_actor(6)', 'set_actor(7)', 'set_portal_actor(1)');
my %on_primary;
for my $who (@personas)
{
	$on_primary{$who} = persona_reads($primary, 'postgres', $who);
	is(persona_reads($standby, 'postgres', $who), $on_primary{$who},
		"$who: every read helper answers on the standby as on the primary");
}
my %reports;
for my $who (@personas)
{
	$reports{$who} = persona_reports($primary, 'postgres', $who);
	is(persona_reports($standby, 'postgres', $who), $reports{$who},
		"$who: staff_access, business_access, explain_access, firm_clients and the views answer on the standby as on the primary");
}
like($reports{'set_actor(1)'},
	qr/^SELECT \* FROM access_control.business_access\(1\): \(2,admin\@main.test,,,admin,f,.*; \(3,direct\@main.test,,,member,t,\{\},clerk,\{\},"\{bills.manage,bills.view,contacts.view,invoices.view,profile.view\}"\); \(1,owner\@main.test,,,owner,f,/m,
	'the owner sees who in the firm has access to a client');
like($reports{'set_actor(3)'}, qr/^SELECT \* FROM access_control.business_access\(1\): ERROR 42501$/m,
	'a member may not');
like($reports{'set_actor(7)'}, qr/^SELECT \* FROM access_control.staff_access\(7\): \(1,Acme,t,\{\},\{bookkeeper\},/m,
	'partner staff see their own access');
like($reports{'set_portal_actor(1)'}, qr/^SELECT \* FROM access_control.firm_clients\(1\): ERROR 42501$/m,
	'a portal user sees no firm\'s clients');
like($on_primary{'set_actor(3)'}, qr/^ledger 1:11 1:12 2:21 2:22$/m, 'the direct member reads its rows');
like($on_primary{'set_actor(4)'}, qr/^ledger 2:21 2:22 3:31 3:32$/m, 'the team member reads its rows');
like($on_primary{'set_actor(5)'}, qr/^ledger -$/m, 'the removed member reads nothing');
is(decisions($standby, 'postgres'), decisions($primary, 'postgres'),
	'the staff_* helpers decide the same for every staff, business and permission');
is($standby->safe_psql('postgres', q{
	BEGIN; SELECT access_control.set_actor(1) \gset
	SELECT string_agg(business_id::text, ',' ORDER BY business_id) FROM access_control.staff_access(3); COMMIT;
}), '1,2', 'staff_access works on the standby');

# The standby's next statement honours a revoke once it is replayed: one
# standby session stays open across the revoke.
my $session = $standby->background_psql('postgres', extra_params => [ '-U', 'app' ]);
is($session->query_safe(q{BEGIN; SELECT access_control.set_actor(3) \\gset
		SELECT count(*) FROM ledger; COMMIT;}),
	"4", 'a standby session sees the direct member\'s rows');
$primary->safe_psql('postgres', q{SELECT access_control.revoke_client_access(3, '{1}')});
$primary->wait_for_catchup($standby);
is($session->query_safe(q{BEGIN; SELECT access_control.set_actor(3) \\gset
		SELECT count(*) FROM ledger; SELECT access_control.can_see_business(1); COMMIT;}),
	"2\nf", 'the same standby session no longer sees the revoked business on its next statement');
$primary->safe_psql('postgres', q{SELECT access_control.remove_staff(4)});
$primary->wait_for_catchup($standby);
is($session->query_safe(q{BEGIN; SELECT access_control.set_actor(4) \\gset
		SELECT count(*) FROM ledger; SELECT access_control.visible_business_ids(); COMMIT;}),
	"0\n{}", 'nor does a member removed on the primary');
# The other personas, each before and after a change on the primary.
is($session->query_safe(q{BEGIN; SELECT access_control.set_actor(2) \\gset
		SELECT count(*) FROM ledger; COMMIT;}), "6", 'a standby session sees the admin\'s rows');
$primary->safe_psql('postgres', q{SELECT access_control.set_staff_role(2, 'member')});
$primary->wait_for_catchup($standby);
is($session->query_safe(q{BEGIN; SELECT access_control.set_actor(2) \\gset
		SELECT count(*) FROM ledger; COMMIT;}), "0", 'and none once the admin is made a member without grants');
is($session->query_safe(q{BEGIN; SELECT access_control.set_actor(7) \\gset
		SELECT count(*) FROM ledger; COMMIT;}), "2", 'a standby session sees the partner staff member\'s rows');
$primary->safe_psql('postgres', q{SELECT access_control.disconnect_partner(1, 2)});
$primary->wait_for_catchup($standby);
is($session->query_safe(q{BEGIN; SELECT access_control.set_actor(7) \\gset
		SELECT count(*) FROM ledger; SELECT access_control.can_see_business(1); COMMIT;}),
	"0\nf", 'and none once the client disconnects the partner firm');
is($session->query_safe(q{BEGIN; SELECT access_control.set_portal_actor(1) \\gset
		SELECT count(*) FROM ledger; COMMIT;}), "2", 'a standby session sees the portal user\'s rows');
$primary->safe_psql('postgres', q{SELECT access_control.remove_portal_user(1)});
$primary->wait_for_catchup($standby);
is($session->query_safe(q{BEGIN; SELECT access_control.set_portal_actor(1) \\gset
		SELECT count(*) FROM ledger; SELECT count(*) FROM access_control.my_businesses(); COMMIT;}),
	"0\n0", 'and none once the portal user is removed');
$session->quit;

# authenticate on the standby: verifies the key without writing its last use.
is($standby->safe_psql('postgres', qq{
	BEGIN; SELECT access_control.authenticate('$key'); SELECT access_control.current_actor(); COMMIT;
}), "3\nstaff:3", 'authenticate works on the standby');
my ($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT access_control.authenticate('} . substr($key, 0, -1) . (substr($key, -1) eq 'A' ? 'B' : 'A') . q{')});
like($err, qr/ERROR/, 'a wrong key is refused on the standby');
unlike($err, qr/read-only transaction|recovery/, 'without trying to write');
$primary->safe_psql('postgres', q{SELECT access_control.revoke_api_key(1)});
$primary->wait_for_catchup($standby);
($ret, $out, $err) = $standby->psql('postgres', qq{SELECT access_control.authenticate('$key')});
like($err, qr/ERROR/, 'a key revoked on the primary is refused on the standby after replay');

$standby->stop;
$primary->stop;
done_testing();
