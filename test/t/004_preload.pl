# Nobody becomes an actor through a setting, whether or not the library is in
# shared_preload_libraries: a plain role's SET is refused when the library is
# loaded, and a placeholder set before it loads is thrown away.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

sub setup
{
	my ($node) = @_;
	$node->safe_psql('postgres', q{
		CREATE EXTENSION access_control;
		SELECT access_control.create_firm('Preload Firm', 'owner@preload.test');
		CREATE ROLE plain LOGIN;
		CREATE TABLE ledger (business_id bigint, amount int);
		INSERT INTO ledger SELECT access_control.create_business(1, 'B'), 10;
		SELECT access_control.protect_table('ledger');
		GRANT SELECT ON ledger TO plain;
	});
}

for my $preload (0, 1)
{
	my $node = PostgreSQL::Test::Cluster->new($preload ? 'preloaded' : 'loaded_on_use');
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'access_control'")
	  if $preload;
	$node->start;
	setup($node);
	my $what = $preload ? 'with shared_preload_libraries' : 'without shared_preload_libraries';

	# a fresh backend of a plain role: SET before anything of ours ran
	my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
		SET access_control.actor = 'staff:1';
		SELECT coalesce(access_control.current_actor(), 'nobody');
		SELECT count(*) FROM ledger;
	}, extra_params => [ '-U', 'plain' ], on_error_stop => 0);
	if ($preload)
	{
		like($stderr, qr/permission denied to set parameter "access_control.actor"/,
			"$what: SET is refused");
	}
	else
	{
		like($stderr, qr/permission denied to set parameter "access_control.actor"|invalid value/,
			"$what: the placeholder is thrown away when the library loads");
	}
	is($stdout, "nobody\n0", "$what: no actor and no rows afterwards");

	($ret, $stdout, $stderr) = $node->psql('postgres', q{
		SELECT set_config('access_control.actor', 'staff:1', false);
		SELECT coalesce(access_control.current_actor(), 'nobody');
		SELECT count(*) FROM ledger;
	}, extra_params => [ '-U', 'plain' ], on_error_stop => 0);
	if ($preload)
	{
		like($stderr, qr/permission denied to set parameter/, "$what: set_config is refused");
	}
	else
	{
		like($stderr, qr/permission denied to set parameter "access_control.actor"|invalid value/,
			"$what: set_config's placeholder is thrown away when the library loads");
	}
	like($stdout, qr/nobody\n0$/, "$what: still no actor and no rows");

	# the owner, through set_actor, sees the row
	is($node->safe_psql('postgres', q{
		BEGIN; SELECT access_control.set_actor(1) \gset
		SELECT count(*) FROM ledger; COMMIT;
	}), '1', "$what: set_actor works for the trusted caller");
	$node->stop;
}

done_testing();
