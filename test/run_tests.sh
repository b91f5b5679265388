#!/usr/bin/env bash
# Build, install and test the access_control extension.
#
#   1. build + install (directly as root, otherwise via sudo)
#   2. in ONE throw-away cluster (pg_virtualenv; with AC_CLUSTER=initdb, for
#      a PostgreSQL built from source, one made with initdb and pg_ctl):
#        - pg_regress tests   (make installcheck, sql/*.sql vs expected/*.out)
#        - isolation specs    (test/isolation/specs/*.spec)
#   3. TAP tests (test/t/*.pl); they initdb their own clusters, so when run as
#      root they run as user postgres from a temporary copy of the tree.
#
# Prints each part's log and ends with exactly one line "N passed, N failed".
# Normally called by "make test", which sets the variables below.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

MAKE=${MAKE:-make}
PG_CONFIG=${PG_CONFIG:-pg_config}
PG_BINDIR=${PG_BINDIR:-$("$PG_CONFIG" --bindir)}
PG_MAJOR=${PG_MAJOR:-$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')}
PGXS_DIR=${PGXS_DIR:-$(dirname "$("$PG_CONFIG" --pgxs)")/../..}
PG_REGRESS_BIN=$PGXS_DIR/src/test/regress/pg_regress
PG_ISOLATION_REGRESS_BIN=$PGXS_DIR/src/test/isolation/pg_isolation_regress

isolation_specs() {
    local f
    for f in test/isolation/specs/*.spec; do
        [ -e "$f" ] || continue
        basename "$f" .spec
    done | sort
}

# Pick a TCP port nobody listens on, so that throw-away clusters started in
# parallel (pg_virtualenv -t would otherwise start at 5432) do not collide.
# The ports lie below Linux's ephemeral range (32768 and up), where a
# client connection's local port could otherwise take the one picked.
free_port() {
    local port i
    for i in $(seq 1 50); do
        port=$((20000 + RANDOM % 12000))
        [ -e "/var/run/postgresql/.s.PGSQL.$port" ] && continue
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        echo "$port"
        return 0
    done
    echo 5432
}

if [ "${1:-}" = "--free-port" ]; then
    free_port
    exit 0
fi

# ---------------------------------------------------------------------------
# Inner part: runs inside pg_virtualenv, writes logs and exit codes to $1.
# ---------------------------------------------------------------------------
if [ "${1:-}" = "--in-cluster" ]; then
    logdir=$2

    # pg_regress only; isolation and TAP are run separately below.
    "$MAKE" --no-print-directory installcheck PG_CONFIG="$PG_CONFIG" \
        ISOLATION= TAP_TESTS= >"$logdir/regress.log" 2>&1
    echo $? >"$logdir/regress.rc"

    mapfile -t specs < <(isolation_specs)
    if [ ${#specs[@]} -gt 0 ]; then
        rm -rf test/isolation/output_iso
        mkdir -p test/isolation/output_iso
        "$PG_ISOLATION_REGRESS_BIN" --inputdir=test/isolation \
            --outputdir=test/isolation/output_iso --bindir= \
            "${specs[@]}" >"$logdir/isolation.log" 2>&1
        echo $? >"$logdir/isolation.rc"
    fi
    exit 0
fi

# ---------------------------------------------------------------------------
# Outer part.
# ---------------------------------------------------------------------------
PASSED=0
FAILED=0
LOGDIR=$(mktemp -d)
TAPDIR=""
CLUSTERDIR=""
as_owner=()
cleanup() {
    # An interrupted run leaves its initdb cluster running: stop it.
    if [ -n "$CLUSTERDIR" ] && [ -f "$CLUSTERDIR/data/postmaster.pid" ]; then
        "${as_owner[@]}" "$PG_BINDIR/pg_ctl" -D "$CLUSTERDIR/data" -m immediate stop >/dev/null 2>&1
    fi
    [ -n "$CLUSTERDIR" ] && rm -rf "$CLUSTERDIR"
    rm -rf "$LOGDIR"
    [ -n "$TAPDIR" ] && rm -rf "$TAPDIR"
}
trap cleanup EXIT

section() { printf '\n==== %s ====\n' "$*"; }

finish() {
    echo
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}

# Parse pg_regress / pg_isolation_regress summary; echo "passed failed".
parse_regress() {
    local log=$1 rc=$2 line p=0 f=0 found=0 a b c
    while IFS= read -r line; do
        if [[ $line =~ All\ ([0-9]+)\ tests\ passed ]]; then
            p=$((p + BASH_REMATCH[1])); found=1
        elif [[ $line =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed,\ ([0-9]+)\ of\ these\ failures\ ignored ]]; then
            a=${BASH_REMATCH[1]}; b=${BASH_REMATCH[2]}; c=${BASH_REMATCH[3]}
            f=$((f + a - c)); p=$((p + b - a + c)); found=1
        elif [[ $line =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
            a=${BASH_REMATCH[1]}; b=${BASH_REMATCH[2]}
            f=$((f + a)); p=$((p + b - a)); found=1
        elif [[ $line =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ passed,\ ([0-9]+)\ failed\ test ]]; then
            p=$((p + BASH_REMATCH[2])); found=1
        fi
    done <"$log"
    # Failed without a summary (e.g. could not connect): one failure.
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    echo "$p $f"
}

# --- build and install -----------------------------------------------------
section "build and install"
{
    "$MAKE" --no-print-directory all PG_CONFIG="$PG_CONFIG" &&
    if [ "$(id -u)" = 0 ]; then
        "$MAKE" --no-print-directory install PG_CONFIG="$PG_CONFIG"
    else
        sudo "$MAKE" --no-print-directory install PG_CONFIG="$PG_CONFIG"
    fi
} >"$LOGDIR/build.log" 2>&1
build_rc=$?
cat "$LOGDIR/build.log"
if [ $build_rc -ne 0 ]; then
    echo "build or install failed"
    FAILED=1
    finish
fi

# --- regression + isolation in one throw-away cluster ----------------------
rm -f regression.diffs regression.out
if [ "${AC_CLUSTER:-}" = initdb ]; then
    # A PostgreSQL built from source has no pg_virtualenv: make the cluster
    # with initdb (as postgres when root: initdb refuses root), listening
    # only on a socket in a private directory.
    section "initdb + pg_ctl, PostgreSQL $PG_MAJOR (regression + isolation)"
    CLUSTERDIR=$(mktemp -d)
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$CLUSTERDIR"
        as_owner=(runuser -u postgres --)
    fi
    cluster_port=$(free_port)
    {
        "${as_owner[@]}" "$PG_BINDIR/initdb" -D "$CLUSTERDIR/data" -U postgres \
            -A trust --no-sync &&
        "${as_owner[@]}" "$PG_BINDIR/pg_ctl" -D "$CLUSTERDIR/data" -w \
            -l "$CLUSTERDIR/server.log" \
            -o "-c listen_addresses='' -k $CLUSTERDIR -p $cluster_port" start &&
        MAKE="$MAKE" PG_CONFIG="$PG_CONFIG" PG_MAJOR="$PG_MAJOR" PGXS_DIR="$PGXS_DIR" \
            PGHOST="$CLUSTERDIR" PGPORT="$cluster_port" PGUSER=postgres PGDATABASE=postgres \
            "$ROOT/test/run_tests.sh" --in-cluster "$LOGDIR"
    } >"$LOGDIR/cluster.log" 2>&1
    venv_rc=$?
    "${as_owner[@]}" "$PG_BINDIR/pg_ctl" -D "$CLUSTERDIR/data" -m fast stop \
        >>"$LOGDIR/cluster.log" 2>&1
    if [ $venv_rc -ne 0 ]; then
        cat "$CLUSTERDIR/server.log" >>"$LOGDIR/cluster.log"
    fi
    rm -rf "$CLUSTERDIR"
    CLUSTERDIR=""
else
    section "pg_virtualenv -t -v $PG_MAJOR (regression + isolation)"
    MAKE="$MAKE" PG_CONFIG="$PG_CONFIG" PG_MAJOR="$PG_MAJOR" PGXS_DIR="$PGXS_DIR" \
        PGPORT="$(free_port)" pg_virtualenv -t -v "$PG_MAJOR" -- "$ROOT/test/run_tests.sh" --in-cluster "$LOGDIR" \
        >"$LOGDIR/cluster.log" 2>&1
    venv_rc=$?
fi
cat "$LOGDIR/cluster.log"

section "regression tests (pg_regress)"
if [ -f "$LOGDIR/regress.rc" ]; then
    cat "$LOGDIR/regress.log"
    read -r p f < <(parse_regress "$LOGDIR/regress.log" "$(cat "$LOGDIR/regress.rc")")
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    if [ "$f" -gt 0 ] && [ -f regression.diffs ]; then
        section "regression.diffs"
        cat regression.diffs
    fi
else
    echo "regression tests did not run (pg_virtualenv exit code $venv_rc)"
    FAILED=$((FAILED + 1))
fi

section "isolation tests (pg_isolation_regress)"
if [ -z "$(isolation_specs)" ]; then
    echo "no isolation specs in test/isolation/specs; skipped"
elif [ -f "$LOGDIR/isolation.rc" ]; then
    cat "$LOGDIR/isolation.log"
    read -r p f < <(parse_regress "$LOGDIR/isolation.log" "$(cat "$LOGDIR/isolation.rc")")
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    if [ "$f" -gt 0 ] && [ -f test/isolation/output_iso/regression.diffs ]; then
        section "test/isolation/output_iso/regression.diffs"
        cat test/isolation/output_iso/regression.diffs
    fi
else
    echo "isolation tests did not run (pg_virtualenv exit code $venv_rc)"
    FAILED=$((FAILED + 1))
fi

# --- TAP tests ---------------------------------------------------------------
section "TAP tests (prove)"
mapfile -t tap_tests < <(ls test/t/*.pl 2>/dev/null | sort)
if [ ${#tap_tests[@]} -eq 0 ]; then
    echo "no TAP tests in test/t; skipped"
else
    if [ "$(id -u)" = 0 ]; then
        # initdb refuses to run as root: run as postgres from a copy.
        TAPDIR=$(mktemp -d)
        tar -C "$ROOT" --exclude=.git --exclude='tmp_check*' --exclude=results \
            -cf - . | tar -C "$TAPDIR" -xf -
        chown -R postgres: "$TAPDIR"
        chmod 755 "$TAPDIR"
        tap_work=$TAPDIR
        as_user=(runuser -u postgres --)
    else
        TAPDIR=$(mktemp -d)
        tap_work=$ROOT
        as_user=()
    fi
    # Test::Utils keeps its socket temp dirs when a test fails; keep them
    # inside $TAPDIR so they are cleaned up with it.
    mkdir -p "$TAPDIR/tmp"
    [ "${#as_user[@]}" -gt 0 ] && chown postgres: "$TAPDIR/tmp"
    # One prove run per file, so that a script which dies or stops short of
    # its plan without a "not ok" line still counts as a failure.
    tap_rc=0
    : >"$LOGDIR/tap.log"
    for t in "${tap_tests[@]}"; do
        "${as_user[@]}" env "TESTDIR=$tap_work" "TMPDIR=$TAPDIR/tmp" "PATH=$PG_BINDIR:$PATH" \
            "PG_REGRESS=$PG_REGRESS_BIN" \
            bash -c 'cd "$TESTDIR" && exec "$@"' bash \
            prove -v -I "$PGXS_DIR/src/test/perl" -I test/t "$t" \
            >"$LOGDIR/tap_one.log" 2>&1
        rc=$?
        cat "$LOGDIR/tap_one.log" >>"$LOGDIR/tap.log"
        p=$(grep -cE '^(.* \.\. )?ok [0-9]+' "$LOGDIR/tap_one.log")
        f=$(grep -cE '^(.* \.\. )?not ok [0-9]+' "$LOGDIR/tap_one.log")
        if [ "$rc" -ne 0 ]; then
            tap_rc=$rc
            [ "$f" -eq 0 ] && f=1   # died, bad plan, ... without "not ok"
        fi
        PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    done
    cat "$LOGDIR/tap.log"
    if [ "$tap_rc" -ne 0 ] && [ -d "$tap_work/tmp_check/log" ]; then
        if [ "$tap_work" != "$ROOT" ]; then
            rm -rf "$ROOT/tmp_check_tap"
            cp -r "$tap_work/tmp_check" "$ROOT/tmp_check_tap"
            echo "TAP logs kept in tmp_check_tap/log"
        else
            echo "TAP logs kept in tmp_check/log"
        fi
    fi
fi

finish
