#!/usr/bin/env bash
# `ard parquet convert` end to end on shared/parquet-testing: every file `ard parquet cat` can read is
# rewritten with several option sets, and `ard parquet cat` must print the same rows for the copy; files
# with nested columns must be refused with exit 1 and a message naming the column; bad usage exits 2.
# Usage: cli_convert.sh PATH/TO/ard      exit 0 pass, 1 fail, 77 skipped (corpus missing)
set -uo pipefail

ARD=${1:?usage: cli_convert.sh PATH/TO/ard}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${ARD_SHARED_DIR:-$HERE/../../../shared}/parquet-testing/data
if [ ! -d "$DATA" ]; then
    echo "SKIPPED: corpus not found at $DATA"
    exit 77
fi
WORK=$(mktemp -d /tmp/ard_convert_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0
converted=0
refused=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

OPTION_SETS=("" "--codec zstd --level 9 --page-version 2 --rows-per-row-group 3 --page-size 1K"
             "--codec lz4_raw --no-byte-stream-split --row-group-size 64K")
for f in "$DATA"/*.parquet; do
    name=$(basename "$f")
    "$ARD" parquet cat "$f" --format jsonl >"$WORK/in.jsonl" 2>/dev/null || continue
    for opts in "${OPTION_SETS[@]}"; do
        # shellcheck disable=SC2086
        "$ARD" parquet convert "$f" "$WORK/out.parquet" $opts 2>"$WORK/err.txt"
        rc=$?
        if [ $rc -ne 0 ]; then
            if [ $rc -eq 1 ] && grep -q "nested type not supported" "$WORK/err.txt"; then
                refused=$((refused + 1))
                break
            fi
            fail "$name [$opts]: exit $rc: $(cat "$WORK/err.txt")"
            continue
        fi
        if ! "$ARD" parquet cat "$WORK/out.parquet" --format jsonl >"$WORK/out.jsonl" 2>"$WORK/err.txt"; then
            fail "$name [$opts]: converted copy unreadable: $(cat "$WORK/err.txt")"
        elif ! cmp -s "$WORK/in.jsonl" "$WORK/out.jsonl"; then
            fail "$name [$opts]: rows differ after convert"
        else
            converted=$((converted + 1))
        fi
    done
done

# a refusal names the column
"$ARD" parquet convert "$DATA/nested_lists.snappy.parquet" "$WORK/n.parquet" 2>"$WORK/err.txt"
[ $? -eq 1 ] && grep -q "column 'a'" "$WORK/err.txt" || fail "nested_lists: no clear refusal"
[ -e "$WORK/n.parquet" ] && fail "a refused conversion left an output file"
# usage errors exit 2; a missing input exits 1 and creates nothing
"$ARD" parquet convert "$DATA/alltypes_plain.parquet" "$WORK/x.parquet" --codec lzo 2>/dev/null
[ $? -eq 2 ] || fail "--codec lzo: expected exit 2"
"$ARD" parquet convert "$DATA/alltypes_plain.parquet" "$WORK/x.parquet" --row-group-size 12Q 2>/dev/null
[ $? -eq 2 ] || fail "--row-group-size 12Q: expected exit 2"
"$ARD" parquet convert "$WORK/missing.parquet" "$WORK/x.parquet" 2>/dev/null
[ $? -eq 1 ] || fail "missing input: expected exit 1"
[ -e "$WORK/x.parquet" ] && fail "a failed conversion left an output file"

echo "convert: $converted conversions identical, $refused files refused (nested), $fails failures"
[ "$converted" -ge 120 ] || fail "too few conversions ($converted)"
[ $fails -eq 0 ]
