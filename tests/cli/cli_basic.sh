#!/usr/bin/env bash
# End-to-end checks of the ard command-line frame: version, help, usage errors, failures on stderr,
# and `ard parquet meta` (text and --json) on a file of the parquet-testing corpus.
# Usage: bash cli_basic.sh PATH_TO_ard   (exit 0 pass, 1 fail)
set -u

ARD=${1:-}
if [[ -z "$ARD" || ! -x "$ARD" ]]; then
    echo "usage: bash cli_basic.sh PATH_TO_ard (not executable: '$ARD')" >&2
    exit 1 # a missing ard binary is a broken build: fail, never skip
fi
SHARED=${ARD_SHARED_DIR:-$(dirname "$0")/../../../shared}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ard-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # check NAME CONDITION-COMMAND...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

# run ARGS...: sets rc, out, err
run() {
    "$ARD" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    out=$(cat "$WORK/out")
    err=$(cat "$WORK/err")
}

run --version
check "--version prints 'ard 0.1.0'" test "$rc" -eq 0 -a "$out" = "ard 0.1.0"

run --help
check "--help exits 0" test "$rc" -eq 0
check "--help lists parquet meta" grep -q "parquet meta" "$WORK/out"
check "--help lists parquet cat" grep -q "parquet cat" "$WORK/out"

run parquet meta --help
check "parquet meta --help mentions --json" grep -q -- "--json" "$WORK/out"

run
check "no command: exit 2" test "$rc" -eq 2
check "no command: 'ard: ' on stderr" grep -q "^ard: " "$WORK/err"

run no-such-command
check "unknown command: exit 2" test "$rc" -eq 2
check "unknown command: 'ard: ' and the name on stderr" grep -q "^ard: .*no-such-command" "$WORK/err"
check "unknown command: nothing on stdout" test -z "$out"

run parquet meta --bogus x.parquet
check "unknown option: exit 2, named" \
    bash -c "test $rc -eq 2 && grep -q -- '--bogus' '$WORK/err' && grep -q -- '--help' '$WORK/err'"

missing="$WORK/does-not-exist.parquet"
run parquet meta "$missing"
check "missing file: exit 1" test "$rc" -eq 1
check "missing file: 'ard: ' + path on stderr" grep -qF "ard: $missing" "$WORK/err"
check "missing file: nothing on stdout" test -z "$out"

printf 'not a parquet file at all' >"$WORK/junk.parquet"
run parquet meta "$WORK/junk.parquet"
check "junk file: exit 1 with 'ard: ' + path" \
    bash -c "test $rc -eq 1 && grep -qF 'ard: ' '$WORK/err' && grep -qF '$WORK/junk.parquet' '$WORK/err'"

plain="$SHARED/parquet-testing/data/alltypes_plain.parquet"
if [[ -f "$plain" ]] && "$ARD" parquet meta "$plain" >/dev/null 2>&1; then
    run parquet meta "$plain"
    check "meta text: num_rows 8" grep -q "^num_rows: 8" "$WORK/out"
    check "meta text: schema lists bool_col" grep -q "bool_col: BOOLEAN" "$WORK/out"
    run parquet meta --json "$plain"
    check "meta --json: exit 0" test "$rc" -eq 0
    check "meta --json: parses, num_rows 8, 11 leaf columns" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
leaves = [n for n in d["schema"] if n["num_children"] == 0 and n["type"]]
assert d["num_rows"] == 8, d["num_rows"]
assert len(leaves) == 11, len(leaves)
assert len(d["row_groups"]) == 1 and len(d["row_groups"][0]["columns"]) == 11
' "$WORK/out"
    run parquet meta "$plain" --json --compact
    check "meta --json --compact: one line" test "$(wc -l <"$WORK/out")" -eq 1
else
    echo "skip parquet meta on alltypes_plain.parquet (reader not ready or file missing)"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]] || exit 1
exit 0
