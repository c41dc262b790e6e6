#!/bin/bash
# Python binding tests (numpy): zero copy, every spectrum once, deterministic shuffle, batches equal
# the C tokenizer on the reader's output, connect_stream to `ard stream serve`.
source "$(dirname "$0")/py_env.bash" "$1"
cd "$SRC/tests/python" && "$PY" -m unittest -v test_stream 2>&1
