#!/usr/bin/env bash
# scripts/check-layers: clean on the tree (known debt listed), and failing on a deliberate bad include
# (core may use nothing above it) and on a stale line of the known-debt list.
set -uo pipefail
SRC="${ARD_SOURCE_DIR:?}"
fail() { echo "FAILED: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIPPED: no python3"; exit 77; }
python3 "$SRC/scripts/check-layers" >/dev/null || fail "check-layers fails on the tree itself"
T=$(mktemp -d /tmp/ard-layers.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/scripts" && cp -r "$SRC/src" "$T/src"
cp "$SRC/scripts/check-layers" "$SRC/scripts/check-layers.known" "$T/scripts/"
printf '#include "ard/stream.h"\n' >>"$T/src/core/alloc.c"
out=$(python3 "$T/scripts/check-layers" 2>&1) && fail "a core -> stream include passed"
grep -q "src/core/alloc.c:.*core includes ard/stream.h: core may not use stream" <<<"$out" ||
    fail "the message does not name the crossing: $out"
printf '#include "../index/index_int.h"\n' >"$T/src/core/zz_bad.c"
out=$(python3 "$T/scripts/check-layers" 2>&1) && fail "a private header of another module passed"
grep -q "zz_bad.c:1: core includes ../index/index_int.h" <<<"$out" || fail "no message: $out"
cp -r "$SRC/src" "$T/src2" && rm -rf "$T/src" && mv "$T/src2" "$T/src"
echo "src/core/alloc.c ard/stream.h" >>"$T/scripts/check-layers.known"
python3 "$T/scripts/check-layers" >/dev/null 2>&1 && fail "a stale known-debt line passed"
echo "check_layers: ok"
