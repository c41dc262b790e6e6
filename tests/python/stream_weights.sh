#!/bin/bash
# Python tests of the per-pixel weights and rest-frame tokens: batches against a plain numpy
# re-implementation (nulls, IVAR <= 0, all-masked rows, NULL / out-of-range / invalid Z, grid edges).
source "$(dirname "$0")/py_env.bash" "$1"
cd "$SRC/tests/python" && "$PY" -m unittest -v test_stream_weights 2>&1
