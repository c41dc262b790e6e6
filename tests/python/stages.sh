#!/bin/bash
# The stage calls from Python (ard.fetch_run, ard.parquet_rewrite, ard.stream_serve) against the
# CLI and the library.
source "$(dirname "$0")/py_env.bash" "$1"
cd "$SRC/tests/python" && "$PY" -m unittest -v test_stages 2>&1
