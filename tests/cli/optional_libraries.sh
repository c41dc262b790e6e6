#!/usr/bin/env bash
# OpenBLAS, libpq and cfitsio are opened on first use, not linked: none is DT_NEEDED by ard or libard,
# and with all three made unloadable (bind-mounted over by /dev/null in a private mount namespace)
# ard still starts, generates and syncs into SQLite, while the nn stages, the PostgreSQL backend and
# the DESI ingest fail with a message naming the library and dlerror(), exit status 1, never a crash.
# Usage: bash optional_libraries.sh PATH_TO_ard   (exit 0 pass, 1 fail, 77 skipped: needs root + unshare)
set -uo pipefail
ARD=${1:?usage: optional_libraries.sh PATH_TO_ard}
fail() { echo "FAIL: $*" >&2; exit 1; }
LIB=$(dirname "$ARD")/libard.so
for f in "$ARD" "$LIB"; do
    [ -e "$f" ] || fail "no $f"
    needed=$(readelf -d "$f" | grep NEEDED) || fail "readelf -d $f"
    if grep -qiE 'openblas|libpq|cfitsio' <<<"$needed"; then
        fail "$f links OpenBLAS, libpq or cfitsio: $needed"
    fi
done
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIPPED: hiding the libraries needs root and unshare -m"
    exit 77
fi
hide=""
for l in libopenblas.so.0 libpq.so.5 libcfitsio.so.10; do
    for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread; do
        [ -e "$d/$l" ] && hide="$hide $(readlink -f "$d/$l")"
    done
done
[ -n "$hide" ] || fail "found none of OpenBLAS, libpq, cfitsio to hide"
COADD="${ARD_SHARED_DIR:-$(dirname "$0")/../../../shared}/desi-samples/coadd-4-80613-thru20210324.fits"
[ -f "$COADD" ] || echo "SKIPPED (part): no DESI coadd sample at $COADD: the ingest without cfitsio is not tried"
T=$(mktemp -d /tmp/ard-optional-libs-XXXXXX)
trap 'rm -rf "$T"' EXIT
export ARD T COADD
# shellcheck disable=SC2016
unshare -m bash -c '
    for f in '"$(printf '%s ' $hide | tr ' ' '\n' | sort -u | tr '\n' ' ')"'; do mount --bind /dev/null "$f" || exit 3; done
    "$ARD" --version > /dev/null || exit 4
    "$ARD" generate "$T/ds" --galaxies 60 --seed 3 --quiet || exit 5
    "$ARD" sync "$T/ds" --quiet > /dev/null || exit 6
    rc=0; "$ARD" anomaly train "$T/ds" --epochs 1 --quiet > /dev/null 2> "$T/blas.err" || rc=$?
    echo "$rc" > "$T/blas.rc"
    rc=0; "$ARD" sync "$T/ds" --db "host=$T dbname=none" --quiet > /dev/null 2> "$T/pq.err" || rc=$?
    echo "$rc" > "$T/pq.rc"
    if [ -f "$COADD" ]; then
        rc=0; "$ARD" ingest desi "$T/di" "$COADD" --quiet > /dev/null 2> "$T/fits.err" || rc=$?
        echo "$rc" > "$T/fits.rc"
    fi
'
rc=$?
[ $rc = 0 ] || fail "with the libraries hidden: step $rc failed"
[ "$(cat "$T/blas.rc")" = 1 ] || fail "anomaly train without OpenBLAS exited $(cat "$T/blas.rc"): $(cat "$T/blas.err")"
grep -q "BLAS (OpenBLAS) needs .*libopenblas.so.0: .*file too short" "$T/blas.err" \
    || fail "OpenBLAS message: $(cat "$T/blas.err")"
[ "$(cat "$T/pq.rc")" = 1 ] || fail "sync into PostgreSQL without libpq exited $(cat "$T/pq.rc"): $(cat "$T/pq.err")"
grep -q "PostgreSQL support needs .*libpq.so.5: .*file too short" "$T/pq.err" \
    || fail "libpq message: $(cat "$T/pq.err")"
if [ -f "$COADD" ]; then
    [ "$(cat "$T/fits.rc")" = 1 ] || fail "ingest without cfitsio exited $(cat "$T/fits.rc"): $(cat "$T/fits.err")"
    grep -q "reading FITS needs .*libcfitsio.so.10: .*file too short" "$T/fits.err" \
        || fail "cfitsio message: $(cat "$T/fits.err")"
fi
echo "optional libraries: ok"
