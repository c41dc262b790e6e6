#!/usr/bin/env bash
# `ard sync` keeps the datasheet current: written by the first sync, rewritten (new content hash)
# when a sync changes the index, left alone by a sync that changes nothing, and not touched with
# --no-datasheet. Usage: bash sync_hook.sh PATH_TO_ard
set -u
ARD=${1:?usage: sync_hook.sh PATH_TO_ard}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
hash_of() { grep -o 'fnv1a64:[0-9a-f]*' "$1" | sed -n 1p; }

ds="$work/ds"
"$ARD" generate "$ds" --galaxies 300 --seed 5 > /dev/null || { echo "FAIL: generate"; exit 1; }
"$ARD" sync "$ds" > "$work/out1" 2>&1
check "first sync writes the datasheet" '[ -s "$ds/DATA_README.md" ] && grep -q "datasheet:" "$work/out1"'
check "figures written" '[ -s "$ds/figures/redshift.svg" ] && [ -s "$ds/figures/sky.svg" ]'
h1=$(hash_of "$ds/DATA_README.md")
check "datasheet carries a content hash" '[ -n "$h1" ]'
cp "$ds/DATA_README.md" "$work/before.md"
"$ARD" sync "$ds" > "$work/out2" 2>&1
check "unchanged sync leaves the datasheet as it is" 'cmp -s "$ds/DATA_README.md" "$work/before.md"'
tile=$(find "$ds/tiles" -name '*.parquet' | sort | sed -n 1p)
rm -f "$tile"
"$ARD" sync "$ds" --no-datasheet > /dev/null 2>&1
check "--no-datasheet does not touch it" 'cmp -s "$ds/DATA_README.md" "$work/before.md"'
touch "$ds/catalog" # nothing else changed: the next sync still sees the removed tile as done
"$ARD" parquet convert "$(find "$ds/tiles" -name '*.parquet' | sort | sed -n 1p)" "$tile" > /dev/null
"$ARD" sync "$ds" > "$work/out3" 2>&1
h3=$(hash_of "$ds/DATA_README.md")
check "a sync that changes the index rewrites it (content hash $h1 -> $h3)" '[ -n "$h3" ] && [ "$h3" != "$h1" ]'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
