#!/usr/bin/env bash
# Three `ard sync` runs started at once on a fresh dataset (issue 15, item 6): they serialise on
# the index's sync lock, so all three exit 0, nothing lands in sync_errors and the index checks
# consistent; the ones that waited say so on stderr.
set -euo pipefail
ARD=${1:?usage: cli_concurrent_sync.sh PATH_TO_ard}
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-sync.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
D=$T/survey
"$ARD" generate "$D" --galaxies 2000 --seed 9 --quiet --threads 1
pids=()
for i in 1 2 3; do
    "$ARD" sync "$D" --quiet --threads 1 >"$T/out.$i" 2>"$T/err.$i" &
    pids+=($!)
done
for i in 0 1 2; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    [ "$rc" -eq 0 ] || fail "sync $((i + 1)) exited $rc: $(cat "$T/err.$((i + 1))")"
done
errors=$(/usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM sync_errors").fetchone()[0])' "$D/ard.db")
[ "$errors" -eq 0 ] || fail "$errors rows in sync_errors"
"$ARD" sync "$D" --check >/dev/null || fail "index inconsistent after concurrent syncs"
added=$(cat "$T"/out.* | grep -o '[0-9]* added' | awk '{s += $1} END {print s}')
files=$(find "$D/tiles" "$D/catalog" -name '*.parquet' | wc -l)
[ "$added" -eq "$files" ] || fail "the three syncs added $added files, the dataset has $files"
waited=$(cat "$T"/err.* | grep -c "waiting for another sync" || true)
echo "ok: 3 concurrent syncs exit 0, $files files indexed once, $waited waited with a message"
