#!/usr/bin/env bash
# test/bench/run.sh: make bench, the performance targets of test/bench/README.md.
#
# Builds (or reuses) a benchmark cluster holding the bench's dataset,
# measures every workload for every peer and persona in one run, checks that
# all variants return the same rows, and prints one table: workload,
# persona, our figure, the peer's figure, the ratio, the target, and whether
# it holds (then, for the record, how the cost grows with what a persona
# sees, and every variant's figure). Exits non-zero when a result differs
# between variants (a target that does not hold is reported, not an error).
#
# The cluster lives in test/bench/data/ (BENCH_DATA), is owned by user
# postgres when run as root (initdb refuses root), and is kept between runs:
# it is rebuilt only when the generator, the peers or the extension's
# install script change, or BENCH_SCALE does. The server is stopped at the
# end of every run.
#
# Environment:
#   BENCH_SCALE    fraction of the 10,000,000 ledger rows (default 1); the
#                  access data (firms, staff, grants) is always full size,
#                  so the personas keep their meaning
#   BENCH_SECONDS  length of each pgbench run (default 15)
#   BENCH_REPS     timed repetitions of each scan, after one warm-up (default 5)
#   BENCH_SCAN_BUDGET  seconds after which a scan variant stops repeating (3)
#   BENCH_DATA     where the cluster and the results go (default test/bench/data)
#   PG_CONFIG      as for make
#
# Normally called by "make bench", which first builds and installs the
# extension.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH=$ROOT/test/bench
PG_CONFIG=${PG_CONFIG:-pg_config}
BINDIR=$("$PG_CONFIG" --bindir)
SCALE=${BENCH_SCALE:-1}
PGB_SECONDS=${BENCH_SECONDS:-15}
REPS=${BENCH_REPS:-5}
DATA=${BENCH_DATA:-$BENCH/data}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
PGDATA_DIR=$DATA/cluster
SOCK=$DATA/sock
RUN=$DATA/last
LEDGER_ROWS=$(awk -v s="$SCALE" 'BEGIN { n = int(s * 10000000 + 0.5); if (n < 1000) n = 1000; print n }')

T0=$(date +%s)
log() { printf '[bench %4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ "$(id -u)" = 0 ]; then
    AS_PG=(runuser -u postgres --)
else
    AS_PG=()
fi

export PGHOST=$SOCK PGPORT=5432 PGDATABASE=bench PGUSER=postgres
unset PGSERVICE PGOPTIONS PGPASSWORD
PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
PGBENCH=("$BINDIR/pgbench")

pg_ctl() { "${AS_PG[@]}" "$BINDIR/pg_ctl" -D "$PGDATA_DIR" "$@"; }

server_running() { [ -f "$PGDATA_DIR/postmaster.pid" ] && pg_ctl status >/dev/null 2>&1; }

BG_PIDS=()
cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    if server_running; then
        log "stopping the benchmark server"
        pg_ctl -m fast -w stop >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Server settings, rewritten at every start (they do not change the data).
# 24 GiB and 2 cores: the dataset (about 2 GB with indexes) fits in
# shared_buffers, so every variant reads from memory. JIT is off: it adds
# compile time to every big query and cannot inline the C helpers anyway.
write_settings() {
    cat >"$DATA/bench.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = 5432
max_connections = 40
shared_buffers = 4GB
effective_cache_size = 16GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_worker_processes = 8
max_parallel_workers = 2
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 2
jit = off
random_page_cost = 1.1
wal_level = minimal
max_wal_senders = 0
max_wal_size = 8GB
checkpoint_timeout = 30min
synchronous_commit = on
logging_collector = off
log_min_messages = warning
EOF
    chmod 644 "$DATA/bench.conf"
}

start_server() {
    write_settings
    mkdir -p "$SOCK"
    [ ${#AS_PG[@]} -gt 0 ] && chown postgres: "$SOCK"
    pg_ctl -l "$DATA/server.log" -w -t 120 start >/dev/null || {
        tail -20 "$DATA/server.log" >&2
        die "the benchmark server did not start"
    }
}

# The installed extension must be this tree's: "make bench" installs it just
# before (other trees on the machine may install theirs at other times).
sharedir=$("$PG_CONFIG" --sharedir)/extension
for f in "$ROOT"/sql/access_control--*.sql "$ROOT/access_control.so"; do
    case $f in
        *.so) installed=$("$PG_CONFIG" --pkglibdir)/access_control.so ;;
        *) installed=$sharedir/$(basename "$f") ;;
    esac
    cmp -s "$f" "$installed" ||
        die "$installed is not this tree's $(basename "$f"); run make bench, which installs it"
done

# --- the cluster, built once per generator / install script / scale ----------
key=$(cat "$BENCH/dataset.sql" "$BENCH/peers.sql" "$ROOT"/sql/access_control--*.sql |
      sha256sum | cut -c1-16)-$LEDGER_ROWS

if server_running; then
    log "a benchmark server was left running; stopping it"
    pg_ctl -m fast -w stop >/dev/null
fi

if [ -f "$PGDATA_DIR/PG_VERSION" ] && [ "$(cat "$DATA/key" 2>/dev/null)" = "$key" ]; then
    log "reusing the cached dataset ($LEDGER_ROWS ledger rows, key $key)"
    start_server
else
    log "building the dataset ($LEDGER_ROWS ledger rows) in $DATA"
    rm -rf "$PGDATA_DIR" "$DATA/key"
    mkdir -p "$PGDATA_DIR"
    if [ ${#AS_PG[@]} -gt 0 ]; then
        chown postgres: "$DATA" "$PGDATA_DIR"
    fi
    "${AS_PG[@]}" "$BINDIR/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 \
        --locale=C >"$DATA/initdb.log" 2>&1 || { cat "$DATA/initdb.log" >&2; die "initdb failed"; }
    echo "include_if_exists = '$DATA/bench.conf'" >>"$PGDATA_DIR/postgresql.conf"
    start_server
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
    t=$(date +%s)
    "${PSQL[@]}" -v ledger_rows="$LEDGER_ROWS" -f "$BENCH/dataset.sql" >/dev/null
    "${PSQL[@]}" -f "$BENCH/peers.sql" >/dev/null
    "${PSQL[@]}" -c "VACUUM (ANALYZE)" -c "CHECKPOINT"
    echo "$key" >"$DATA/key"
    log "dataset built and checked in $(( $(date +%s) - t )) s"
fi

# --- a fresh start for this run's measurements ---------------------------------
rm -rf "$RUN"
mkdir -p "$RUN/plans"
"${PSQL[@]}" -At >/dev/null <<'SQL'
-- leftovers of an interrupted run: staff 2004 holds nothing between runs
DELETE FROM access_control.staff_grant WHERE staff_id = 2004;
SELECT access_control.purge_audit_log(now());
SELECT sum(pg_prewarm(c.oid))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('public', 'access_control', 'bench') AND c.relkind IN ('r', 'i');
SQL
log "prewarmed; measuring"

mapfile -t PERSONAS < <("${PSQL[@]}" -At -c "SELECT name || ' ' || staff_id FROM bench.persona ORDER BY sort")
staff_of() { local p; for p in "${PERSONAS[@]}"; do if [ "${p% *}" = "$1" ]; then echo "${p#* }"; fi; done; }

# The created_at filter of the second workload: the last 1 % of the ledger.
RECENT=$("${PSQL[@]}" -At -c "SELECT min(created_at) + (max(created_at) - min(created_at)) * 0.99 FROM ledger")

# Each persona's visible ids: by the hand-written rule, and by the extension;
# they must be equal and of the persona's size. P0' gets them as a literal.
for pl in "${PERSONAS[@]}"; do
    echo "BEGIN;"
    echo "SELECT access_control.set_actor(${pl#* }) \\g /dev/null"
    echo "SELECT '${pl% *}', access_control.visible_business_ids() = bench.rule_ids(${pl#* }),"
    echo "       cardinality(bench.rule_ids(${pl#* })) = businesses FROM bench.persona WHERE name = '${pl% *}';"
    echo "COMMIT;"
done | "${PSQL[@]}" -At >"$RUN/ids_check.txt"
if grep -q '|f' "$RUN/ids_check.txt"; then
    cat "$RUN/ids_check.txt" >&2
    die "the extension's visible ids differ from the hand-written rule"
fi

# --- scans: W1 full aggregate, W2 recent rows (created_at filter) ---------------
# One session runs every variant in turns (round 0 is a warm-up, rounds
# 1..REPS are timed), so that noise from the machine falls on all of them
# alike. A variant stops repeating once it has spent SCAN_BUDGET seconds;
# P2 is cut off by statement_timeout after 75 times our own time (enough to
# decide its ">= 50 x" target; its rows are then checked on W2 only).
SCAN_BUDGET=${BENCH_SCAN_BUDGET:-3}
W1="SELECT count(*), sum(amount) FROM ledger"
W2="SELECT count(*), sum(amount) FROM ledger WHERE created_at >= '$RECENT'"

variant_role() {
    case $1 in
        P0|P0prime) echo bench_raw ;;
        P1) echo bench_p1 ;; P2) echo bench_p2 ;; P3) echo bench_p3 ;;
        ours) echo bench_ours ;; ids) echo bench_ids ;;
    esac
}

gen_scans() {
    local w p s r v lv q persona_line variants
    echo '\set ON_ERROR_STOP 0'
    echo '\pset tuples_only on'
    echo '\pset format unaligned'
    echo '\pset pager off'
    for w in W1 W2; do
        for persona_line in "${PERSONAS[@]}"; do
            p=${persona_line% *}
            s=${persona_line#* }
            variants="ours ids P0prime P3 P1 P2"
            [ "$p" = all_seeing ] && [ "$w" = W1 ] && variants="$variants P0"
            echo "SELECT bench.rule_ids($s)::text AS ids \\gset"
            echo "\\set cap_p2 120000"
            for v in $variants; do
                echo "\\set spent_${v,,} 0"
                echo "\\set run_${v,,} true"
            done
            for r in $(seq 0 "$REPS"); do
                # An untimed run of the oracle first: a variant timed right
                # after a heavy one (P1, P2) would find the CPU caches cold and
                # pay for it; now the first timed one follows a light query,
                # as every other does.
                echo "BEGIN; SET LOCAL ROLE bench_raw;"
                echo "${!w} $( [ "$w" = W1 ] && echo WHERE || echo AND ) business_id = ANY (:'ids'::bigint[]) \\g /dev/null"
                echo "COMMIT;"
                for v in $variants; do
                    lv=${v,,}   # psql's \\gset names variables in lower case
                    case $v in
                        P0prime) q="${!w} $( [ "$w" = W1 ] && echo WHERE || echo AND ) business_id = ANY (:'ids'::bigint[])" ;;
                        *) q=${!w} ;;
                    esac
                    echo "\\if :run_$lv"
                    echo "\\echo @@ $w $v $p $r"
                    echo "BEGIN;"
                    echo "SET LOCAL ROLE $(variant_role "$v");"
                    if [ "$v" = P2 ]; then
                        echo "SET LOCAL statement_timeout = :cap_p2;"
                    else
                        echo "SET LOCAL statement_timeout = 120000;"
                    fi
                    echo "SELECT access_control.set_actor($s), set_config('app.staff_id', '$s', true) \\g /dev/null"
                    echo "SELECT extract(epoch FROM clock_timestamp()) AS t0 \\gset"
                    echo "\\set LAST_ERROR_SQLSTATE 00000"
                    echo "\\timing on"
                    echo "$q;"
                    echo "\\timing off"
                    echo "\\echo @@sqlstate :LAST_ERROR_SQLSTATE"
                    echo "COMMIT;"
                    echo "SELECT extract(epoch FROM clock_timestamp()) - :t0 AS last \\gset"
                    echo "\\echo @@elapsed :last"
                    echo "SELECT :spent_$lv + :last AS spent_$lv,"
                    echo "       (:spent_$lv + :last < $SCAN_BUDGET AND :'LAST_ERROR_SQLSTATE' = '00000'"
                    echo "        AND '$v' <> 'P2') AS run_$lv \\gset"
                    if [ "$v" = ours ] && [ "$r" = 0 ] && [ "$w" = W1 ]; then
                        echo "SELECT greatest(1000, least(120000, round(75000 * :spent_ours)))::int AS cap_p2 \\gset"
                    fi
                    echo "\\endif"
                done
            done
        done
    done
}

gen_scans >"$RUN/scans.sql"
t=$(date +%s)
"${PSQL[@]}" -v ON_ERROR_STOP=0 -f "$RUN/scans.sql" >"$RUN/scans.out" 2>"$RUN/scans.err" || true
log "scans done in $(( $(date +%s) - t )) s"

# workload, variant, persona, rep, ms, result, sqlstate (a statement that
# failed, such as P2 cut off by its timeout, gets the time it ran)
awk '
    function flush() { if (tag != "") print tag "\t" (ms != "" ? ms : el * 1000) "\t" res "\t" st }
    /^@@ W/        { flush(); tag = $2 "\t" $3 "\t" $4 "\t" $5; ms = ""; res = ""; st = ""; el = 0; next }
    /^@@sqlstate / { st = $2; next }
    /^@@elapsed /  { el = $2; next }
    /^Time: /      { ms = $2; next }
    /\|/           { res = $0; next }
    END            { flush() }
' "$RUN/scans.out" >"$RUN/scans.tsv"

# --- plans ------------------------------------------------------------------------
gen_plans() {
    local w p s v q persona_line
    echo '\pset tuples_only on'
    echo '\pset format unaligned'
    for persona_line in "${PERSONAS[@]}"; do
        p=${persona_line% *}
        s=${persona_line#* }
        echo "SELECT bench.rule_ids($s)::text AS ids \\gset"
        for w in W1 W2; do
            for v in ours ids P0prime P3; do
                case $v in
                    P0prime) q="${!w} $( [ "$w" = W1 ] && echo WHERE || echo AND ) business_id = ANY (:'ids'::bigint[])" ;;
                    *) q=${!w} ;;
                esac
                echo "BEGIN;"
                echo "SET LOCAL ROLE $(variant_role "$v");"
                echo "SELECT access_control.set_actor($s), set_config('app.staff_id', '$s', true) \\g /dev/null"
                echo "\\o $RUN/plans/${w}_${v}_${p}.txt"
                echo "EXPLAIN (COSTS OFF) $q;"
                echo "\\o"
                echo "COMMIT;"
            done
        done
    done
}
gen_plans >"$RUN/plans.sql"
"${PSQL[@]}" -f "$RUN/plans.sql" >/dev/null
# workload, variant, persona, uses the business_id index, uses the created_at index
for f in "$RUN"/plans/*.txt; do
    b=$(basename "$f" .txt)
    w=${b%%_*}; rest=${b#*_}; v=${rest%%_*}; p=${rest#*_}
    printf '%s\t%s\t%s\t%s\t%s\n' "$w" "$v" "$p" \
        "$(grep -q ledger_business_id_idx "$f" && echo t || echo f)" \
        "$(grep -q ledger_created_at_idx "$f" && echo t || echo f)"
done >"$RUN/plans.tsv"
log "plans recorded"

# --- pgbench ----------------------------------------------------------------------
# metrics.tsv: name, value
metric() { printf '%s\t%s\n' "$1" "$2" >>"$RUN/metrics.tsv"; }
: >"$RUN/metrics.tsv"

pgb_tps() { awk '/^tps = / { print $3; exit }' "$1"; }
pgb_stmt() { awk -v pat="$2" 'index($0, pat) { print $1; exit }' "$1"; }

OWNER=$(staff_of owner_large)
ALL=$(staff_of all_seeing)
MEMBER500=$(staff_of member_500)

run_point() {   # role staff label: records the TPS as metric "label"
    local f=$RUN/pgbench_$3_$((++PGB_RUNS)).log
    "${PGBENCH[@]}" -n -M prepared -c 2 -j 2 -T "$PGB_SECONDS" -U "$1" -D staff="$2" \
        -D rows="$LEDGER_ROWS" -f "$BENCH/point.pgbench" >"$f" 2>&1 ||
        { cat "$f" >&2; die "pgbench failed"; }
    metric "$3" "$(pgb_tps "$f")"
}

# Point lookups while another session makes access changes (grant.pgbench,
# audited) at 1 % of the reader's transactions, as measured without writers.
# The baseline runs the same writer with its changes rolled back: the same
# work on the machine, but nothing committed, so nothing is invalidated; the
# difference is what staying fresh costs the readers. The writer runs with
# synchronous_commit = off in both: its waits for the disk, which no reader
# shares, otherwise swing the readers' figure by 20 % from run to run.
run_fresh() {   # staff script label
    local base rate f=$RUN/pgbench_writer_$((++PGB_RUNS)).log
    base=$(awk -F'\t' '$1 == "oltp_ours_owner" { print $2; exit }' "$RUN/metrics.tsv")
    rate=$(awk -v t="$base" 'BEGIN { printf "%.1f", t / 99 / 2 }')   # two changes per script
    PGOPTIONS='-c synchronous_commit=off' \
        "${PGBENCH[@]}" -n -M prepared -c 1 -j 1 -R "$rate" -T "$PGB_SECONDS" -U postgres \
        -f "$BENCH/$2" >"$f" 2>&1 &
    BG_PIDS+=($!)
    run_point bench_ours "$1" "$3"
    wait "${BG_PIDS[-1]}" || { cat "$f" >&2; die "the writing pgbench failed"; }
    unset 'BG_PIDS[-1]'
    [ "$2" = grant.pgbench ] && metric fresh_writes_per_s "$(awk -v t="$(pgb_tps "$f")" 'BEGIN { print 2 * t }')"
    return 0
}

PGB_RUNS=0
log "OLTP point lookups and freshness (pgbench, $PGB_SECONDS s each)"
# A B C C B A orders, so that drift on the machine cancels out.
run_point bench_raw "$OWNER" oltp_raw_owner
run_point bench_ours "$OWNER" oltp_ours_owner
run_fresh "$OWNER" grant_rollback.pgbench fresh_base_owner_large
run_fresh "$OWNER" grant.pgbench fresh_writes_owner_large
run_fresh "$OWNER" grant.pgbench fresh_writes_owner_large
run_fresh "$OWNER" grant_rollback.pgbench fresh_base_owner_large
run_fresh "$MEMBER500" grant_rollback.pgbench fresh_base_member_500
run_fresh "$MEMBER500" grant.pgbench fresh_writes_member_500
run_point bench_ours "$OWNER" oltp_ours_owner
run_point bench_raw "$OWNER" oltp_raw_owner
run_point bench_raw "$ALL" oltp_raw_all
run_point bench_ours "$ALL" oltp_ours_all
run_point bench_ours "$ALL" oltp_ours_all
run_point bench_raw "$ALL" oltp_raw_all
"${PSQL[@]}" -c "DELETE FROM access_control.staff_grant WHERE staff_id = 2004"

# A change committed by another session is honoured by the next statement,
# even inside the same READ COMMITTED transaction.
N20=$("${PSQL[@]}" -At -c "SELECT count(*) FROM ledger WHERE business_id = 20")
"${PSQL[@]}" -At >"$RUN/fresh_check.txt" <<SQL
BEGIN;
SET LOCAL ROLE bench_ours;
SELECT access_control.set_actor(2004) \\g /dev/null
SELECT count(*) FROM ledger;
\\! "$BINDIR/psql" -X -q -At -c "SELECT access_control.grant_client_access(2004, '{20}', 'clerk')" >/dev/null
SELECT count(*) FROM ledger;
\\! "$BINDIR/psql" -X -q -At -c "SELECT access_control.revoke_client_access(2004, '{20}')" >/dev/null
SELECT count(*) FROM ledger;
COMMIT;
SQL
if [ "$(tr '\n' ' ' <"$RUN/fresh_check.txt")" = "0 $N20 0 " ]; then
    metric fresh_next_statement 1
else
    metric fresh_next_statement 0
fi

# --- visible_business_ids(): warm, cold in a new session, cold after a change ---
log "visible_business_ids() for every persona"
for pl in "${PERSONAS[@]}"; do
    p=${pl% *}; s=${pl#* }
    f=$RUN/vis_warm_$p.log
    "${PGBENCH[@]}" -n -M prepared -c 1 -T 2 -r -U bench_ours -D staff="$s" \
        -f "$BENCH/visible.pgbench" >"$f" 2>&1 || { cat "$f" >&2; die "pgbench failed"; }
    metric "vis_warm_$p" "$(pgb_stmt "$f" visible_business_ids)"
    f=$RUN/vis_new_$p.log
    "${PGBENCH[@]}" -n -M simple -C -c 1 -T 2 -r -U bench_ours -D staff="$s" \
        -f "$BENCH/visible.pgbench" >"$f" 2>&1 || { cat "$f" >&2; die "pgbench failed"; }
    metric "vis_new_$p" "$(pgb_stmt "$f" visible_business_ids)"
    f=$RUN/vis_inval_$p.log
    "${PGBENCH[@]}" -n -M prepared -c 1 -T 2 -r -U postgres -D staff="$s" \
        -f "$BENCH/visible_inval.pgbench" >"$f" 2>&1 || { cat "$f" >&2; die "pgbench failed"; }
    metric "vis_inval_$p" "$(pgb_stmt "$f" visible_business_ids)"
done

# --- access changes per second, audited -------------------------------------------
log "grants and revokes per second"
audit_rows() {
    "${PSQL[@]}" -At -c "SELECT count(*) FROM access_control.audit_log WHERE entity = 'staff_grant' AND action IN ('access.granted', 'access.revoked')"
}
a0=$(audit_rows)
f=$RUN/grants.log
"${PGBENCH[@]}" -n -M prepared -c 1 -j 1 -T "$PGB_SECONDS" -U postgres \
    -f "$BENCH/grant.pgbench" >"$f" 2>&1 || { cat "$f" >&2; die "pgbench failed"; }
a1=$(audit_rows)
metric grants_per_s "$(awk -v t="$(pgb_tps "$f")" 'BEGIN { print 2 * t }')"
metric grants_made "$(awk '/number of transactions actually processed/ { print 2 * $NF }' "$f")"
metric grants_audited "$((a1 - a0))"
# For the diagnosis: the same without waiting for the commit to be flushed
# (what one core does, whatever the disk), and as "system" (no actor, no
# authority checks, no explicit transaction block), with the flush.
f=$RUN/grants_async.log
PGOPTIONS="-c synchronous_commit=off" "${PGBENCH[@]}" -n -M prepared -c 1 -j 1 -T "$PGB_SECONDS" \
    -U postgres -f "$BENCH/grant.pgbench" >"$f" 2>&1 || { cat "$f" >&2; die "pgbench failed"; }
metric grants_per_s_async "$(awk -v t="$(pgb_tps "$f")" 'BEGIN { print 2 * t }')"
f=$RUN/grants_system.log
"${PGBENCH[@]}" -n -M prepared -c 1 -j 1 -T "$PGB_SECONDS" -U postgres \
    -f "$BENCH/grant_system.pgbench" >"$f" 2>&1 || { cat "$f" >&2; die "pgbench failed"; }
metric grants_per_s_system "$(awk -v t="$(pgb_tps "$f")" 'BEGIN { print 2 * t }')"
"${PSQL[@]}" -c "DELETE FROM access_control.staff_grant WHERE staff_id = 2004"

# --- the report ---------------------------------------------------------------------
metric wall_seconds "$(( $(date +%s) - T0 ))"
metric ledger_rows "$LEDGER_ROWS"
label="$LEDGER_ROWS ledger rows; $("${PSQL[@]}" -At -c "SHOW server_version"), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); pgbench runs of $PGB_SECONDS s"
"${PSQL[@]}" -v scans="$RUN/scans.tsv" -v plans="$RUN/plans.tsv" -v metrics="$RUN/metrics.tsv" \
    -v ledger_label="$label" -f "$BENCH/report.sql" | tee "$RUN/report.txt"
if grep -q 'DIFFERENT ROWS' "$RUN/report.txt"; then
    die "variants returned different rows (see above and $RUN/scans.tsv)"
fi
log "done in $(( $(date +%s) - T0 )) s; details in $RUN"
