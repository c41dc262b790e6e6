#!/usr/bin/env bash
# kill -9 sweeps over the file writers (issue 15): `ard generate` and `ard parquet convert`
# SIGKILLed at seeded moments spread over a clean run's duration, while a concurrent reader parses
# every Parquet file in sight. At every moment and after every kill: each file under its final name
# parses and is byte for byte the clean run's file (generate: same seed, same bytes) or, for
# convert, the previous output; a re-run completes with the clean run's bytes. The hidden
# temporaries of a killed atomic write (.NAME.tmp.*) are counted after the kill and gone after the
# next run (generate refusing the killed directory, convert writing the same output).
set -euo pipefail
ARD=${1:?usage: cli_kill_writers.sh PATH_TO_ard}
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-kill-writers.XXXXXX")
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
ROUNDS=${ARD_KILL_ROUNDS:-5}
GEN=(--region 150,2,0.12 --seed 2 --quiet --threads 1 --lss-cells 32)
ms() { echo $(($(date +%s%N) / 1000000)); }
pause() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
RANDOM=2626 # seeded kill moments

# reader DIR: parses every *.parquet under DIR over and over; failures into $T/reader.fail
reader() {
    while :; do
        find "$1" -name '*.parquet' 2>/dev/null | while read -r f; do
            [ -e "$f" ] || continue
            "$ARD" parquet meta "$f" >/dev/null 2>"$T/meta.err" ||
                echo "$f: $(cat "$T/meta.err")" >>"$T/reader.fail"
        done
        echo . >>"$T/reads"
    done
}
# The reader runs in its own process group (job control on while it starts) so that stopping it
# also stops its pipeline: a `find | while` left behind once kept reading a round's directory while
# the next round removed it, and reported the vanished files as that round's failure.
start_reader() {
    set -m
    reader "$1" &
    READER_PID=$!
    set +m
}
stop_reader() {
    kill -9 -- "-$READER_PID" 2>/dev/null || kill -9 "$READER_PID" 2>/dev/null || true
    wait "$READER_PID" 2>/dev/null || true
    READER_PID=
    [ ! -s "$T/reader.fail" ] || fail "$1: the concurrent reader saw: $(head -3 "$T/reader.fail")"
}

# ---- generate ----
t0=$(ms)
"$ARD" generate "$T/ref" "${GEN[@]}"
span=$(($(ms) - t0 + 1))
kills=0 temps=0 files=0
for i in $(seq 1 "$ROUNDS"); do
    G=$T/g$i
    delay=$((RANDOM % span))
    mkdir -p "$G"
    start_reader "$G"
    "$ARD" generate "$G/d" "${GEN[@]}" >/dev/null 2>&1 &
    RUN_PID=$!
    pause "$delay"
    kill -9 "$RUN_PID" 2>/dev/null || true
    rc=0
    wait "$RUN_PID" 2>/dev/null || rc=$?
    RUN_PID=
    stop_reader "generate round $i"
    [ "$rc" = 137 ] && kills=$((kills + 1))
    while read -r f; do
        rel=${f#"$G/d/"}
        cmp -s "$f" "$T/ref/$rel" || fail "generate killed at ${delay} ms: $rel differs from the clean run's"
        files=$((files + 1))
    done < <(find "$G" -name '*.parquet')
    temps=$((temps + $(find "$G" -name '.*.tmp.*' | wc -l)))
    if [ -d "$G/d/tiles" ]; then # a partial dataset is never mixed with a re-run's
        rc=0
        "$ARD" generate "$G/d" "${GEN[@]}" 2>"$T/err" || rc=$?
        [ "$rc" = 1 ] && grep -q "already holds a dataset" "$T/err" ||
            fail "generate over a killed run's output: exit $rc: $(cat "$T/err")"
    else
        "$ARD" generate "$G/d" "${GEN[@]}" >/dev/null 2>&1 || true # no dataset yet: it starts over
    fi
    left=$(find "$G" -name '.*.tmp.*')
    [ -z "$left" ] || fail "generate killed at ${delay} ms: temporaries survive the next run: $left"
    rm -rf "$G"
done
"$ARD" generate "$T/again" "${GEN[@]}"
diff -r "$T/ref" "$T/again" >/dev/null || fail "a re-run after the kills differs from the clean run"
[ "$kills" -ge $((ROUNDS / 2)) ] || fail "generate: too few kills landed mid-run ($kills)"
echo "generate: $kills of $ROUNDS runs killed mid-run; $files finished files all whole; $temps hidden temporaries left, all removed by the next run"

# ---- parquet convert over an existing output ----
IN=$(find "$T/ref/tiles" -name '*.parquet' | xargs ls -S | head -1)
OTHER=$(find "$T/ref/tiles" -name '*.parquet' | xargs ls -S | sed -n 2p)
mkdir -p "$T/out"
OUT=$T/out/converted.parquet
t0=$(ms)
"$ARD" parquet convert "$IN" "$T/new.parquet" --codec zstd >/dev/null
span=$(($(ms) - t0 + 1))
"$ARD" parquet convert "$OTHER" "$T/old.parquet" --codec zstd >/dev/null
ckills=0 old=0 new=0
for i in $(seq 1 $((2 * ROUNDS))); do
    cp "$T/old.parquet" "$OUT"
    delay=$((RANDOM % span))
    start_reader "$T/out"
    "$ARD" parquet convert "$IN" "$OUT" --codec zstd >/dev/null 2>&1 &
    RUN_PID=$!
    pause "$delay"
    kill -9 "$RUN_PID" 2>/dev/null || true
    rc=0
    wait "$RUN_PID" 2>/dev/null || rc=$?
    RUN_PID=
    stop_reader "convert round $i"
    [ "$rc" = 137 ] && ckills=$((ckills + 1))
    if cmp -s "$OUT" "$T/old.parquet"; then
        old=$((old + 1))
    elif cmp -s "$OUT" "$T/new.parquet"; then
        new=$((new + 1))
    else
        fail "convert killed at ${delay} ms: the output is neither the previous file nor the new one"
    fi
    "$ARD" parquet convert "$IN" "$OUT" --codec zstd >/dev/null || fail "convert re-run, round $i"
    cmp -s "$OUT" "$T/new.parquet" || fail "convert re-run, round $i: not the clean run's bytes"
    left=$(find "$T/out" -name '.*.tmp.*')
    [ -z "$left" ] || fail "convert killed at ${delay} ms: temporaries survive the re-run: $left"
done
[ "$ckills" -ge "$ROUNDS" ] || fail "convert: too few kills landed mid-run ($ckills)"
reads=$(wc -l <"$T/reads")
echo "convert: $ckills of $((2 * ROUNDS)) runs killed mid-run (output previous: $old, new: $new); re-runs complete"
echo "ok: $reads concurrent reader passes saw only whole files"
