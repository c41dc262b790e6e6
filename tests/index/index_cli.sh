#!/usr/bin/env bash
# End-to-end test of `ard sync`, `ard query` and `ard fetch` on the embedded SQLite index, over a
# survey written by `ard generate`. Query answers are checked against the same predicate evaluated
# directly on the catalog and tile files (read with `ard parquet cat`).
set -euo pipefail
ARD=${1:?usage: index_cli.sh PATH_TO_ard}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/ard-index-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# a command failing outside `|| fail` names itself and shows what the ard commands said
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND (exit $?)" >&2; cat "$T/cmd.err" >&2 2>/dev/null' ERR

if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
D=$T/survey
"$ARD" generate "$D" --galaxies 400 --seed 11 --quiet --threads 2

# ---- sync: fresh, then idempotent with no data reads ----
"$ARD" sync "$D" --quiet >"$T/sync1.txt" || fail "first sync failed"
grep -q " 0 failed" "$T/sync1.txt" || fail "first sync: $(cat "$T/sync1.txt")"
"$ARD" sync "$D" --json >"$T/sync2.json" || fail "second sync failed"
$PY - "$T/sync2.json" <<'EOF' || fail "second sync was not a no-op: $(cat "$T/sync2.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["files_seen"] > 10, r
assert r["files_unchanged"] == r["files_seen"], r
assert r["data_reads"] == 0 and r["footer_reads"] == 0, r
assert r["files_added"] == r["files_changed"] == r["files_removed"] == 0, r
EOF
"$ARD" sync "$D" --check >/dev/null || fail "check after sync"

# ---- query answers against the files themselves ----
"$ARD" query "$D" --where "Z > 1.0 AND SPECTYPE = 'GALAXY'" --format targets >"$T/q.txt" 2>"$T/q.err"
grep -q "spectra in" "$T/q.err" || fail "no query summary"
for f in "$D"/catalog/*.parquet; do "$ARD" parquet cat "$f" --columns TARGETID,Z,SPECTYPE; done >"$T/cat.jsonl"
find "$D/tiles" -name '*.parquet' | sort | while read -r f; do
    "$ARD" parquet cat "$f" --columns TARGETID
done >"$T/tiles.jsonl"
$PY - "$T/cat.jsonl" "$T/tiles.jsonl" "$T/q.txt" <<'EOF' || fail "query answer differs from the files"
import json, sys
cat = [json.loads(l) for l in open(sys.argv[1])]
have = {json.loads(l)["TARGETID"] for l in open(sys.argv[2])}
want = sorted(r["TARGETID"] for r in cat
              if r["Z"] is not None and r["Z"] > 1.0 and r["SPECTYPE"] == "GALAXY" and r["TARGETID"] in have)
got = sorted(int(l) for l in open(sys.argv[3]))
assert len(want) > 0, "predicate selects nothing"
assert got == want, (len(got), len(want))
EOF

# every format works; paths are files of the dataset; plan rows are sorted
"$ARD" query "$D" --where "Z > 1.0" --format paths 2>>"$T/cmd.err" >"$T/paths.txt"
while read -r p; do [ -f "$p" ] || fail "query path $p is not a file"; done <"$T/paths.txt"
sort -c "$T/paths.txt" || fail "paths not sorted"
"$ARD" query "$D" --where "Z > 1.0" --format plan 2>>"$T/cmd.err" >"$T/plan.tsv"
head -1 "$T/plan.tsv" | grep -q "^path	row_group	byte_offset" || fail "plan header"
"$ARD" query "$D" --where "Z > 1.0" --format json 2>>"$T/cmd.err" | $PY -c '
import json, sys
p = json.load(sys.stdin)
assert p["num_rows"] == sum(len(g["rows"]) for f in p["files"] for g in f["row_groups"])
' || fail "json plan"
"$ARD" query "$D" --where "Z > 1.0" --limit 3 --format targets 2>>"$T/cmd.err" | wc -l | grep -qx 3 || fail "--limit"
head -5 "$T/q.txt" >"$T/ids.txt"
echo 12345 >>"$T/ids.txt"
"$ARD" query "$D" --targetids - --format targets <"$T/ids.txt" 2>>"$T/cmd.err" | sort >"$T/ids.out"
head -5 "$T/q.txt" | sort | cmp - "$T/ids.out" || fail "--targetids look-up"

# ---- read-only guards ----
before=$(sqlite3 "$D/ard.db" "SELECT count(*) FROM galaxies")
for bad in "1=1; DROP TABLE galaxies" "1=1); DELETE FROM galaxies; SELECT (1" "load_extension('x') = 1"; do
    if "$ARD" query "$D" --where "$bad" >/dev/null 2>"$T/bad.err"; then fail "accepted: $bad"; fi
    grep -qiE "refused|not authorized|unbalanced" "$T/bad.err" || fail "unclear refusal for $bad: $(cat "$T/bad.err")"
done
[ "$(sqlite3 "$D/ard.db" "SELECT count(*) FROM galaxies")" = "$before" ] || fail "a refused predicate changed the index"

# ---- fetch ----
"$ARD" fetch "$D" --where "Z > 1.0 AND SPECTYPE = 'GALAXY'" --out "$T/sub.npy" --columns FLUX,IVAR,MASK --threads 2 2>>"$T/cmd.err"
# no --columns: the full tile schema (FLUX, IVAR, MASK) for Parquet
"$ARD" fetch "$D" --where "Z > 1.0 AND SPECTYPE = 'GALAXY'" --out "$T/sub.parquet" 2>>"$T/cmd.err"
# no --columns for .npy: FLUX only
"$ARD" fetch "$D" --where "Z > 1.0 AND SPECTYPE = 'GALAXY'" --out "$T/dflt.npy" 2>>"$T/cmd.err"
[ -f "$T/dflt.npy" ] && [ -f "$T/dflt.TARGETID.npy" ] || fail ".npy default outputs"
[ ! -e "$T/dflt.IVAR.npy" ] && [ ! -e "$T/dflt.MASK.npy" ] || fail ".npy default is FLUX only"
$PY - "$T" <<'EOF' || fail "fetched arrays"
import numpy as np, sys
t = sys.argv[1]
flux = np.load(t + "/sub.npy"); ivar = np.load(t + "/sub.IVAR.npy"); ids = np.load(t + "/sub.TARGETID.npy")
want = sorted(int(l) for l in open(t + "/q.txt"))
assert flux.dtype == np.float32 and flux.ndim == 2 and flux.shape == ivar.shape, (flux.shape, ivar.shape)
assert flux.shape[0] == len(want) and sorted(ids.tolist()) == want
assert np.isfinite(flux[ivar > 0]).all()
mask = np.load(t + "/sub.MASK.npy")
assert mask.dtype == np.uint8 and mask.shape == flux.shape, (mask.dtype, mask.shape)
EOF
# MASK of every fetched spectrum (.npy and Parquet) equals the MASK of its tile row
find "$D/tiles" -name '*.parquet' | sort | while read -r f; do
    "$ARD" parquet cat "$f" --columns TARGETID,MASK
done >"$T/tilemask.jsonl"
"$ARD" parquet cat "$T/sub.parquet" --columns TARGETID,MASK >"$T/submask.jsonl"
"$ARD" parquet meta "$T/sub.parquet" --json >"$T/submeta.json"
$PY - "$T" <<'EOF' || fail "fetched MASK differs from the tiles"
import json, sys, numpy as np
t = sys.argv[1]
tile = {}
for line in open(t + "/tilemask.jsonl"):
    r = json.loads(line)
    tile[r["TARGETID"]] = np.array(r["MASK"], dtype=np.int64)
want = sorted(int(l) for l in open(t + "/q.txt"))
ids = np.load(t + "/sub.TARGETID.npy"); mask = np.load(t + "/sub.MASK.npy")
assert sorted(ids.tolist()) == want
for i, tid in enumerate(ids.tolist()):
    assert (mask[i].astype(np.int64) == tile[tid]).all(), ("npy", tid)
pq = [json.loads(l) for l in open(t + "/submask.jsonl")]
assert sorted(r["TARGETID"] for r in pq) == want
for r in pq:
    assert (np.array(r["MASK"], dtype=np.int64) == tile[r["TARGETID"]]).all(), ("parquet", r["TARGETID"])
assert sum(int((tile[tid] != 0).sum()) for tid in want) > 0, "no nonzero MASK among the fetched rows"
schema = {n["path"]: n for n in json.load(open(t + "/submeta.json"))["schema"]}
for c in ("FLUX", "IVAR", "MASK"):
    assert c + ".list.element" in schema, ("default Parquet columns", c)
m = schema["MASK.list.element"]
assert m["type"] == "INT32" and m["logical"]["kind"] == "INTEGER", m
assert m["logical"].get("bit_width") == 8 and not m["logical"].get("is_signed"), m
EOF
"$ARD" parquet meta "$T/sub.parquet" --json | $PY -c '
import json, sys
m = json.load(sys.stdin)
n = m.get("num_rows", None)
assert n == int(sys.argv[1]), (n, sys.argv[1])
' "$(wc -l <"$T/q.txt")" || fail "fetched parquet row count"
# the fetched spectra equal the tile rows they came from (first planned spectrum)
first=$(head -1 "$T/q.txt")
$PY - "$T" "$first" "$ARD" "$D" <<'EOF' || fail "fetched spectrum differs from its tile"
import json, subprocess, sys, numpy as np
t, tid, ard, d = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ids = np.load(t + "/sub.TARGETID.npy"); flux = np.load(t + "/sub.npy")
row = flux[list(ids).index(tid)]
plan = json.loads(subprocess.run([ard, "query", d, "--where", "TARGETID = %d" % tid, "--format", "json"],
                                 capture_output=True, text=True, check=True).stdout)
path = d + "/" + plan["files"][0]["path"]
out = subprocess.run([ard, "parquet", "cat", path, "--columns", "TARGETID,FLUX"], capture_output=True,
                     text=True, check=True).stdout
for line in out.splitlines():
    r = json.loads(line)
    if r["TARGETID"] == tid:
        ref = np.array([np.nan if v is None else v for v in r["FLUX"]], dtype=np.float32)
        ok = np.isnan(ref) == np.isnan(row)
        assert ok.all() and np.allclose(ref[~np.isnan(ref)], row[~np.isnan(ref)], rtol=1e-6)
        break
else:
    raise SystemExit("TARGETID not in its tile")
EOF

# ---- a corrupt tile is reported, recorded, skipped; exit status says so ----
victim=$(find "$D/tiles" -name '*.parquet' | sort | sed -n 1p) # sed reads all: no SIGPIPE under pipefail
truncate -s 100 "$victim"
if "$ARD" sync "$D" --quiet >"$T/sync3.txt" 2>"$T/sync3.err"; then fail "sync of a corrupt tile exited 0"; fi
grep -q "skipped" "$T/sync3.err" || fail "no skip message: $(cat "$T/sync3.err")"
grep -q "${victim#"$D"/}" "$T/sync3.err" || fail "skip message does not name the file"
[ "$(sqlite3 "$D/ard.db" "SELECT count(*) FROM sync_errors")" = 1 ] || fail "sync_errors row"
"$ARD" sync "$D" --check >/dev/null || fail "check after a corrupt tile"
"$ARD" query "$D" --where "Z > 1.0" >/dev/null 2>&1 || fail "query after a corrupt tile"

# ---- usage errors ----
set +e
trap - ERR
"$ARD" query "$D" --format nope >/dev/null 2>&1; [ $? = 2 ] || fail "bad --format is a usage error"
"$ARD" fetch "$D" --where "Z > 1" --out x.csv >/dev/null 2>&1; [ $? = 2 ] || fail "bad --out is a usage error"
"$ARD" query "$T/nowhere" --where "Z > 1" >/dev/null 2>"$T/e"; [ $? = 1 ] || fail "missing index"
grep -q "ard sync" "$T/e" || fail "missing index message: $(cat "$T/e")"
mkdir -p "$T/not-a-dataset"
"$ARD" sync "$T/not-a-dataset" >/dev/null 2>"$T/e"; [ $? = 1 ] || fail "sync of a non-dataset directory must fail"
grep -q "not a dataset" "$T/e" || fail "non-dataset message: $(cat "$T/e")"
[ -z "$(ls -A "$T/not-a-dataset")" ] || fail "sync wrote into a non-dataset directory: $(ls -A "$T/not-a-dataset")"
"$ARD" sync "$T/nowhere" >/dev/null 2>"$T/e"; [ $? = 1 ] || fail "sync of a missing directory must fail"
grep -q "no dataset directory at $T/nowhere" "$T/e" || fail "missing dataset message: $(cat "$T/e")"
echo "index_cli: all checks passed"
