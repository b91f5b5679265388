# pg_dump -Fc of a database that uses the extension, restored on a new node
# the documented way (session_replication_role = replica): every row of
# every extension table and every sequence comes back, the audit log is the
# same and its chains verify, every access decision is the same, API keys
# and invitation tokens made before the dump still work, and the first
# change after the restore is audited on the end of its firm's chain. A
# plain pg_restore fails on every table with a hint and loads nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AcFixture;

my $origin = PostgreSQL::Test::Cluster->new('origin');
$origin->init;
$origin->start;
$origin->safe_psql('postgres', 'CREATE DATABASE books');
build_firm($origin, 'books');

# More of what a firm accumulates: invitations in every state; API keys
# under two hashing keys, one of them used and one revoked; an expiring
# grant; a disconnected and a pending partner link; changes made by an
# actor and by a DBA's direct DML.
my $key = $origin->safe_psql('books', q{SELECT access_control.create_api_key(3, 'before the dump')});
my $revoked = $origin->safe_psql('books', q{SELECT access_control.create_api_key(4, 'revoked')});
$origin->safe_psql('books', q{
	SELECT access_control.revoke_api_key(2);
	SELECT access_control.rotate_secret_key();
});
my $key_after_rotation = $origin->safe_psql('books',
	q{SELECT access_control.create_api_key(2, 'after the rotation', now() + interval '30 days')});
$origin->safe_psql('books', qq{BEGIN; SELECT access_control.authenticate('$key'); COMMIT;});
my $token = $origin->safe_psql('books',
	q{SELECT token FROM access_control.invite_staff(1, 'pending@main.test', 'member', 'Pat')});
$origin->safe_psql('books', q{
	SELECT access_control.invite_staff(1, 'bounced@main.test');
	SELECT access_control.record_invitation_event(i.id, 'bounced') FROM access_control.invitation i WHERE i.email = 'bounced@main.test';
	SELECT access_control.resend_invitation(i.id) IS NOT NULL FROM access_control.invitation i WHERE i.email = 'bounced@main.test';
	SELECT access_control.invite_staff(1, 'cancelled@main.test');
	SELECT access_control.cancel_invitation(i.id) FROM access_control.invitation i WHERE i.email = 'cancelled@main.test';
	SELECT token AS joined FROM access_control.invite_staff(2, 'joined@partner.test') \gset
	SELECT access_control.accept_invitation(:'joined', 'Ada');
	SELECT access_control.grant_client_access(4, '{1}', 'approver', now() + interval '30 days');
	SELECT access_control.set_programmatic_access(4, false);
	SELECT access_control.create_firm('Third', 'owner@third.test');
	SELECT access_control.invite_partner_firm(2, 3, '{bills.manage}');
	SELECT access_control.accept_partner_invitation(3, 2);
	SELECT access_control.disconnect_partner(2, 3);
	SELECT access_control.invite_partner_firm(3, 3);
	UPDATE access_control.staff SET first_name = 'Dee' WHERE email = 'direct@main.test';
	BEGIN;
	SELECT access_control.set_actor(1);
	SELECT access_control.grant_staff_access(3, '{3}', 'reader');
	SELECT access_control.set_portal_permissions(1, '{invoices.view}');
	COMMIT;
});

# Everything that must come back: the rows of every table of the extension's
# two schemas (but secret_key, below) and every sequence; the chains; the
# triggers' states. An internal table is named with its schema.
sub snapshot
{
	my ($node, $db) = @_;
	my %s;
	my @tables = split /\n/, $node->safe_psql($db, q{
		SELECT format('%I.%I', c.relnamespace::regnamespace, c.relname) FROM pg_class c
		 WHERE c.relnamespace IN ('access_control'::regnamespace, 'access_control_internal'::regnamespace)
		   AND c.relkind = 'r'
		 ORDER BY 1});
	for my $t (@tables)
	{
		(my $name = $t) =~ s/^access_control\.//;
		$s{"table $name"} = $node->safe_psql($db,
			qq{SELECT count(*) || E'\\n' || coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') FROM $t t});
	}
	$s{sequences} = $node->safe_psql($db, q{
		SELECT string_agg(schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, 'unused'), E'\n' ORDER BY schemaname, sequencename)
		  FROM pg_sequences WHERE schemaname IN ('access_control', 'access_control_internal')});
	$s{chains} = $node->safe_psql($db, q{
		SELECT string_agg(coalesce(firm_id::text, 'none') || ' ' || ok || ' ' || coalesce(first_bad_id::text, '-'), E'\n' ORDER BY firm_id NULLS FIRST)
		  FROM access_control.verify_audit_chain()});
	$s{triggers} = $node->safe_psql($db, q{
		SELECT string_agg(format('%s %s %s', tgrelid::regclass, tgname, tgenabled), E'\n' ORDER BY tgrelid::regclass::text, tgname)
		  FROM pg_trigger WHERE NOT tgisinternal
		   AND tgrelid IN (SELECT oid FROM pg_class
		                    WHERE relnamespace IN ('access_control'::regnamespace, 'access_control_internal'::regnamespace))});
	return %s;
}

my @personas = ('set_actor(1)', 'set_actor(2)', 'set_actor(3)', 'set_actor(4)',
	'set_actor(5)', 'set_actor(6)', 'set_actor(7)', 'set_portal_actor(1)');
my %before = snapshot($origin, 'books');
my $decisions = decisions($origin, 'books');
my %reads = map { $_ => persona_reads($origin, 'books', $_) } @personas;
my %reports = map { $_ => persona_reports($origin, 'books', $_) } @personas;
my $secret_keys = $origin->safe_psql('books',
	q{SELECT string_agg(t::text, E'\n' ORDER BY t::text) FROM access_control.secret_key t});

is($before{chains}, "none true -\n1 true -\n2 true -\n3 true -", 'the audit chains verify before the dump');
like($before{'table audit_log'}, qr/^[1-9]\d+\n/, 'the audit log has rows');
like($before{'table audit_log'}, qr/,staff:1,/, 'including changes made by an actor');
like($before{'table secret_key'}, qr/^2\n/, 'two hashing keys');
like($before{'table permission'}, qr/reports\.view/, 'a custom permission');
like($reads{'set_actor(3)'}, qr/^ledger 1:11 1:12 2:21 2:22 3:31 3:32$/m,
	'the direct member reads the rows of the businesses granted to it');

my $dump = $origin->basedir . '/books.dump';
$origin->command_ok([ 'pg_dump', '-Fc', '-d', 'books', '-f', $dump ], 'pg_dump -Fc');

# A new node. Roles are global: the DBA creates them first (pg_dumpall -g).
my $node = PostgreSQL::Test::Cluster->new('restored');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE ROLE app LOGIN;
	CREATE DATABASE plain;
	CREATE DATABASE books;
});

# A plain pg_restore: refused on every table pg_dump carries, with the
# hint; nothing beyond what CREATE EXTENSION makes is loaded.
$node->command_fails_like([ 'pg_restore', '-d', 'plain', $dump ],
	qr/ERROR:  access_control data must be restored with session_replication_role = replica\n.*\nHINT:  .*PGOPTIONS='-c session_replication_role=replica' pg_restore/,
	'a plain pg_restore fails, pointing to the replica-mode command');
is($node->safe_psql('plain', q{
	SELECT (SELECT count(*) FROM access_control.firm) + (SELECT count(*) FROM access_control.staff)
	     + (SELECT count(*) FROM access_control.audit_log) + (SELECT count(*) FROM access_control.api_key)
	     + (SELECT count(*) FROM access_control.invitation) + (SELECT count(*) FROM access_control.staff_grant)
	     + (SELECT count(*) FROM access_control.client_role WHERE firm_id IS NOT NULL)
	     + (SELECT count(*) FROM access_control.permission WHERE bit > 24)
	     || ' ' || (SELECT count(*) FROM access_control.secret_key)}),
	'0 1', 'and loads no row of the extension\'s tables');

# The documented restore.
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$node->command_ok([ 'pg_restore', '-d', 'books', $dump ],
		'pg_restore with session_replication_role = replica succeeds');
}
my %after = snapshot($node, 'books');
for my $what (sort keys %before)
{
	next if $what eq 'table secret_key';
	is($after{$what}, $before{$what}, "$what: the same after the restore");
}
is(join("\n", sort keys %after), join("\n", sort keys %before), 'the same tables and sequences');
my $restored_keys = $node->safe_psql('books',
	q{SELECT string_agg(t::text, E'\n' ORDER BY t::text) FROM access_control.secret_key t});
my %restored_key = map { $_ => 1 } split /\n/, $restored_keys;
is(scalar(grep { !$restored_key{$_} } split /\n/, $secret_keys), 0, 'every hashing key comes back');
is(scalar(keys %restored_key), 3, 'with the one CREATE EXTENSION made during the restore');
is(decisions($node, 'books'), $decisions, 'every access decision is the same');
for my $who (@personas)
{
	is(persona_reads($node, 'books', $who), $reads{$who},
		"$who: every read helper and the protected table answer as before");
	is(persona_reports($node, 'books', $who), $reports{$who},
		"$who: the functions and views that explain access answer as before");
}

# Secrets made before the dump still work.
is($node->safe_psql('books', qq{
	BEGIN; SELECT access_control.authenticate('$key'); SELECT count(*) FROM ledger; COMMIT;
}, extra_params => [ '-U', 'app' ]), "3\n6", 'an API key made before the dump authenticates after the restore');
is($node->safe_psql('books', qq{BEGIN; SELECT access_control.authenticate('$key_after_rotation'); COMMIT;}),
	'2', 'so does one hashed under the rotated key');
my ($ret, $out, $err) = $node->psql('books', qq{SELECT access_control.authenticate('$revoked')});
like($err, qr/invalid API key/, 'a key revoked before the dump stays revoked');

# The first change after the restore: audited, chained to the end of the
# firm's restored chain.
my $last = $node->safe_psql('books', q{SELECT max(id) FROM access_control.audit_log});
$node->safe_psql('books', q{SELECT access_control.grant_client_access(4, '{2}', 'clerk')});
is($node->safe_psql('books', qq{
	SELECT a.action || ' ' || a.firm_id || ' ' || (a.prev_hash = (SELECT p.hash FROM access_control.audit_log p
	                                                               WHERE p.firm_id = 1 AND p.id <= $last ORDER BY p.id DESC LIMIT 1))
	  FROM access_control.audit_log a WHERE a.id > $last ORDER BY a.id}),
	'access.granted 1 true', 'a change after the restore is audited on the end of its firm\'s chain');
is($node->safe_psql('books', q{SELECT count(*) FROM access_control.verify_audit_chain() WHERE NOT ok}),
	'0', 'and every chain still verifies');
is($node->safe_psql('books', q{SELECT access_control.staff_has_permission(4, 2, 'bills.manage')}),
	't', 'the change takes effect');
is($node->safe_psql('books', qq{SELECT access_control.accept_invitation('$token') > 0}),
	't', 'an invitation sent before the dump can be accepted after the restore');
my $new_key = $node->safe_psql('books', q{SELECT access_control.create_api_key(1, 'after the restore')});
is($node->safe_psql('books', qq{BEGIN; SELECT access_control.authenticate('$new_key'); COMMIT;}),
	'1', 'a key made after the restore authenticates');

$node->stop;
$origin->stop;
done_testing();
