#!/usr/bin/env bash
# Interoperability test: `ard parquet cat/meta` over every file of the shared Parquet corpora
# (parquet-testing data/, bad_data/, shredded_variant/ and duckdb-generated/), against DuckDB's
# reference results and the manifests' expected values. The checks live in parquet_corpus.py.
# Usage: bash parquet_corpus.sh PATH_TO_ard   (exit 0 pass, 1 fail, 77 skip)
# Env: ARD_SHARED_DIR (default: ../../../shared from here), ARD_SOURCE_DIR (default: ../.. from here)
set -u

ARD=${1:-}
if [[ -z "$ARD" || ! -x "$ARD" ]]; then
    echo "usage: bash parquet_corpus.sh PATH_TO_ard (not executable: '$ARD')" >&2
    exit 1 # a missing ard binary is a broken build: fail, never skip
fi
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${ARD_SOURCE_DIR:-$HERE/../..}
SHARED=${ARD_SHARED_DIR:-$HERE/../../../shared}
SCRIPT="$SRC/tests/cli/parquet_corpus.py"
[[ -f "$SCRIPT" ]] || SCRIPT="$HERE/parquet_corpus.py"

skip() {
    echo "**********************************************************************"
    echo "SKIPPED: $1"
    echo "**********************************************************************"
    exit 77
}

if [[ ! -d "$SHARED/parquet-testing/data" || ! -d "$SHARED/duckdb-generated" ]]; then
    skip "Parquet corpus not found under '$SHARED' (need parquet-testing/ and duckdb-generated/; set ARD_SHARED_DIR)"
fi
PY=$(command -v python3 || true)
[[ -n "$PY" ]] || skip "python3 not found"

"$PY" "$SCRIPT" "$ARD" "$SHARED"
rc=$?
case $rc in
    0) exit 0 ;;
    77) skip "parquet_corpus.py reported a missing corpus (see above)" ;;
    *) exit 1 ;;
esac
