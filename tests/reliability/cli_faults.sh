#!/usr/bin/env bash
# I/O faults through the CLI (issue 15), armed with ARD_IO_FAIL="KINDS:K:ERRNO": `ard parquet
# convert` over an existing output and `ard generate` fail with a message naming the file, exit 1,
# leave the previous output byte for byte and no temporary file; the sweep runs k = 1, 2, ... until
# the command no longer meets a fault (then it must succeed).
set -euo pipefail
ARD=${1:?usage: cli_faults.sh PATH_TO_ard}
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-faults.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
"$ARD" generate "$T/src" --galaxies 200 --seed 4 --quiet --threads 1
IN=$(find "$T/src/tiles" -name '*.parquet' | sort | sed -n 1p)
OUT=$T/out/converted.parquet
mkdir -p "$T/out"
echo "previous output" >"$OUT"
cp "$OUT" "$T/previous"
no_temps() { ! find "$1" -name '.*.tmp.*' | grep -q . || fail "$2: temporary file left: $(find "$1" -name '.*.tmp.*')"; }

# ---- parquet convert: every k of every writer call kind, three fault kinds ----
faults=0
for e in ENOSPC EIO short; do
    k=1
    while :; do
        rc=0
        ARD_IO_FAIL="open+write+fsync+rename:$k:$e" "$ARD" parquet convert "$IN" "$OUT" \
            >/dev/null 2>"$T/err" || rc=$?
        if [ "$rc" -eq 0 ]; then
            break # k is past the last call: the conversion ran clean
        fi
        faults=$((faults + 1))
        [ "$rc" -eq 1 ] || fail "convert k=$k $e: exit $rc: $(cat "$T/err")"
        # the failing file: the output (writes) or the input (its open)
        grep -qF -e "$OUT" -e "$IN" "$T/err" || fail "convert k=$k $e: message names no file: $(cat "$T/err")"
        if grep -q "fsync of directory" "$T/err"; then
            # only the directory fsync after the rename failed: the new file is complete
            "$ARD" parquet meta "$OUT" >/dev/null || fail "convert k=$k $e: renamed a broken file"
            cp "$T/previous" "$OUT"
        fi
        cmp -s "$OUT" "$T/previous" || fail "convert k=$k $e: the previous output changed"
        no_temps "$T/out" "convert k=$k $e"
        k=$((k + 1))
        [ "$k" -lt 500 ] || fail "convert: no clean run after 500 faults"
    done
    cmp -s "$OUT" "$T/previous" && fail "convert: the clean run did not write"
    cp "$T/previous" "$OUT"
done
[ "$faults" -gt 10 ] || fail "convert: only $faults faults injected"

# ---- generate: sampled k, the output holds no temporary and no half-written tile ----
gen_faults=0
for k in 1 2 3 5 8 13 21 34 55 89; do
    rm -rf "$T/gen"
    rc=0
    ARD_IO_FAIL="any:$k:ENOSPC" "$ARD" generate "$T/gen" --galaxies 200 --seed 4 --quiet \
        --threads 1 >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" -ne 0 ] || continue
    gen_faults=$((gen_faults + 1))
    grep -qF "$T/gen" "$T/err" || fail "generate k=$k: message does not name a file: $(cat "$T/err")"
    grep -q "No space left on device" "$T/err" || fail "generate k=$k: $(cat "$T/err")"
    no_temps "$T/gen" "generate k=$k"
    while read -r f; do
        "$ARD" parquet meta "$f" >/dev/null 2>&1 || fail "generate k=$k: half-written $f"
    done < <(find "$T/gen" -name '*.parquet')
done
[ "$gen_faults" -ge 5 ] || fail "generate: only $gen_faults faults injected"
echo "ok: convert survived $faults injected faults, generate $gen_faults"
