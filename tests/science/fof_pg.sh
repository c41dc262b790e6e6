#!/usr/bin/env bash
# `ard fof` against a real PostgreSQL 15 index: a throwaway server (initdb into a temp dir, Unix
# socket only), the same survey synced into PostgreSQL and SQLite, fof with a predicate on both; the
# result tables must hold the same groups. Fails loudly with the reason when no server starts.
set -uo pipefail
ARD=${1:?usage: fof_pg.sh PATH_TO_ard}
skip() { echo "SKIPPED: fof on PostgreSQL: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the SQLite side"

# shellcheck source=tests/common/pg_server.bash
source "$(dirname "$0")/../common/pg_server.bash"
pg_server_start fof-pg

S=$T/survey
"$ARD" generate "$S" --galaxies 5000 --seed 11 --spectra none --quiet || fail "generate"
"$ARD" sync "$S" --db "$DSN" --quiet >/dev/null || fail "sync into PostgreSQL"
"$ARD" sync "$S" --quiet >/dev/null || fail "sync into SQLite"
"$ARD" fof "$S" --db "$DSN" --where "ZWARN = 0" --run-id pg --json >"$T/pg.json" || fail "fof on PostgreSQL"
"$ARD" fof "$S" --where "ZWARN = 0" --run-id lite --json >"$T/lite.json" || fail "fof on SQLite"
q() { "$PGBIN/psql" -X -A -t -h "$T" -U ard -d postgres -c "$1"; }
pg_sum=$(q "SELECT count(*), sum(group_id), sum(group_size) FROM galaxy_groups") || fail "psql"
pg_g1=$(q "SELECT n_members FROM groups WHERE group_id = 1")
pg_join=$(q "SELECT count(*) FROM galaxies JOIN galaxy_groups USING (targetid) WHERE group_id = 1")
pg_run=$(q "SELECT run_id FROM fof_runs")
[ "$pg_run" = "pg" ] || fail "fof_runs on PostgreSQL: '$pg_run'"
[ "$pg_g1" = "$pg_join" ] || fail "group 1: $pg_g1 members in groups, $pg_join by join"
lite_sum=$(/usr/bin/python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print('|'.join(str(v) for v in db.execute('SELECT count(*), sum(group_id), sum(group_size) FROM galaxy_groups').fetchone()))
" "$S/ard.db")
[ "$pg_sum" = "$lite_sum" ] || fail "PostgreSQL ($pg_sum) and SQLite ($lite_sum) results differ"
echo "fof_pg: PostgreSQL and SQLite hold the same groups ($pg_sum)"
