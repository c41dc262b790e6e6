#!/usr/bin/env bash
# `ard parquet meta` (and other readers) on special files: a FIFO without a writer, a character
# device, a socket and a directory give an error naming the file at once, never a hang (issue 15).
set -euo pipefail
ARD=${1:?usage: cli_special.sh PATH_TO_ard}
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-special.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkfifo "$T/fifo.parquet"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/sock.parquet"
for f in "$T/fifo.parquet" /dev/zero "$T/sock.parquet" "$T"; do
    for cmd in "parquet meta" "parquet cat"; do
        rc=0
        # shellcheck disable=SC2086
        timeout 10 "$ARD" $cmd "$f" >/dev/null 2>"$T/err" || rc=$?
        [ "$rc" -ne 124 ] || fail "ard $cmd $f hangs"
        [ "$rc" -ne 0 ] || fail "ard $cmd $f succeeded"
        grep -qF "$f" "$T/err" || fail "ard $cmd $f: message does not name the file: $(cat "$T/err")"
    done
done
grep -q "FIFO" <(timeout 10 "$ARD" parquet meta "$T/fifo.parquet" 2>&1 || true) ||
    fail "the FIFO is not called a FIFO"
echo "ok: special files refused without blocking"
