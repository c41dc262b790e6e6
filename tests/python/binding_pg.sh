#!/bin/bash
# Dataset.sync/query/fetch with dsn= a throwaway PostgreSQL server (tests/common/pg_server.bash):
# the same generated survey synced into PostgreSQL and SQLite must give identical typed columns and
# spectra. A server that cannot start FAILS the test (pg_server.bash's policy).
source "$(dirname "$0")/py_env.bash" "$1"
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck source=tests/common/pg_server.bash
source "$SRC/tests/common/pg_server.bash"
LD_PRELOAD= pg_server_start py-pg
trap 'pg_server_stop; rm -rf "$WORK"' EXIT
export ARD_TEST_PG_DSN="$DSN"
cd "$SRC/tests/python" && "$PY" -m unittest -v test_binding_pg 2>&1
