#!/usr/bin/env bash
# scripts/test-skips --ctest (as `make test` runs it) on a throwaway project: a test skipped whole (exit 77), a passing test with a part skipped (a
# unittest-style line, twice, and cmocka's bookkeeping lines that must not count), a passing test
# with a SKIPPED line longer than ctest's default 1 KiB output cut, a plain pass and a failure.
set -uo pipefail
SRC="${ARD_SOURCE_DIR:?}"
# the fixture's SKIPPED lines are printed only on a failure: a passing run must not add its fakes
# to the summary of the real run (`make test` lists every SKIPPED line of every test's output)
out=""
fail() { echo "FAILED: $*"; [ -z "$out" ] || sed 's/SKIPPED/S-K-I-P-P-E-D/' <<<"$out"; exit 1; }
command -v python3 >/dev/null || { echo "SKIPPED: no python3"; exit 77; }
command -v ctest >/dev/null || { echo "SKIPPED: no ctest"; exit 77; }
T=$(mktemp -d /tmp/ard-skips.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(skips NONE)
enable_testing()
add_test(NAME plain COMMAND sh -c "echo ok")
add_test(NAME whole COMMAND sh -c "echo 'SKIPPED: no frobnicator'; exit 77")
set_tests_properties(whole PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME part COMMAND sh -c "echo \"t1 (m.C.t1) ... skipped 'SKIPPED: no samples in /tmp/xyz1'\"; echo \"t2 (m.C.t2) ... skipped 'SKIPPED: no samples in /tmp/xyz2'\"; echo '[  SKIPPED ] t1'; echo ' 2 SKIPPED TEST(S)'")
add_test(NAME late COMMAND sh -c "head -c 4000 /dev/zero | tr '\\\\0' x; echo; echo 'SKIPPED (optional half): no widget'")
add_test(NAME broken COMMAND sh -c "echo 'SKIPPED: half'; exit 3")
CMAKE
cmake -S "$T" -B "$T/b" >/dev/null || fail "cmake of the throwaway project"
out=$(cd "$T/b" && python3 "$SRC/scripts/test-skips" --ctest here 2>&1)
rc=$?
[ "$rc" != 0 ] || fail "test-skips --ctest exited 0 with a failing test"
out=$(sed -n '/^== skips in/,$p' <<<"$out") # the summary after ctest's own output
(cd "$T/b" && python3 "$SRC/scripts/test-skips" skips.xml here) >/dev/null || fail "report mode failed"
grep -qx "== skips in here: 1 of 5 tests skipped whole, 3 ran with a part skipped (3 kinds) ==" <<<"$out" ||
    fail "wrong heading"
grep -qx "  skipped: whole: SKIPPED: no frobnicator" <<<"$out" || fail "the whole skip is not listed"
grep -qx "  part skipped in part x2: SKIPPED: no samples in /tmp/..." <<<"$out" ||
    fail "the unittest-style part is not listed once with its count"
grep -qx "  part skipped in late: SKIPPED (optional half): no widget" <<<"$out" ||
    fail "a SKIPPED line after 1 KiB of output was cut off"
grep -qx "  part skipped in broken: SKIPPED: half" <<<"$out" || fail "the failing test's part is missing"
grep -q "plain" <<<"$out" && fail "a plain pass is listed"
grep -q "t1\|TEST(S)" <<<"$out" && fail "cmocka bookkeeping counted"
python3 "$SRC/scripts/test-skips" "$T/none.xml" 2>/dev/null
[ $? = 2 ] || fail "a missing report did not exit 2"
echo "ok: whole and partial skips listed, bookkeeping ignored, long output kept"
