#!/usr/bin/env bash
# I/O fault sweeps over fetch export and result runs (issue 15), armed with ARD_IO_FAIL: the k-th
# open/write/fsync/rename through core's I/O fails, until a run no longer meets a fault (the
# opens of every tile read count too, and the writers make hundreds of writes: k = 1..12 then
# growing by a third for ENOSPC, every 3rd of those for EIO and short writes). `ard fetch --out` over an existing output and
# the result runs of `ard fof`, `ard anomaly score` and `ard cosmicweb predict` (staged Parquet
# files + index tables; the last two ENOSPC only, to keep the time) must fail with exit 1 and a
# message naming a file, leave the previous output / the base run byte for byte, no temporary
# file, no staging directory, no trace of the failed run in `ard results list`, and an index that
# checks consistent; the clean run then completes. (SQLite's own file I/O is not core's: faults
# inside the database are not injected here.)
set -euo pipefail
ARD=${1:?usage: cli_faults_runs.sh PATH_TO_ard}
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-faults-runs.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
D=$T/d
"$ARD" generate "$D" --galaxies 300 --seed 6 --quiet --threads 1
"$ARD" sync "$D" --quiet --threads 1 >/dev/null
"$ARD" fof "$D" --run-id base --threads 1 >/dev/null
(cd "$D" && md5sum results/*.parquet) >"$T/base.md5"
no_temps() { ! find "$1" -name '.*.tmp.*' | grep -q . || fail "$2: temporary file left: $(find "$1" -name '.*.tmp.*')"; }
# the k of a sweep: 1..12, then each a third above the last
run_ks() {
    local k=1 i=0
    while [ "$k" -le 2000 ]; do
        if [ "$1" = ENOSPC ] || [ $((i % 3)) = 0 ]; then echo "$k"; fi
        if [ "$k" -lt 12 ]; then k=$((k + 1)); else k=$((k + k / 3)); fi
        i=$((i + 1))
    done
}

# ---- fetch export over an existing output ----
OUT=$T/out/fetched.parquet
mkdir -p "$T/out"
"$ARD" fetch "$D" --where "Z > 0.3" --limit 40 --out "$T/ref.parquet" --threads 1 >/dev/null
echo "previous output" >"$OUT"
cp "$OUT" "$T/previous"
fetch_faults=0
for e in ENOSPC EIO short; do
    for k in $(run_ks "$e"); do
        rc=0
        ARD_IO_FAIL="open+write+fsync+rename:$k:$e" "$ARD" fetch "$D" --where "Z > 0.3" --limit 40 \
            --out "$OUT" --threads 1 >/dev/null 2>"$T/err" || rc=$?
        [ "$rc" -ne 0 ] || break
        fetch_faults=$((fetch_faults + 1))
        [ "$rc" -eq 1 ] || fail "fetch k=$k $e: exit $rc: $(cat "$T/err")"
        grep -q "$T" "$T/err" || fail "fetch k=$k $e: message names no file: $(cat "$T/err")"
        if grep -q "fsync of directory" "$T/err"; then # renamed whole, only the dir fsync failed
            cmp -s "$OUT" "$T/ref.parquet" || fail "fetch k=$k $e: renamed a broken file"
            cp "$T/previous" "$OUT"
        fi
        cmp -s "$OUT" "$T/previous" || fail "fetch k=$k $e: the previous output changed"
        no_temps "$T/out" "fetch k=$k $e"
    done
    [ "$rc" -eq 0 ] || fail "fetch $e: no clean run up to k = 2000"
    cmp -s "$OUT" "$T/ref.parquet" || fail "fetch $e: the clean run's output differs"
    cp "$T/previous" "$OUT"
done
[ "$fetch_faults" -ge 8 ] || fail "fetch: only $fetch_faults faults injected"

# ---- result runs: fof, anomaly score, cosmicweb predict ----
"$ARD" anomaly train "$D" --run-id am --epochs 1 --quiet --threads 1 >/dev/null
"$ARD" cosmicweb train "$D" --run-id cm --epochs 1 --k 16 --fanout1 4 --fanout2 2 --hidden 8 \
    --threads 1 >/dev/null
(cd "$D" && md5sum results/*.parquet models/*) >"$T/base.md5"
# sweep_run STAGE ERRNOS... -- COMMAND...: the k-th I/O call of a run of COMMAND --run-id ID fails
sweep_run() {
    local stage=$1 e k id rc faults=0
    shift
    local errnos=()
    while [ "$1" != -- ]; do errnos+=("$1"); shift; done
    shift
    for e in "${errnos[@]}"; do
        for k in $(run_ks "$e"); do
            id=$stage-$e-$k
            rc=0
            ARD_IO_FAIL="open+write+fsync+rename:$k:$e" "$@" --run-id "$id" >/dev/null 2>"$T/err" || rc=$?
            [ "$rc" -ne 0 ] || break
            faults=$((faults + 1))
            [ "$rc" -eq 1 ] || fail "$stage k=$k $e: exit $rc: $(cat "$T/err")"
            grep -q "$D" "$T/err" || fail "$stage k=$k $e: message names no file: $(cat "$T/err")"
            "$ARD" sync "$D" --check >/dev/null 2>"$T/c.err" || fail "$stage k=$k $e: index: $(cat "$T/c.err")"
            ! "$ARD" results list "$D" | grep -q " $id " || fail "$stage k=$k $e: the failed run is listed"
            [ -z "$(find "$D/results" -name "$stage-$id-*" -o -name '.run-*')" ] ||
                fail "$stage k=$k $e: left $(find "$D/results" -name "$stage-$id-*" -o -name '.run-*')"
            no_temps "$D" "$stage k=$k $e"
            (cd "$D" && md5sum -c --quiet "$T/base.md5") || fail "$stage k=$k $e: an earlier run changed"
        done
        [ "$rc" -eq 0 ] || fail "$stage $e: no clean run up to k = 2000"
        "$ARD" results list "$D" | grep -q " $id " || fail "$stage $e: the clean run is not listed"
    done
    # every I/O call of the run is swept; the floor only checks that the run made its files (a
    # result file is open + write + fsync + rename, its writes gathered into 4 MiB units)
    [ "$faults" -ge 8 ] || fail "$stage: only $faults faults injected"
    echo "$stage result run: $faults injected faults survived"
}
sweep_run fof ENOSPC EIO short -- "$ARD" fof "$D" --threads 1
sweep_run anomaly ENOSPC -- "$ARD" anomaly score "$D" --model am --quiet --threads 1
sweep_run cosmicweb ENOSPC -- "$ARD" cosmicweb predict "$D" --model cm --threads 1
echo "ok: fetch export survived $fetch_faults injected faults"
