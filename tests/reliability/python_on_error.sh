#!/bin/bash
# Python on_error= (issue 15): a corrupt row group fails iter_batches by default (ard.Error naming
# the tile); on_error="skip" leaves it out, keeps going and lists it in Dataset.skipped.
source "$(dirname "$0")/../python/py_env.bash" "$1"
cd "$SRC/tests/reliability" && "$PY" -m unittest -v test_on_error 2>&1
