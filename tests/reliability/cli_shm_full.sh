#!/usr/bin/env bash
# A full /dev/shm: `ard stream serve` reserves its store's memory when it creates it
# (posix_fallocate, src/stream/store.c), so a /dev/shm too small for the store is a clear error
# naming the segment and its size (exit 1), never a SIGBUS when a producer first writes a slot, and
# it leaves no segment behind. The same serve then works on a /dev/shm that is large enough (the
# control: the error came from the space, not from anything else). Runs in a private mount
# namespace (unshare -m) on a throwaway tmpfs mounted over /dev/shm, so it needs root.
set -euo pipefail
ARD=${1:?usage: cli_shm_full.sh PATH_TO_ard}
ARD=$(readlink -f "$ARD")
BUILD=$(dirname "$ARD")
TILES_BIN="$BUILD/bench/bench_stream_tiles"
[ -x "$TILES_BIN" ] || TILES_BIN="$BUILD/bench_stream_tiles"
if [ ! -x "$TILES_BIN" ]; then
    echo "SKIPPED: bench_stream_tiles is not built"; exit 77
fi
if [ "$(id -u)" != 0 ] ||
    ! unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs /dev/shm' 2>/dev/null; then
    echo "SKIPPED: needs root and unshare -m (a private tmpfs over /dev/shm)"; exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-shm.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
"$TILES_BIN" "$T/ds" 2 200 4096 200 >/dev/null || fail "writing tiles"

# 2 MiB of /dev/shm against a store of ~10 MiB (10 slots of 64 spectra x 4096 bins)
set +e
unshare -m bash -c 'mount -t tmpfs -o size=2m tmpfs /dev/shm || exit 90
    timeout 60 "$1" stream serve "$2" --name ard-shm-full --batch-size 64 2>"$3/err" >"$3/out"
    echo $? >"$3/rc"; ls -A /dev/shm >"$3/left"' _ "$ARD" "$T/ds" "$T"
ns=$?
set -e
[ "$ns" = 0 ] || fail "the private /dev/shm could not be set up (unshare rc $ns)"
rc=$(cat "$T/rc")
echo "small /dev/shm: exit $rc, stderr: $(cat "$T/err")"
[ "$rc" = 1 ] || fail "serve on a full /dev/shm exited $rc (expected 1: a clear error, not a signal or a hang)"
grep -q "shm /ard-shm-full" "$T/err" || fail "the error does not name the segment"
grep -q "No space left on device" "$T/err" || fail "the error does not say the space ran out"
[ ! -s "$T/left" ] || fail "a segment was left behind: $(cat "$T/left")"

# the control: 64 MiB is enough, and a consumer gets every spectrum
set +e
unshare -m bash -c 'mount -t tmpfs -o size=64m tmpfs /dev/shm || exit 90
    "$1" stream serve "$2" --name ard-shm-ok --batch-size 64 >"$3/serve" 2>&1 &
    for _ in $(seq 300); do [ -e /dev/shm/ard-shm-ok ] && break; sleep 0.1; done
    timeout 60 "$1" stream bench --connect ard-shm-ok >"$3/bench" 2>&1; b=$?
    wait $!; s=$?; echo "$b $s" >"$3/rc"; ls -A /dev/shm >"$3/left"' _ "$ARD" "$T/ds" "$T"
ns=$?
set -e
[ "$ns" = 0 ] || fail "the private /dev/shm could not be set up (unshare rc $ns)"
echo "64 MiB /dev/shm: exit (consumer, server) $(cat "$T/rc"): $(cat "$T/bench")"
[ "$(cat "$T/rc")" = "0 0" ] || fail "serve on a large enough /dev/shm failed: $(cat "$T/serve")"
grep -q "spectra 400 " "$T/bench" || fail "the consumer did not get the 400 spectra"
[ ! -s "$T/left" ] || fail "a segment was left behind after a clean stream: $(cat "$T/left")"
echo "ok: a full /dev/shm is a clear error with nothing left behind; enough of it serves every spectrum"
