"""Three library stages as Python calls, each one C call with its options struct and report (the
same calls as `ard fetch`, `ard parquet convert` and `ard stream serve`):

    rep = ard.fetch_run("/data/DESI-ARD", "qso.npy", where="spectype = 'QSO'")
    rep = ard.parquet_rewrite("in.parquet", "out.parquet", codec="zstd")
    rep = ard.stream_serve("/data/DESI-ARD", "train", batch_size=256)   # blocks until consumed

Each returns the C report as a dict; a failure raises the status's exception class (ard.EINVAL,
ard.ENOENT, ...). The struct layouts are checked against the library at import (ard_abi_*)."""
import ctypes
import threading

from ._lib import ErrorStruct, LoaderOptions, check, lib

c_i32, c_i64, c_f64 = ctypes.c_int32, ctypes.c_int64, ctypes.c_double
_vp, _cp = ctypes.c_void_p, ctypes.c_char_p


# ---- fetch (include/ard/index.h) ------------------------------------------------------------------

class QueryOptions(ctypes.Structure):
    _ard_name_ = "ard_query_options"
    _fields_ = [("dataset", _cp), ("dsn", _cp), ("where", _cp),
                ("targetids", ctypes.POINTER(c_i64)), ("num_targetids", c_i64),
                ("targetids_file", _cp), ("limit", c_i64)]


class QueryReport(ctypes.Structure):
    _ard_name_ = "ard_query_report"
    _fields_ = [("spectra", c_i64), ("row_groups", c_i64), ("files", c_i32), ("seconds", c_f64)]


class FetchOptions(ctypes.Structure):
    _ard_name_ = "ard_fetch_options"
    _fields_ = [("query", QueryOptions), ("out_path", _cp), ("columns", ctypes.POINTER(_cp)),
                ("num_columns", c_i32), ("threads", c_i32), ("format", c_i32),
                ("source", _vp)]  # const ard_fetch_source *: NULL (the stage reads the plan)


class FetchReport(ctypes.Structure):
    _ard_name_ = "ard_fetch_report"
    _fields_ = [("query", QueryReport), ("rows", c_i64), ("seconds", c_f64)]


# ---- parquet rewrite (include/ard/parquet_write.h) ------------------------------------------------

class WriterOptions(ctypes.Structure):
    _ard_name_ = "ard_pq_writer_options"
    _fields_ = [("codec", ctypes.c_int), ("compression_level", c_i32), ("page_version", c_i32),
                ("target_row_group_bytes", c_i64), ("page_size_bytes", c_i64),
                ("rows_per_row_group", c_i64), ("byte_stream_split", c_i32),
                ("disable_dictionary", c_i32), ("max_dictionary_bytes", c_i64),
                ("disable_page_index", c_i32), ("disable_crc", c_i32),
                ("disable_statistics", c_i32), ("num_kv", c_i32), ("kv_keys", ctypes.POINTER(_cp)),
                ("kv_values", ctypes.POINTER(_cp)), ("defer_sync", c_i32), ("buffers", _vp),
                ("direct_io", c_i32), ("commit_batch", _vp)]


NOTICE_FN = ctypes.CFUNCTYPE(None, _vp, _cp)
REWRITE_PROGRESS_FN = ctypes.CFUNCTYPE(None, _vp, c_i64, c_i64)


class RewriteOptions(ctypes.Structure):
    _ard_name_ = "ard_parquet_rewrite_options"
    _fields_ = [("writer", WriterOptions), ("on_notice", NOTICE_FN), ("notice_ctx", _vp),
                ("on_progress", REWRITE_PROGRESS_FN), ("progress_ctx", _vp)]


class RewriteReport(ctypes.Structure):
    _ard_name_ = "ard_parquet_rewrite_report"
    _fields_ = [("rows", c_i64), ("columns", c_i32), ("row_groups_in", c_i32),
                ("logical_types_dropped", c_i32)]


# ---- stream serve (include/ard/stream.h) ----------------------------------------------------------

class ServeReport(ctypes.Structure):
    _ard_name_ = "ard_stream_serve_report"
    _fields_ = [("rows_per_epoch", c_i64), ("batches_per_epoch", c_i64), ("skipped", c_i64),
                ("interrupted", c_i32)]


SERVE_STARTED_FN = ctypes.CFUNCTYPE(None, _vp, ctypes.POINTER(ServeReport))
SERVE_FINISHED_FN = ctypes.CFUNCTYPE(None, _vp, _vp)


class ServeOptions(ctypes.Structure):
    _ard_name_ = "ard_stream_serve_options"
    _fields_ = [("loader", LoaderOptions), ("dataset", _cp), ("where", _cp), ("dsn", _cp),
                ("plan_path", _cp), ("plan", _vp), ("stop", ctypes.POINTER(c_i32)),
                ("poll_ms", c_i32), ("on_started", SERVE_STARTED_FN),
                ("on_finished", SERVE_FINISHED_FN), ("ctx", _vp)]


_err = ctypes.POINTER(ErrorStruct)
_p = ctypes.POINTER
for _name, _res, _args in [
        ("ard_fetch_options_init", None, [_p(FetchOptions)]),
        ("ard_fetch_run", ctypes.c_int, [_p(FetchOptions), _p(FetchReport), _err]),
        ("ard_parquet_rewrite_options_init", None, [_p(RewriteOptions)]),
        ("ard_parquet_rewrite", ctypes.c_int, [_cp, _cp, _p(RewriteOptions), _p(RewriteReport),
                                               _err]),
        ("ard_stream_serve_options_init", None, [_p(ServeOptions)]),
        ("ard_stream_serve", ctypes.c_int, [_p(ServeOptions), _p(ServeReport), _err])]:
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

if hasattr(lib, "ard_abi_struct_size"):  # the layouts above, checked against the library
    from ._lib import check_abi
    check_abi(lib, [QueryOptions, QueryReport, FetchOptions, FetchReport, WriterOptions,
                    RewriteOptions, RewriteReport, ServeReport, ServeOptions])

FETCH_FORMATS = {"auto": 0, "parquet": 1, "npy": 2}
# ard_pq_codec values (include/ard/parquet.h)
CODECS = {"uncompressed": 0, "snappy": 1, "gzip": 2, "brotli": 4, "zstd": 6, "lz4_raw": 7}


def _enc(s):
    return s.encode() if isinstance(s, str) else s


def _as_dict(report):
    out = {}
    for name, _ in report._fields_:
        v = getattr(report, name)
        out[name] = _as_dict(v) if isinstance(v, ctypes.Structure) else v
    return out


def fetch_run(dataset, out_path, where=None, targetids=None, dsn=None, columns=None, threads=0,
              fmt="auto", limit=0):
    """The fetch stage (ard_fetch_run): plans the spectra `where` (or the TARGETIDs) selects through
    the index and writes them to out_path (".parquet" or ".npy"; fmt forces one). Returns the report
    {"query": {"spectra", "row_groups", "files", "seconds"}, "rows", "seconds"}."""
    o = FetchOptions()
    lib.ard_fetch_options_init(ctypes.byref(o))
    keep = []
    o.query.dataset = _enc(dataset)
    o.query.dsn = _enc(dsn)
    o.query.where = _enc(where)
    o.query.limit = int(limit)
    if targetids is not None:
        ids = (c_i64 * len(targetids))(*[int(t) for t in targetids])
        keep.append(ids)
        o.query.targetids = ids
        o.query.num_targetids = len(targetids)
    if columns:
        cols = (_cp * len(columns))(*[_enc(c) for c in columns])
        keep.append(cols)
        o.columns = cols
        o.num_columns = len(columns)
    o.out_path = _enc(out_path)
    o.threads = int(threads)
    if fmt not in FETCH_FORMATS:
        raise ValueError(f"fmt: one of {sorted(FETCH_FORMATS)}, not {fmt!r}")
    o.format = FETCH_FORMATS[fmt]
    rep, err = FetchReport(), ErrorStruct()
    check(lib.ard_fetch_run(ctypes.byref(o), ctypes.byref(rep), ctypes.byref(err)), err)
    return _as_dict(rep)


def parquet_rewrite(in_path, out_path, codec="snappy", rows_per_row_group=0, on_notice=None):
    """The rewrite stage (ard_parquet_rewrite, `ard parquet convert`): in_path rewritten as out_path
    in ard's layout with `codec`; on_notice(message) receives what is worth telling (e.g. a logical
    type not carried over). Returns {"rows", "columns", "row_groups_in", "logical_types_dropped"}."""
    if codec not in CODECS:
        raise ValueError(f"codec: one of {sorted(CODECS)}, not {codec!r}")
    o = RewriteOptions()
    lib.ard_parquet_rewrite_options_init(ctypes.byref(o))
    o.writer.codec = CODECS[codec]
    o.writer.rows_per_row_group = int(rows_per_row_group)
    if on_notice is not None:
        notice = NOTICE_FN(lambda ctx, msg: on_notice(msg.decode(errors="replace")))
        o.on_notice = notice
    rep, err = RewriteReport(), ErrorStruct()
    check(lib.ard_parquet_rewrite(_enc(in_path), _enc(out_path), ctypes.byref(o),
                                  ctypes.byref(rep), ctypes.byref(err)), err)
    return _as_dict(rep)


def stream_serve(dataset, name, where=None, dsn=None, plan_path=None, batch_size=256, epochs=1,
                 threads=2, prefetch=10, shuffle=False, seed=0, patch=None, weights=False,
                 stop=None, on_started=None):
    """The serve stage (ard_stream_serve, `ard stream serve`): produces tokenized batches of the
    dataset (or the spectra `where` selects, or a plan file) into the shared-memory store `name`
    and blocks until consumers in other threads or processes (ard.connect_stream(name)) consumed
    every batch. stop: a threading.Event that ends the serve early (consumers then see ARD_EIO).
    on_started(report) is called once the store exists. Returns {"rows_per_epoch",
    "batches_per_epoch", "skipped", "interrupted"}."""
    o = ServeOptions()
    lib.ard_stream_serve_options_init(ctypes.byref(o))
    lo = o.loader
    lo.store_name = _enc(name)
    lo.batch_size, lo.epochs, lo.threads = int(batch_size), int(epochs), int(threads)
    lo.prefetch_batches, lo.shuffle, lo.seed = int(prefetch), int(bool(shuffle)), int(seed)
    lo.weights = int(bool(weights))
    if patch is not None:
        lo.tokenize.patch, lo.tokenize.min_valid = int(patch), int(patch) // 4
    o.dataset, o.where, o.dsn, o.plan_path = _enc(dataset), _enc(where), _enc(dsn), _enc(plan_path)
    flag = c_i32(0)
    o.stop = ctypes.pointer(flag)
    started = None
    if on_started is not None:
        started = SERVE_STARTED_FN(lambda ctx, r: on_started(_as_dict(r.contents)))
        o.on_started = started
    watcher = None
    if stop is not None:  # the C side polls the flag; a thread turns the Event into it
        def watch():
            stop.wait()
            flag.value = 1
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    rep, err = ServeReport(), ErrorStruct()
    check(lib.ard_stream_serve(ctypes.byref(o), ctypes.byref(rep), ctypes.byref(err)), err)
    return _as_dict(rep)
