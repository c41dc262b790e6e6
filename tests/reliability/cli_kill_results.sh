#!/usr/bin/env bash
# kill -9 sweeps over the science stages' result runs (issue 15): `ard fof` and `ard anomaly score`
# SIGKILLed at seeded moments spread over a clean run's duration, while a concurrent reader lists
# the runs and checks the index. Afterwards: the index is consistent (`ard sync --check`), the base
# runs and their files are unchanged, a killed run is either absent (and its id can be run again)
# or complete (and its id is taken), no staging directory survives the next run, and every result
# file belongs to a listed run.
set -euo pipefail
ARD=${1:?usage: cli_kill_results.sh PATH_TO_ard}
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-kill-results.XXXXXX")
cleanup() {
    kill -9 ${RUN_PID:-} ${READER_PID:-} 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
D=$T/d
ROUNDS=${ARD_KILL_ROUNDS:-5}
"$ARD" generate "$D" --galaxies 400 --seed 3 --quiet --threads 1
"$ARD" sync "$D" --quiet --threads 1 >/dev/null
"$ARD" fof "$D" --run-id base --threads 1 >/dev/null
"$ARD" anomaly train "$D" --run model --epochs 1 --quiet --threads 1 >/dev/null
"$ARD" anomaly score "$D" --run base --model model --quiet --threads 1 >/dev/null
(cd "$D" && md5sum results/*.parquet models/*.safetensors) >"$T/base.md5"

# the concurrent reader: the runs list always answers and holds the base runs, the index checks
reader() {
    while :; do
        if ! "$ARD" results list "$D" >"$T/list" 2>"$T/list.err"; then
            echo "results list failed: $(cat "$T/list.err")" >>"$T/reader.fail"
        elif ! grep -q "^fof *base " "$T/list" || ! grep -q "^anomaly *base " "$T/list"; then
            echo "a base run vanished from: $(cat "$T/list")" >>"$T/reader.fail"
        fi
        "$ARD" sync "$D" --check >/dev/null 2>"$T/check.err" ||
            echo "check: $(cat "$T/check.err")" >>"$T/reader.fail"
        echo . >>"$T/reads"
    done
}
reader &
READER_PID=$!

ms() { echo $(($(date +%s%N) / 1000000)); }
RANDOM=1515 # seeded kill moments
kills=0
sweep() { # sweep NAME COMMAND...: kill NAME-runs k1..kN, re-run each id
    local name=$1
    shift
    local t0 t1 span
    t0=$(ms)
    "$@" --run-id "$name-clean" >/dev/null 2>&1 || "$@" --run "$name-clean" >/dev/null 2>&1 ||
        fail "$name: clean run failed"
    t1=$(ms)
    span=$((t1 - t0 + 1))
    for i in $(seq 1 "$ROUNDS"); do
        local id=$name-k$i delay=$((RANDOM % span))
        "$@" "${RUN_FLAG[@]}" "$id" >/dev/null 2>&1 &
        RUN_PID=$!
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        kill -9 "$RUN_PID" 2>/dev/null || true
        local rc=0
        wait "$RUN_PID" 2>/dev/null || rc=$?
        RUN_PID=
        [ "$rc" = 137 ] && kills=$((kills + 1))
        "$ARD" sync "$D" --check >/dev/null 2>"$T/c.err" ||
            fail "$id (killed at ${delay} ms): index inconsistent: $(cat "$T/c.err")"
        # the same id again: it completes (the killed run left nothing) or is taken (it committed)
        rc=0
        "$@" "${RUN_FLAG[@]}" "$id" >/dev/null 2>"$T/rerun.err" || rc=$?
        if [ "$rc" != 0 ]; then
            grep -qi "already" "$T/rerun.err" ||
                fail "$id (killed at ${delay} ms): re-run failed: $(cat "$T/rerun.err")"
        fi
        "$ARD" results list "$D" | grep -q " $id " || fail "$id: neither run of the id is listed"
        left=$(find "$D" -name '.*.tmp.*')
        [ -z "$left" ] || fail "$id (killed at ${delay} ms): temporaries survive the re-run: $left"
    done
}
RUN_FLAG=(--run-id)
sweep fof "$ARD" fof "$D" --threads 1
RUN_FLAG=(--run)
sweep score "$ARD" anomaly score "$D" --model model --quiet --threads 1
kill -9 "$READER_PID" 2>/dev/null || true
wait "$READER_PID" 2>/dev/null || true
READER_PID=
[ ! -s "$T/reader.fail" ] || fail "the concurrent reader saw: $(head -3 "$T/reader.fail")"
reads=$(wc -l <"$T/reads")
[ "$reads" -gt 0 ] || fail "the concurrent reader never completed a read"

# a taken id is refused with its own message (an anomaly run once said "end of data" here)
rc=0
"$ARD" anomaly score "$D" --run base --model model --quiet --threads 1 2>"$T/taken.err" || rc=$?
[ "$rc" = 1 ] && grep -q "already has a run 'base'" "$T/taken.err" ||
    fail "re-running a taken anomaly run id: exit $rc: $(cat "$T/taken.err")"
"$ARD" fof "$D" --run-id final --threads 1 >/dev/null || fail "a run after the kills"
(cd "$D" && md5sum -c --quiet "$T/base.md5") || fail "a base run's files changed"
[ -z "$(find "$D/results" -name '.run-*')" ] || fail "a staging directory survived a run"
"$ARD" results list "$D" >"$T/list"
for f in "$D"/results/*.parquet; do
    b=$(basename "$f" .parquet)
    stage=${b%%-*}
    rest=${b#*-}
    run=${rest%-*}
    grep -q "^$stage *$run " "$T/list" || fail "results/$b.parquet belongs to no listed run"
done
[ "$kills" -ge $((ROUNDS / 2)) ] || fail "too few kills landed mid-run ($kills of $((2 * ROUNDS)))"
echo "ok: $kills of $((2 * ROUNDS)) result runs killed mid-run; $reads concurrent reads consistent"
