#!/usr/bin/env bash
# End-to-end reliability checks of the CLI (issue 15) over a survey written by `ard generate`:
# a crafted ard.db whose files.path leaves the dataset makes `ard fetch` and `ard stream --where`
# refuse it; `ard stream bench --on-error skip` leaves a corrupt row group out and reports it,
# `--on-error fail` (the default) fails naming the tile.
set -euo pipefail
ARD=${1:?usage: cli_reliability.sh PATH_TO_ard}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-rel-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR

if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
D=$T/survey
"$ARD" generate "$D" --galaxies 300 --seed 5 --quiet --threads 1
"$ARD" sync "$D" --quiet >/dev/null

# ---- a crafted index: files.path = ../../../../etc/passwd, then /etc/passwd ----
cp "$D/ard.db" "$T/honest.db"
for bad in ../../../../etc/passwd /etc/passwd; do
    cp "$T/honest.db" "$D/ard.db"
    $PY - "$D/ard.db" "$bad" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE files SET path = ? WHERE id = (SELECT MIN(id) FROM files WHERE kind = 'tile')",
           (sys.argv[2],))
db.commit()
PYEOF
    rc=0
    "$ARD" fetch "$D" --where "1 = 1" --out "$T/out.npy" >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" -ne 0 ] || fail "ard fetch read a crafted index ($bad)"
    grep -qF "$bad" "$T/err" || fail "fetch: the message does not name $bad: $(cat "$T/err")"
    grep -q "index files row" "$T/err" || fail "fetch: the message does not name the row"
    [ ! -e "$T/out.npy" ] || fail "fetch left an output file"
    rc=0
    "$ARD" stream bench "$D" --where "1 = 1" >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" -ne 0 ] || fail "ard stream --where read a crafted index ($bad)"
    grep -qF "$bad" "$T/err" || fail "stream: the message does not name $bad: $(cat "$T/err")"
done
cp "$T/honest.db" "$D/ard.db"
"$ARD" fetch "$D" --where "1 = 1" --out "$T/out.npy" >/dev/null 2>&1 || fail "honest fetch failed"

# ---- a plan file with a path outside the dataset ----
printf 'path\trow_group\tbyte_offset\tbytes\tnum_rows\trows\ttargetids\n../../x.parquet\t0\t4\t10\t1\t0\t7\n' \
    >"$T/plan.tsv"
rc=0
"$ARD" stream bench "$D" --plan "$T/plan.tsv" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "stream --plan accepted ../../x.parquet"
grep -q "$T/plan.tsv: read plan line 2: the path leaves the dataset" "$T/err" ||
    fail "plan: message does not name the line: $(cat "$T/err")"

# ---- one corrupt row group: --on-error skip leaves it out and reports it; fail names it ----
TILE=$(find "$D/tiles" -name '*.parquet' | sort | sed -n 1p)
ROWS=$("$ARD" parquet meta "$TILE" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["num_rows"])')
ALL=$("$ARD" stream bench "$D" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["spectra"])')
"$ARD" parquet meta "$TILE" --json | $PY -c '
import json, sys
m = json.load(sys.stdin)
col = [c for c in m["row_groups"][0]["columns"] if c["path"].startswith("FLUX")][0]
off = col["dictionary_page_offset"] or col["data_page_offset"]
with open(sys.argv[1], "r+b") as f:
    f.seek(off)
    f.write(b"\xff" * 32)
' "$TILE"
rc=0
"$ARD" stream bench "$D" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a corrupt row group did not fail the default stream"
grep -qF "$TILE" "$T/err" || fail "fail: the message does not name the tile: $(cat "$T/err")"
"$ARD" stream bench "$D" --on-error skip --json >"$T/skip.json" 2>"$T/err" ||
    fail "--on-error skip failed: $(cat "$T/err")"
grep -qF "ard: skipped $TILE row group 0" "$T/err" || fail "no skip line on stderr: $(cat "$T/err")"
$PY - "$T/skip.json" "$TILE" "$ALL" "$ROWS" <<'PYEOF' || fail "skip report: $(cat "$T/skip.json")"
import json, sys
r = json.load(open(sys.argv[1]))
tile, total, rows = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
assert r["spectra"] == total - rows, (r["spectra"], total, rows)
assert len(r["skipped"]) == 1, r["skipped"]
s = r["skipped"][0]
assert s["path"] == tile and s["row_group"] == 0, s
assert s["status"] in ("ARD_ECORRUPT", "ARD_ECHECKSUM"), s
assert tile in s["error"], s
PYEOF
rc=0
"$ARD" stream bench "$D" --on-error sometimes >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--on-error sometimes: exit $rc, expected a usage error (2)"
echo "ok: crafted index and plan refused, corrupt row group skipped and reported"
