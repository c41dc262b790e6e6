#!/usr/bin/env bash
# The datasheet on PostgreSQL: starts a throwaway PostgreSQL 15 server (socket in a temp dir, no
# TCP), runs the datasheet unit tests with ARD_TEST_PG_DSN so the SQLite-vs-PostgreSQL test really
# runs, and checks the CLI gives byte-identical datasheets from both backends. SKIPPED (exit 77)
# with the reason when no server can be started; always stops and removes the server.
set -uo pipefail
ARD=${1:?usage: datasheet_pg.sh PATH_TO_ard}
TEST_BIN=$(dirname "$ARD")/tests/test_datasheet
PGBIN=${ARD_PG_BIN:-/usr/lib/postgresql/15/bin}
skip() { echo "SKIPPED: PostgreSQL datasheet tests: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] || skip "no initdb/pg_ctl in $PGBIN"
[ -x "$TEST_BIN" ] || fail "no test_datasheet binary at $TEST_BIN"
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-ds-pg.XXXXXX")
chmod 755 "$T"
AS=()
if [ "$(id -u)" = 0 ]; then
    id nobody >/dev/null 2>&1 || skip "running as root without a 'nobody' user for the server"
    chown nobody "$T"
    AS=(runuser -u nobody --)
fi
stop() {
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$T/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$T"
}
trap stop EXIT
"${AS[@]}" "$PGBIN/initdb" -D "$T/data" -A trust -U ard --no-sync -E UTF8 >"$T/initdb.log" 2>&1 ||
    skip "initdb failed: $(tail -3 "$T/initdb.log")"
"${AS[@]}" "$PGBIN/pg_ctl" -D "$T/data" -l "$T/server.log" -w -t 60 \
    -o "-k $T -c listen_addresses= -c fsync=off -c full_page_writes=off" start >/dev/null 2>&1 ||
    skip "the server did not start: $(tail -3 "$T/server.log" 2>/dev/null)"
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
