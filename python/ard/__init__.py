"""ard: analysis-ready spectroscopic datasets, a thin client of libard's stages.

    import ard
    ds = ard.Dataset("/data/DESI-ARD")          # dsn="postgresql://..." for a PostgreSQL index
    ds.sync()                                   # index the tiles and the catalog (ard sync)
    cols = ds.query("Z > 2.5", columns=["Z", "SPECTYPE"])   # typed numpy columns (+ TARGETID)
    spec = ds.fetch("Z > 2.5")                  # numpy TARGETID, FLUX, IVAR (, MASK)
    for batch in ds.iter_batches(batch_size=256, prefetch_batches=10, shuffle=True, seed=1):
        batch["TOKENS"]    # float32 [count, num_patches, patch], a view on shared memory
        batch["SCALES"], batch["MASK"], batch["TARGETID"], batch["FLAGS"], batch["WAVE"]

    for batch in ds.iter_batches(columns=["Z", "SPECTYPE"]):  # catalog columns from the index
        batch["Z"]         # float64 [count] (NaN: no catalog row), a view on shared memory
        batch["SPECTYPE"]  # numpy 'S16' [count] (bytes, NUL-padded; b"" = no catalog row)

    for batch in ds.where("Z > 2.5").iter_torch_batches(batch_size=256):  # zero copy
        ...

    ard.generate("/data/mock", galaxies=100_000)      # a synthetic survey (ard generate)
    ard.ingest_desi("/data/desi", ["coadd-....fits"])  # DESI FITS -> ARD (ard ingest desi)

    stream = ard.connect_stream("train")   # batches served by `ard stream serve DATASET --name train`
    for batch in stream.iter_batches(): ...

Keys are upper case everywhere: the fixed batch keys (TOKENS, SCALES, MASK, TARGETID, FLAGS, WAVE),
catalog columns (as the index and DESI's zcatalog name them) and fetched tile columns. The
lower-case batch keys of earlier versions ("targetid", "tokens", ...) still work, with a
DeprecationWarning.

Batches are views on a slot of the shared-memory store: a batch stays valid until the next one is
requested (the slot is then released to the producers). Copy (np.array(x)) what you keep longer.

Failures raise the exception class of their ard_status: ard.EINVAL, ard.ENOENT, ard.EDB, ... (all
subclasses of ard.Error; EINVAL is also a ValueError, ENOENT a FileNotFoundError, ...).
"""
import ctypes
import warnings

import numpy as np

from . import _index
from ._lib import (COLUMN_FLOAT32, COLUMN_FLOAT64, COLUMN_INT64, ERROR_CLASSES, STATUS_EEOF,
                   AbiError, BatchStruct, Error, ErrorStruct, LoaderOptions, ReadItem, check, lib,
                   library_path)
from ._version import __version__

globals().update(ERROR_CLASSES)  # ard.EINVAL, ard.ENOENT, ... generated from the library's list

__all__ = ["Dataset", "Stream", "Batch", "connect_stream", "Error", "AbiError", "NORMS",
           "library_version", "library_path", "__version__"] + sorted(ERROR_CLASSES)

NORMS = {"median": 0, "none": 1, "spectrum-median": 2}
FRAMES = {"observed": 0, "rest": 1}
ON_ERROR = {"fail": 0, "skip": 1}


def library_version():
    """The loaded libard's version (ard_version()); equal to ard.__version__ (checked at import)."""
    return lib.ard_version().decode()


_LEGACY_KEYS = {"tokens", "scales", "mask", "targetid", "flags", "wave", "weights"}


class Batch(dict):
    """One batch: upper-case keys to numpy arrays. The lower-case keys of earlier versions
    ("targetid", "tokens", ...) are deprecated aliases of the upper-case ones."""

    def __missing__(self, key):
        if key in _LEGACY_KEYS:
            warnings.warn(f'batch key "{key}" is deprecated: use "{key.upper()}"',
                          DeprecationWarning, stacklevel=2)
            return self[key.upper()]
        raise KeyError(key)


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


# The tokens' numpy type by the store's token dtype (ARD_TOKENS_*): float32, float16, and the raw
# bits of bfloat16 (numpy has no bfloat16: iter_torch_batches views them as torch.bfloat16).
_TOKEN_TYPES = {0: "<f4", 1: "<f2", 2: "<u2"}


def _views(b, mapping, columns=()):
    """Numpy views (no copy) on the arrays of one acquired batch, catalog columns included."""
    n, npch, p = b.count, b.num_patches, b.patch

    def view(ptr, shape, typestr):
        return np.asarray(_View(ptr, shape, typestr, mapping))

    out = Batch({
        "TOKENS": view(b.tokens, (n, npch, p), _TOKEN_TYPES.get(b.token_dtype, "<f4")),
        "SCALES": view(b.scales, (n, npch), "<f4"),
        "MASK": view(b.mask, (n, npch), "|u1"),
        "TARGETID": view(b.targetid, (n,), "<i8"),
        "FLAGS": view(b.flags, (n,), "|u1"),
        "WAVE": view(b.wave, (npch,), "<f4"),
    })
    for i, (name, typestr) in enumerate(columns):
        shape = (n, npch, p) if typestr == "<f4" else (n,)  # float32: the per-pixel "weights"
        out[name.upper()] = view(lib.ard_batch_column(mapping.h, ctypes.byref(b), i), shape, typestr)
    return out


def _torch_tensors(batch):
    """Torch tensors sharing the memory of a dict of views (once per slot). Text catalog columns
    ('S' arrays) have no torch dtype and stay numpy views; bfloat16 TOKENS (uint16 bits in numpy)
    become torch.bfloat16."""
    import torch

    out = Batch({k: torch.from_numpy(v.view(np.int16) if v.dtype == np.uint16 else v)
                 if v.dtype.kind != "S" else v for k, v in batch.items()})
    if batch["TOKENS"].dtype == np.uint16:
        out["TOKENS"] = out["TOKENS"].view(torch.bfloat16)
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
        if self._held is not None and self._held.slot >= 0 and self._m is not None:
            err = ErrorStruct()
            lib.ard_store_release(self._m.h, ctypes.byref(self._held), ctypes.byref(err))
        self._held = None

    def iter_torch_batches(self, **kw):
        """Like iter_batches with torch tensors sharing the memory, made once per slot like the
        views; a bf16 stream's TOKENS are torch.bfloat16 (a float16 stream's torch.float16)."""
        yield from self.iter_batches(_convert=_torch_tensors, **kw)

    def iter_batches(self, timeout_ms=-1, with_meta=False, _convert=None):
        """Yields dicts of numpy views; the previous batch is released when the next is asked for.
        TOKENS are float32, or what the server stored: float16 (`--wire f16`), or the uint16 bits of
        bfloat16 (`--wire bf16`: use iter_torch_batches for torch.bfloat16).
        A slot's arrays never move, so the views of a full batch are built once per slot and
        reused (each batch is a fresh dict of the same view objects), and each batch costs one
        call into libard (ard_store_next). _convert (internal): maps a new dict of views once
        per slot (iter_torch_batches makes the tensors there)."""
        err = ErrorStruct()
        b = BatchStruct()
        b.slot = -1
        self._held = b
        step, pb, perr = lib.ard_store_next, ctypes.byref(b), ctypes.byref(err)
        cache = self._slot_views = {}
        try:
            while self._m is not None:
                st = step(self._m.h, timeout_ms, pb, perr)
                if st == STATUS_EEOF:
                    return
                check(st, err)
                full = b.count == b.batch_size
                d = cache.get(b.slot) if full else None
                if d is None:  # first use of the slot, or a short batch (not kept)
                    d = _views(b, self._m, self.columns)
                    if _convert is not None:
                        d = _convert(d)
                    if full:
                        cache[b.slot] = d
                d = Batch(d)
                if with_meta:
                    d["epoch"] = b.epoch
                    d["seq"] = b.seq
                yield d
        finally:
            self._release()
            self._slot_views = {}

    @property
    def skipped(self):
        """Row groups left out under on_error="skip", as dicts {path, row_group, status, error,
        batches}: live while the stream runs, kept after close. Empty for a connected stream
        (its server reports them)."""
        loader = self._m.loader if self._m is not None else None
        if loader is None or not loader.h:
            return list(getattr(self, "_skipped", []))
        out = []
        err = ErrorStruct()
        path, msg = ctypes.create_string_buffer(4096), ctypes.create_string_buffer(512)
        rg, status, times = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int64()
        for i in range(lib.ard_loader_num_skipped(loader.h)):
            check(lib.ard_loader_skipped(loader.h, i, path, len(path), ctypes.byref(rg),
                                         ctypes.byref(status), msg, len(msg), ctypes.byref(times),
                                         ctypes.byref(err)), err)
            out.append({"path": path.value.decode(errors="replace"), "row_group": rg.value,
                        "status": lib.ard_status_name(status.value).decode(),
                        "error": msg.value.decode(errors="replace"), "batches": times.value})
        return out

    def close(self):
        """Releases the held batch; the mapping goes when the last view is gone."""
        self._release()
        self._slot_views = {}  # the cached views hold the mapping
        if self._m is not None:
            self._skipped = self.skipped
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
    """A dataset directory (tiles under DATASET/tiles/, its index DATASET/ard.db or the PostgreSQL
    database named by dsn), or an explicit read plan for streaming:
    Dataset(items=[(path, row_group, first_row, num_rows), ...]) (num_rows -1 = rest of group)."""

    def __init__(self, path=None, items=None, dsn=None):
        self.path = path
        self.dsn = dsn  # index database (default DATASET/ard.db; or a PostgreSQL DSN)
        self.items = list(items) if items is not None else None
        self._where = None

    def _need_path(self, what):
        if self.path is None and what != "query":
            raise ValueError(f"{what}() needs a dataset directory: Dataset(path, ...)")
        if self.path is None and self.dsn is None:
            raise ValueError(f"{what}() needs a dataset directory or dsn=")

    # ---- stages --------------------------------------------------------------------------------

    def sync(self, threads=0, verify_footers=False, skip_catalog=False, rank=0, size=1,
             files_per_txn=0, datasheet=True):
        """The sync stage (ard_datasheet_sync, as `ard sync`): brings the index in line with the
        tiles and the catalog, then rewrites DATASET/DATA_README.md when the index changed or the
        datasheet is missing (datasheet=False: never; not on one rank of several, size > 1).
        Returns the report as a dict (run_id, files_seen/added/changed/unchanged/removed/failed,
        spectra_rows, galaxy_rows, data_reads, footer_reads, seconds, first_error, datasheet: the
        path written or None). A corrupt file is skipped and counted in files_failed, not raised."""
        self._need_path("sync")
        return _index.sync(self.path, self.dsn, threads, verify_footers, skip_catalog, rank, size,
                           files_per_txn, datasheet)

    def query(self, where=None, columns=None, limit=0, targetids=None):
        """Typed numpy columns of the catalog (the index's galaxies table) through the index's
        typed reads (ard_index_read_columns): the galaxies matching the SQL predicate `where`
        (None: every galaxy; limit > 0: the first `limit`) in ascending TARGETID order, or, with
        targetids=[...], one row per given TARGETID in that order (an unknown one gives a row of
        NULLs). Returns a dict of upper-case column name -> numpy array, TARGETID (int64) first.
        columns: catalog column names, case-insensitive (None: all of them). Types follow the
        catalog schema on both backends: TARGETID, ZWARN, HEALPIX, DESI_TARGET, BGS_TARGET,
        COADD_FIBERSTATUS int64; SPECTYPE, SUBTYPE, SURVEY, PROGRAM, TARGET_CLASS str; the rest
        float64, bit-exact. A column holding any SQL NULL is a numpy.ma.MaskedArray whose mask
        marks the NULLs (0 / NaN / "" underneath). Raises EINVAL (unknown column: the message
        names it; malformed predicate), EPERM (';' or a predicate that would do more than read),
        EDB (SQL error: the backend's text), ENOENT (no index: run sync()).

        The result also behaves as the narrowed Dataset of earlier versions (iter_batches etc. on it
        stream the selected spectra) with a DeprecationWarning: use Dataset.where() for that."""
        self._need_path("query")
        if where is not None and targetids is not None:
            raise ValueError("query(): give either where or targetids, not both")
        where = where if where is not None or targetids is not None else self._where
        out = _index.query(self.path, self.dsn, where, columns, limit, targetids)
        return _QueryResult(out, self, where)

    def where(self, predicate):
        """This dataset narrowed to the spectra whose catalog rows match a SQL predicate
        ("Z > 2.5 AND SPECTYPE = 'QSO'"), run read-only by the index: iter_batches() streams them,
        fetch() reads them."""
        if self.items is not None:
            raise ValueError("where() applies to a dataset directory, not to explicit items")
        ds = Dataset(self.path, dsn=self.dsn)
        ds._where = predicate
        return ds

    def fetch(self, where=None, targetids=None, columns=None, threads=0, limit=0):
        """The spectra selected by a SQL predicate (or by this dataset's where()), or by a list of
        TARGETIDs, read straight from the tiles (ard_index_query + ard_fetch_*). Returns a dict:
        TARGETID int64 [n] and, per column, a [n, width] array: FLUX, IVAR float32 (NaN where
        the tile has a null pixel) and MASK uint8. columns: tile list columns to read (default
        FLUX, IVAR and MASK when the tiles have MASK). Rows come in plan order (file, row group,
        row): align with TARGETID. Unknown TARGETIDs are skipped; where=None and no targetids:
        every spectrum. limit > 0 caps the spectra (predicate only)."""
        self._need_path("fetch")
        if where is not None and targetids is not None:
            raise ValueError("fetch(): give either where or targetids, not both")
        if where is None and targetids is None:
            where = self._where
        return _index.fetch(self.path, self.dsn, where, targetids, columns, threads, limit)

    def fof(self, where=None, run_id=None, mode=None, write_results=True, no_index=False,
            min_size=5, progress=None, **params):
        """The friends-of-friends stage (ard_fof_stage_run, as `ard fof`): loads TARGETID, RA, Dec,
        Z of the galaxies with Z > 0 (from the index, `where` ANDed; or from the catalog files
        when there is no index or no_index=True), links them, scores the groups against the
        generator's truth when the dataset has one, and records the run through the result runs
        (results/fof-RUN-*.parquet + the index's galaxy_groups / groups / fof_runs, all or
        nothing; write_results=False writes nothing). mode: "redshift" (default) or "isotropic";
        params: ard_fof_params fields (b, b_perp, b_par, link_mpc, max_perp_mpc, max_par_mpc, h,
        omega_m, area_deg2, nz_bin_mpc, threads). progress(phase, fraction) is called on this
        thread. Returns the report as a dict (run_id, galaxies, skipped, groups, grouped, largest,
        groups_ge5, link_mpc, par_mpc, area_deg2, score {completeness, purity, ...}, params_json,
        seconds_*) plus labels: {"TARGETID": int64[n], "GROUP_ID": int64[n]} (0 = no group).
        Raises EEXIST for a run id already used, EINVAL for bad parameters, EPERM/EDB for the
        predicate."""
        self._need_path("fof")
        where = where if where is not None else self._where
        return _index.fof(self.path, self.dsn, where, run_id, write_results, no_index, min_size,
                          mode, params, progress)

    def results(self, stage=None):
        """The recorded runs of a science stage ("fof", ...), oldest first, from the index's
        <stage>_runs table (ard_result_runs): a dict of upper-case column -> numpy str array
        (RUN_ID, STAGE, STARTED, FINISHED, ARD_VERSION, INPUTS_HASH, PARAMS, TABLES, SUMMARY;
        PARAMS / TABLES / SUMMARY are JSON texts; masked where a run recorded none). Each run's
        tables are results/<stage>-<run_id>-<table>.parquet. stage=None: the list of stages that
        have runs. Raises ENOENT for a stage without runs, EINVAL for a malformed stage name."""
        self._need_path("results")
        return _index.results(self.path, self.dsn, stage)

    # ---- streaming -----------------------------------------------------------------------------

    def _options(self, batch_size, prefetch_batches, local_shuffle_buffer_size, seed, drop_last,
                 shuffle, epochs, threads, patch, norm, memory, cache, rank, world, name,
                 columns=None, text_width=16, weights=False, frame="observed", rest_z=(0.0, 1.6),
                 on_error="fail"):
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
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {sorted(ON_ERROR)}")
        o.on_error = ON_ERROR[on_error]
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
                    rest_z=(0.0, 1.6), on_error="fail"):
        """Starts producer threads in this process and returns the consuming Stream.

        weights: True adds batch["WEIGHTS"], float32 [count, num_patches, patch] beside the tokens:
        IVAR x scale^2 per pixel, 0 where masked/null (an IVAR-weighted loss in token units).
        frame: "rest" places every spectrum on the rest-frame log-lambda grid for z in rest_z by
        its catalog Z (added as batch["Z"]); batch["wave"] is then rest-frame (see stream.h).

        columns: catalog columns of the index's galaxies table added to every batch (["Z",
        "SPECTYPE"]), keyed by their upper-case names: real ones as float64 arrays (NaN when the
        spectrum has no catalog row or the value is NULL), integer ones int64 (0), text ones numpy
        bytes arrays of dtype 'S<text_width>' (b"" when missing; decode with .astype(str)).
        Unknown names raise Error (ARD_EINVAL) naming the column.

        on_error: "fail" (default) ends the stream with Error at a row group that cannot be read
        (truncated, corrupt); "skip" leaves it out (batches come out shorter), goes on, and lists
        it in stream.skipped (and, after iter_batches, in this Dataset's .skipped)."""
        o = self._options(batch_size, prefetch_batches, local_shuffle_buffer_size, seed,
                          drop_last, shuffle, epochs, threads, patch, norm, memory, cache, rank,
                          world, name, columns, text_width, weights, frame, rest_z, on_error)
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
        elif self._where is not None:
            self._need_path("iter_batches")
            st = lib.ard_loader_new_query(ctypes.byref(o), str(self.path).encode(),
                                          self.dsn.encode() if self.dsn else None,
                                          self._where.encode(), ctypes.byref(h), ctypes.byref(err))
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
                     local_shuffle_seed=None, seed=None, drop_last=False, _convert=None, **kw):
        """Yields dicts of numpy arrays that are views on the shared-memory batch (zero copy)."""
        stream = self.open_stream(batch_size=batch_size, prefetch_batches=prefetch_batches,
                                  local_shuffle_buffer_size=local_shuffle_buffer_size,
                                  seed=seed if seed is not None else local_shuffle_seed,
                                  drop_last=drop_last, **kw)
        self.skipped = []
        try:
            yield from stream.iter_batches(_convert=_convert)
        finally:
            stream.close()
            self.skipped = stream.skipped  # row groups left out under on_error="skip"

    def iter_torch_batches(self, dtypes=None, device="cpu", **kw):
        """Like iter_batches with torch tensors (torch.from_numpy: shares the memory)."""
        for out in self.iter_batches(_convert=_torch_tensors, **kw):
            if device not in (None, "cpu", "auto"):
                out = Batch({k: v.to(device) if not isinstance(v, np.ndarray) else v
                             for k, v in out.items()})
            yield out


class _QueryResult(dict):
    """The columns of Dataset.query(); iter_batches/iter_torch_batches/open_stream/fetch on it act
    on Dataset.where(the predicate), as query() returned before it returned columns (deprecated)."""

    def __init__(self, columns, dataset, where):
        super().__init__(columns)
        self._dataset = dataset
        self._predicate = where

    def _narrowed(self, what):
        warnings.warn(f"Dataset.query(where).{what}() is deprecated: use "
                      f"Dataset.where(where).{what}()", DeprecationWarning, stacklevel=3)
        return self._dataset.where(self._predicate)

    def iter_batches(self, *args, **kwargs):
        return self._narrowed("iter_batches").iter_batches(*args, **kwargs)

    def iter_torch_batches(self, *args, **kwargs):
        return self._narrowed("iter_torch_batches").iter_torch_batches(*args, **kwargs)

    def open_stream(self, *args, **kwargs):
        return self._narrowed("open_stream").open_stream(*args, **kwargs)


from . import anomaly  # noqa: E402  (Dataset.anomaly_train / anomaly_score, load_safetensors)
from .anomaly import load_safetensors  # noqa: E402

anomaly.install(Dataset)
from . import cosmicweb  # noqa: E402  (Dataset.cosmicweb_train / cosmicweb_predict)

cosmicweb.install(Dataset)
from .stages import fetch_run, parquet_rewrite, stream_serve  # noqa: E402,F401
from .survey import generate, ingest_desi  # noqa: E402,F401
__all__ += ["load_safetensors", "generate", "ingest_desi"]
