#!/usr/bin/env bash
# `ard stream bench --memory` holds the whole stream, decoding included (issue 15): over 4 tiles of
# one 1000-spectrum x 4096-pixel row group each (32.8 MB decoded per row group), 4 producer threads
# under --memory 40M peak below 40 MiB + the process baseline (peak RSS of `ard --help`, same run)
# + a fixed 48 MiB allowance (tokenizer workspaces, the Parquet reader's chunk buffers and mapped
# chunk pages, tile footers; README "Reliability"). The uncapped run is printed as the reference.
set -euo pipefail
ARD=${1:?usage: cli_memory_cap.sh PATH_TO_ard}
BUILD=$(dirname "$(readlink -f "$ARD")")
TILES_BIN="$BUILD/bench/bench_stream_tiles"
[ -x "$TILES_BIN" ] || TILES_BIN="$BUILD/bench_stream_tiles"
if [ ! -x "$TILES_BIN" ]; then
    echo "SKIPPED: bench_stream_tiles is not built (cmake --build ... --target bench_stream_tiles)"
    exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-memcap.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# freed memory goes back at once under ASan too (its quarantine would count as ours)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:detect_leaks=0"

"$TILES_BIN" "$T/ds" 4 1000 4096 1000 >/dev/null || fail "writing tiles"
# peak RSS (KiB) of a command; its output goes to $T/out
peak() {
    python3 - "$T/out" "$@" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
base=$(peak "$ARD" --help)
capped=$(peak "$ARD" stream bench "$T/ds" --threads 4 --batch-size 64 --prefetch 8 --memory 40M)
grep -q "spectra 4000 " "$T/out" || fail "capped stream: $(cat "$T/out")"
uncapped=$(peak "$ARD" stream bench "$T/ds" --threads 4 --batch-size 64 --prefetch 8)
grep -q "spectra 4000 " "$T/out" || fail "uncapped stream: $(cat "$T/out")"
bound=$((40 * 1024 + base + 48 * 1024))
echo "peak RSS: baseline $((base / 1024)) MiB, --memory 40M $((capped / 1024)) MiB" \
    "(bound $((bound / 1024)) MiB), no cap $((uncapped / 1024)) MiB"
[ "$capped" -le "$bound" ] || fail "--memory 40M peaked at $((capped / 1024)) MiB > $((bound / 1024)) MiB"
echo "ok: the stream's peak RSS stays under --memory plus the fixed allowance"
