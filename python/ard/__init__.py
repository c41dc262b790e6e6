"""ard: analysis-ready spectroscopic datasets, streamed to numpy/torch without copies.

    import ard
    ds = ard.Dataset("/data/DESI-ARD")
    for batch in ds.iter_batches(batch_size=256, prefetch_batches=10, shuffle=True, seed=1):
        batch["tokens"]    # float32 [count, num_patches, patch], a view on shared memory
        batch["scales"], batch["mask"], batch["targetid"], batch["flags"], batch["wave"]

    for batch in ds.iter_batches(columns=["Z", "SPECTYPE"]):  # catalog columns from the index
        batch["Z"]         # float64 [count] (NaN: no catalog row), a view on shared memory
        batch["SPECTYPE"]  # numpy 'S16' [count] (bytes, NUL-padded; b"" = no catalog row)

    for batch in ds.iter_torch_batches(batch_size=256):   # torch.from_numpy, still zero copy
        ...

    stream = ard.connect_stream("train")   # batches served by `ard stream serve DATASET --name train`
    for batch in stream.iter_batches(): ...

Batches are views on a slot of the shared-memory store: a batch stays valid until the next one is
requested (the slot is then released to the producers). Copy (np.array(x)) what you keep longer.
"""
import ctypes

import numpy as np

from ._lib import (COLUMN_FLOAT32, COLUMN_FLOAT64, COLUMN_INT64, EEOF, Batch, Error, ErrorStruct, LoaderOptions,
                   ReadItem, check, lib)

__all__ = ["Dataset", "Stream", "connect_stream", "Error", "NORMS"]
__version__ = "0.1.0"

NORMS = {"median": 0, "none": 1, "spectrum-median": 2}
FRAMES = {"observed": 0, "rest": 1}


class _Mapping:
    """Owns the C consumer handle (and an in-process loader). Every numpy view holds a reference,
    so the shared memory stays mapped while any view is alive; closed when the last one goes."""

    def __init__(self, handle, loader=None):
        self.h = ctypes.c_void_p(handle)
        self.loader = loader

    def __del__(self):
        if self.h:
            lib.ard_store_close(self.h)
            self.h = None
        if self.loader is not None:
            self.loader.close()
            self.loader = None


class _View:
    """An __array_interface__ over shared memory that keeps its _Mapping alive."""

    __slots__ = ("__array_interface__", "_mapping")

    def __init__(self, ptr, shape, typestr, mapping):
        self.__array_interface__ = {"version": 3, "shape": shape, "typestr": typestr,
                                    "data": (ctypes.cast(ptr, ctypes.c_void_p).value, False)}
        self._mapping = mapping


def _columns(handle):
    """(name, numpy typestr) of each catalog column of a store."""
    out = []
    for i in range(lib.ard_store_num_columns(handle)):
        kind = lib.ard_store_column_type(handle, i)
        typestr = {COLUMN_FLOAT64: "<f8", COLUMN_INT64: "<i8", COLUMN_FLOAT32: "<f4"}.get(
            kind, f"|S{lib.ard_store_column_width(handle, i)}")
        out.append((lib.ard_store_column_name(handle, i).decode(), typestr))
    return out


def _views(b, mapping, columns=()):
    """Numpy views (no copy) on the arrays of one acquired batch, catalog columns included."""
    n, npch, p = b.count, b.num_patches, b.patch

    def view(ptr, shape, typestr):
        return np.asarray(_View(ptr, shape, typestr, mapping))

    out = {
        "tokens": view(b.tokens, (n, npch, p), "<f4"),
        "scales": view(b.scales, (n, npch), "<f4"),
        "mask": view(b.mask, (n, npch), "|u1"),
        "targetid": view(b.targetid, (n,), "<i8"),
        "flags": view(b.flags, (n,), "|u1"),
        "wave": view(b.wave, (npch,), "<f4"),
    }
    for i, (name, typestr) in enumerate(columns):
        shape = (n, npch, p) if typestr == "<f4" else (n,)  # float32: the per-pixel "weights"
        out[name] = view(lib.ard_batch_column(mapping.h, ctypes.byref(b), i), shape, typestr)
    return out


class Stream:
    """A consumer of a batch store. Iterate with iter_batches(). Batches are views on shared memory:
    a batch's slot is handed back to the producers when the next batch is requested (or on close),
    so copy what you keep longer; the mapping itself stays valid while any view exists."""

    def __init__(self, handle, loader=None):
        self._m = _Mapping(handle, loader)
        self.base = lib.ard_store_base(self._m.h)
        self.size = lib.ard_store_size(self._m.h)
        self.columns = _columns(self._m.h)  # [(name, numpy typestr)] of the catalog columns
        self._held = None

    def _release(self):
        if self._held is not None and self._m is not None:
            err = ErrorStruct()
            lib.ard_store_release(self._m.h, ctypes.byref(self._held), ctypes.byref(err))
        self._held = None

    def iter_batches(self, timeout_ms=-1, with_meta=False):
        """Yields dicts of numpy views; the previous batch is released when the next is asked for."""
        err = ErrorStruct()
        try:
            while self._m is not None:
                b = Batch()
                st = lib.ard_store_acquire(self._m.h, timeout_ms, ctypes.byref(b), ctypes.byref(err))
                if st == EEOF:
                    return
                check(st, err)
                self._held = b
                d = _views(b, self._m, self.columns)
                if with_meta:
                    d["epoch"] = b.epoch
                    d["seq"] = b.seq
                yield d
                self._release()
        finally:
            self._release()

    def close(self):
        """Releases the held batch; the mapping goes when the last view is gone."""
        self._release()
        self._m = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Loader:
    """An in-process producer (ard_loader) whose threads fill the store."""

    def __init__(self, handle):
        self.h = ctypes.c_void_p(handle)

    def close(self):
        if self.h:
            lib.ard_loader_free(self.h)
            self.h = None


def connect_stream(name):
    """Connects to a stream served by another process (`ard stream serve --name NAME`)."""
    err = ErrorStruct()
    h = ctypes.c_void_p()
    check(lib.ard_store_connect(name.encode(), ctypes.byref(h), ctypes.byref(err)), err)
    return Stream(h.value)


class Dataset:
    """A dataset directory (tiles under DATASET/tiles/), or an explicit read plan:
    Dataset(items=[(path, row_group, first_row, num_rows), ...]) (num_rows -1 = rest of group)."""

    def __init__(self, path=None, items=None, dsn=None):
        self.path = path
        self.dsn = dsn  # index database (default DATASET/ard.db; or a PostgreSQL DSN)
        self.items = list(items) if items is not None else None
        self.where = None

    def query(self, where):
        """The spectra selected by a SQL predicate over the catalog ("Z > 2.5"), run read-only by the
        dataset's index (`ard sync` builds it)."""
        if self.items is not None:
            raise ValueError("query() applies to a dataset directory, not to explicit items")
        ds = Dataset(self.path, dsn=self.dsn)
        ds.where = where
        return ds

    def _options(self, batch_size, prefetch_batches, local_shuffle_buffer_size, seed, drop_last,
                 shuffle, epochs, threads, patch, norm, memory, cache, rank, world, name,
                 columns=None, text_width=16, weights=False, frame="observed", rest_z=(0.0, 1.6)):
        o = LoaderOptions()
        lib.ard_loader_options_init(ctypes.byref(o))
        o.batch_size = batch_size
        o.prefetch_batches = prefetch_batches
        o.shuffle = 1 if (shuffle or local_shuffle_buffer_size) else 0
        o.local_shuffle_buffer = int(local_shuffle_buffer_size or 0)
        o.seed = int(seed or 0) & 0xFFFFFFFFFFFFFFFF
        o.drop_last = 1 if drop_last else 0
        o.epochs = epochs
        o.threads = threads
        o.tokenize.patch = patch
        o.tokenize.min_valid = max(1, patch // 4)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {sorted(NORMS)}")
        o.tokenize.norm = NORMS[norm]
        o.memory_cap = int(memory or 0)
        o.cache = 1 if cache else 0
        o.rank, o.world = rank, world
        self._name = name.encode() if name else None
        o.store_name = self._name
        if isinstance(columns, str):
            columns = [columns]
        self._columns = ",".join(columns).encode() if columns else None
        o.columns = self._columns
        o.text_width = text_width
        self._index = (str(self.path).encode() if self.path else None,
                       self.dsn.encode() if self.dsn else None)
        o.index_dataset, o.index_dsn = self._index
        if frame not in FRAMES:
            raise ValueError(f"frame must be one of {sorted(FRAMES)}")
        o.weights = 1 if weights else 0
        o.frame = FRAMES[frame]
        o.rest_zmin, o.rest_zmax = float(rest_z[0]), float(rest_z[1])
        return o

    def open_stream(self, batch_size=256, prefetch_batches=10, local_shuffle_buffer_size=None,
                    seed=None, drop_last=False, shuffle=False, epochs=1, threads=2, patch=64,
                    norm="median", memory=None, cache=False, rank=0, world=1, name=None,
                    columns=None, text_width=16, weights=False, frame="observed",
                    rest_z=(0.0, 1.6)):
        """Starts producer threads in this process and returns the consuming Stream.

        weights: True adds batch["weights"], float32 [count, num_patches, patch] beside the tokens:
        IVAR x scale^2 per pixel, 0 where masked/null (an IVAR-weighted loss in token units).
        frame: "rest" places every spectrum on the rest-frame log-lambda grid for z in rest_z by
        its catalog Z (added as batch["Z"]); batch["wave"] is then rest-frame (see stream.h).

        columns: catalog columns of the index's galaxies table added to every batch (["Z",
        "SPECTYPE"]), keyed by their upper-case names: real ones as float64 arrays (NaN when the
        spectrum has no catalog row or the value is NULL), integer ones int64 (0), text ones numpy
        bytes arrays of dtype 'S<text_width>' (b"" when missing; decode with .astype(str)).
        Unknown names raise Error (ARD_EINVAL) naming the column."""
        o = self._options(batch_size, prefetch_batches, local_shuffle_buffer_size, seed,
                          drop_last, shuffle, epochs, threads, patch, norm, memory, cache, rank,
                          world, name, columns, text_width, weights, frame, rest_z)
        err = ErrorStruct()
        h = ctypes.c_void_p()
        if self.items is not None:
            keep = [str(it[0]).encode() for it in self.items]
            arr = (ReadItem * max(1, len(self.items)))()
            for i, it in enumerate(self.items):
                arr[i] = ReadItem(keep[i], int(it[1]), int(it[2]) if len(it) > 2 else 0,
                                  int(it[3]) if len(it) > 3 else -1)
            st = lib.ard_loader_new(ctypes.byref(o), arr, len(self.items), ctypes.byref(h),
                                    ctypes.byref(err))
        elif self.where is not None:
            st = lib.ard_loader_new_query(ctypes.byref(o), str(self.path).encode(),
                                          self.dsn.encode() if self.dsn else None,
                                          self.where.encode(), ctypes.byref(h), ctypes.byref(err))
        else:
            st = lib.ard_loader_new_dataset(ctypes.byref(o), str(self.path).encode(),
                                            ctypes.byref(h), ctypes.byref(err))
        check(st, err)
        loader = _Loader(h.value)
        c = ctypes.c_void_p()
        st = lib.ard_store_attach(lib.ard_loader_store(loader.h), ctypes.byref(c), ctypes.byref(err))
        if st != 0:
            loader.close()
            check(st, err)
        stream = Stream(c.value, loader=loader)
        check(lib.ard_loader_start(loader.h, ctypes.byref(err)), err)
        stream.rows_per_epoch = lib.ard_loader_rows_per_epoch(loader.h)
        stream.batches_per_epoch = lib.ard_loader_batches_per_epoch(loader.h)
        return stream

    def iter_batches(self, batch_size=256, prefetch_batches=10, local_shuffle_buffer_size=None,
                     local_shuffle_seed=None, seed=None, drop_last=False, **kw):
        """Yields dicts of numpy arrays that are views on the shared-memory batch (zero copy)."""
        stream = self.open_stream(batch_size=batch_size, prefetch_batches=prefetch_batches,
                                  local_shuffle_buffer_size=local_shuffle_buffer_size,
                                  seed=seed if seed is not None else local_shuffle_seed,
                                  drop_last=drop_last, **kw)
        try:
            yield from stream.iter_batches()
        finally:
            stream.close()

    def iter_torch_batches(self, dtypes=None, device="cpu", **kw):
        """Like iter_batches with torch tensors (torch.from_numpy: shares the memory)."""
        import torch

        for batch in self.iter_batches(**kw):
            # text catalog columns ('S' arrays) have no torch dtype: they stay numpy views
            out = {k: torch.from_numpy(v) if v.dtype.kind != "S" else v for k, v in batch.items()}
            if device not in (None, "cpu", "auto"):
                out = {k: v.to(device) if not isinstance(v, np.ndarray) else v
                       for k, v in out.items()}
            yield out
