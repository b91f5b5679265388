#!/usr/bin/env bash
# test/citus/run.sh: make test-citus, access_control on a local Citus cluster.
#
#   1. builds Citus from its source tarball once (test/citus/build.sh; the
#      build is cached outside the repository, in CITUS_CACHE);
#   2. installs Citus and this tree's access_control into the server's
#      directories, holding the install lock for the whole run so that no
#      other install replaces the libraries the cluster has loaded;
#   3. starts a coordinator and two workers on localhost (as user postgres
#      when run as root: initdb refuses root), joins them, creates the
#      extension on the coordinator (Citus creates it on the workers) and
#      runs citus/replicate_access.sql, the documented setup;
#   4. builds a small firm and the table ledger twice, distributed by
#      business_id and as a plain table, both protected with protect_table
#      (test/citus/fixture.sql);
#   5. runs test/citus/checks.sql as the application role and compares its
#      output with test/citus/expected/checks.out;
#   6. stops the cluster and removes it.
# Ends with one line "N passed, N failed". Skipped, with a line saying so,
# when the tarball is missing.
#
# Environment:
#   CITUS_TARBALL    the Citus source (default ../shared/citus/citus-13.2.2.tar.gz,
#                    next to the repository)
#   CITUS_CACHE      where Citus is built (default /var/cache/access_control/citus-13.2.2)
#   AC_INSTALL_LOCK  the lock file that serialises installs into the server's
#                    directories (default /tmp/ac-install.lock); run.sh takes
#                    it itself, unless a calling process already holds it
#   CITUS_KEEP=1     keep the cluster's directory (logs) after the run
#   CITUS_BENCH_SECONDS=N  after the checks, run test/citus/router.pgbench for
#                    N seconds (4 clients) against the distributed ledger and
#                    against ledger_single, and print each one's figures
#   PG_CONFIG        as for make
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PG_CONFIG=${PG_CONFIG:-pg_config}
BINDIR=$("$PG_CONFIG" --bindir)
TARBALL=${CITUS_TARBALL:-$ROOT/../shared/citus/citus-13.2.2.tar.gz}
CACHE=${CITUS_CACHE:-/var/cache/access_control/citus-13.2.2}
LOCK=${AC_INSTALL_LOCK:-/tmp/ac-install.lock}
DB=citus_test

T0=$(date +%s)
log() { printf '[test-citus %4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

if [ ! -f "$TARBALL" ]; then
    echo "test-citus: skipped: no Citus source tarball (../shared/citus/citus-13.2.2.tar.gz; set CITUS_TARBALL)"
    exit 0
fi

# True when a process among our ancestors holds an flock on $LOCK (as when
# run as "flock $LOCK make test-citus"): taking it again would wait forever.
lock_held_by_ancestor() {
    local inode pid p
    [ -e "$LOCK" ] || return 1
    inode=$(stat -c %i "$LOCK")
    for pid in $(awk -v ino=":$inode" '$2 == "FLOCK" && substr($6, length($6) - length(ino) + 1) == ino { print $5 }' /proc/locks); do
        p=$$
        while [ "$p" -gt 1 ]; do
            [ "$p" = "$pid" ] && return 0
            p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null || echo 1)
        done
    done
    return 1
}

if [ -z "${AC_CITUS_LOCKED:-}" ]; then
    # The build needs no lock; everything after it runs under the lock.
    log "building Citus (cached in $CACHE)"
    mkdir -p "$(dirname "$CACHE")"
    PG_CONFIG=$PG_CONFIG test/citus/build.sh "$TARBALL" "$CACHE" >/dev/null
    if lock_held_by_ancestor; then
        AC_CITUS_LOCKED=1 exec "$0" "$@"
    fi
    log "waiting for the install lock $LOCK"
    AC_CITUS_LOCKED=1 exec flock "$LOCK" "$0" "$@"
fi

if [ "$(id -u)" = 0 ]; then
    AS_PG=(runuser -u postgres --)
    SUDO=()
else
    AS_PG=()
    SUDO=(sudo)
fi

log "installing Citus and access_control"
out=$("${SUDO[@]}" make -C "$CACHE" install with_llvm=no PG_CONFIG="$PG_CONFIG" 2>&1) ||
    { echo "$out"; echo "test-citus: installing Citus failed"; exit 1; }
out=$(make --no-print-directory install-as-needed PG_CONFIG="$PG_CONFIG" 2>&1) ||
    { echo "$out"; echo "test-citus: installing access_control failed"; exit 1; }

WORK=$(mktemp -d /tmp/ac-citus.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"

NODES=(coordinator worker1 worker2)
declare -A PORT
for n in "${NODES[@]}"; do
    PORT[$n]=$(test/run_tests.sh --free-port)
done

cleanup() {
    local rc=$? n
    for n in "${NODES[@]}"; do
        [ -f "$WORK/$n/postmaster.pid" ] &&
            "${AS_PG[@]}" "$BINDIR/pg_ctl" -D "$WORK/$n" -m immediate stop >/dev/null 2>&1
    done
    if [ "${CITUS_KEEP:-}" = 1 ] || [ "$rc" -ne 0 ]; then
        echo "test-citus: cluster directory kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

psql_on() {
    local node=$1
    shift
    "${AS_PG[@]}" "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "${PORT[$node]}" "$@"
}

log "starting a coordinator and two workers (ports ${PORT[coordinator]}, ${PORT[worker1]}, ${PORT[worker2]})"
for n in "${NODES[@]}"; do
    "${AS_PG[@]}" "$BINDIR/initdb" -D "$WORK/$n" -U postgres --auth=trust -E UTF8 \
        --no-instructions >"$WORK/$n.initdb.log" 2>&1
    cat >>"$WORK/$n/postgresql.conf" <<EOF
port = ${PORT[$n]}
listen_addresses = 'localhost'
unix_socket_directories = '$WORK'
shared_preload_libraries = 'citus'
wal_level = logical
max_prepared_transactions = 50
max_replication_slots = 10
max_wal_senders = 10
fsync = off
EOF
    "${AS_PG[@]}" "$BINDIR/pg_ctl" -D "$WORK/$n" -l "$WORK/$n.log" -w start >/dev/null
    psql_on "$n" -d postgres -c "CREATE DATABASE $DB" -c '\c '"$DB" -c 'CREATE EXTENSION citus'
done

psql_on coordinator -d "$DB" >/dev/null <<EOF
SELECT citus_set_coordinator_host('localhost', ${PORT[coordinator]});
SELECT citus_add_node('localhost', ${PORT[worker1]});
SELECT citus_add_node('localhost', ${PORT[worker2]});
CREATE EXTENSION access_control;
EOF

log "citus/replicate_access.sql"
psql_on coordinator -d "$DB" -v publisher="host=localhost port=${PORT[coordinator]} dbname=$DB user=postgres" \
    -f citus/replicate_access.sql

log "fixture"
psql_on coordinator -d "$DB" -f test/citus/fixture.sql >/dev/null

log "checks, as the application role"
mkdir -p "$WORK/results"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK/results"
"${AS_PG[@]}" "$BINDIR/psql" -X -a -q -h "$WORK" -p "${PORT[coordinator]}" -U app -d "$DB" \
    -v coordinator="${PORT[coordinator]}" -v worker1="${PORT[worker1]}" -v sockdir="$WORK" \
    -f test/citus/checks.sql >"$WORK/results/checks.out" 2>&1 || true

# Each "-- check:" block of the output is one check: it passes when it is
# the same as in the expected output.
count_blocks() {
    awk -v want="$1" '
        FNR == 1 { file++ ; name = "" }
        /^-- check:/ { name = $0; names[name] = 1 }
        name != "" { text[file, name] = text[file, name] $0 "\n" }
        END {
            n = 0
            for (k in names)
                if ((want == "passed") == (text[1, k] == text[2, k])) n++
            print n
        }' test/citus/expected/checks.out "$WORK/results/checks.out"
}
passed=$(count_blocks passed)
failed=$(count_blocks failed)
if diff -u test/citus/expected/checks.out "$WORK/results/checks.out" >"$WORK/results/checks.diff"; then
    log "the output matches test/citus/expected/checks.out"
else
    cat "$WORK/results/checks.diff"
    mkdir -p "$ROOT/test/citus/results"
    cp "$WORK/results/checks.out" "$WORK/results/checks.diff" "$ROOT/test/citus/results/"
    [ "$failed" -eq 0 ] && failed=1     # a difference outside the checks
    log "the output differs from test/citus/expected/checks.out (kept in test/citus/results/)"
fi
if [ "${CITUS_BENCH_SECONDS:-0}" -gt 0 ]; then
    # Not a check: figures for the README. The same transaction against the
    # distributed ledger (a router query through the coordinator to one
    # worker) and against ledger_single on the coordinator alone.
    for t in ledger ledger_single; do
        sed "s/\bTABLE\b/$t/" test/citus/router.pgbench >"$WORK/router_$t.pgbench"
        [ "$(id -u)" = 0 ] && chown postgres: "$WORK/router_$t.pgbench"
        res=$("${AS_PG[@]}" "$BINDIR/pgbench" -n -M prepared -c 4 -j 2 -T "$CITUS_BENCH_SECONDS" \
            -h "$WORK" -p "${PORT[coordinator]}" -U app -f "$WORK/router_$t.pgbench" "$DB" 2>&1) ||
            { echo "$res"; echo "test-citus: pgbench failed"; exit 1; }
        printf 'bench %-14s %s, %s\n' "$t:" \
            "$(echo "$res" | grep -o 'tps = [0-9.]*')" "$(echo "$res" | grep -o 'latency average = [0-9.]* ms')"
    done
fi
log "done"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
