#!/usr/bin/env bash
# End-to-end checks of `ard generate` and `ard ingest desi`: same bytes with 1 and 2 threads, usage
# errors, a readable catalog and tiles with ard.grid metadata, ingest of the real DESI samples.
# Usage: bash cli_survey.sh PATH_TO_ard   (exit 0 pass, 1 fail, 77 skip)
set -u

ARD=${1:-}
if [[ -z "$ARD" || ! -x "$ARD" ]]; then
    echo "SKIPPED: usage: bash cli_survey.sh PATH_TO_ard (not executable: '$ARD')" >&2
    exit 77
fi
SHARED=${ARD_SHARED_DIR:-$(dirname "$0")/../../../shared}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ard-survey-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
run() {
    "$ARD" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
}

run generate "$WORK/a" --galaxies 400 --seed 9 --threads 1
check "generate exits 0" test "$rc" -eq 0
check "generate reports 400 galaxies" grep -q "400 galaxies" "$WORK/out"
run generate "$WORK/b" --galaxies 400 --seed 9 --threads 2 --quiet
check "generate --quiet prints nothing" test "$rc" -eq 0 -a ! -s "$WORK/out"
check "1 and 2 threads: identical bytes" diff -r "$WORK/a" "$WORK/b"
check "catalog written" test -s "$WORK/a/catalog/zcatalog-0000.parquet"
check "truth written" test -s "$WORK/a/truth/galaxies-0000.parquet" -a -s "$WORK/a/truth/groups.parquet"
tile=$(find "$WORK/a/tiles" -name '*.parquet' | sed -n 1p)
check "tiles under tiles/main/{bright,dark}/PIXGROUP/PIXNUM.parquet" \
    bash -c "[[ '$tile' =~ /tiles/main/(bright|dark)/[0-9]+/[0-9]+\.parquet$ ]]"
run parquet meta "$tile"
check "tile carries ard.grid" grep -q "kind=log;start=3600;stop=9824;n=4096" "$WORK/out"
run parquet cat "$WORK/a/catalog/zcatalog-0000.parquet" --columns TARGETID,Z,SPECTYPE,TARGET_CLASS --limit 3 --format csv
check "catalog readable with DESI names" grep -q "^TARGETID,Z,SPECTYPE,TARGET_CLASS" "$WORK/out"

run generate "$WORK/a" --galaxies 400 --seed 9
check "existing dataset: exit 1, refused" test "$rc" -eq 1
check "existing dataset: says so" grep -q "already holds a dataset" "$WORK/err"

run generate "$WORK/c" --galaxies 300 --spectra none --quiet
check "--spectra none: no tiles" test "$rc" -eq 0 -a ! -d "$WORK/c/tiles"
run generate "$WORK/d" --galaxies 300 --spectra 0.1 --grid log1024 --quiet
n_tiles=$(find "$WORK/d/tiles" -name '*.parquet' | wc -l)
check "--spectra 0.1 writes a subset" test "$rc" -eq 0 -a "$n_tiles" -gt 5 -a "$n_tiles" -lt 80

run generate "$WORK/e"
check "missing --galaxies: exit 2" test "$rc" -eq 2
run generate "$WORK/e" --region 180,0
check "--region without a radius: exit 2" test "$rc" -eq 2
run generate "$WORK/e" --region 180,0,x
check "--region with a bad number: exit 2" test "$rc" -eq 2
run generate "$WORK/r" --region 180,0,0.3 --lss-cells 32 --lss-box 64 --spectra none --seed 4
check "--region: exit 0" test "$rc" -eq 0
check "--region: DR1 density (~1,300 galaxies in 0.28 deg^2)" \
    bash -c "n=\$(grep -o '[0-9]* galaxies' '$WORK/out' | head -1 | cut -d' ' -f1); [ \$n -gt 900 -a \$n -lt 1800 ]"
check "--region: grid T-web truth" bash -c "'$ARD' parquet meta '$WORK/r/truth/galaxies-0000.parquet' | grep -q 'method=tweb-grid'"
run generate "$WORK/w" --region 180,0,0.3 --lss-cells 32 --lss-box 64 --spectra none --seed 4 \
    --web-smoothing 6 --web-lambda-th 0.15
check "--web-smoothing 6: exit 0" test "$rc" -eq 0
check "--web-smoothing: R and lambda_th recorded" bash -c "'$ARD' parquet meta '$WORK/w/truth/galaxies-0000.parquet' | grep -q 'smoothing_mpc_h=6;lambda_th=0.14999'"
check "--web-smoothing: same catalog as R = 2" cmp -s "$WORK/r/catalog/zcatalog-0000.parquet" "$WORK/w/catalog/zcatalog-0000.parquet"
run generate "$WORK/e" --region 180,0,0.3 --web-smoothing 0
check "--web-smoothing 0: exit 2" test "$rc" -eq 2
run generate "$WORK/l2" --region 180,0,0.3 --lss-cells 32 --lss-box 64 --spectra none --seed 4 --lpt 2
check "--lpt 2: exit 0" test "$rc" -eq 0
check "--lpt 2: recorded (field=2lpt)" bash -c "'$ARD' parquet meta '$WORK/l2/truth/galaxies-0000.parquet' | grep -q 'field=2lpt'"
check "--lpt 2: the zeldovich survey records field=zeldovich" bash -c "'$ARD' parquet meta '$WORK/r/truth/galaxies-0000.parquet' | grep -q 'field=zeldovich'"
check "--lpt 2: other galaxies than Zel'dovich" bash -c "! cmp -s '$WORK/r/catalog/zcatalog-0000.parquet' '$WORK/l2/catalog/zcatalog-0000.parquet'"
run generate "$WORK/e" --region 180,0,0.3 --lpt 3
check "--lpt 3: exit 2" test "$rc" -eq 2
run generate "$WORK/e" --galaxies 10 --spectra 2
check "--spectra 2: exit 2" test "$rc" -eq 2
run generate "$WORK/e" --galaxies 10 --grid cubic
check "bad --grid: exit 2 with message" test "$rc" -eq 2
check "bad --grid names the grid" grep -q "cubic" "$WORK/err"
run generate /proc/ard-no --galaxies 10 --spectra none
check "unwritable output: exit 1, 'ard: ' message" test "$rc" -eq 1
check "unwritable output message" grep -q "^ard: " "$WORK/err"

if [[ -r "$SHARED/desi-samples/coadd-4-80613-thru20210324.fits" ]]; then
    run ingest desi "$WORK/i" "$SHARED/desi-samples"
    check "ingest desi DIR exits 0" test "$rc" -eq 0
    check "ingest reports 2 spectra" grep -q "2 spectra (2 with redshifts)" "$WORK/out"
    check "healpix coadd lands in its tile" test -s "$WORK/i/tiles/special/dark/272/27247.parquet"
    run parquet cat "$WORK/i/catalog/zcatalog-0000.parquet" --columns TARGETID,Z --format csv
    check "TARGETID from the FITS" grep -q "^39633345008634465,0.368743" "$WORK/out"
    run ingest desi "$WORK/j" "$SHARED/desi-samples/MANIFEST.md"
    check "non-FITS input: exit 1" test "$rc" -eq 1
    check "non-FITS input: message names the file" grep -q "MANIFEST.md" "$WORK/err"
    run ingest fits "$WORK/j" x
    check "ingest needs 'desi': exit 2" test "$rc" -eq 2
else
    echo "SKIPPED (partly): DESI samples not found under $SHARED/desi-samples"
fi

echo "passed $passed, failed $failed"
[[ $failed -eq 0 ]]
