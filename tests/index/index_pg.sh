#!/usr/bin/env bash
# The index on a real PostgreSQL 15: starts a throwaway server (initdb into a temp dir as an
# unprivileged user, Unix socket in the temp dir, no TCP), runs the whole index unit-test suite
# against it (the same assertions as on SQLite, plus SQLite-vs-PostgreSQL identical plans), the CLI
# end to end, and the kill -9 test; always stops and removes the server. If the server cannot be
# started this test FAILS loudly with the reason; it never passes without running.
set -uo pipefail
ARD=${1:?usage: index_pg.sh PATH_TO_ard}
HERE=$(cd "$(dirname "$0")" && pwd)
TEST_INDEX=$(dirname "$ARD")/tests/test_index
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$TEST_INDEX" ] || fail "no test_index binary at $TEST_INDEX"

# shellcheck source=tests/common/pg_server.bash
source "$HERE/../common/pg_server.bash"
pg_server_start index-pg
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') running on socket $T"

# 1. the unit-test suite on both backends; no PostgreSQL test may be skipped here
ARD_TEST_PG_DSN=$DSN "$TEST_INDEX" >"$T/unit.log" 2>&1
rc=$?
grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$T/unit.log"
[ $rc = 0 ] || { cat "$T/unit.log" >&2; fail "unit tests failed on PostgreSQL"; }
if grep -q "SKIPPED" "$T/unit.log"; then cat "$T/unit.log" >&2; fail "PostgreSQL unit tests were skipped with a live server"; fi

# 2. CLI end to end: the same plans from PostgreSQL and SQLite
S=$T/survey
"$ARD" generate "$S" --galaxies 300 --seed 9 --quiet --threads 2 || fail "ard generate"
"$ARD" sync "$S" --db "$DSN" --quiet >"$T/pg-sync.txt" || fail "sync into PostgreSQL"
grep -q "(postgresql" "$T/pg-sync.txt" || fail "not the postgresql backend: $(cat "$T/pg-sync.txt")"
"$ARD" sync "$S" --quiet >/dev/null || fail "sync into SQLite"
# the DSN may also come from the environment alone (PGHOST etc.), never a password on the line
PGHOST=$T PGUSER=ard PGDATABASE=postgres "$ARD" sync "$S" --db postgresql: --json >"$T/pg2.json" ||
    fail "sync with PG* environment"
grep -q '"files_unchanged"' "$T/pg2.json" || fail "env sync report"
for q in "Z > 1.0" "Z > 2.0 AND SPECTYPE = 'QSO'" "TARGET_CLASS = 'LRG'"; do
    a=$("$ARD" query "$S" --db "$DSN" --where "$q" --format json 2>/dev/null | md5sum)
    b=$("$ARD" query "$S" --where "$q" --format json 2>/dev/null | md5sum)
    [ "$a" = "$b" ] || fail "PostgreSQL and SQLite plans differ for: $q"
done
if "$ARD" query "$S" --db "$DSN" --where "1=1; DROP TABLE galaxies" >/dev/null 2>&1; then
    fail "PostgreSQL accepted a second statement"
fi
[ "$(psql -At "$DSN" -c 'SELECT count(*) FROM galaxies')" -gt 0 ] || fail "galaxies gone"
"$ARD" fetch "$S" --db "$DSN" --where "Z > 1.0" --out "$T/pg.npy" 2>/dev/null || fail "fetch via PostgreSQL"
"$ARD" fetch "$S" --where "Z > 1.0" --out "$T/lite.npy" 2>/dev/null || fail "fetch via SQLite"
cmp "$T/pg.npy" "$T/lite.npy" || fail "fetched arrays differ between backends"
echo "CLI: PostgreSQL and SQLite give identical plans and arrays"

# 3. kill -9 safety and the concurrent reader on PostgreSQL
psql -q "$DSN" -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
ARD_KILL_ROUNDS=6 ARD_KILL_GALAXIES=600 bash "$HERE/index_kill.sh" "$ARD" "$DSN" ||
    fail "kill -9 test on PostgreSQL"
echo "index_pg: all checks passed"
