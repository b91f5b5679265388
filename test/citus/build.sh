#!/usr/bin/env bash
# test/citus/build.sh: builds Citus from its source tarball once, into a
# cache directory outside the repository, and prints that directory.
#
#   test/citus/build.sh TARBALL CACHE_DIR
#
# The build is reused while CACHE_DIR/.built names the same tarball. It
# needs the Debian packages below (installed when run as root, otherwise the
# command to run is printed) and patches one known clash with PostgreSQL
# 15.20's headers. Installing the result is left to the caller (run.sh),
# which does it under the install lock.
set -euo pipefail

TARBALL=$1
CACHE=$2
PG_CONFIG=${PG_CONFIG:-pg_config}
# zstd.h and gssapi/gssapi.h are included through PostgreSQL's own headers.
DEPS="make gcc libzstd-dev libkrb5-dev postgresql-server-dev-$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
stamp="$(basename "$TARBALL") $(stat -c %s "$TARBALL") $("$PG_CONFIG" --version)"

if [ -f "$CACHE/.built" ] && [ "$(cat "$CACHE/.built")" = "$stamp" ]; then
    echo "$CACHE"
    exit 0
fi

missing=""
for p in $DEPS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "citus build: installing$missing" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } >&2
    else
        echo "citus build: missing packages:$missing" >&2
        echo "citus build: run: sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi

rm -rf "$CACHE"
mkdir -p "$CACHE"
tar -xzf "$TARBALL" -C "$CACHE" --strip-components=1
cd "$CACHE"

# PostgreSQL 15.20 declares have_createdb_privilege() in commands/dbcommands.h;
# Citus's static inline copy for older minor releases then fails to compile.
if grep -q 'have_createdb_privilege' "$("$PG_CONFIG" --includedir-server)/commands/dbcommands.h"; then
    perl -0 -i -pe 's/static inline bool\nhave_createdb_privilege\(void\)\n\{.*?\n\}\n//s' \
        src/include/pg_version_compat.h
fi

echo "citus build: configuring and compiling in $CACHE (a few minutes)" >&2
./configure PG_CONFIG="$PG_CONFIG" --without-libcurl --without-lz4 --without-zstd >"$CACHE/build.log" 2>&1 ||
    { tail -30 "$CACHE/build.log" >&2; exit 1; }
make -j"$(nproc)" with_llvm=no >>"$CACHE/build.log" 2>&1 ||
    { tail -30 "$CACHE/build.log" >&2; exit 1; }
echo "$stamp" >"$CACHE/.built"
echo "$CACHE"
