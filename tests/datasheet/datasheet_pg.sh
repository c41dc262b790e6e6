#!/usr/bin/env bash
# The datasheet on PostgreSQL: starts a throwaway PostgreSQL 15 server (socket in a temp dir, no
# TCP), runs the datasheet unit tests with ARD_TEST_PG_DSN so the SQLite-vs-PostgreSQL test really
# runs, and checks the CLI gives byte-identical datasheets from both backends. FAILS loudly
# with the reason when no server can be started; always stops and removes the server.
set -uo pipefail
ARD=${1:?usage: datasheet_pg.sh PATH_TO_ard}
TEST_BIN=$(dirname "$ARD")/tests/test_datasheet
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$TEST_BIN" ] || fail "no test_datasheet binary at $TEST_BIN"
# shellcheck source=tests/common/pg_server.bash
source "$(dirname "$0")/../common/pg_server.bash"
pg_server_start ds-pg
psql_cmd() { "$PGBIN/psql" -h "$T" -U ard -d postgres -qAt -c "$1"; }
psql_cmd "CREATE DATABASE unit" || fail "create database unit"
psql_cmd "CREATE DATABASE cli" || fail "create database cli"

ARD_TEST_PG_DSN="host=$T user=ard dbname=unit" "$TEST_BIN" >"$T/unit.log" 2>&1
rc=$?
grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$T/unit.log"
[ $rc = 0 ] || { cat "$T/unit.log" >&2; fail "datasheet unit tests failed with PostgreSQL"; }
grep -q "SKIPPED" "$T/unit.log" && { cat "$T/unit.log" >&2; fail "a test was skipped with a live server"; }

DSN="host=$T user=ard dbname=cli"
S=$T/survey
"$ARD" generate "$S" --galaxies 300 --seed 21 --spectra 0.9 --grid log256 --threads 2 --quiet || fail "generate"
"$ARD" sync "$S" --quiet >/dev/null || fail "sync into SQLite"
"$ARD" sync "$S" --db "$DSN" --quiet >"$T/pg-sync.txt" || fail "sync into PostgreSQL"
grep -q "postgresql" "$T/pg-sync.txt" || fail "not the postgresql backend: $(cat "$T/pg-sync.txt")"
"$ARD" datasheet "$S" --stdout >"$T/sqlite.md" || fail "datasheet from SQLite"
"$ARD" datasheet "$S" --db "$DSN" --stdout >"$T/pg.md" || fail "datasheet from PostgreSQL"
cmp -s "$T/sqlite.md" "$T/pg.md" || { diff "$T/sqlite.md" "$T/pg.md" | head -20 >&2; fail "backends differ"; }
echo "datasheet on PostgreSQL: identical to SQLite ($(wc -l <"$T/pg.md") lines)"
