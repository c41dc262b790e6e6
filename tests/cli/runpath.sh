#!/usr/bin/env bash
# The loader never looks for ard's libraries in the current directory: ard's and libard.so's
# RUNPATH (if any) holds absolute directories only (no empty entry, no relative one), and ard
# started in a directory holding a bogus libzstd.so.1 / libsqlite3.so.0 / libm.so.6 runs normally.
# (CMake padded the build tree's RUNPATH with an empty entry, which the loader reads as the
# current directory: ard died there with "libzstd.so.1: file too short".)
set -euo pipefail
ARD=$(readlink -f "${1:?usage: runpath.sh PATH_TO_ard}")
LIB="$(dirname "$ARD")/libard.so"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v readelf >/dev/null || { echo "SKIPPED: readelf is not installed"; exit 77; }
for f in "$ARD" "$LIB"; do
    [ -f "$f" ] || fail "$f is not built"
    rp=$(readelf -d "$f" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]$/\2/p')
    echo "$(basename "$f"): RUNPATH [${rp}]"
    [ -z "$rp" ] && continue
    IFS=: read -r -a dirs <<<"$rp"
    [[ "$rp" == *: || "$rp" == :* || "$rp" == *::* ]] && fail "$f: an empty RUNPATH entry ($rp)"
    for d in "${dirs[@]}"; do
        case "$d" in
            /*) ;;
            *) fail "$f: RUNPATH entry '$d' is not absolute" ;;
        esac
    done
done
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-runpath.XXXXXX")
trap 'rm -rf "$T"' EXIT
for l in libzstd.so.1 libsqlite3.so.0 libm.so.6 libsnappy.so.1v5 libcfitsio.so.10; do
    echo "not a library" >"$T/$l"
done
out=$(cd "$T" && "$ARD" --version 2>&1) || fail "ard did not start in a directory with bogus libraries: $out"
echo "in a directory with bogus libraries: $out"
echo "ok: no library is looked up in the current directory"
