#!/usr/bin/env python3
"""bench/cluster_consumer.py NAME [BYTES_PER_SPECTRUM]: a Python consumer of a served stream
(ard.connect_stream, numpy views, zero copy) as a trainer would be: it waits for each batch, reads
its tokens once (a sum, standing in for the copy to the GPU) and releases it. Prints one JSON line:
spectra, seconds (first batch to last), spectra/s, MB/s on the wire (spectra/s x bytes per
spectrum given by the server's report), the tokens' dtype, and the time the consumer waited for
each batch (p50 / p99 / max, ms). Figures only; never fails a build."""
import json
import sys
import time

import numpy as np

import ard  # noqa: E402 (PYTHONPATH: the checkout's python/)


def main():
    name = sys.argv[1]
    wire_bytes = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    deadline = time.monotonic() + 120
    while True:
        try:
            stream = ard.connect_stream(name)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    waits, spectra, dtype, first = [], 0, None, None
    it = stream.iter_batches()
    while True:
        t0 = time.monotonic()
        try:
            b = next(it)
        except StopIteration:
            break
        t1 = time.monotonic()
        if first is None:
            first = t1  # the pipeline's start-up is not a wait of a running trainer
        else:
            waits.append(t1 - t0)
        tokens = b["TOKENS"]
        dtype = str(tokens.dtype)
        float(np.asarray(tokens, dtype=np.float32).sum())
        spectra += len(b["TARGETID"])
    last = time.monotonic()
    stream.close()
    secs = last - first if first else 0.0
    w = np.array(waits) * 1e3 if waits else np.zeros(1)
    print(json.dumps({
        "spectra": spectra, "seconds": round(secs, 4),
        "spectra_per_s": round(spectra / secs, 1) if secs else 0.0,
        "wire_mb_per_s": round(spectra * wire_bytes / secs / 1e6, 1) if secs else 0.0,
        "tokens_dtype": dtype,
        "wait_ms_p50": round(float(np.percentile(w, 50)), 3),
        "wait_ms_p99": round(float(np.percentile(w, 99)), 3),
        "wait_ms_max": round(float(w.max()), 3)}))


if __name__ == "__main__":
    main()
