#!/bin/bash
# Python side of the anomaly stage: Dataset.anomaly_train / anomaly_score on a small generated
# survey, ard.load_safetensors (numpy only), and the C forward pass equal to a numpy forward pass of
# the same weights on real stream batches (1e-5).
set -euo pipefail
ARD_BIN=$(readlink -f "$1")
BUILD=$(dirname "$ARD_BIN")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3
export ARD_LIBRARY="$BUILD/libard.so"
[ -f "$ARD_LIBRARY" ] || { echo "SKIPPED: $ARD_LIBRARY not built"; exit 77; }
"$PY" -c "import numpy" 2>/dev/null || { echo "SKIPPED: python3 has no numpy"; exit 77; }
if ldd "$ARD_LIBRARY" | grep libtsan > /dev/null; then echo "SKIPPED: TSan libard"; exit 77; fi
WORK=$(mktemp -d /tmp/ard-anomaly-py-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$ARD_BIN" generate "$WORK/ds" --galaxies 160 --seed 11 --anomalies 0.1 --quiet
"$ARD_BIN" sync "$WORK/ds" > /dev/null
if ldd "$ARD_LIBRARY" | grep libasan > /dev/null; then
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0
fi
export PYTHONPATH="$SRC/python" ARD_TEST_DATASET="$WORK/ds"
cd "$SRC/tests/science" && "$PY" -m unittest -v test_anomaly_python 2>&1
