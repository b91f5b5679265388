# The access tables copied to another node by logical replication (as a
# Citus coordinator copies them to its workers): the apply fires only row
# triggers, and the cache's row trigger is ENABLE ALWAYS, so a change made
# on the publisher is honoured by a subscriber session's next statement
# once applied, while that session's maps of other firms stay cached.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AcFixture;

my @tables = qw(permission firm staff business firm_client team team_member
  client_role staff_grant team_grant portal_user api_key);
my $list = join(', ', map { "access_control.$_" } @tables);

my $publisher = PostgreSQL::Test::Cluster->new('publisher');
$publisher->init(allows_streaming => 'logical');
$publisher->start;
my $subscriber = PostgreSQL::Test::Cluster->new('subscriber');
$subscriber->init;
$subscriber->start;

# Both start from the same fresh install (the same seeded rows); from then
# on every change to the access tables travels as rows.
$_->safe_psql('postgres', 'CREATE EXTENSION access_control') for ($publisher, $subscriber);
$publisher->safe_psql('postgres', "CREATE PUBLICATION access FOR TABLE $list");
my $connstr = $publisher->connstr . ' dbname=postgres';
$subscriber->safe_psql('postgres',
	"CREATE SUBSCRIPTION access CONNECTION '$connstr' PUBLICATION access WITH (copy_data = false)");
build_firm($publisher, 'postgres');
$publisher->wait_for_catchup('access');

my $visible = q{BEGIN; SELECT access_control.set_actor(%d) \gset
	SELECT access_control.visible_business_ids(); COMMIT;};
my $session = $subscriber->background_psql('postgres');
is($session->query_safe(sprintf($visible, 3)), '{1,2}', 'the subscriber sees the direct member\'s businesses');
is($session->query_safe(sprintf($visible, 7)), '{1}', 'and the partner firm\'s member\'s');
is($session->query_safe(sprintf($visible, 4)), '{2,3}', 'and the team member\'s');

$publisher->safe_psql('postgres', q{SELECT access_control.revoke_client_access(3, '{1}')});
$publisher->wait_for_catchup('access');
is($session->query_safe(sprintf($visible, 3)), '{2}',
	'a revoke on the publisher holds in the subscriber session\'s next statement once applied');

$publisher->safe_psql('postgres', q{SELECT access_control.revoke_team_access(1, '{3}')});
$publisher->wait_for_catchup('access');
is($session->query_safe(sprintf($visible, 4)), '{2}', 'so does a team grant revoked');

$publisher->safe_psql('postgres', q{SELECT access_control.remove_staff(7)});
$publisher->wait_for_catchup('access');
is($session->query_safe(sprintf($visible, 7)), '{}', 'and a member removed in the other firm');
is($session->query_safe(sprintf($visible, 3)), '{2}', 'while this firm\'s member is still right');

$publisher->safe_psql('postgres', q{SELECT access_control.create_business(1, 'Dogwood')});
$publisher->wait_for_catchup('access');
is($session->query_safe(sprintf($visible, 1)), '{1,2,3,4}', 'the owner sees a client created on the publisher');
$session->quit;

done_testing();
