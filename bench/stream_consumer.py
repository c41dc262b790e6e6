"""Consumer cost per batch for bench/stream-bench, when the batch is already waiting (the producers
ahead): the Python consumer's own cost, not the producers'. The ring is let fill (sleep), then 8
ready batches are taken and timed one by one; 6 rounds. Three consumers in the same run:
  plain  the path before per-slot views: ard_store_acquire, fresh numpy views, ard_store_release
  numpy  Dataset.iter_batches (views built once per slot, one libard call per batch)
  torch  Dataset.iter_torch_batches (tensors built once per slot)
Usage: stream_consumer.py DATASET [BATCH]. One JSON line per consumer: median and mean wall
microseconds per ready batch, thread CPU microseconds per ready batch."""
import ctypes
import json
import os
import statistics
import sys
import time

import ard
from ard import _lib


def plain(dataset, **kw):
    stream = ard.Dataset(dataset).open_stream(**kw)
    err = _lib.ErrorStruct()
    try:
        while True:
            b = _lib.BatchStruct()
            st = _lib.lib.ard_store_acquire(stream._m.h, -1, ctypes.byref(b), ctypes.byref(err))
            if st == _lib.STATUS_EEOF:
                return
            _lib.check(st, err)
            yield ard._views(b, stream._m, stream.columns)
            _lib.lib.ard_store_release(stream._m.h, ctypes.byref(b), ctypes.byref(err))
    finally:
        stream.close()


def measure(tool, it):
    it = iter(it)
    for _ in range(30):  # every slot used once (views built), steady state
        next(it)
    walls, cpu, n = [], 0.0, 0
    for _ in range(6):
        time.sleep(1.0)  # the producers fill the ring
        for _ in range(8):
            w0, c0 = time.perf_counter(), time.thread_time()
            b = next(it)
            float(b["TOKENS"][0, 0, 0])  # touch it as a trainer would
            walls.append(time.perf_counter() - w0)
            cpu += time.thread_time() - c0
            n += 1
    return {"tool": tool, "wake": os.environ.get("ARD_STORE_WAKE") or "new", "ready_batches": n,
            "wall_us_median": round(statistics.median(walls) * 1e6, 1),
            "wall_us_mean": round(statistics.fmean(walls) * 1e6, 1),
            "cpu_us_per_batch": round(cpu / n * 1e6, 1)}


def main():
    dataset = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    kw = dict(batch_size=batch, threads=1, prefetch_batches=10)
    ds = ard.Dataset(dataset)
    runs = [("plain", lambda: plain(dataset, **kw)), ("numpy", lambda: ds.iter_batches(**kw))]
    try:
        import torch  # noqa: F401
        runs.append(("torch", lambda: ds.iter_torch_batches(**kw)))
    except ImportError:
        print("SKIPPED: torch not installed; no torch consumer", flush=True)
    for tool, make in runs:
        print(json.dumps(measure(tool, make())), flush=True)


if __name__ == "__main__":
    main()
