#!/usr/bin/env bash
# `ard datasheet` end to end: generate + sync a small survey, write the datasheet, check it is
# complete, byte-identical when written again (and after a no-op sync), that --stdout, --out and
# --print-template/--template agree, and that template errors name the placeholder and the line.
set -uo pipefail
ARD=${1:?usage: datasheet_cli.sh PATH_TO_ard}
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-ds-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
S=$T/survey
"$ARD" generate "$S" --galaxies 400 --seed 11 --spectra 0.95 --grid log256 --threads 2 --quiet ||
    fail "ard generate"
"$ARD" sync "$S" --quiet --threads 2 >/dev/null || fail "ard sync"
out=$("$ARD" datasheet "$S") || fail "ard datasheet"
[ "$out" = "$S/DATA_README.md" ] || fail "printed path: $out"
for f in DATA_README.md figures/redshift.svg figures/sky.svg figures/completeness.svg; do
    [ -s "$S/$f" ] || fail "missing $f"
done
for s in "## 1. Motivation" "## 2. Composition" "## 3. Collection process" "## 4. Preprocessing" \
    "## 5. Uses" "## 6. Distribution" "## 7. Maintenance" "content hash" "**WARNING"; do
    grep -qF -- "$s" "$S/DATA_README.md" || fail "datasheet lacks '$s'"
done
grep -q "{{" "$S/DATA_README.md" && fail "unrendered placeholder left"
galaxies=$(grep -o 'Galaxies in the catalog: \*\*[0-9]*' "$S/DATA_README.md" | grep -o '[0-9]*$')
[ "$galaxies" = 400 ] || fail "galaxies total $galaxies, expected 400"

cp "$S/DATA_README.md" "$T/first.md"
cp -r "$S/figures" "$T/first-figures"
"$ARD" sync "$S" --quiet >/dev/null || fail "second sync"
"$ARD" datasheet "$S" >/dev/null || fail "second datasheet"
cmp -s "$T/first.md" "$S/DATA_README.md" || fail "datasheet changed without a data change"
diff -r "$T/first-figures" "$S/figures" >/dev/null || fail "figures changed without a data change"

"$ARD" datasheet "$S" --stdout >"$T/stdout.md" || fail "--stdout"
cmp -s "$T/stdout.md" "$S/DATA_README.md" || fail "--stdout differs from the file"
mkdir -p "$T/elsewhere"
"$ARD" datasheet "$S" --out "$T/elsewhere/README.md" >/dev/null || fail "--out"
cmp -s "$T/elsewhere/README.md" "$S/DATA_README.md" || fail "--out differs"
[ -s "$T/elsewhere/figures/sky.svg" ] || fail "--out did not put figures beside it"
"$ARD" datasheet --print-template >"$T/tmpl.md" || fail "--print-template"
"$ARD" datasheet "$S" --template "$T/tmpl.md" --stdout >"$T/via-template.md" || fail "--template"
cmp -s "$T/via-template.md" "$S/DATA_README.md" || fail "the printed template renders differently"
"$ARD" datasheet --list-placeholders | grep -qx "galaxies_total" || fail "--list-placeholders"

printf 'fine {{galaxies_total}}\nline two\nbad {{no_such_thing}}\n' >"$T/bad.md"
"$ARD" datasheet "$S" --template "$T/bad.md" --stdout >/dev/null 2>"$T/err.txt"
rc=$?
[ $rc = 1 ] || fail "bad template: exit $rc, expected 1"
grep -qF "$T/bad.md:3: unknown placeholder {{no_such_thing}}" "$T/err.txt" ||
    fail "bad template message: $(cat "$T/err.txt")"
printf '{{galaxies_total}}\n' >"$T/one.md"
[ "$("$ARD" datasheet "$S" --template "$T/one.md" --stdout)" = 400 ] || fail "one-placeholder template"
"$ARD" datasheet "$T/nowhere" >/dev/null 2>"$T/err2.txt" && fail "datasheet of a missing dataset succeeded"
grep -q "^ard: " "$T/err2.txt" || fail "missing dataset: no message"
"$ARD" datasheet >/dev/null 2>&1
[ $? = 2 ] || fail "no DATASET should be a usage error"
echo "datasheet CLI: ok"
