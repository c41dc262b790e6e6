#!/usr/bin/env bash
# kill -9 safety of `ard sync`: a sync SIGKILLed at (seeded) random moments always leaves an index
# in which every file is either fully indexed or absent (`ard sync --check`), and a re-run converges
# to the same index a clean sync builds. Also: a concurrent reader running checks and queries while
# a sync writes never sees a half-indexed file.
# usage: index_kill.sh PATH_TO_ard [DSN]   (DSN: run against that backend instead of SQLite)
set -euo pipefail
ARD=${1:?usage: index_kill.sh PATH_TO_ard [DSN]}
DSN=${2:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-index-kill.XXXXXX")
trap 'kill -9 ${SYNC_PID:-} 2>/dev/null || true; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
D=$T/survey
ROUNDS=${ARD_KILL_ROUNDS:-12}
"$ARD" generate "$D" --galaxies "${ARD_KILL_GALAXIES:-1000}" --seed 5 --quiet --threads 2
DB=${DSN:-sqlite:$T/killed.db}
REF=sqlite:$T/ref.db
"$ARD" sync "$D" --db "$REF" --quiet --threads 1 >/dev/null

RANDOM=4242 # seeded: the same kill moments every run
kills=0
mkdir -p "$T/aside"
for i in $(seq 1 "$ROUNDS"); do
    # give every sync real work: odd rounds hide a third of the tiles, even rounds bring them back
    if [ $((i % 2)) = 1 ]; then
        find "$D/tiles" -name '*.parquet' | sort | awk 'NR % 3 == 0' | while read -r f; do
            rel=${f#"$D"/}; mkdir -p "$T/aside/$(dirname "$rel")"; mv "$f" "$T/aside/$rel"
        done
    else
        (cd "$T/aside" && find . -name '*.parquet' | while read -r rel; do mv "$rel" "$D/$rel"; done)
    fi
    "$ARD" sync "$D" --db "$DB" --quiet --threads 1 >/dev/null 2>&1 &
    SYNC_PID=$!
    delay=$((RANDOM % 200)) # 0-200 ms: before the first commit, between windows, inside one
    sleep "$(printf '0.%03d' "$delay")"
    kill -9 "$SYNC_PID" 2>/dev/null || true
    status=0
    wait "$SYNC_PID" 2>/dev/null || status=$?
    SYNC_PID=
    [ "$status" = 137 ] && kills=$((kills + 1))
    if ! "$ARD" sync "$D" --db "$DB" --check >/dev/null 2>"$T/check.err"; then
        # killed before the schema was committed: no index at all is consistent too
        grep -q "no index at\|no ard index" "$T/check.err" ||
            fail "index inconsistent after round $i (kill at ${delay} ms): $(cat "$T/check.err")"
    fi
done
(cd "$T/aside" && find . -name '*.parquet' | while read -r rel; do mv "$rel" "$D/$rel"; done)
echo "killed $kills of $ROUNDS syncs mid-run; every index was consistent"
[ "$kills" -ge $((ROUNDS / 4)) ] || fail "too few kills landed mid-run ($kills): the test proves nothing"

"$ARD" sync "$D" --db "$DB" --quiet >/dev/null || fail "re-run after kills"
"$ARD" sync "$D" --db "$DB" --check >/dev/null || fail "check after re-run"
for q in "Z > 1.5" "SPECTYPE = 'QSO'" ""; do
    a=$("$ARD" query "$D" --db "$DB" --where "$q" --format json 2>/dev/null | md5sum)
    b=$("$ARD" query "$D" --db "$REF" --where "$q" --format json 2>/dev/null | md5sum)
    [ "$a" = "$b" ] || fail "after kills, plan for '$q' differs from a clean sync"
done
echo "re-run converged to the clean index"

# concurrent reader: checks and queries while a fresh sync writes
rm -f "$T/killed.db"*
DBC=sqlite:$T/killed.db
if [ -n "$DSN" ]; then
    DBC=$DSN
    psql -q "$DSN" -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
fi
"$ARD" sync "$D" --db "$DBC" --quiet --threads 1 >/dev/null &
SYNC_PID=$!
reads=0
while kill -0 "$SYNC_PID" 2>/dev/null; do
    if "$ARD" sync "$D" --db "$DBC" --check >/dev/null 2>"$T/c.err"; then
        reads=$((reads + 1))
    elif ! grep -q "no ard index\|no index at" "$T/c.err"; then
        fail "a reader saw a half-indexed file: $(cat "$T/c.err")"
    fi
done
wait "$SYNC_PID" || fail "the concurrent sync failed"
SYNC_PID=
echo "concurrent reader: $reads consistent checks during one sync"
"$ARD" sync "$D" --db "$DBC" --check >/dev/null || fail "final check"
echo "index_kill: all checks passed"
