#!/usr/bin/env bash
# End-to-end `ard cosmicweb`: generate a small survey, train on its truth (split by HEALPix pixel),
# save the model, predict with it at 1 and 2 threads (identical output), JSON reports, and bad usage:
# no truth for training, a missing model, a model for other features, bad flags.
set -euo pipefail
ARD="$1"
PY=/usr/bin/python3
TMP="$(mktemp -d /tmp/ard-cw-cli-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DS="$TMP/ds"
"$ARD" generate "$DS" --galaxies 6000 --spectra none --seed 3 --quiet || fail "generate"
"$ARD" cosmicweb train "$DS" --epochs 2 --accum 4 --k 16 --fanout1 8 --fanout2 4 --hidden 16 \
    --geo 2 --run-id a --threads 2 --json >"$TMP/train.json" || fail "train"
[ -s "$DS/models/cosmicweb-a.safetensors" ] || fail "no model file"
"$PY" - "$TMP/train.json" <<'PYEOF' || fail "train report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["train"] > 0 and r["val"] > 0 and r["test"] > 0, r
assert r["train"] + r["val"] + r["test"] <= 6000, r
assert r["steps"] == 2 * -(-(-(-r["train"] // 64)) // 4), r
assert 0.0 <= r["test_balanced_accuracy"] <= 1.0, r
PYEOF
"$ARD" cosmicweb predict "$DS" --model a --threads 1 --run-id p1 --json >"$TMP/p1.json" ||
    fail "predict 1"
"$ARD" cosmicweb predict "$DS" --model "$DS/models/cosmicweb-a.safetensors" --threads 2 \
    --run-id p2 --json >"$TMP/p2.json" || fail "predict 2"
R1="$DS/results/cosmicweb-p1-galaxies.parquet"
R2="$DS/results/cosmicweb-p2-galaxies.parquet"
[ -s "$R1" ] && [ -s "$R2" ] || fail "no results parquet"
"$ARD" parquet cat "$R1" >"$TMP/r1.txt" || fail "cat results 1"
"$ARD" parquet cat "$R2" >"$TMP/r2.txt" || fail "cat results 2"
cmp -s "$TMP/r1.txt" "$TMP/r2.txt" || fail "predictions differ with the thread count"
head -1 "$TMP/r1.txt" | grep -q "TARGETID.*CLASS.*P_VOID.*P_SHEET.*P_FILAMENT.*P_KNOT" ||
    fail "results columns: $(head -1 "$TMP/r1.txt")"
[ "$(grep -c . "$TMP/r1.txt")" -ge 6000 ] || fail "results rows"
"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["void"] + r["sheet"] + r["filament"] + r["knot"] == r["galaxies"] == 6000, r
assert r["labelled"] == 6000, r
' "$TMP/p1.json" || fail "predict report"
"$ARD" cosmicweb predict "$DS" >/dev/null || fail "predict with the latest model"

# the reach aggregator: trained with it, the model file records the settings and predict uses
# them (same output at 1 and 2 threads); predict with other reach settings is refused
"$ARD" cosmicweb train "$DS" --epochs 1 --accum 4 --k 16 --fanout1 8 --fanout2 4 --hidden 16 \
    --reach 2 --reach-mpc 30 --reach-bins 4 --reach-fanout 64 --run-id r --threads 2 \
    --json >"$TMP/rtrain.json" || fail "train with reach"
grep -q '"reach":"2,4,30,64,2,1"' "$DS/models/cosmicweb-r.safetensors" ||
    fail "reach settings not in the model file"
"$ARD" cosmicweb predict "$DS" --model r --threads 1 --run-id rp1 >/dev/null || fail "reach predict 1"
"$ARD" cosmicweb predict "$DS" --model r --threads 2 --run-id rp2 --reach 2 --reach-mpc 30 \
    --reach-bins 4 --reach-fanout 64 >/dev/null || fail "reach predict 2 (matching settings)"
"$ARD" parquet cat "$DS/results/cosmicweb-rp1-galaxies.parquet" >"$TMP/rp1.txt"
"$ARD" parquet cat "$DS/results/cosmicweb-rp2-galaxies.parquet" >"$TMP/rp2.txt"
cmp -s "$TMP/rp1.txt" "$TMP/rp2.txt" || fail "reach predictions differ with the thread count"
if "$ARD" cosmicweb predict "$DS" --model r --reach 3 --reach-mpc 30 2>"$TMP/err" >/dev/null; then
    fail "predicted with other reach settings"
fi
grep -q "was trained with reach 2 channels, 4 bins, 30 Mpc" "$TMP/err" ||
    fail "reach mismatch message: $(cat "$TMP/err")"

# bad input
cp -r "$DS" "$TMP/notruth" && rm -rf "$TMP/notruth/truth" "$TMP/notruth/models"
if "$ARD" cosmicweb train "$TMP/notruth" --epochs 1 2>"$TMP/err"; then fail "trained without truth"; fi
grep -q "no truth for training" "$TMP/err" || fail "no-truth message: $(cat "$TMP/err")"
if "$ARD" cosmicweb predict "$TMP/notruth" 2>"$TMP/err"; then fail "predicted without a model"; fi
grep -q "no model in .*notruth/models" "$TMP/err" || fail "missing-model message: $(cat "$TMP/err")"
# a model for other features: rewrite the features metadata (same length) with numpy-free python
"$PY" - "$DS/models/cosmicweb-a.safetensors" "$TMP/other.safetensors" <<'PYEOF' || fail "rewrite"
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
h = json.loads(raw[8:8 + n])
h["__metadata__"]["features"] = "log10_d1,z"
text = json.dumps(h).encode()
text += b" " * (-(8 + len(text)) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
PYEOF
if "$ARD" cosmicweb predict "$DS" --model "$TMP/other.safetensors" 2>"$TMP/err"; then
    fail "used a model for other features"
fi
grep -q "a model for other features" "$TMP/err" || fail "features message: $(cat "$TMP/err")"
# a truncated model file
head -c 100 "$DS/models/cosmicweb-a.safetensors" >"$TMP/cut.safetensors"
if "$ARD" cosmicweb predict "$DS" --model "$TMP/cut.safetensors" 2>"$TMP/err"; then
    fail "used a truncated model"
fi
grep -q "truncated" "$TMP/err" || fail "truncated message: $(cat "$TMP/err")"
set +e
"$ARD" cosmicweb train "$DS" --k 8 >/dev/null 2>&1; [ $? = 2 ] || fail "--k 8 not a usage error"
"$ARD" cosmicweb train "$DS" --geo 65 >/dev/null 2>&1; [ $? = 2 ] || fail "--geo 65 not a usage error"
"$ARD" cosmicweb train "$DS" --reach 33 >/dev/null 2>&1; [ $? = 2 ] || fail "--reach 33"
"$ARD" cosmicweb train "$DS" --reach 2 --reach-mpc 0 >/dev/null 2>&1; [ $? = 2 ] ||
    fail "--reach-mpc 0 not a usage error"
"$ARD" cosmicweb train "$DS" --reach 2 --reach-fanout 8 >"$TMP/out" 2>"$TMP/err"; RC=$?
[ $RC != 0 ] && grep -q "reach options out of range" "$TMP/err" ||
    fail "--reach-fanout 8: rc $RC, $(cat "$TMP/err")"
"$ARD" cosmicweb train >/dev/null 2>&1; [ $? = 2 ] || fail "missing DATASET not a usage error"
"$ARD" cosmicweb train "$DS" --val 0.7 --test 0.5 >/dev/null 2>&1; [ $? = 2 ] || fail "--val+--test"
set -e
echo "PASS: cosmicweb_cli"
