#!/bin/bash
# The producers from Python (ard.generate, ard.ingest_desi) against `ard generate` and
# `ard ingest desi`: the same bytes, the reports, bad input as the status's exception class.
source "$(dirname "$0")/py_env.bash" "$1"
export ARD_TEST_SHARED="${ARD_SHARED_DIR:-$SRC/../shared}"
cd "$SRC/tests/python" && "$PY" -m unittest -v test_survey 2>&1
