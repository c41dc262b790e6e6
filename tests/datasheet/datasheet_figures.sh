#!/usr/bin/env bash
# The datasheet's SVG figures open in a real renderer: each is rendered to PNG with rsvg-convert
# (Debian librsvg2-bin) and must come out non-empty, 720 x 420 pixels and not blank. SKIPPED (exit
# 77, loudly) when rsvg-convert is not installed.
set -uo pipefail
ARD=${1:?usage: datasheet_figures.sh PATH_TO_ard}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v rsvg-convert >/dev/null 2>&1 ||
    { echo "SKIPPED: datasheet figures: rsvg-convert not found (apt-get install librsvg2-bin)" >&2; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-ds-fig.XXXXXX")
trap 'rm -rf "$T"' EXIT
S=$T/survey
"$ARD" generate "$S" --galaxies 500 --seed 4 --grid log256 --threads 2 --quiet || fail "ard generate"
"$ARD" sync "$S" --quiet --threads 2 >/dev/null || fail "ard sync"
"$ARD" datasheet "$S" >/dev/null || fail "ard datasheet"
be32() { od -An -tu1 -j"$2" -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}'; }
for f in redshift sky completeness; do
    grep -q "figures/$f.svg" "$S/DATA_README.md" || fail "DATA_README.md does not reference $f.svg"
    rsvg-convert "$S/figures/$f.svg" -o "$T/$f.png" 2>"$T/$f.err" || fail "rsvg-convert $f.svg: $(cat "$T/$f.err")"
    size=$(stat -c %s "$T/$f.png")
    [ "$size" -gt 2000 ] || fail "$f.png is only $size bytes"
    [ "$(od -An -c -j1 -N3 "$T/$f.png" | tr -d ' ')" = PNG ] || fail "$f.png is not a PNG"
    w=$(be32 "$T/$f.png" 16)
    h=$(be32 "$T/$f.png" 20)
    [ "$w" = 720 ] && [ "$h" = 420 ] || fail "$f.png is ${w}x${h}, expected 720x420"
    echo "$f.svg -> $f.png: ${w}x${h}, $size bytes"
done
# the sky map really has data drawn: the PNG of an empty frame compresses to far less
rsvg-convert <(sed 's/<rect x="[0-9.]*" y="[0-9.]*" width="2.5"[^>]*>//g' "$S/figures/sky.svg") -o "$T/empty.png" ||
    fail "rsvg-convert of the stripped sky map"
[ "$(stat -c %s "$T/sky.png")" -gt "$(stat -c %s "$T/empty.png")" ] || fail "the sky map draws no tiles"
echo "datasheet figures: ok"
