"""Numpy reference tokenizer for bench/stream-bench: the issue's reference
(patches / np.median(patches, axis=2, keepdims=True)) on the same synthetic input as
bench_stream_tokenize, one core, best of five (wall and thread CPU time). Prints one JSON line."""
import json
import sys
import time

import numpy as np


def tokenize_numpy(flux, patch):
    n, width = flux.shape
    patches = flux.reshape(n, width // patch, patch)
    return patches / np.median(patches, axis=2, keepdims=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    width = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    patch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    rng = np.random.default_rng(42)
    flux = (1.0 + rng.random((n, width))).astype(np.float32)
    best = best_cpu = 1e30
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.thread_time()
        for i in range(0, n, 256):  # batches, as a loader would
            tokenize_numpy(flux[i:i + 256], patch)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.thread_time() - c0)
    print(json.dumps({"tool": "numpy", "spectra": n, "width": width, "patch": patch,
                      "seconds": round(best, 6), "spectra_per_s": round(n / best, 1),
                      "cpu_seconds": round(best_cpu, 6),
                      "spectra_per_cpu_s": round(n / best_cpu, 1)}))


if __name__ == "__main__":
    main()
