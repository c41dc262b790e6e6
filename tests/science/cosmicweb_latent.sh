#!/usr/bin/env bash
# The anomaly stage's latents as cosmic-web node features (multi-modal: spectra + positions):
# `ard anomaly score` over the BGS spectra only, then `ard cosmicweb train --latent RUN` (latent
# size and the galaxies that have one in the report, the run's parameters), predict with and
# without --latent (a model trained with latents refuses a predict without them, and one trained
# without refuses them), an unknown latent run; the same from Python (cosmicweb_train(latent=)).
set -euo pipefail
ARD="$(readlink -f "$1")"
BUILD=$(dirname "$ARD")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3
TMP="$(mktemp -d /tmp/ard-cw-latent-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
KNOBS=(--epochs 1 --accum 4 --k 16 --fanout1 8 --fanout2 4 --hidden 16 --threads 2)
DS="$TMP/ds"
"$ARD" generate "$DS" --galaxies 400 --seed 6 --quiet || fail "generate"
"$ARD" sync "$DS" >/dev/null || fail "sync"
"$ARD" anomaly train "$DS" --epochs 1 --hidden 32 --embed 8 --latent 3 --reference 50 \
    --batch-size 64 --run ae --quiet >/dev/null || fail "anomaly train"
"$ARD" anomaly score "$DS" --model ae --run aes --where "target_class = 'BGS'" --quiet \
    >/dev/null || fail "anomaly score"
NBGS=$("$PY" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) \
FROM galaxies WHERE z > 0 AND target_class = 'BGS'\").fetchone()[0])" "$DS/ard.db")
[ "$NBGS" -gt 0 ] || fail "no BGS galaxies"

"$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --latent aes --run-id tl --json >"$TMP/tl.json" \
    || fail "train --latent"
"$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --run-id t0 --json >"$TMP/t0.json" || fail "train"
"$PY" - "$TMP" "$NBGS" "$DS" <<'PYEOF' || fail "train reports"
import json, sqlite3, sys
tmp, nbgs, ds = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tl, t0 = (json.load(open(f"{tmp}/{n}.json")) for n in ("tl", "t0"))
assert tl["latent_dim"] == 3 and tl["with_latent"] == nbgs, (tl, nbgs)
assert t0["latent_dim"] == 0 and t0["with_latent"] == 0, t0
db = sqlite3.connect(f"{ds}/ard.db")
params = json.loads(db.execute("SELECT params FROM cosmicweb_runs WHERE run_id = 'tl'").fetchone()[0])
assert params["latent"] == "aes", params
PYEOF
# the model file records the latents
grep -aq '"latent":"3"' "$DS/models/cosmicweb-tl.safetensors" || fail "no latent in the model file"
grep -aq 'latent_2,has_latent' "$DS/models/cosmicweb-tl.safetensors" || fail "no latent names"

# predict: a latent model needs --latent; a plain one refuses it
rc=0; "$ARD" cosmicweb predict "$DS" --model tl --run-id pbad 2>"$TMP/err" >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "predict without --latent exited $rc"
grep -q "trained with 3 anomaly latents" "$TMP/err" || fail "message: $(cat "$TMP/err")"
grep -q -- "--latent RUN" "$TMP/err" || fail "message names no flag: $(cat "$TMP/err")"
rc=0; "$ARD" cosmicweb predict "$DS" --model t0 --latent aes --run-id pbad 2>"$TMP/err" \
    >/dev/null || rc=$?
[ "$rc" = 1 ] && grep -q "without anomaly latents" "$TMP/err" || fail "plain model: $(cat "$TMP/err")"
rc=0; "$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --latent nosuch --run-id tbad 2>"$TMP/err" \
    >/dev/null || rc=$?
[ "$rc" = 1 ] && grep -q "no anomaly score run 'nosuch'" "$TMP/err" || fail "unknown run: $(cat "$TMP/err")"
[ ! -e "$DS/models/cosmicweb-tbad.safetensors" ] || fail "a failed run left a model"
rc=0; "$ARD" cosmicweb train "$DS" "${KNOBS[@]}" --latent "" --run-id tempty 2>"$TMP/err" \
    >/dev/null || rc=$?
[ "$rc" = 1 ] && grep -q -- "--latent names no anomaly score run" "$TMP/err" \
    || fail "empty --latent: exit $rc: $(cat "$TMP/err")"
[ ! -e "$DS/models/cosmicweb-tempty.safetensors" ] || fail "an empty --latent left a model"
"$ARD" cosmicweb predict "$DS" --model tl --latent aes --run-id pl --json >"$TMP/pl.json" \
    || fail "predict --latent"
grep -q '"galaxies":400' "$TMP/pl.json" || fail "predict: $(cat "$TMP/pl.json")"

# Python: the same stage with latent=
export ARD_LIBRARY="$BUILD/libard.so"
if [ -f "$ARD_LIBRARY" ] && "$PY" -c "import numpy" 2>/dev/null && ! ldd "$ARD_LIBRARY" | grep -q libtsan; then
    if ldd "$ARD_LIBRARY" | grep libasan >/dev/null; then
        export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
        export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0
    fi
    PYTHONPATH="$SRC/python" "$PY" - "$DS" "$NBGS" <<'PYEOF' || fail "python"
import sys
import ard
ds, nbgs = ard.Dataset(sys.argv[1]), int(sys.argv[2])
knobs = dict(epochs=1, accum=4, k=16, fanout1=8, fanout2=4, hidden=16, threads=2)
r = ds.cosmicweb_train(run="pyl", latent="aes", **knobs)
assert r["latent_dim"] == 3 and r["with_latent"] == nbgs, r
assert "features.mean" in ard.load_safetensors(r["model_path"])
assert ard.load_safetensors(r["model_path"])["features.mean"].shape == (11 + 3 + 1,)
try:
    ds.cosmicweb_predict(model="pyl", run="pyp0")
    raise SystemExit("predict without latent= passed")
except ard.EINVAL as e:
    assert "trained with 3 anomaly latents" in str(e), e
p = ds.cosmicweb_predict(model="pyl", run="pyp", latent="aes")
assert p["galaxies"] == 400 and p["latent_dim"] == 3, p
try:
    ds.cosmicweb_train(run="pye", latent="", **knobs)
    raise SystemExit("latent='' trained")
except ard.EINVAL as e:
    assert "--latent names no anomaly score run" in str(e), e
PYEOF
    unset LD_PRELOAD
else
    echo "python part SKIPPED (no libard.so, numpy, or a TSan build)"
fi
echo "cosmicweb latent: ok"
