"""Dataset.sync / query / fetch over libard's index and fetch calls (include/ard/index.h)."""
import ctypes

import numpy as np

from ._lib import (FETCH_U8, FOF_PROGRESS_FN, INDEX_DOUBLE, INDEX_INT64, INDEX_READ_ONLY,
                   STATUS_EEOF, DatasheetSyncOptions, DatasheetSyncReport, ErrorStruct, FetchBatch,
                   FofScore, FofStageOptions, FofStageReport, SyncReport, check, error_for, lib)

class _Index:
    """An open ard_index handle (closed on exit)."""

    def __init__(self, path, dsn, flags):
        self.h = ctypes.c_void_p()
        err = ErrorStruct()
        check(lib.ard_index_open(str(path).encode() if path is not None else None,
                                 dsn.encode() if dsn else None, flags, ctypes.byref(self.h),
                                 ctypes.byref(err)), err)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        lib.ard_index_close(self.h)
        self.h = None


class _Plan:
    def __init__(self):
        self.h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        lib.ard_plan_free(self.h)
        self.h = None


def sync(path, dsn, threads, verify_footers, skip_catalog, rank, size, files_per_txn, datasheet):
    opts = DatasheetSyncOptions()
    lib.ard_datasheet_sync_options_init(ctypes.byref(opts))
    opts.sync.threads, opts.sync.rank, opts.sync.size = int(threads), int(rank), int(size)
    opts.sync.verify_footers = 1 if verify_footers else 0
    opts.sync.skip_catalog = 1 if skip_catalog else 0
    opts.sync.files_per_txn = int(files_per_txn)
    opts.sync.quiet = 1
    opts.no_datasheet = 0 if datasheet else 1
    rep = DatasheetSyncReport()
    err = ErrorStruct()
    with _Index(path, dsn, 0) as idx:
        check(lib.ard_datasheet_sync(idx.h, str(path).encode(), ctypes.byref(opts),
                                     ctypes.byref(rep), ctypes.byref(err)), err)
    out = {name: getattr(rep.sync, name) for name, _ in SyncReport._fields_}
    out["first_error"] = rep.sync.first_error.decode(errors="replace")
    out["datasheet"] = rep.datasheet_path.decode() if rep.datasheet_written else None
    return out


# The catalog columns of the index's galaxies table (include/ard/index.h, ard_index_read_columns):
# what query(columns=None) returns.
CATALOG_COLUMNS = ["targetid", "target_ra", "target_dec", "z", "zerr", "zwarn", "deltachi2",
                   "spectype", "subtype", "healpix", "survey", "program", "desi_target",
                   "bgs_target", "flux_g", "flux_r", "flux_z", "ebv", "coadd_fiberstatus",
                   "target_class"]


class _ColumnSet:
    def __init__(self):
        self.h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        lib.ard_column_set_free(self.h)
        self.h = None


def _numpy_column(col, n):
    """One ard_index_column of n rows as a numpy array (copied; the set is freed afterwards):
    int64 / float64 / str, a numpy.ma.MaskedArray when any cell is SQL NULL."""
    if n == 0:
        arr = {INDEX_INT64: np.zeros(0, np.int64), INDEX_DOUBLE: np.zeros(0, np.float64)}.get(
            col.type, np.zeros(0, "<U1"))
        return arr
    valid = np.unpackbits(np.ctypeslib.as_array(col.validity, ((n + 7) // 8,)),
                          bitorder="little")[:n].astype(bool)
    if col.type == INDEX_INT64:
        arr = np.ctypeslib.as_array(ctypes.cast(col.values, ctypes.POINTER(ctypes.c_int64)),
                                    (n,)).copy()
    elif col.type == INDEX_DOUBLE:
        arr = np.ctypeslib.as_array(ctypes.cast(col.values, ctypes.POINTER(ctypes.c_double)),
                                    (n,)).copy()
    else:
        cells = ctypes.cast(col.values, ctypes.POINTER(ctypes.c_char_p))
        arr = np.array([(cells[i] or b"").decode() for i in range(n)], dtype=str)
    return arr if valid.all() else np.ma.MaskedArray(arr, mask=~valid)


def _set_to_dict(cs):
    n = lib.ard_column_set_num_rows(cs.h)
    out = {}
    for c in range(lib.ard_column_set_num_columns(cs.h)):
        col = lib.ard_column_set_column(cs.h, c).contents
        out[col.name.decode().upper()] = _numpy_column(col, n)
    return out


def query(path, dsn, where, columns, limit, targetids=None):
    if isinstance(columns, str):
        columns = [columns]
    names = ["targetid"]
    for c in CATALOG_COLUMNS if columns is None else columns:
        if not isinstance(c, str):
            raise error_for(1, f"query: column {c!r} is not a name")
        if c.lower() not in names:
            names.append(c.lower())
    keep = [c.encode() for c in names]
    arr = (ctypes.c_char_p * len(keep))(*keep)
    err = ErrorStruct()
    with _Index(path, dsn, INDEX_READ_ONLY) as idx, _ColumnSet() as cs:
        if targetids is not None:
            ids = np.ascontiguousarray(np.asarray(targetids, dtype=np.int64).ravel())
            ptr = ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))
            st = lib.ard_index_read_targetids(idx.h, arr, len(keep), ptr, len(ids),
                                              ctypes.byref(cs.h), ctypes.byref(err))
        else:
            st = lib.ard_index_read_columns(idx.h, arr, len(keep),
                                            where.encode() if where else None, int(limit or 0),
                                            ctypes.byref(cs.h), ctypes.byref(err))
        check(st, err)
        return _set_to_dict(cs)


def results(path, dsn, stage):
    err = ErrorStruct()
    with _Index(path, dsn, INDEX_READ_ONLY) as idx, _ColumnSet() as cs:
        if stage is None:
            check(lib.ard_result_stages(idx.h, ctypes.byref(cs.h), ctypes.byref(err)), err)
            # the set's one text column (index.h names it "stage"; the library reports the
            # SELECT's own column name, so take it by position)
            return [str(s) for s in next(iter(_set_to_dict(cs).values()), [])]
        check(lib.ard_result_runs(idx.h, stage.encode(), ctypes.byref(cs.h), ctypes.byref(err)),
              err)
        return _set_to_dict(cs)


def _has_leaf(path, leaf):
    err = ErrorStruct()
    f = ctypes.c_void_p()
    check(lib.ard_parquet_open(path.encode(), None, ctypes.byref(f), ctypes.byref(err)), err)
    try:
        return lib.ard_parquet_find_leaf(f, leaf.encode()) >= 0
    finally:
        lib.ard_parquet_close(f)


def _plan(idx, where, targetids, limit):
    plan = _Plan()
    err = ErrorStruct()
    if targetids is not None:
        ids = np.ascontiguousarray(np.asarray(targetids, dtype=np.int64).ravel())
        ptr = ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))
        st = lib.ard_index_query_targetids(idx.h, ptr, len(ids), ctypes.byref(plan.h),
                                           ctypes.byref(err))
    else:
        st = lib.ard_index_query(idx.h, where.encode() if where else None, int(limit or 0),
                                 ctypes.byref(plan.h), ctypes.byref(err))
    check(st, err)
    return plan


def _read_all(path, plan, columns, threads):
    keep = [c.encode() for c in columns]
    arr = (ctypes.c_char_p * len(keep))(*keep)
    err = ErrorStruct()
    f = ctypes.c_void_p()
    check(lib.ard_fetch_open(str(path).encode(), plan, arr, len(keep), int(threads),
                             ctypes.byref(f), ctypes.byref(err)), err)
    ids, parts = [], {c: [] for c in columns}
    try:
        while True:
            b = ctypes.POINTER(FetchBatch)()
            st = lib.ard_fetch_next(f, ctypes.byref(b), ctypes.byref(err))
            if st == STATUS_EEOF:
                break
            check(st, err)
            b = b.contents
            n = b.rows
            ids.append(np.ctypeslib.as_array(b.targetids, (n,)).copy() if n else
                       np.zeros(0, np.int64))
            for c in range(b.num_columns):
                m = b.columns[c]
                w = m.width
                name = columns[c]
                if n == 0 or w == 0:
                    dtype = np.uint8 if b.column_types[c] == FETCH_U8 else np.float32
                    parts[name].append(np.zeros((n, w), dtype))
                elif b.column_types[c] == FETCH_U8:
                    parts[name].append(np.ctypeslib.as_array(b.u8_values[c], (n, w)).copy())
                else:
                    parts[name].append(np.ctypeslib.as_array(m.values, (n, w)).copy())
    finally:
        lib.ard_fetch_close(f)
    out = {"TARGETID": np.concatenate(ids) if ids else np.zeros(0, np.int64)}
    for c in columns:
        widths = {p.shape[1] for p in parts[c]}
        if len(widths) > 1:
            raise error_for(1, f"fetch: column {c} has different widths in different tiles "
                               f"({sorted(widths)}); fetch one grid at a time")
        out[c.upper()] = (np.concatenate(parts[c]) if parts[c] else np.zeros((0, 0), np.float32))
    return out


def fetch(path, dsn, where, targetids, columns, threads, limit):
    if isinstance(columns, str):
        columns = [columns]
    with _Index(path, dsn, INDEX_READ_ONLY) as idx, _plan(idx, where, targetids, limit) as plan:
        if columns is None:
            columns = ["FLUX", "IVAR"]
            if lib.ard_plan_num_files(plan.h) > 0:
                first = f"{path}/{lib.ard_plan_file(plan.h, 0).decode()}"
                if _has_leaf(first, "MASK.list.element"):
                    columns.append("MASK")
        return _read_all(path, plan.h, list(columns), threads)


_FOF_MODES = {"isotropic": 0, "redshift": 1}
_FOF_PARAMS = {"link_mpc", "b", "b_perp", "b_par", "max_perp_mpc", "max_par_mpc", "h", "omega_m",
               "area_deg2", "nz_bin_mpc", "threads"}


def fof(path, dsn, where, run_id, write_results, no_index, min_size, mode, params, progress):
    o = FofStageOptions()
    lib.ard_fof_stage_options_init(ctypes.byref(o))
    keep = [str(path).encode(), dsn.encode() if dsn else None, where.encode() if where else None,
            run_id.encode() if run_id else None]
    o.dataset, o.dsn, o.where, o.run_id = keep
    o.no_index = 1 if no_index else 0
    o.write_results = 1 if write_results else 0
    o.min_size = int(min_size)
    if mode is not None:
        if mode not in _FOF_MODES:
            raise error_for(1, f"fof: mode must be one of {sorted(_FOF_MODES)}")
        o.params.mode = _FOF_MODES[mode]
    for name, value in params.items():
        if name not in _FOF_PARAMS:
            raise error_for(1, f"fof: unknown parameter {name!r} (one of {sorted(_FOF_PARAMS)})")
        setattr(o.params, name, value)
    failure = []
    if progress is not None:
        def on_progress(_ctx, phase, fraction):
            try:
                progress(phase.decode(), fraction)
            except BaseException as e:  # an exception must not cross the C frame
                failure.append(e)

        callback = FOF_PROGRESS_FN(on_progress)
        o.progress = callback
    rep = FofStageReport()
    res = ctypes.c_void_p()
    ids = ctypes.POINTER(ctypes.c_int64)()
    err = ErrorStruct()
    check(lib.ard_fof_stage_run(ctypes.byref(o), ctypes.byref(rep), ctypes.byref(res),
                                ctypes.byref(ids), ctypes.byref(err)), err)
    try:
        n = lib.ard_fof_num_galaxies(res)
        group_id = (np.ctypeslib.as_array(lib.ard_fof_group_ids(res), (n,)).copy() if n
                    else np.zeros(0, np.int64))
        targetid = np.ctypeslib.as_array(ids, (n,)).copy() if n else np.zeros(0, np.int64)
    finally:
        lib.ard_fof_result_free(res)
        lib.ard_free(ctypes.cast(ids, ctypes.c_void_p))
    if failure:
        raise failure[0]
    out = {name: getattr(rep, name) for name, _ in FofStageReport._fields_}
    out["run_id"] = rep.run_id.decode()
    out["params_json"] = rep.params_json.decode()
    out["score"] = {name: getattr(rep.score, name) for name, _ in FofScore._fields_}
    out["mode"] = {v: k for k, v in _FOF_MODES.items()}.get(rep.mode, rep.mode)
    out["labels"] = {"TARGETID": targetid, "GROUP_ID": group_id}
    return out
