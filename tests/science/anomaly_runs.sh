#!/usr/bin/env bash
# Scoring runs of `ard anomaly score` as result runs:
#  - kill -9 mid-run (at several moments, from reading to writing): the index keeps the previous
#    run whole (anomaly_runs has no row of the killed run, `anomalies` holds the previous run's
#    rows only, no results/anomaly-KILLED-* file is visible), and a re-run with the same id
#    completes;
#  - sharded scoring (--rank R --size 2): the two parts hold every spectrum exactly once and their
#    scores equal the single-process run's to 1e-5 x (1 + |value|) (a spectrum lands in another
#    batch, and BLAS's edge kernels round a row differently by its place in the block);
#  - the datasheet's "Anomalies" section names the latest run, its counts and top candidates, and
#    figures/anomaly-scores.svg exists; without a scoring run it says there is none.
set -uo pipefail
ARD="$1"
TMP="$(mktemp -d /tmp/ard-anomaly-runs-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v sqlite3 > /dev/null || { echo "SKIPPED: anomaly runs: no sqlite3 CLI" >&2; exit 77; }
q() { sqlite3 "$TMP/ds/ard.db" "$1"; }
N=400
"$ARD" generate "$TMP/ds" --galaxies $N --seed 9 --anomalies 0.05 --quiet || fail "generate"
"$ARD" sync "$TMP/ds" > /dev/null || fail "sync"

"$ARD" datasheet "$TMP/ds" > /dev/null || fail "datasheet without a run"
grep -q "^### Anomalies" "$TMP/ds/DATA_README.md" || fail "no Anomalies section"
grep -q "No anomaly scoring run in the index yet" "$TMP/ds/DATA_README.md" ||
    fail "the section does not say there is no run"

"$ARD" anomaly train "$TMP/ds" --epochs 1 --hidden 64 --embed 8 --latent 4 --reference 100 \
    --run m1 --quiet > /dev/null || fail "train"
"$ARD" anomaly score "$TMP/ds" --model m1 --run base --quiet > /dev/null || fail "score base"
[ "$(q "SELECT count(*), count(DISTINCT run_id), min(run_id) FROM anomalies")" = "$N|1|base" ] ||
    fail "base run rows: $(q "SELECT count(*), count(DISTINCT run_id) FROM anomalies")"

rc=0
"$ARD" anomaly score "$TMP/ds" --model m1 --run base --quiet > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q "already has a run 'base'" "$TMP/err" ||
    fail "re-using a run id: exit $rc, $(cat "$TMP/err")"

# ---- kill -9 mid-run, at several moments ----
killed=0
restore_base() { # drop k1 (a complete run) and score the base run again
    "$ARD" results drop "$TMP/ds" k1 --stage anomaly > /dev/null || fail "drop k1"
    "$ARD" results drop "$TMP/ds" base --stage anomaly > /dev/null || fail "drop base"
    "$ARD" anomaly score "$TMP/ds" --model m1 --run base --quiet > /dev/null || fail "base"
}
for delay in 0.1 0.3 0.6 1.0 1.6 2.5; do
    "$ARD" anomaly score "$TMP/ds" --model m1 --run k1 --threads 1 --quiet > /dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    # all or nothing: either k1 is complete (it committed before the kill landed) or absent
    if [ "$(q "SELECT count(*) FROM anomaly_runs WHERE run_id = 'k1'")" = 1 ]; then
        [ "$(q "SELECT count(*), min(run_id), max(run_id) FROM anomalies")" = "$N|k1|k1" ] ||
            fail "k1 (killed at ${delay}s) is in anomaly_runs but anomalies is not all k1's"
        [ -s "$TMP/ds/results/anomaly-k1-scores.parquet" ] || fail "k1 committed without its file"
        restore_base
        break # later kills would land after the end too
    fi
    killed=$((killed + 1))
    [ "$(q "SELECT count(*), count(DISTINCT run_id), min(run_id) FROM anomalies")" = "$N|1|base" ] ||
        fail "after killing at ${delay}s the anomalies table is not the base run's"
    ! ls "$TMP/ds/results" | grep -q '^anomaly-k1' ||
        fail "killed run k1 left visible files: $(ls "$TMP/ds/results")"
    "$ARD" results list "$TMP/ds" --stage anomaly > "$TMP/list.txt" || fail "results list"
    ! grep -q "k1" "$TMP/list.txt" || fail "results list shows the killed run"
done
[ "$killed" -ge 1 ] || fail "no scoring run was still running when killed"
"$ARD" anomaly score "$TMP/ds" --model m1 --run k1 --quiet > /dev/null || fail "re-run after kill"
[ "$(q "SELECT count(*), min(run_id) FROM anomalies")" = "$N|k1" ] || fail "re-run rows"
[ -s "$TMP/ds/results/anomaly-k1-scores.parquet" ] || fail "re-run scores file"

# ---- sharded scoring equals the single-process run ----
for r in 0 1; do
    "$ARD" anomaly score "$TMP/ds" --model m1 --run sh --rank $r --size 2 --quiet > /dev/null ||
        fail "score part $r"
    [ -s "$TMP/ds/results/anomaly-sh-part-$r-scores.parquet" ] || fail "no part $r file"
done
[ "$(q "SELECT min(run_id) FROM anomalies")" = "k1" ] || fail "a part replaced the index table"
cols=TARGETID,SCORE,CHI2,DENSITY
"$ARD" parquet cat "$TMP/ds/results/anomaly-k1-scores.parquet" --columns $cols --format csv |
    tail -n +2 | sort > "$TMP/full.csv"
for r in 0 1; do
    "$ARD" parquet cat "$TMP/ds/results/anomaly-sh-part-$r-scores.parquet" --columns $cols \
        --format csv | tail -n +2
done | sort > "$TMP/parts.csv"
[ "$(wc -l < "$TMP/full.csv")" = $N ] || fail "full run has $(wc -l < "$TMP/full.csv") rows"
[ "$(cut -d, -f1 "$TMP/parts.csv" | sort -u | wc -l)" = $N ] ||
    fail "parts hold $(cut -d, -f1 "$TMP/parts.csv" | sort -u | wc -l) distinct TARGETIDs"
p0=$("$ARD" parquet cat "$TMP/ds/results/anomaly-sh-part-0-scores.parquet" --columns TARGETID \
    --format csv | tail -n +2 | wc -l)
[ "$p0" -gt 0 ] && [ "$p0" -lt $N ] || fail "part 0 holds $p0 of $N spectra"
paste -d, "$TMP/full.csv" "$TMP/parts.csv" | awk -F, '
    function bad(a, b) { d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a; return d > 1e-5 * (1 + s) }
    $1 != $5 || bad($2, $6) || bad($3, $7) || bad($4, $8) { print "row " NR ": " $0; n++ }
    END { exit n > 0 }' > "$TMP/diff.txt" || fail "parts differ from the full run: $(head -3 "$TMP/diff.txt")"

# ---- the datasheet section ----
"$ARD" datasheet "$TMP/ds" > /dev/null || fail "datasheet"
md="$TMP/ds/DATA_README.md"
grep -q "Latest scoring run \*\*k1\*\* (model run m1" "$md" || fail "section: $(grep -A2 '### Anomalies' "$md")"
above=$(q "SELECT count(*) FROM anomalies WHERE score > 3")
grep -q "above the threshold (score > 3): \*\*$above\*\*" "$md" || fail "count above 3 is not $above"
top1=$(q "SELECT targetid FROM anomalies WHERE rank = 1")
grep -q "^| 1 | $top1 | " "$md" || fail "top candidate $top1 not first in the table"
[ "$(grep -cE '^\| (10|[1-9]) \| [0-9]+ \| ' "$md")" = 10 ] || fail "top table does not hold 10 rows"
[ -s "$TMP/ds/figures/anomaly-scores.svg" ] || fail "no figures/anomaly-scores.svg"
grep -q "<svg" "$TMP/ds/figures/anomaly-scores.svg" || fail "figure is not SVG"
echo "anomaly runs: kill-safe ($killed kills), 2 shards = 1 process, datasheet section: ok"
