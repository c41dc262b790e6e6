"""End-to-end loader comparison for bench/stream-bench, one JSON line per run:
  torch  DATASET WORKERS BATCH   PyTorch DataLoader (IterableDataset over row groups, split across
                                 workers with get_worker_info), tiles decoded with ard's reader
                                 (ctypes, same decoder), tokenized with numpy's reference
                                 (patches / median), batches pickled to the main process.
  ard    DATASET THREADS BATCH [SLOTS]
                                 ard.Dataset(...).iter_torch_batches: producer threads tokenize
                                 into shared memory, the consumer maps tensors without a copy;
                                 SLOTS = prefetch_batches (default 10).
Reports spectra/s and batches/s delivered to the consumer and its CPU time per batch."""
import ctypes
import gc
import glob
import json
import os
import resource
import sys
import time

import numpy as np
import torch

import ard
from ard import _lib


class _MetaHead(ctypes.Structure):
    """The leading fields of ard_pq_metadata (include/ard/parquet.h)."""
    _fields_ = [("version", ctypes.c_int32), ("num_nodes", ctypes.c_int32), ("nodes", ctypes.c_void_p),
                ("num_leaves", ctypes.c_int32), ("leaves", ctypes.c_void_p), ("num_rows", ctypes.c_int64),
                ("declared_num_rows", ctypes.c_int64), ("num_row_groups", ctypes.c_int32)]


def row_groups(dataset):
    _lib.lib.ard_parquet_metadata.restype = ctypes.POINTER(_MetaHead)
    _lib.lib.ard_parquet_metadata.argtypes = [ctypes.c_void_p]
    units = []
    for path in sorted(glob.glob(os.path.join(dataset, "tiles", "**", "*.parquet"), recursive=True)):
        err = _lib.ErrorStruct()
        f = ctypes.c_void_p()
        _lib.check(_lib.lib.ard_parquet_open(path.encode(), None, ctypes.byref(f), ctypes.byref(err)), err)
        groups = _lib.lib.ard_parquet_metadata(f).contents.num_row_groups
        units.extend((path, rg) for rg in range(groups))
        _lib.lib.ard_parquet_close(f)
    return units


def read_matrix(f, rg, column):
    err = _lib.ErrorStruct()
    m = _lib.F32Matrix()
    leaf = _lib.lib.ard_parquet_find_leaf(f, column)
    _lib.check(_lib.lib.ard_parquet_read_f32_matrix(f, rg, leaf, ctypes.byref(m), ctypes.byref(err)), err)
    arr = np.ctypeslib.as_array(m.values, shape=(m.rows, m.width)).copy()
    _lib.lib.ard_pq_matrix_reset(ctypes.byref(m))
    return arr


class Tiles(torch.utils.data.IterableDataset):
    def __init__(self, units, batch, patch=64):
        self.units, self.batch, self.patch = units, batch, patch

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        mine = self.units if info is None else self.units[info.id::info.num_workers]
        buf = []
        for path, rg in mine:
            err = _lib.ErrorStruct()
            f = ctypes.c_void_p()
            _lib.check(_lib.lib.ard_parquet_open(path.encode(), None, ctypes.byref(f), ctypes.byref(err)), err)
            flux = read_matrix(f, rg, b"FLUX.list.element")
            read_matrix(f, rg, b"IVAR.list.element")  # read like ard does, unused by the reference
            _lib.lib.ard_parquet_close(f)
            flux = np.nan_to_num(flux)
            n, width = flux.shape
            patches = flux.reshape(n, width // self.patch, self.patch)
            tokens = (patches / np.median(patches, axis=2, keepdims=True)).astype(np.float32)
            for i in range(0, n, self.batch):
                yield {"TOKENS": torch.from_numpy(tokens[i:i + self.batch])}


def run_torch(dataset, workers, batch):
    units = row_groups(dataset)
    dl = torch.utils.data.DataLoader(Tiles(units, batch), batch_size=None, num_workers=workers,
                                     prefetch_factor=2 if workers else None)
    return consume(dl, "torch-dataloader", workers)


def run_ard(dataset, threads, batch, slots=10):
    it = ard.Dataset(dataset).iter_torch_batches(batch_size=batch, threads=threads,
                                                 prefetch_batches=slots)
    res = consume(it, "ard", threads)
    res["slots"] = slots
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    return res


def cpu_all():
    """CPU seconds of this process (all threads) and its reaped children (DataLoader workers)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def consume(iterable, tool, workers):
    """Spectra/s over the whole run (start-up included); the consumer's CPU per batch in steady
    state (from the first batch on: opening the stream, reading footers and starting workers
    are reported apart as consumer_cpu_ms_startup); spectra per CPU second of everything the
    tool ran (its threads, its worker processes once reaped): per-core efficiency, which a busy
    machine disturbs far less than wall time."""
    a0 = cpu_all()
    t0, c0 = time.perf_counter(), time.thread_time()
    c1 = None
    batches = spectra = 0
    sink, b = 0.0, None
    for b in iterable:
        sink += float(b["TOKENS"][0, 0, 0])  # touch the batch as a trainer would
        batches += 1
        spectra += b["TOKENS"].shape[0]
        if c1 is None:
            c1 = time.thread_time()
    wall = time.perf_counter() - t0
    c2 = time.thread_time()
    del iterable, b
    gc.collect()  # the DataLoader's workers joined, ard's loader freed
    total_cpu = cpu_all() - a0
    steady = (c2 - c1) / max(batches - 1, 1) if c1 is not None else 0.0
    return {"tool": tool, "wake": os.environ.get("ARD_STORE_WAKE") or "new",
            "workers": workers, "batches": batches, "spectra": spectra,
            "seconds": round(wall, 4), "spectra_per_s": round(spectra / wall, 1),
            "batches_per_s": round(batches / wall, 2),
            "consumer_cpu_ms_per_batch": round(steady * 1e3, 3),
            "consumer_cpu_ms_startup": round(((c1 or c2) - c0) * 1e3, 1),
            "cpu_seconds_all": round(total_cpu, 3),
            "spectra_per_cpu_s": round(spectra / max(total_cpu, 1e-9), 1)}


def main():
    mode, dataset, workers, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    slots = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    res = (run_torch(dataset, workers, batch) if mode == "torch"
           else run_ard(dataset, workers, batch, slots))
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
