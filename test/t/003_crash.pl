# A burst of access changes, then an immediate shutdown: after the restart
# no change is half-applied and every committed change is there.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use AcFixture;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->start;
build_firm($node, 'postgres');
$node->safe_psql('postgres', q{
	SELECT access_control.create_business(1, 'Client ' || n) FROM generate_series(1, 50) n;
	CREATE TABLE burst_log (n int PRIMARY KEY);
});

# Each transaction grants a member one business and records n; every tenth
# also revokes the previous one and moves the member between teams.
my $script = '';
for my $n (1 .. 3000)
{
	my $b = 4 + $n % 50;
	my $sql = "BEGIN; SELECT access_control.grant_client_access(3, '{$b}', CASE WHEN $n % 2 = 0 THEN 'clerk' ELSE 'payer' END);";
	$sql .= " SELECT access_control.revoke_client_access(3, '{" . (4 + ($n - 1) % 50) . "}');"
	  . " SELECT access_control.remove_team_member(1, 4); SELECT access_control.add_team_member(1, 4);"
	  if $n % 10 == 0;
	$sql .= " INSERT INTO burst_log VALUES ($n); COMMIT;\n";
	$script .= $sql;
}
my $file = $node->basedir . '/burst.sql';
open my $fh, '>', $file or die $!;
print $fh $script;
close $fh;
my $burst = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $file ],
	'<', '/dev/null', '>', '/dev/null', '2>', '/dev/null');

# Stop in the middle of it.
$node->poll_query_until('postgres', 'SELECT count(*) >= 100 FROM burst_log')
  or die 'the burst did not start';
$node->stop('immediate');
$burst->finish;
$node->start;

my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM burst_log');
ok($committed >= 100, "$committed transactions committed before the crash");
is($node->safe_psql('postgres', 'SELECT max(n) = count(*) FROM burst_log'), 't',
	'the committed transactions are a prefix of the burst');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM access_control.staff_grant g
	 WHERE NOT EXISTS (SELECT 1 FROM access_control.staff s WHERE s.id = g.staff_id)
	    OR NOT EXISTS (SELECT 1 FROM access_control.business b WHERE b.id = g.business_id)
	    OR NOT EXISTS (SELECT 1 FROM access_control.client_role r WHERE r.id = g.role_id)
	    OR NOT EXISTS (SELECT 1 FROM access_control.firm_client l WHERE l.business_id = g.business_id AND l.status = 'active')
}), '0', 'every grant references an existing staff member, business, role and active link');
# The grants of member 3 are exactly those the committed prefix leaves:
# business 4 + n % 50 for n in the prefix, less the ones revoked.
my $n = $committed;
my %expect = (1 => 'clerk', 2 => 'reader');
for my $i (1 .. $n)
{
	$expect{4 + $i % 50} = $i % 2 == 0 ? 'clerk' : 'payer';
	delete $expect{4 + ($i - 1) % 50} if $i % 10 == 0;
}
is($node->safe_psql('postgres', q{
	SELECT string_agg(g.business_id || ':' || r.name, ' ' ORDER BY g.business_id)
	  FROM access_control.staff_grant g JOIN access_control.client_role r ON r.id = g.role_id WHERE g.staff_id = 3
}), join(' ', map { "$_:$expect{$_}" } sort { $a <=> $b } keys %expect),
	'member 3 holds exactly the grants of the committed transactions');
is($node->safe_psql('postgres', 'SELECT count(*) FROM access_control.team_member WHERE team_id = 1 AND staff_id = 4'),
	'1', 'the team membership moved back and forth is there once');
is($node->safe_psql('postgres', q{
	BEGIN; SELECT access_control.set_actor(3) \gset
	SELECT access_control.visible_business_ids() = (SELECT array_agg(business_id ORDER BY business_id) FROM access_control.staff_grant WHERE staff_id = 3);
	COMMIT;
}), "t", 'the helpers agree with the recovered rows');
is($node->safe_psql('postgres', q{SELECT 1 FROM (SELECT access_control.grant_client_access(3, '{53}', 'approver')) g; SELECT access_control.staff_has_permission(3, 53, 'bills.approve')}), "1\nt",
	'access changes work after the restart');

SKIP:
{
	skip 'no verify_audit_chain', 1
	  unless $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_proc WHERE proname = 'verify_audit_chain' AND pronamespace = 'access_control'::regnamespace}) > 0;
	is($node->safe_psql('postgres', q{SELECT count(*) FROM access_control.verify_audit_chain() WHERE NOT ok}),
		'0', 'the audit chain verifies after the crash');
}

$node->stop;
done_testing();
