#!/bin/bash
# The binding as a thin client: version and ABI checks at import, one exception class per
# ard_status, Dataset.sync/query/fetch against SQLite and the CLI on a generated dataset.
source "$(dirname "$0")/py_env.bash" "$1"
cd "$SRC/tests/python" && "$PY" -m unittest -v test_binding 2>&1
