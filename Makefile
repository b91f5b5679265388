# access_control -- PGXS build for PostgreSQL 15, 17 and 18.
#
# Standard targets: make, make install, make installcheck (PGXS).
# Extra targets:
#   make deps   -- check (and as root, install) the Debian build/test packages
#   make test   -- build, install, then regression + isolation + TAP tests in
#                  a throw-away cluster; ends with "N passed, N failed"
#   make test PG=17, make test PG=18
#               -- the same against PostgreSQL 17 or 18, prepared once
#                  (as root) and cached under /var/cache/access_control
#   make test-all -- make test, then PG=17, then PG=18; ends with the sum
#   make demo   -- build, install, run test/demo.sql in a throw-away cluster
#   make bench  -- build, then the benchmark of test/bench in a cluster of
#                  its own (a private installation), cached in
#                  test/bench/data; not part of test
#   make test-citus -- build Citus once from its source tarball, then check the
#                  extension on a local coordinator and two workers
#                  (test/citus/run.sh); ends with "N passed, N failed"

PG_CONFIG ?= pg_config

EXTENSION = access_control
MODULE_big = access_control
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
SHLIB_LINK += -lsodium
# -Wno-unused-parameter: PostgreSQL's own headers (ilist.h, bufpage.h) trip it.
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter $(EXTRA_CFLAGS)

# The current version's install script is built from one piece per concern
# in sql/install/, concatenated in this load order (a piece may use only
# what the pieces before it create). The upgrade script from the previous
# version is built from sql/update/ and the install script (see there): the
# update file, the install script's functions as CREATE OR REPLACE, then the
# .post.sql file, which makes what needs those functions (triggers).
# The older scripts are installed as they are; when work on a new version
# starts, the two built scripts are frozen into sql/ beside them.
EXTVERSION = $(shell sed -n "s/^default_version = '\\(.*\\)'/\\1/p" $(EXTENSION).control)
PREVIOUS_VERSION = 1.1
INSTALL_PIECES = schema cache checks actor access firms permissions grants teams \
	protect_table portal readers keys invitations partners seeing_access audit restore tables rls
BUILT_INSTALL = sql/$(EXTENSION)--$(EXTVERSION).sql
BUILT_UPGRADE = sql/$(EXTENSION)--$(PREVIOUS_VERSION)--$(EXTVERSION).sql
DATA_built = $(BUILT_INSTALL) $(BUILT_UPGRADE)
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))

# Every sql/*.sql except the extension scripts is a pg_regress test; the
# tests run CREATE EXTENSION themselves.
REGRESS = $(sort $(basename $(notdir $(filter-out sql/access_control%,$(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=.

# Isolation specs live in test/isolation/specs, expected output in
# test/isolation/expected.  Only enabled when there are specs.
ISOLATION_SPECS = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ifneq ($(ISOLATION_SPECS),)
ISOLATION = $(ISOLATION_SPECS)
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso
endif

# TAP tests live in test/t/*.pl.  Only enabled when there are any.
TAP_SCRIPTS = $(sort $(wildcard test/t/*.pl))
ifneq ($(TAP_SCRIPTS),)
TAP_TESTS = 1
PROVE_TESTS = $(TAP_SCRIPTS)
PROVE_FLAGS += -I test/t
endif

EXTRA_CLEAN = test/isolation/output_iso tmp_check tmp_check_*

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies (without --enable-depend): every
# object, and its bitcode, is rebuilt when any of our headers changes.
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/*.h)


$(BUILT_INSTALL): $(patsubst %,sql/install/%.sql,$(INSTALL_PIECES)) $(EXTENSION).control
	@echo '/* $(notdir $@): built by the Makefile from sql/install/; edit those. */' >$@
	cat $(patsubst %,sql/install/%.sql,$(INSTALL_PIECES)) >>$@

$(BUILT_UPGRADE): sql/update/$(PREVIOUS_VERSION)--$(EXTVERSION).sql sql/update/replace.awk $(BUILT_INSTALL) \
		sql/update/$(PREVIOUS_VERSION)--$(EXTVERSION).post.sql
	@echo '/* $(notdir $@): built by the Makefile from sql/update/ and sql/install/; edit those. */' >$@
	cat sql/update/$(PREVIOUS_VERSION)--$(EXTVERSION).sql >>$@
	awk -f sql/update/replace.awk $(BUILT_INSTALL) >>$@
	cat sql/update/$(PREVIOUS_VERSION)--$(EXTVERSION).post.sql >>$@

PG_BINDIR := $(shell $(PG_CONFIG) --bindir)
PG_MAJOR := $(shell $(PG_CONFIG) --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')

DEB_PACKAGES = postgresql-$(PG_MAJOR) postgresql-server-dev-$(PG_MAJOR) libsodium-dev libipc-run-perl

.PHONY: deps demo test test-all test-citus bench install-as-needed

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all present ($(DEB_PACKAGES))"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else \
		echo "deps: missing packages:$$missing" >&2; \
		echo "deps: run: sudo apt-get install -y$$missing" >&2; \
		exit 1; \
	fi

# Install into the server's directories: directly as root, else via sudo.
install-as-needed: all
	@if [ "$$(id -u)" = 0 ]; then \
		$(MAKE) --no-print-directory install PG_CONFIG='$(PG_CONFIG)'; \
	else \
		sudo $(MAKE) --no-print-directory install PG_CONFIG='$(PG_CONFIG)'; \
	fi

# Build/install output is only shown if it fails, to keep the demo readable.
# pg_virtualenv -t keeps the throw-away cluster in a private temporary
# directory even as root, so parallel runs do not collide on "15/regress".
demo: deps
	@out=$$($(MAKE) --no-print-directory install-as-needed PG_CONFIG='$(PG_CONFIG)' 2>&1) || \
		{ echo "$$out"; echo "demo: build/install failed" >&2; exit 1; }
	@echo "demo: installed; running test/demo.sql in a throw-away cluster"
	@PGPORT=$$(test/run_tests.sh --free-port) pg_virtualenv -t -v $(PG_MAJOR) -- psql -X -v ON_ERROR_STOP=1 -f test/demo.sql

# make test PG=17 / PG=18: the same tests against that major version,
# prepared once and cached outside the tree (see test/pg_versions.sh).
ifneq ($(filter-out $(PG_MAJOR),$(PG)),)
test:
	@MAKE='$(MAKE)' test/pg_versions.sh test '$(PG)'
else
test: deps
	@MAKE='$(MAKE)' PG_CONFIG='$(PG_CONFIG)' PG_MAJOR='$(PG_MAJOR)' \
		PG_BINDIR='$(PG_BINDIR)' PGXS_DIR='$(pgxsdir)' \
		test/run_tests.sh
endif

# The system version, 17 and 18, one after another; ends with the sum.
test-all:
	@MAKE='$(MAKE)' test/pg_versions.sh test-all

# A coordinator and two workers of Citus on localhost (see test/citus/run.sh,
# which installs Citus and this extension under its install lock).
test-citus: deps
	@PG_CONFIG='$(PG_CONFIG)' test/citus/run.sh

# The benchmark: builds, then test/bench/run.sh installs the build into a
# private copy of PostgreSQL and keeps its own cluster in test/bench/data
# (see there); the system's installation is left alone.
bench: deps
	@out=$$($(MAKE) --no-print-directory all PG_CONFIG='$(PG_CONFIG)' 2>&1) || \
		{ echo "$$out"; echo "bench: build failed" >&2; exit 1; }
	@PG_CONFIG='$(PG_CONFIG)' test/bench/run.sh
