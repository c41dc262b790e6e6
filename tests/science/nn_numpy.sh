#!/usr/bin/env bash
# numpy alone reads the safetensors files ard writes: test_science writes a fixture (known values,
# a Kaiming-initialised tensor, metadata, a dense layer's input and the C forward pass), and a
# reader written here with json + numpy only (no safetensors package) checks every byte of it.
set -euo pipefail
ARD="$1"
TS="$(dirname "$ARD")/tests/test_science"
PY=/usr/bin/python3
skip() { echo "SKIPPED: $*"; exit 77; }
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null || skip "numpy is not installed for python3"
[ -x "$TS" ] || { echo "FAIL: $TS not built" >&2; exit 1; }
TMP="$(mktemp -d /tmp/ard-nn-numpy-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
rc=0
"$TS" --write-nn-fixture "$TMP/m.safetensors" || rc=$?
[ "$rc" = 77 ] && skip "ard built without BLAS"
[ "$rc" = 0 ] || { echo "FAIL: fixture writer exited $rc" >&2; exit 1; }
"$PY" - "$TMP/m.safetensors" <<'PY'
import json, struct, sys
import numpy as np

raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert (8 + n) % 8 == 0, "data not 8-byte aligned"
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
meta = header.pop("__metadata__")
assert meta == {"stage": "test", "note": 'quote " backslash \\ e\u00e9'}, meta
t = {}
end = 0
for name, e in header.items():
    assert e["dtype"] == "F32", (name, e)
    b, f = e["data_offsets"]
    assert b == end, (name, b, end)  # contiguous, in order
    end = f
    t[name] = np.frombuffer(data[b:f], dtype="<f4").reshape(e["shape"])
assert end == len(data), (end, len(data))
assert list(t) == ["layer0.weight", "layer0.bias", "scalar", "empty", "kaiming", "x", "y"]
np.testing.assert_array_equal(t["layer0.weight"], (np.arange(12, dtype=np.float32) - 5).reshape(3, 4) * 0.125)
np.testing.assert_array_equal(t["layer0.bias"], np.array([1.5, -2.25, 1e-3], dtype=np.float32))
assert t["scalar"].shape == () and t["scalar"] == np.float32(3.5)
assert t["empty"].shape == (0, 4)
k = t["kaiming"]
assert k.shape == (64, 32) and abs(k.std() / np.sqrt(2 / 32) - 1) < 0.1, k.std()
y = t["x"].astype(np.float64) @ t["layer0.weight"].T.astype(np.float64) + t["layer0.bias"]
np.testing.assert_allclose(t["y"], y, rtol=0, atol=1e-5)
print("numpy read %d tensors, dense forward matches to 1e-5" % len(t))
PY
echo "PASS: nn_numpy"
