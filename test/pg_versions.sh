#!/usr/bin/env bash
# Test access_control against a PostgreSQL major version other than the
# system's, prepared once and cached outside the repository.
#
#   test/pg_versions.sh prepare 17|18   prepare that version (idempotent)
#   test/pg_versions.sh test 17|18      prepare if needed, then build, install
#                                       and run every test against it; ends
#                                       with "N passed, N failed"
#   test/pg_versions.sh test-all        the system version ("make test"),
#                                       17 and 18, then the summed line
#
# How each version is had on Debian 12, which ships 15 only:
#   18  Debian's source package from sid (a private apt source list, used
#       only by this script), built with a minimal configure into
#       $AC_PG_CACHE/pg18.  Host packages: bison flex gcc make zlib1g-dev
#       dpkg-dev libsodium-dev libipc-run-perl.
#   17  a minimal Debian 13 root made with debootstrap in
#       $AC_PG_CACHE/pg17-root, with Debian's postgresql-17 packages; the
#       build and "make test" run inside it with chroot.  Host package:
#       debootstrap.
#   16  Debian's mirror carries it for no release this machine can use.
#
# Preparing needs root (apt-get, debootstrap, chroot); without root the
# script prints the exact command to run.  A version is prepared once: a
# stamp file marks a finished preparation, and an unfinished one is redone.
# The build and the tests run in a private copy of the tree, so the
# working tree's objects (built for the system version) are left alone.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
work=""                     # the tree's copy being tested, removed on exit
CACHE=${AC_PG_CACHE:-/var/cache/access_control}
MIRROR=${AC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
MAKE=${MAKE:-make}
JOBS=${AC_JOBS:-$(nproc)}

PG18_PREFIX=$CACHE/pg18
PG17_ROOT=$CACHE/pg17-root
PG18_HOST_PACKAGES="bison flex gcc make zlib1g-dev dpkg-dev libsodium-dev libipc-run-perl"
PG17_HOST_PACKAGES="debootstrap"
PG17_PACKAGES="postgresql-17 postgresql-server-dev-17 libsodium-dev make gcc libc6-dev libipc-run-perl"

die() { echo "pg_versions: $*" >&2; exit 1; }
say() { echo "pg_versions: $*"; }
is_root() { [ "$(id -u)" = 0 ]; }

usage() {
    sed -n '2,/^set -uo/p' "$ROOT/test/pg_versions.sh" | sed -e '/^set -uo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

# Install missing host packages as root, or print the command and fail.
host_packages() {
    local p missing=""
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if is_root; then
        say "installing host packages:$missing"
        local log
        log=$(mktemp)
        { apt-get -o DPkg::Lock::Timeout=600 update -q &&
          DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
              install -y -q --no-install-recommends $missing; } >"$log" 2>&1 ||
            { cat "$log" >&2; rm -f "$log"; die "could not install$missing"; }
        rm -f "$log"
    else
        die "missing host packages; run: sudo apt-get install -y$missing"
    fi
}

need_root_to_prepare() {
    is_root || die "PostgreSQL $1 is not prepared in $CACHE; run: sudo $0 prepare $1"
}

# ---------------------------------------------------------------------------
# 18: Debian's source package from sid, built into $PG18_PREFIX.
# ---------------------------------------------------------------------------
pg18_ready() { [ -f "$PG18_PREFIX/.prepared" ]; }

prepare_18() {
    pg18_ready && return 0
    need_root_to_prepare 18
    mkdir -p "$CACHE"
    # One preparation at a time; a run that waited finds it done.
    exec 8>"$CACHE/pg18-prepare.lock"
    flock 8
    pg18_ready && return 0
    host_packages $PG18_HOST_PACKAGES
    local start=$SECONDS apt src build log=$CACHE/pg18-build.log
    rm -rf "$PG18_PREFIX" "$CACHE/pg18-src"
    : >"$log"

    # A private source list: the system's apt configuration is untouched.
    apt=$CACHE/pg18-src/apt
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
    echo "deb-src $MIRROR sid main" >"$apt/sources.list"
    local aptopts=(-q -o "Dir::Etc::SourceList=$apt/sources.list"
        -o "Dir::Etc::SourceParts=$apt/none" -o "Dir::State::Lists=$apt/lists"
        -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root")
    # Unpacked without Debian's patches: they put the libraries under
    # /usr/lib/postgresql/18 whatever the prefix.
    say "18: fetching Debian's postgresql-18 source package (sid)"
    ( cd "$CACHE/pg18-src" &&
      apt-get "${aptopts[@]}" update &&
      apt-get "${aptopts[@]}" source --download-only postgresql-18 &&
      dpkg-source --skip-patches -x postgresql-18_*.dsc ) >>"$log" 2>&1 ||
        { tail -n 30 "$log" >&2; die "18: could not fetch the source (log: $log)"; }
    src=$(find "$CACHE/pg18-src" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-18-*' | head -n 1)
    [ -n "$src" ] || die "18: no unpacked source in $CACHE/pg18-src"

    say "18: building $(basename "$src") with $JOBS jobs (log: $log)"
    ( cd "$src" &&
      ./configure --prefix="$PG18_PREFIX" --without-icu --without-readline \
          --enable-tap-tests &&
      "$MAKE" -j"$JOBS" ) >>"$log" 2>&1 ||
        { tail -n 30 "$log" >&2; die "18: build failed (log: $log)"; }
    # Install nothing outside the prefix.
    local d
    for d in $(sed -nE 's/^#define [A-Z]+ "(.*)"$/\1/p' "$src/src/port/pg_config_paths.h"); do
        case $d in
            "$PG18_PREFIX"/*) ;;
            *) die "18: the build would install into $d, outside $PG18_PREFIX" ;;
        esac
    done
    ( cd "$src" && "$MAKE" install ) >>"$log" 2>&1 ||
        { tail -n 30 "$log" >&2; die "18: make install failed (log: $log)"; }
    [ -x "$PG18_PREFIX/lib/postgresql/pgxs/src/test/isolation/pg_isolation_regress" ] ||
        die "18: the installed tree lacks pg_isolation_regress"
    rm -rf "$CACHE/pg18-src"
    "$PG18_PREFIX/bin/pg_config" --version >"$PG18_PREFIX/.prepared"
    say "18: prepared $(cat "$PG18_PREFIX/.prepared") in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------
# 17: a Debian 13 root with Debian's postgresql-17 packages.
# ---------------------------------------------------------------------------
pg17_ready() { [ -f "$PG17_ROOT/.prepared" ]; }

PG17_MOUNTS=()
pg17_mount() {
    local m
    for m in proc dev/shm dev/pts; do
        mkdir -p "$PG17_ROOT/$m"
        mountpoint -q "$PG17_ROOT/$m" && continue
        case $m in
            proc) mount -t proc proc "$PG17_ROOT/proc" ;;
            dev/shm) mount -t tmpfs -o mode=1777 shm "$PG17_ROOT/dev/shm" ;;
            dev/pts) mount -t devpts -o newinstance,ptmxmode=0666 devpts "$PG17_ROOT/dev/pts" ;;
        esac || die "17: could not mount $PG17_ROOT/$m"
        PG17_MOUNTS+=("$PG17_ROOT/$m")
    done
}

pg17_umount() {
    local i
    for ((i = ${#PG17_MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${PG17_MOUNTS[i]}" 2>/dev/null || umount -l "${PG17_MOUNTS[i]}"
    done
    PG17_MOUNTS=()
}

# Refuse to delete a root that still has something mounted in it.
pg17_remove_root() {
    [ -d "$PG17_ROOT" ] || return 0
    if findmnt -rn -o TARGET | grep -q "^$PG17_ROOT/"; then
        die "17: something is still mounted under $PG17_ROOT; unmount it first"
    fi
    rm -rf "$PG17_ROOT"
}

in_root17() {
    chroot "$PG17_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

prepare_17() {
    pg17_ready && return 0
    need_root_to_prepare 17
    mkdir -p "$CACHE"
    # One preparation at a time; a run that waited finds it done.
    exec 8>"$CACHE/pg17-prepare.lock"
    flock 8
    pg17_ready && return 0
    host_packages $PG17_HOST_PACKAGES
    local start=$SECONDS log=$CACHE/pg17-prepare.log
    : >"$log"
    pg17_remove_root

    say "17: making a minimal Debian 13 root (log: $log)"
    debootstrap --variant=minbase trixie "$PG17_ROOT" "$MIRROR" >>"$log" 2>&1 ||
        { tail -n 30 "$log" >&2; die "17: debootstrap failed (log: $log)"; }

    # Services are never started inside the root, and the packages create
    # no cluster: every test makes its own throw-away one.
    printf '#!/bin/sh\nexit 101\n' >"$PG17_ROOT/usr/sbin/policy-rc.d"
    chmod 755 "$PG17_ROOT/usr/sbin/policy-rc.d"
    mkdir -p "$PG17_ROOT/etc/postgresql-common/createcluster.d"
    echo "create_main_cluster = false" \
        >"$PG17_ROOT/etc/postgresql-common/createcluster.d/no-main-cluster.conf"

    say "17: installing $PG17_PACKAGES"
    trap pg17_umount EXIT
    pg17_mount
    { in_root17 apt-get -q update &&
      in_root17 apt-get install -y -q --no-install-recommends $PG17_PACKAGES &&
      in_root17 apt-get clean; } >>"$log" 2>&1
    local rc=$?
    pg17_umount
    trap - EXIT
    [ $rc -eq 0 ] || { tail -n 30 "$log" >&2; die "17: package installation failed (log: $log)"; }
    [ -d "$PG17_ROOT/usr/lib/postgresql/17/lib/pgxs/src/test/perl/PostgreSQL" ] ||
        die "17: the root lacks PostgreSQL's TAP modules"
    in_root17 /usr/lib/postgresql/17/bin/pg_config --version >"$PG17_ROOT/.prepared"
    say "17: prepared $(cat "$PG17_ROOT/.prepared") in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------
# Running the suite.
# ---------------------------------------------------------------------------

# Copy the working tree: in a git checkout the files git does not ignore
# (so no build outputs or test results), otherwise all but those.
copy_tree() {
    if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z -co --exclude-standard |
            while IFS= read -r -d '' f; do
                [ -e "$ROOT/$f" ] && printf '%s\0' "$f"
            done |
            tar -C "$ROOT" --null -T - -cf -
    else
        tar -C "$ROOT" --exclude-vcs --exclude-vcs-ignores --exclude='tmp_check*' \
            --exclude=results --exclude=output_iso --exclude=test/bench/data -cf - .
    fi | tar -C "$1" -xf -
}

test_18() {
    prepare_18 || exit 1
    host_packages libsodium-dev libipc-run-perl
    local rc
    work=$(mktemp -d "${TMPDIR:-/tmp}/ac-pg18.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    copy_tree "$work"
    say "18: testing against $(cat "$PG18_PREFIX/.prepared") in a copy of the tree"
    # No pg_virtualenv for a source build: run_tests.sh makes the cluster.
    ( cd "$work" && MAKE="$MAKE" PG_CONFIG="$PG18_PREFIX/bin/pg_config" AC_CLUSTER=initdb \
        test/run_tests.sh )
    rc=$?
    # Keep what a failure needs for reading.
    if [ $rc -ne 0 ]; then
        rm -rf "$ROOT/tmp_check_pg18"
        mkdir -p "$ROOT/tmp_check_pg18"
        cp -r "$work"/regression.diffs "$work"/results "$work"/test/isolation/output_iso \
            "$work"/tmp_check_tap "$ROOT/tmp_check_pg18/" 2>/dev/null
        echo "pg_versions: 18: outputs kept in tmp_check_pg18/"
    fi
    return $rc
}

test_17() {
    prepare_17 || exit 1
    is_root || die "17: the tests run inside a chroot; run: sudo $MAKE test PG=17"
    local rc
    # One run at a time uses the root: it installs into the root's tree.
    exec 9>"$CACHE/pg17.lock"
    flock 9
    work=$(mktemp -d "$PG17_ROOT/tmp/ac-build.XXXXXX")
    trap 'pg17_umount; rm -rf "$work"' EXIT
    copy_tree "$work"
    pg17_mount
    say "17: testing against $(cat "$PG17_ROOT/.prepared") inside $PG17_ROOT"
    in_root17 EXTRA_CFLAGS="${EXTRA_CFLAGS:-}" bash -c 'cd "$1" && make test' bash \
        "${work#"$PG17_ROOT"}"
    rc=$?
    if [ $rc -ne 0 ]; then
        rm -rf "$ROOT/tmp_check_pg17"
        mkdir -p "$ROOT/tmp_check_pg17"
        cp -r "$work"/regression.diffs "$work"/results "$work"/test/isolation/output_iso \
            "$work"/tmp_check_tap "$ROOT/tmp_check_pg17/" 2>/dev/null
        echo "pg_versions: 17: outputs kept in tmp_check_pg17/"
    fi
    return $rc
}

# "make test" for the system version, then 17 and 18; each part's log is
# shown as it runs, and the last line sums the three.
test_all() {
    local v name log line p f start total_p=0 total_f=0 summary="" rc=0
    log=$(mktemp)
    for v in system 17 18; do
        name=$v
        [ "$v" = system ] &&
            name="$("${PG_CONFIG:-pg_config}" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/') (the system's)"
        printf '\n######## PostgreSQL %s ########\n' "$name"
        start=$SECONDS
        if [ "$v" = system ]; then
            "$MAKE" --no-print-directory test PG= 2>&1 | tee "$log"
        else
            "$ROOT/test/pg_versions.sh" test "$v" 2>&1 | tee "$log"
        fi
        [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
        if [ -n "$line" ]; then
            read -r p _ f _ <<<"$line"
        else
            p=0; f=1; line="did not finish"
        fi
        total_p=$((total_p + p)); total_f=$((total_f + f))
        summary+="PostgreSQL $name: $line in $((SECONDS - start)) s"$'\n'
    done
    rm -f "$log"
    printf '\n==== all versions ====\n%s\n' "$summary"
    echo "$total_p passed, $total_f failed"
    [ $rc -eq 0 ] && [ $total_f -eq 0 ]
}

case "${1:-}:${2:-}" in
    prepare:17) prepare_17 ;;
    prepare:18) prepare_18 ;;
    test:17) test_17 ;;
    test:18) test_18 ;;
    test-all:) test_all ;;
    prepare:16 | test:16) die "PostgreSQL 16 is not available from Debian's mirror for this machine" ;;
    *) usage ;;
esac
