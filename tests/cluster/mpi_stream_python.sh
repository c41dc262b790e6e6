#!/bin/bash
# The consumer receives what it asked for: with `--wire f16` the store holds float16 tokens and
# Python's TOKENS are float16 views, with `--wire bf16` the uint16 bits of bfloat16 and
# Stream.iter_torch_batches gives torch.bfloat16; in both cases the values are the one-process
# float32 tokens rounded to the wire format (numpy's / torch's own rounding), everything else
# exact, every spectrum once.
source "$(dirname "$0")/mpi_env.bash"
PY=/usr/bin/python3
export ARD_LIBRARY="$BUILD/libard.so"
[ -f "$ARD_LIBRARY" ] || { echo "SKIPPED: $ARD_LIBRARY not built (target ard)"; exit 77; }
"$PY" -c "import numpy, torch" 2>/dev/null || { echo "SKIPPED: python3 without numpy/torch"; exit 77; }
if ldd "$ARD_LIBRARY" | grep -q libasan; then
  PRE="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  export ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0
fi
export PYTHONPATH="$(cd "$(dirname "$0")/../.." && pwd)/python"
make_dataset
# py_dump TAG MODE: a Python consumer of stream NAME-TAG saving TARGETID -> tokens to $W/TAG.npz
py_dump() {
  LD_PRELOAD="${PRE:-}" timeout 600 "$PY" - "$NAME-$1" "$2" "$W/$1.npz" <<'PYEOF'
import sys, time
import numpy as np
import ard
name, mode, out = sys.argv[1:4]
deadline = time.monotonic() + 300
while True:
    try:
        s = ard.connect_stream(name)
        break
    except ard.ENOENT:
        assert time.monotonic() < deadline, "no stream"
        time.sleep(0.05)
ids, toks, scales = [], [], []
it = s.iter_torch_batches() if mode == "torch" else s.iter_batches()
import torch
for b in it:
    t = b["TOKENS"]
    if mode == "torch":
        assert t.dtype == torch.bfloat16, t.dtype
        t = t.view(torch.int16).numpy().view(np.uint16)
    elif mode == "f16":
        assert t.dtype == np.float16, t.dtype
    else:
        assert t.dtype == np.float32, t.dtype
    ids.append(np.array(b["TARGETID"]))
    toks.append(np.array(t))
    scales.append(np.array(b["SCALES"]))
s.close()
np.savez(out, ids=np.concatenate(ids), toks=np.concatenate(toks), scales=np.concatenate(scales))
PYEOF
}
# serve_py TAG MODE SERVE_PREFIX...: serves $W/ds with $SERVE_ARGS, consumed by py_dump
serve_py() {
  local tag=$1 mode=$2
  shift 2
  timeout 600 "$@" "$ARD" stream serve "$W/ds" --name "$NAME-$tag" $SERVE_ARGS 2>"$W/$tag.err" &
  local server=$!
  py_dump "$tag" "$mode" || { cat "$W/$tag.err"; fail "$tag: the Python consumer failed"; }
  wait $server || { cat "$W/$tag.err"; fail "$tag: the server failed"; }
}
SERVE_ARGS="--batch-size 16 --shuffle --seed 7 --prefetch 3"
serve_py ref f32
SERVE_ARGS="$SERVE_ARGS --wire f16"
serve_py f16 f16 $MPIRUN -n 3
SERVE_ARGS="--batch-size 16 --shuffle --seed 7 --prefetch 3 --wire bf16"
serve_py bf16 torch $MPIRUN -n 2
"$PY" - "$W" <<'PYEOF' || fail "the delivered tokens are not the reference rounded to the wire"
import sys
import numpy as np
import torch
w = sys.argv[1]
ref, f16, bf16 = (np.load(f"{w}/{t}.npz") for t in ("ref", "f16", "bf16"))
assert len(ref["ids"]) == 300, len(ref["ids"])
for got in (f16, bf16):
    np.testing.assert_array_equal(got["ids"], ref["ids"])  # same sequence, every spectrum once
    np.testing.assert_array_equal(got["scales"], ref["scales"])  # exact
np.testing.assert_array_equal(f16["toks"], ref["toks"].astype(np.float16))
want = torch.from_numpy(ref["toks"]).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
finite = np.isfinite(ref["toks"])
np.testing.assert_array_equal(bf16["toks"][finite], want[finite])
assert not np.array_equal(f16["toks"].astype(np.float32), ref["toks"]), "f16: nothing rounded"
print("ok: f16", f16["toks"].dtype, "bf16 bits", bf16["toks"].dtype)
PYEOF
echo "ok"
