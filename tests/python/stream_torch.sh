#!/bin/bash
# iter_torch_batches: tensors share the store's memory (torch.from_numpy). Skipped without torch.
source "$(dirname "$0")/py_env.bash" "$1"
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "SKIPPED: torch is not installed for /usr/bin/python3"; exit 77
fi
cd "$SRC/tests/python" && "$PY" -m unittest -v test_stream_torch 2>&1
