"""Dataset.sync / query / fetch over libard's index and fetch calls (include/ard/index.h)."""
import ctypes
import re

import numpy as np

from ._lib import (FETCH_U8, INDEX_READ_ONLY, ROW_FN, STATUS_EEOF, ErrorStruct, FetchBatch,
                   SyncOptions, SyncReport, check, error_for, lib)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


def sync(path, dsn, threads, verify_footers, skip_catalog, rank, size, files_per_txn):
    opts = SyncOptions(threads=int(threads), rank=int(rank), size=int(size),
                       verify_footers=1 if verify_footers else 0,
                       skip_catalog=1 if skip_catalog else 0, files_per_txn=int(files_per_txn),
                       quiet=1)
    rep = SyncReport()
    err = ErrorStruct()
    with _Index(path, dsn, 0) as idx:
        check(lib.ard_index_sync(idx.h, str(path).encode(), ctypes.byref(opts), ctypes.byref(rep),
                                 ctypes.byref(err)), err)
    out = {name: getattr(rep, name) for name, _ in SyncReport._fields_}
    out["first_error"] = rep.first_error.decode(errors="replace")
    return out


def _select(idx, sql):
    """Rows of a read-only SELECT as lists of str/None (ard_index_select), and the column names."""
    rows, names = [], []
    failure = []

    def on_row(_ctx, n, cnames, values):
        try:
            if not names:
                names.extend(cnames[i].decode() for i in range(n))
            rows.append([None if values[i] is None else values[i].decode() for i in range(n)])
            return 0
        except BaseException as e:  # an exception must not cross the C frame
            failure.append(e)
            return 1

    err = ErrorStruct()
    callback = ROW_FN(on_row)
    check(lib.ard_index_select(idx.h, sql.encode(), callback, None, ctypes.byref(err)), err)
    if failure:
        raise failure[0]
    return names, rows


def _type_expr(backend, col):
    # TODO(issue 12 item 2): replace by the index's typed column reads once libard has them; the
    # backend's own type function is the only exact way to learn a column's type over text rows.
    if backend == "sqlite":
        # a REAL's plain text has 15 digits; quote() is exact (falls back to 20 digits)
        return (f"typeof({col})",
                f"CASE WHEN typeof({col}) = 'real' THEN quote({col}) ELSE {col} END")
    return f"pg_typeof({col})::text", col


_INT_TYPES = {"integer", "bigint", "smallint", "int", "int8", "int4", "int2"}
_REAL_TYPES = {"real", "double precision", "numeric", "float8", "float4"}


def _column(values, kinds):
    kinds = {k for k in kinds if k not in (None, "null")}
    null = np.array([v is None for v in values], dtype=bool)
    if kinds and kinds <= _INT_TYPES:
        arr = np.array([0 if v is None else int(v) for v in values], dtype=np.int64)
    elif kinds and kinds <= (_INT_TYPES | _REAL_TYPES):
        arr = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    elif not kinds:  # every value NULL: no type to learn; float64 NaN
        arr = np.full(len(values), np.nan)
    else:
        arr = np.array(["" if v is None else v for v in values], dtype=str)
    if len(arr) == 0 and arr.dtype.kind == "U":
        arr = arr.astype("<U1")
    return np.ma.MaskedArray(arr, mask=null) if null.any() else arr


def query(path, dsn, where, columns, limit):
    if isinstance(columns, str):
        columns = [columns]
    with _Index(path, dsn, INDEX_READ_ONLY) as idx:
        backend = lib.ard_index_backend(idx.h).decode()
        if columns is None:
            names, _ = _select(idx, "SELECT * FROM galaxies LIMIT 1")
            columns = names or ["targetid"]
        names = []
        for c in columns:
            if not isinstance(c, str) or not _IDENT.match(c):
                raise error_for(1, f"query: column {c!r} is not an identifier")
            if c.lower() != "targetid" and c.lower() not in names:
                names.append(c.lower())
        names.insert(0, "targetid")
        exprs = []
        for c in names:
            exprs.extend(_type_expr(backend, c))
        sql = f"SELECT {', '.join(exprs)} FROM galaxies"
        if where:
            sql += f" WHERE ({where})"
        sql += " ORDER BY targetid"
        if limit and limit > 0:
            sql += f" LIMIT {int(limit)}"
        _, rows = _select(idx, sql)
    out = {}
    for k, c in enumerate(names):
        kinds = [r[2 * k] for r in rows]
        values = [r[2 * k + 1] for r in rows]
        out[c.upper()] = _column(values, kinds if rows else ["integer"] if c == "targetid" else [])
    if out["TARGETID"].dtype != np.int64:
        out["TARGETID"] = np.asarray(out["TARGETID"], dtype=np.int64)
    return out


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
