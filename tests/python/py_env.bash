# Sourced by the Python test scripts: finds libard.so and bench_stream_tiles beside the ard binary
# ($1), preloads the sanitizer runtime when libard.so was built with ASan, writes small tiles.
ARD_BIN=$(readlink -f "$1")
BUILD=$(dirname "$ARD_BIN")
SRC=${ARD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
export ARD_LIBRARY="$BUILD/libard.so"
if [ ! -f "$ARD_LIBRARY" ]; then
  echo "SKIPPED: $ARD_LIBRARY not built"; exit 77
fi
if ! "$PY" -c "import numpy" 2>/dev/null; then
  echo "SKIPPED: /usr/bin/python3 has no numpy"; exit 77
fi
if ldd "$ARD_LIBRARY" | grep -q libtsan; then
  echo "SKIPPED: a ThreadSanitizer libard.so cannot be loaded into python"; exit 77
fi
if ldd "$ARD_LIBRARY" | grep -q libasan; then
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0
fi
TILES_BIN="$BUILD/bench/bench_stream_tiles"
[ -x "$TILES_BIN" ] || TILES_BIN="$BUILD/bench_stream_tiles"
WORK=$(mktemp -d /tmp/ard-pytest-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LD_PRELOAD= "$TILES_BIN" "$WORK/ds" 3 150 512 64 || { echo "FAILED: writing tiles"; exit 1; }
export PYTHONPATH="$SRC/python${PYTHONPATH:+:$PYTHONPATH}"
export ARD_TEST_DATASET="$WORK/ds" ARD_TEST_BIN="$ARD_BIN"
