#!/usr/bin/env bash
# kill -9 sweeps over the writers cli_kill_writers/cli_kill_results/index_kill do not cover
# (issue 15): `ard datasheet` replacing a previous datasheet, `ard fetch --out` over an existing
# output and `ard ingest desi` of a DESI coadd + redrock pair, SIGKILLed at seeded moments spread
# over a clean run while a reader checks DATA_README.md / parses the Parquet files in sight.
# Afterwards: DATA_README.md is the previous one or the new one byte for byte, every figure the
# previous or the new one; the fetch output the previous or the new file; every ingested Parquet
# file under its final name is the clean run's bytes; the next run (the datasheet or fetch again;
# ingest into the killed directory, refused) leaves no temporary; a re-run gives the clean bytes.
set -euo pipefail
ARD=${1:?usage: cli_kill_more.sh PATH_TO_ard}
SAMPLES=${ARD_SHARED_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}/desi-samples
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-kill-ds.XXXXXX")
cleanup() {
    kill -9 ${RUN_PID:-} 2>/dev/null || true
    [ -z "${READER_PID:-}" ] || kill -9 -- "-$READER_PID" 2>/dev/null || true
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
ms() { echo $(($(date +%s%N) / 1000000)); }
pause() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
RANDOM=3131 # seeded kill moments
start_reader() { # start_reader COMMAND...: runs it in a loop in its own process group
    set -m
    (while :; do "$@" || echo "reader: $*" >>"$T/reader.fail"; echo . >>"$T/reads"; done) \
        >/dev/null 2>&1 &
    READER_PID=$!
    set +m
}
stop_reader() {
    kill -9 -- "-$READER_PID" 2>/dev/null || true
    wait "$READER_PID" 2>/dev/null || true
    READER_PID=
    [ ! -s "$T/reader.fail" ] || fail "$1: the concurrent reader failed: $(head -3 "$T/reader.fail")"
}
run_killed() { # run_killed DELAY_MS COMMAND...: runs it, SIGKILLed after DELAY_MS; KILL_RC: its exit
    local delay=$1
    shift
    "$@" >/dev/null 2>&1 &
    RUN_PID=$!
    pause "$delay"
    kill -9 "$RUN_PID" 2>/dev/null || true
    KILL_RC=0
    wait "$RUN_PID" 2>/dev/null || KILL_RC=$?
    RUN_PID=
}
time_clean() { # time_clean COMMAND...: runs it once, clean; SPAN: its wall time in ms (>= 1)
    local t0
    t0=$(ms)
    "$@" >/dev/null || fail "the clean run failed: $*"
    SPAN=$(($(ms) - t0 + 1))
}
# A round whose run finished before its kill moment: the clean run was timed at a busier moment
# than the rounds (the machine's load changed), so the kill moments fell after the end. replay
# COMMAND... times a clean run again and says whether to play the round again (at most ROUNDS
# times per sweep: RETIMED counts them; the caller resets it).
replay() {
    [ "$KILL_RC" != 137 ] && [ "$RETIMED" -lt "$ROUNDS" ] || return 1
    RETIMED=$((RETIMED + 1))
    time_clean "$@"
}
no_temps() { # no_temps DIR WHAT
    local left
    left=$(find "$1" -name '.*.tmp.*')
    [ -z "$left" ] || fail "$2: temporaries survive the next run: $left"
}

# ---- datasheet ----
D=$T/d
"$ARD" generate "$D" --galaxies 400 --seed 5 --quiet --threads 1
"$ARD" sync "$D" --quiet --threads 1 >/dev/null
printf '# the previous datasheet\n\nspectra: {{spectra_total}}\n' >"$T/old.tmpl"
"$ARD" datasheet "$D" >/dev/null
mkdir "$T/new" "$T/old"
cp -r "$D/DATA_README.md" "$D/figures" "$T/new/"
time_clean "$ARD" datasheet "$D" --template "$T/old.tmpl"
cp -r "$D/DATA_README.md" "$D/figures" "$T/old/"
cmp -s "$T/old/DATA_README.md" "$T/new/DATA_README.md" && fail "the two datasheets do not differ"
reader_ds() { # the README is whole: the previous or the new one
    cmp -s "$D/DATA_README.md" "$T/old/DATA_README.md" || cmp -s "$D/DATA_README.md" "$T/new/DATA_README.md"
}
kills=0 olds=0 news=0 i=0 RETIMED=0
while [ "$i" -lt "$ROUNDS" ]; do
    i=$((i + 1))
    "$ARD" datasheet "$D" --template "$T/old.tmpl" >/dev/null
    delay=$((RANDOM % SPAN))
    start_reader reader_ds
    run_killed "$delay" "$ARD" datasheet "$D"
    rc=$KILL_RC
    stop_reader "datasheet round $i"
    [ "$rc" = 137 ] && kills=$((kills + 1))
    if cmp -s "$D/DATA_README.md" "$T/old/DATA_README.md"; then
        olds=$((olds + 1))
    elif cmp -s "$D/DATA_README.md" "$T/new/DATA_README.md"; then
        news=$((news + 1))
    else
        fail "datasheet killed at ${delay} ms: DATA_README.md is neither the previous nor the new one"
    fi
    for f in "$T"/new/figures/*.svg; do
        b=figures/$(basename "$f")
        cmp -s "$D/$b" "$T/old/$b" || cmp -s "$D/$b" "$T/new/$b" ||
            fail "datasheet killed at ${delay} ms: $b is neither the previous nor the new one"
    done
    "$ARD" datasheet "$D" >/dev/null || fail "datasheet re-run, round $i"
    cmp -s "$D/DATA_README.md" "$T/new/DATA_README.md" || fail "datasheet re-run, round $i: not the clean bytes"
    no_temps "$D" "datasheet killed at ${delay} ms"
    ! replay "$ARD" datasheet "$D" || i=$((i - 1))
done
[ "$kills" -ge $((ROUNDS / 2)) ] || fail "datasheet: too few kills landed mid-run ($kills)"
echo "datasheet: $kills of $ROUNDS runs killed mid-run ($RETIMED re-timed; README previous: $olds, new: $news); figures whole; no temporaries after the next run"

# ---- fetch export over an existing output ----
mkdir -p "$T/fout"
OUT=$T/fout/fetched.parquet
"$ARD" fetch "$D" --where "Z > 1.0" --out "$T/fold.parquet" --threads 1 >/dev/null
time_clean "$ARD" fetch "$D" --where "Z > 0.1" --out "$T/fnew.parquet" --threads 1
cmp -s "$T/fold.parquet" "$T/fnew.parquet" && fail "the two fetch outputs do not differ"
reader_out() { [ ! -e "$OUT" ] || "$ARD" parquet meta "$OUT" >/dev/null; }
fkills=0 olds=0 news=0 i=0 RETIMED=0
while [ "$i" -lt "$ROUNDS" ]; do
    i=$((i + 1))
    cp "$T/fold.parquet" "$OUT"
    delay=$((RANDOM % SPAN))
    start_reader reader_out
    run_killed "$delay" "$ARD" fetch "$D" --where "Z > 0.1" --out "$OUT" --threads 1
    rc=$KILL_RC
    stop_reader "fetch round $i"
    [ "$rc" = 137 ] && fkills=$((fkills + 1))
    if cmp -s "$OUT" "$T/fold.parquet"; then
        olds=$((olds + 1))
    elif cmp -s "$OUT" "$T/fnew.parquet"; then
        news=$((news + 1))
    else
        fail "fetch killed at ${delay} ms: the output is neither the previous file nor the new one"
    fi
    "$ARD" fetch "$D" --where "Z > 0.1" --out "$OUT" --threads 1 >/dev/null || fail "fetch re-run, round $i"
    cmp -s "$OUT" "$T/fnew.parquet" || fail "fetch re-run, round $i: not the clean run's bytes"
    no_temps "$T/fout" "fetch killed at ${delay} ms"
    ! replay "$ARD" fetch "$D" --where "Z > 0.1" --out "$T/fretime.parquet" --threads 1 || i=$((i - 1))
done
[ "$fkills" -ge $((ROUNDS / 2)) ] || fail "fetch: too few kills landed mid-run ($fkills)"
echo "fetch --out: $fkills of $ROUNDS runs killed mid-run ($RETIMED re-timed; output previous: $olds, new: $news); no temporaries after the re-run"

# ---- DESI ingest ----
COADD=$SAMPLES/coadd-4-80613-thru20210324.fits
REDROCK=$SAMPLES/redrock-4-80613-thru20210324.fits
if [ ! -r "$COADD" ] || [ ! -r "$REDROCK" ]; then
    echo "SKIPPED (ingest part): DESI samples not found under $SAMPLES" >&2
    echo "ok: datasheet kill sweep"
    exit 0
fi
time_clean "$ARD" ingest desi "$T/ref" "$COADD" "$REDROCK" --threads 1
reader_pq() { # every Parquet file under $1 parses
    find "$1" -name '*.parquet' 2>/dev/null | while read -r f; do
        [ ! -e "$f" ] || "$ARD" parquet meta "$f" >/dev/null 2>&1 || [ ! -e "$f" ] || return 1
    done
}
ikills=0 files=0 i=0 RETIMED=0
while [ "$i" -lt "$ROUNDS" ]; do
    i=$((i + 1))
    G=$T/i$i
    mkdir -p "$G"
    delay=$((SPAN / 2 + RANDOM % (SPAN / 2 + 1))) # the second half: ingest writes at the end
    start_reader reader_pq "$G"
    run_killed "$delay" "$ARD" ingest desi "$G/o" "$COADD" "$REDROCK" --threads 1
    krc=$KILL_RC
    stop_reader "ingest round $i"
    [ "$krc" = 137 ] && ikills=$((ikills + 1))
    while read -r f; do
        rel=${f#"$G/o/"}
        cmp -s "$f" "$T/ref/$rel" || fail "ingest killed at ${delay} ms: $rel differs from the clean run's"
        files=$((files + 1))
    done < <(find "$G" -name '*.parquet')
    rc=0
    "$ARD" ingest desi "$G/o" "$COADD" "$REDROCK" --threads 1 >/dev/null 2>"$T/err" || rc=$?
    if [ "$rc" != 0 ]; then # a killed run's output is refused, never mixed
        grep -q "already holds a dataset" "$T/err" || fail "ingest over a killed run's output: $(cat "$T/err")"
    fi
    no_temps "$G" "ingest killed at ${delay} ms"
    rm -rf "$G"
    if replay "$ARD" ingest desi "$T/retime" "$COADD" "$REDROCK" --threads 1; then
        rm -rf "$T/retime"
        i=$((i - 1))
    fi
done
# Timed kills land mostly before ingest writes (it reads the FITS files first): a deterministic
# sweep kills it at the k-th write/fsync/rename of core's atomic writer (ARD_IO_FAIL=...:kill raises
# SIGKILL there), k = 1, 2, 3, 5, 8, ... until a run gets through: every kill lands in the write phase.
wkills=0 k=1 kprev=1
while :; do
    G=$T/w$k
    mkdir -p "$G"
    rc=0
    ARD_IO_FAIL="write+fsync+rename:$k:kill" "$ARD" ingest desi "$G/o" "$COADD" "$REDROCK" \
        --threads 1 >/dev/null 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        diff -r "$T/ref" "$G/o" >/dev/null || fail "ingest armed at write call $k finished but differs"
        rm -rf "$G"
        break
    fi
    [ "$rc" = 137 ] || fail "ingest killed at write call $k: exit $rc, not SIGKILL"
    wkills=$((wkills + 1))
    while read -r f; do
        rel=${f#"$G/o/"}
        cmp -s "$f" "$T/ref/$rel" || fail "ingest killed at write call $k: $rel differs from the clean run's"
        files=$((files + 1))
    done < <(find "$G" -name '*.parquet')
    rc=0
    "$ARD" ingest desi "$G/o" "$COADD" "$REDROCK" --threads 1 >/dev/null 2>"$T/err" || rc=$?
    if [ "$rc" != 0 ]; then
        grep -q "already holds a dataset" "$T/err" || fail "ingest over a run killed at write $k: $(cat "$T/err")"
    fi
    no_temps "$G" "ingest killed at write call $k"
    rm -rf "$G"
    [ "$k" -lt 100000 ] || fail "ingest: still killed at write call $k"
    next=$((k + kprev))
    kprev=$k
    k=$next
done
[ "$wkills" -ge 3 ] || fail "ingest: only $wkills kills landed in the write phase"
echo "ingest: $wkills deterministic kills in the write phase (write calls 1..$kprev, Fibonacci steps)"
"$ARD" ingest desi "$T/again" "$COADD" "$REDROCK" --threads 1 >/dev/null
diff -r "$T/ref" "$T/again" >/dev/null || fail "an ingest after the kills differs from the clean run"
[ "$ikills" -ge $((ROUNDS / 2)) ] || fail "ingest: too few kills landed mid-run ($ikills)"
reads=$(wc -l <"$T/reads")
echo "ingest: $ikills of $ROUNDS runs killed mid-run ($RETIMED re-timed after a run outlived its kill moment); $files finished files all the clean run's bytes; no temporaries after the next run"
echo "ok: $reads concurrent reads saw only whole files"
