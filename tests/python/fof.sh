#!/bin/bash
# The FoF and sync stages from Python: Dataset.fof == `ard fof` groups on the same survey, result
# runs, and the datasheet rule of Dataset.sync.
source "$(dirname "$0")/py_env.bash" "$1"
cd "$SRC/tests/python" && "$PY" -m unittest -v test_fof 2>&1
