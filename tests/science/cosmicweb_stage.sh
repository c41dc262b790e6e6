#!/usr/bin/env bash
# The cosmicweb stage through the result-run API: after `ard sync`, train and predict record runs in
# cosmicweb_runs, predict loads the index table cosmic_web (latest run), --where narrows the graph
# to the selected galaxies, `ard results list/show/drop` see the runs, --label RUN trains on an
# earlier run's classes; bad input: a used run id (EEXIST), an empty selection, a predicate
# without an index, an unknown label run.
set -euo pipefail
ARD="$1"
PY=/usr/bin/python3
TMP="$(mktemp -d /tmp/ard-cw-stage-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
KNOBS=(--epochs 1 --accum 4 --k 16 --fanout1 8 --fanout2 4 --hidden 16 --threads 2)

DS="$TMP/ds"
"$ARD" generate "$DS" --galaxies 5000 --spectra none --seed 5 --quiet || fail "generate"
# a predicate needs the index
if "$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --where "target_class = 'LRG'" 2>"$TMP/err"; then
    fail "a predicate without an index"
fi
grep -q "needs the index" "$TMP/err" || fail "no-index message: $(cat "$TMP/err")"
"$ARD" sync "$DS" >/dev/null || fail "sync"

"$ARD" datasheet "$DS" >/dev/null || fail "datasheet before any run"
grep -q "No cosmic-web run is recorded" "$DS/DATA_README.md" || fail "datasheet without runs"
grep -q "no cosmic-web" "$DS/figures/cosmicweb.svg" || fail "empty cosmic-web figure"
"$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --run-id t1 --json >"$TMP/t1.json" || fail "train"
"$ARD" cosmicweb predict "$DS" --model t1 --run-id p1 --json >"$TMP/p1.json" || fail "predict all"
"$ARD" cosmicweb predict "$DS" --model t1 --run-id p2 --where "target_class = 'ELG'" --json \
    >"$TMP/p2.json" || fail "predict ELG"
[ -s "$DS/results/cosmicweb-t1-confusion.parquet" ] || fail "no confusion file"
[ -s "$DS/results/cosmicweb-p2-galaxies.parquet" ] || fail "no galaxies file"
"$ARD" results list "$DS" --stage cosmicweb >"$TMP/list.txt" || fail "results list"
for id in t1 p1 p2; do grep -q "^cosmicweb *$id " "$TMP/list.txt" || fail "run $id not listed"; done
"$ARD" results show "$DS" p2 --json >"$TMP/show.json" || fail "results show"

"$PY" - "$DS" "$TMP" <<'PYEOF' || fail "index contents"
import json, sqlite3, sys
ds, tmp = sys.argv[1], sys.argv[2]
t1, p1, p2 = (json.load(open(f"{tmp}/{n}.json")) for n in ("t1", "p1", "p2"))
assert t1["indexed"] == 1 and t1["run_id"] == "t1" and t1["galaxies"] == 5000, t1
assert 0.0 <= t1["baseline_test_balanced_accuracy"] <= 1.0, t1
db = sqlite3.connect(f"{ds}/ard.db")
n_elg = db.execute("SELECT count(*) FROM galaxies WHERE z > 0 AND target_class = 'ELG'").fetchone()[0]
assert p2["galaxies"] == n_elg > 0, (p2, n_elg)
assert p1["galaxies"] == 5000, p1
# cosmic_web holds the latest predict run only, one row per selected galaxy, probabilities sum to 1
rows = db.execute("SELECT run_id, count(*), min(p_void + p_sheet + p_filament + p_knot),"
                  " max(p_void + p_sheet + p_filament + p_knot) FROM cosmic_web GROUP BY run_id").fetchall()
assert len(rows) == 1 and rows[0][0] == "p2" and rows[0][1] == n_elg, rows
assert abs(rows[0][2] - 1) < 1e-5 and abs(rows[0][3] - 1) < 1e-5, rows
others = db.execute("SELECT count(*) FROM cosmic_web c JOIN galaxies g USING (targetid)"
                    " WHERE g.target_class != 'ELG'").fetchone()[0]
assert others == 0, others
# the class is the arg-max of the probabilities; counts agree with the report
bad = db.execute("SELECT count(*) FROM cosmic_web WHERE NOT (CASE class WHEN 0 THEN p_void"
                 " WHEN 1 THEN p_sheet WHEN 2 THEN p_filament ELSE p_knot END"
                 " >= max(p_void, p_sheet, p_filament, p_knot))").fetchone()[0]
assert bad == 0, bad
got = dict(db.execute("SELECT class, count(*) FROM cosmic_web GROUP BY class").fetchall())
for c, name in enumerate(("void", "sheet", "filament", "knot")):
    assert got.get(c, 0) == p2[name], (got, p2)
runs = {r[0]: json.loads(r[1]) for r in db.execute("SELECT run_id, summary FROM cosmicweb_runs")}
assert set(runs) == {"t1", "p1", "p2"}, runs
assert runs["t1"]["kind"] == "train" and runs["t1"]["test"] == t1["test"], runs["t1"]
assert runs["p2"]["kind"] == "predict" and runs["p2"]["where"] == "target_class = 'ELG'", runs["p2"]
assert runs["p2"]["model"].endswith("models/cosmicweb-t1.safetensors"), runs["p2"]
show = json.load(open(f"{tmp}/show.json"))
show = show[0] if isinstance(show, list) else show
assert "cosmic_web" in json.dumps(show["tables"]), show
PYEOF

# the datasheet's "Cosmic web" section: runs, class fractions, held-out scores, confusion, figure
"$ARD" datasheet "$DS" >/dev/null || fail "datasheet"
"$PY" - "$DS" "$TMP" <<'PYEOF' || fail "datasheet section"
import json, re, sys
ds, tmp = sys.argv[1], sys.argv[2]
t1, p2 = (json.load(open(f"{tmp}/{n}.json")) for n in ("t1", "p2"))
md = open(f"{ds}/DATA_README.md").read()
sec = md[md.index("### Cosmic web"):md.index("## 5. Uses")]
assert "Predict run: p2 (%d galaxies" % p2["galaxies"] in sec, sec
assert "Train run: t1; held-out sky pixels (%d galaxies)" % t1["test"] in sec, sec
assert "balanced accuracy %.3f" % t1["test_balanced_accuracy"] in sec, sec
assert "baseline %.3f" % t1["baseline_test_balanced_accuracy"] in sec, sec
rows = re.findall(r"^\| ELG \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", sec, re.M)
assert len(rows) == 1 and int(rows[0][0]) == p2["galaxies"], rows
for pct, name in zip(rows[0][1:], ("void", "sheet", "filament", "knot")):
    assert abs(float(pct) - 100.0 * p2[name] / p2["galaxies"]) < 0.051, (pct, name, p2)
conf = re.findall(r"^\| (void|sheet|filament|knot) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", sec, re.M)
assert len(conf) == 4 and sum(int(x) for r in conf for x in r[1:]) == t1["test"], conf
svg = open(f"{ds}/figures/cosmicweb.svg").read()
dots = svg.count("<circle ")
assert 0 < dots <= min(20000, p2["galaxies"]), dots
PYEOF

if command -v rsvg-convert >/dev/null 2>&1; then # the figure opens in a real renderer
    rsvg-convert "$DS/figures/cosmicweb.svg" -o "$TMP/cw.png" 2>"$TMP/err" ||
        fail "rsvg-convert cosmicweb.svg: $(cat "$TMP/err")"
    [ "$(stat -c %s "$TMP/cw.png")" -gt 2000 ] || fail "cosmicweb.png is nearly empty"
else
    echo "note: rsvg-convert not installed; cosmicweb.svg not rendered"
fi

# --where narrows training too: only LRG nodes in the graph
"$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --run-id t2 --where "target_class = 'LRG'" --json \
    >"$TMP/t2.json" || fail "train LRG"
"$PY" -c '
import json, sqlite3, sys
t2 = json.load(open(sys.argv[1]))
n = sqlite3.connect(sys.argv[2]).execute(
    "SELECT count(*) FROM galaxies WHERE z > 0 AND target_class = '"'"'LRG'"'"'").fetchone()[0]
assert t2["galaxies"] == n and t2["train"] + t2["val"] + t2["test"] == n, (t2, n)
' "$TMP/t2.json" "$DS/ard.db" || fail "train LRG report"

# --label RUN: train on predict run p1's classes (every galaxy labelled)
"$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --run-id t3 --label p1 --json >"$TMP/t3.json" ||
    fail "train on a run's labels"
"$PY" -c '
import json, sys
t3 = json.load(open(sys.argv[1]))
assert t3["train"] + t3["val"] + t3["test"] == 5000, t3
' "$TMP/t3.json" || fail "label run report"

# drop a run: its row, its cosmic_web rows and its file go
"$ARD" results drop "$DS" p2 >/dev/null || fail "drop"
[ ! -e "$DS/results/cosmicweb-p2-galaxies.parquet" ] || fail "dropped file remains"
"$PY" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("SELECT count(*) FROM cosmic_web").fetchone()[0] == 0
assert db.execute("SELECT count(*) FROM cosmicweb_runs WHERE run_id = '"'"'p2'"'"'").fetchone()[0] == 0
' "$DS/ard.db" || fail "drop left index rows"

# bad input, exact messages and exit codes
set +e
"$ARD" cosmicweb predict "$DS" --model t1 --run-id p1 >/dev/null 2>"$TMP/err"; rc=$?
set -e
[ "$rc" != 0 ] && grep -qi "exist\|already" "$TMP/err" || fail "reused run id: rc $rc $(cat "$TMP/err")"
if "$ARD" cosmicweb predict "$DS" --model t1 --where "z > 100" 2>"$TMP/err"; then
    fail "empty selection accepted"
fi
grep -q "empty selection" "$TMP/err" || fail "empty-selection message: $(cat "$TMP/err")"
if "$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --label nope 2>"$TMP/err"; then
    fail "unknown label run accepted"
fi
grep -q "no predict run 'nope'" "$TMP/err" || fail "label message: $(cat "$TMP/err")"
# a failed training leaves no run and no model
[ ! -e "$DS/models/cosmicweb-nope.safetensors" ] || fail "model of a failed run"
echo "PASS: cosmicweb_stage"
