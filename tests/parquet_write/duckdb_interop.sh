#!/usr/bin/env bash
# DuckDB reads what ard writes: installs @duckdb/node-api into tests/.duckdb/ (reused when present),
# writes files covering every column type, codec, value encoding and page version plus 4096-wide
# spectra over 13 row groups (test_parquet_write_gen), converts some with `ard parquet convert`, and
# checks with duckdb_check.mjs that DuckDB returns exactly the recorded values and sees our statistics;
# and that DuckDB reads `ard generate`'s tiles as the rows ard's reader decodes from them.
# Usage: duckdb_interop.sh PATH/TO/ard        exit 0 pass, 1 fail, 77 skipped (no node/npm registry)
set -uo pipefail

ARD=${1:?usage: duckdb_interop.sh PATH/TO/ard}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${ARD_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
GEN=$(dirname "$ARD")/tests/test_parquet_write_gen
DUCK="$SRC/tests/.duckdb"

skip() {
    echo "SKIPPED: $*" >&2
    echo "SKIPPED: $*"
    exit 77
}

[ -x "$GEN" ] || { echo "FAIL: generator not built: $GEN" >&2; exit 1; }
command -v node >/dev/null 2>&1 || skip "node is not installed (DuckDB interop test needs node + npm)"
if [ ! -d "$DUCK/node_modules/@duckdb/node-api" ]; then
    command -v npm >/dev/null 2>&1 || skip "npm is not installed"
    mkdir -p "$DUCK"
    if ! timeout 300 npm install --prefix "$DUCK" --no-audit --no-fund --loglevel=error \
        @duckdb/node-api >"$DUCK/npm-install.log" 2>&1; then
        skip "could not install @duckdb/node-api from the npm registry (see $DUCK/npm-install.log)"
    fi
fi

WORK=$(mktemp -d /tmp/ard_duckdb_XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$GEN" "$WORK" || { echo "FAIL: generator failed" >&2; exit 1; }
for spec in "types_snappy_dict_v1 --codec zstd --page-version 2" \
            "types_none_plain_v2 --codec gzip --rows-per-row-group 100" \
            "types_zstd_delta_v1 --codec lz4_raw --byte-stream-split --row-group-size 4K" \
            "spectra_snappy_plain_v1 --codec brotli --level 5 --byte-stream-split"; do
    set -- $spec
    name=$1
    shift
    tag=$(echo "$1$2" | tr -cd 'a-z0-9' | head -c 12)
    if ! "$ARD" parquet convert "$WORK/$name.parquet" "$WORK/converted_${tag}_$name.parquet" "$@"; then
        echo "FAIL: ard parquet convert $name $*" >&2
        exit 1
    fi
done

# Tiles of `ard generate` (SNAPPY pages assembled from parts, the noisy byte streams stored as
# literals) against ard's own decoding of them, rewritten uncompressed and PLAIN: DuckDB must read
# both as the same rows (checkConverted).
if ! "$ARD" generate "$WORK/gen" --region 180,0,0.3 --no-lss --threads 2 --quiet; then
    echo "FAIL: ard generate" >&2
    exit 1
fi
n=0
for tile in $(find "$WORK/gen/tiles" -name '*.parquet' | sort); do
    n=$((n + 1))
    cp "$tile" "$WORK/gentile$n.parquet"
    if ! "$ARD" parquet convert "$tile" "$WORK/converted_none_gentile$n.parquet" --codec none \
        --no-byte-stream-split; then
        echo "FAIL: ard parquet convert $tile" >&2
        exit 1
    fi
done
[ "$n" -ge 4 ] || { echo "FAIL: ard generate wrote $n tiles" >&2; exit 1; }

cp "$HERE/duckdb_check.mjs" "$DUCK/duckdb_check.mjs"
node "$DUCK/duckdb_check.mjs" "$WORK"
