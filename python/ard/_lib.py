"""ctypes over libard.so: finding the library, declaring the functions and structs the binding uses,
checking them against the library at import, and the exception classes of the ard_status list.

The library is found, in order:
  1. $ARD_LIBRARY (a path to libard.so);
  2. libard.so* next to this file (copied into the package by hand);
  3. the CMake build recorded when the package was installed (ard/_build_path.txt, written by
     `pip install ./python` from $ARD_BUILD_DIR or from the checkout's build/release);
  4. the system's dynamic loader path (`cmake --install` puts libard.so in <prefix>/lib).

At import the binding refuses a library whose version differs from the package's, or whose struct
layouts (sizes, field offsets and sizes reported by ard_abi_*) differ from the ctypes declarations
below: AbiError (an ImportError) names every difference."""
import ctypes
import os

from ._version import __version__

c_i32, c_i64, c_u64, c_f32, c_f64 = (ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64,
                                     ctypes.c_float, ctypes.c_double)
c_char_p, vp = ctypes.c_char_p, ctypes.c_void_p
c_u8p = ctypes.POINTER(ctypes.c_uint8)
c_f32p = ctypes.POINTER(ctypes.c_float)
c_i64p = ctypes.POINTER(ctypes.c_int64)
c_i32p = ctypes.POINTER(ctypes.c_int32)


class AbiError(ImportError):
    """The libard.so found is not the one this package was written for (version, a missing function,
    or a struct layout that differs from the ctypes declaration)."""


# ---- structs: each names its C struct in _ard_name_; field names are the C field names ----------

class ErrorStruct(ctypes.Structure):
    _ard_name_ = "ard_error"
    _fields_ = [("code", ctypes.c_int), ("sys_errno", ctypes.c_int), ("msg", ctypes.c_char * 512)]


class TokenizeOptions(ctypes.Structure):
    _ard_name_ = "ard_tokenize_options"
    _fields_ = [("patch", c_i32), ("norm", c_i32), ("min_valid", c_i32), ("floor", c_f32)]


class LoaderOptions(ctypes.Structure):
    _ard_name_ = "ard_loader_options"
    _fields_ = [
        ("batch_size", c_i32), ("prefetch_batches", c_i32), ("shuffle", c_i32),
        ("local_shuffle_buffer", c_i64), ("seed", c_u64), ("epochs", c_i32), ("drop_last", c_i32),
        ("rank", c_i32), ("world", c_i32), ("threads", c_i32), ("memory_cap", c_i64),
        ("cache", c_i32), ("store_name", c_char_p), ("flux_column", c_char_p),
        ("ivar_column", c_char_p), ("id_column", c_char_p),
        ("tokenize", TokenizeOptions), ("columns", c_char_p), ("text_width", c_i32),
        ("index_dataset", c_char_p), ("index_dsn", c_char_p),
        ("weights", c_i32), ("frame", c_i32), ("rest_zmin", ctypes.c_double),
        ("rest_zmax", ctypes.c_double), ("on_error", c_i32),
    ]


class ReadItem(ctypes.Structure):
    _ard_name_ = "ard_read_item"
    _fields_ = [("path", c_char_p), ("row_group", c_i32), ("first_row", c_i64),
                ("num_rows", c_i64)]


class BatchStruct(ctypes.Structure):
    _ard_name_ = "ard_batch"
    _fields_ = [
        ("slot", c_i32), ("count", c_i32), ("seq", c_i64), ("epoch", c_i32),
        ("batch_size", c_i32), ("num_patches", c_i32), ("patch", c_i32),
        ("tokens", c_f32p), ("scales", c_f32p), ("mask", c_u8p), ("targetid", c_i64p),
        ("flags", c_u8p), ("wave", c_f32p), ("token_dtype", c_i32),
    ]


Batch = BatchStruct  # earlier name of the ctypes struct (tests and scripts used ard._lib.Batch)


class F32Matrix(ctypes.Structure):
    _ard_name_ = "ard_pq_f32_matrix"
    _fields_ = [("rows", c_i64), ("width", c_i64), ("values", c_f32p), ("validity", c_u8p),
                ("row_validity", c_u8p)]


class SyncOptions(ctypes.Structure):
    _ard_name_ = "ard_sync_options"
    _fields_ = [("threads", c_i32), ("rank", c_i32), ("size", c_i32), ("verify_footers", c_i32),
                ("skip_catalog", c_i32), ("files_per_txn", c_i32), ("quiet", c_i32),
                ("on_notice", ctypes.c_void_p), ("notice_ctx", ctypes.c_void_p),
                ("remote", ctypes.c_void_p)]


class SyncReport(ctypes.Structure):
    _ard_name_ = "ard_sync_report"
    _fields_ = [("run_id", c_i64), ("files_seen", c_i64), ("files_added", c_i64),
                ("files_changed", c_i64), ("files_unchanged", c_i64), ("files_removed", c_i64),
                ("files_failed", c_i64), ("spectra_rows", c_i64), ("galaxy_rows", c_i64),
                ("data_reads", c_i64), ("footer_reads", c_i64), ("seconds", c_f64),
                ("first_error", ctypes.c_char * 512)]


class FetchBatch(ctypes.Structure):
    _ard_name_ = "ard_fetch_batch"
    _fields_ = [("file", c_i32), ("row_group", c_i32), ("rows", c_i64), ("targetids", c_i64p),
                ("num_columns", c_i32), ("column_names", ctypes.POINTER(c_char_p)),
                ("columns", ctypes.POINTER(F32Matrix)), ("column_types", c_i32p),
                ("u8_values", ctypes.POINTER(c_u8p))]


class IndexColumn(ctypes.Structure):
    _ard_name_ = "ard_index_column"
    _fields_ = [("name", c_char_p), ("type", c_i32), ("values", vp), ("validity", c_u8p)]


class FofParams(ctypes.Structure):
    _ard_name_ = "ard_fof_params"
    _fields_ = [("mode", c_i32), ("link_mpc", c_f64), ("b", c_f64), ("b_perp", c_f64),
                ("b_par", c_f64), ("max_perp_mpc", c_f64), ("max_par_mpc", c_f64), ("h", c_f64),
                ("omega_m", c_f64), ("area_deg2", c_f64), ("nz_bin_mpc", c_f64),
                ("nz_z", ctypes.POINTER(c_f64)), ("nz_density", ctypes.POINTER(c_f64)),
                ("nz_len", c_i64), ("threads", c_i32),
                ("linker", ctypes.c_void_p)]  # const ard_fof_linker *: NULL = one process


class FofScore(ctypes.Structure):
    _ard_name_ = "ard_fof_score"
    _fields_ = [("true_groups", c_i64), ("found_groups", c_i64), ("bijective", c_i64),
                ("completeness", c_f64), ("purity", c_f64), ("members_matched", c_f64)]


FOF_PROGRESS_FN = ctypes.CFUNCTYPE(None, vp, c_char_p, c_f64)


class FofStageOptions(ctypes.Structure):
    _ard_name_ = "ard_fof_stage_options"
    _fields_ = [("dataset", c_char_p), ("dsn", c_char_p), ("where", c_char_p),
                ("run_id", c_char_p), ("no_index", c_i32), ("write_results", c_i32),
                ("min_size", c_i64), ("rank", c_i32), ("size", c_i32), ("params", FofParams),
                ("progress", FOF_PROGRESS_FN), ("progress_ctx", vp)]


class FofStageReport(ctypes.Structure):
    _ard_name_ = "ard_fof_stage_report"
    _fields_ = [("run_id", ctypes.c_char * 72), ("from_index", c_i32), ("indexed", c_i32),
                ("written", c_i32), ("scored", c_i32), ("mode", c_i32), ("galaxies", c_i64),
                ("skipped", c_i64), ("groups", c_i64), ("grouped", c_i64), ("largest", c_i64),
                ("groups_ge5", c_i64), ("link_mpc", c_f64), ("par_mpc", c_f64),
                ("area_deg2", c_f64), ("score", FofScore), ("min_size", c_i64),
                ("params_json", ctypes.c_char * 1024), ("seconds_load", c_f64),
                ("seconds_link", c_f64), ("seconds_score", c_f64), ("seconds_write", c_f64),
                ("seconds_total", c_f64)]


class DatasheetOptions(ctypes.Structure):
    _ard_name_ = "ard_datasheet_options"
    _fields_ = [("template_path", c_char_p), ("out_path", c_char_p), ("no_figures", c_i32),
                ("worst_tiles", c_i32)]


class DatasheetSyncOptions(ctypes.Structure):
    _ard_name_ = "ard_datasheet_sync_options"
    _fields_ = [("sync", SyncOptions), ("no_datasheet", c_i32), ("datasheet", DatasheetOptions)]


class DatasheetSyncReport(ctypes.Structure):
    _ard_name_ = "ard_datasheet_sync_report"
    _fields_ = [("sync", SyncReport), ("synced", c_i32), ("datasheet_written", c_i32),
                ("datasheet_path", ctypes.c_char * 4096)]


STRUCTS = [ErrorStruct, TokenizeOptions, LoaderOptions, ReadItem, BatchStruct, F32Matrix,
           SyncOptions, SyncReport, FetchBatch, IndexColumn, FofParams, FofScore, FofStageOptions,
           FofStageReport, DatasheetOptions, DatasheetSyncOptions, DatasheetSyncReport]

# ard_index_select's row callback: (ctx, num_columns, names, values) -> nonzero stops
ROW_FN = ctypes.CFUNCTYPE(ctypes.c_int, vp, c_i32, ctypes.POINTER(c_char_p),
                          ctypes.POINTER(c_char_p))


def _signatures():
    p = ctypes.POINTER
    err = p(ErrorStruct)
    return {
        "ard_version": (c_char_p, []),
        "ard_status_count": (c_i32, []),
        "ard_status_name": (c_char_p, [ctypes.c_int]),
        "ard_status_str": (c_char_p, [ctypes.c_int]),
        "ard_abi_struct_size": (c_i64, [c_char_p]),
        "ard_abi_num_fields": (c_i32, [c_char_p]),
        "ard_abi_field_name": (c_char_p, [c_char_p, c_i32]),
        "ard_abi_field_offset": (c_i64, [c_char_p, c_char_p]),
        "ard_abi_field_size": (c_i64, [c_char_p, c_char_p]),
        "ard_loader_options_init": (None, [p(LoaderOptions)]),
        "ard_loader_new": (ctypes.c_int, [p(LoaderOptions), p(ReadItem), c_i64, p(vp), err]),
        "ard_loader_new_dataset": (ctypes.c_int, [p(LoaderOptions), c_char_p, p(vp), err]),
        "ard_loader_new_query": (ctypes.c_int, [p(LoaderOptions), c_char_p, c_char_p, c_char_p,
                                                p(vp), err]),
        "ard_loader_start": (ctypes.c_int, [vp, err]),
        "ard_loader_store": (vp, [vp]),
        "ard_loader_rows_per_epoch": (c_i64, [vp]),
        "ard_loader_batches_per_epoch": (c_i64, [vp]),
        "ard_loader_wait": (ctypes.c_int, [vp, err]),
        "ard_loader_num_skipped": (c_i64, [vp]),
        "ard_loader_skipped": (ctypes.c_int, [vp, c_i64, c_char_p, ctypes.c_size_t, p(c_i32),
                                              p(c_i32), c_char_p, ctypes.c_size_t, p(c_i64), err]),
        "ard_loader_free": (None, [vp]),
        "ard_store_connect": (ctypes.c_int, [c_char_p, p(vp), err]),
        "ard_store_attach": (ctypes.c_int, [vp, p(vp), err]),
        "ard_store_acquire": (ctypes.c_int, [vp, c_i64, p(BatchStruct), err]),
        "ard_store_release": (ctypes.c_int, [vp, p(BatchStruct), err]),
        "ard_store_next": (ctypes.c_int, [vp, c_i64, p(BatchStruct), err]),
        "ard_store_close": (None, [vp]),
        "ard_store_base": (vp, [vp]),
        "ard_store_size": (c_i64, [vp]),
        "ard_store_num_columns": (c_i32, [vp]),
        "ard_store_column_name": (c_char_p, [vp, c_i32]),
        "ard_store_column_type": (c_i32, [vp, c_i32]),
        "ard_store_column_width": (c_i32, [vp, c_i32]),
        "ard_batch_column": (vp, [vp, p(BatchStruct), c_i32]),
        "ard_tokenize_options_init": (None, [p(TokenizeOptions)]),
        "ard_tokenize_spectrum": (ctypes.c_int, [p(TokenizeOptions), c_f32p, c_f32p, c_u8p, c_u8p,
                                                 c_i64, c_u8p, c_i64, c_f32p, c_f32p, c_u8p, c_u8p,
                                                 vp, err]),
        "ard_parquet_open": (ctypes.c_int, [c_char_p, vp, p(vp), err]),
        "ard_parquet_close": (None, [vp]),
        "ard_parquet_find_leaf": (c_i32, [vp, c_char_p]),
        "ard_parquet_read_f32_matrix": (ctypes.c_int, [vp, c_i32, c_i32, p(F32Matrix), err]),
        "ard_pq_matrix_reset": (None, [p(F32Matrix)]),
        "ard_index_open": (ctypes.c_int, [c_char_p, c_char_p, c_i32, p(vp), err]),
        "ard_index_close": (None, [vp]),
        "ard_index_backend": (c_char_p, [vp]),
        "ard_index_sync": (ctypes.c_int, [vp, c_char_p, p(SyncOptions), p(SyncReport), err]),
        "ard_index_query": (ctypes.c_int, [vp, c_char_p, c_i64, p(vp), err]),
        "ard_index_query_targetids": (ctypes.c_int, [vp, c_i64p, c_i64, p(vp), err]),
        "ard_index_select": (ctypes.c_int, [vp, c_char_p, ROW_FN, vp, err]),
        "ard_index_read_columns": (ctypes.c_int, [vp, p(c_char_p), c_i32, c_char_p, c_i64, p(vp),
                                                  err]),
        "ard_index_read_targetids": (ctypes.c_int, [vp, p(c_char_p), c_i32, c_i64p, c_i64, p(vp),
                                                    err]),
        "ard_column_set_free": (None, [vp]),
        "ard_column_set_num_rows": (c_i64, [vp]),
        "ard_column_set_num_columns": (c_i32, [vp]),
        "ard_column_set_column": (p(IndexColumn), [vp, c_i32]),
        "ard_result_stages": (ctypes.c_int, [vp, p(vp), err]),
        "ard_result_runs": (ctypes.c_int, [vp, c_char_p, p(vp), err]),
        "ard_datasheet_sync_options_init": (None, [p(DatasheetSyncOptions)]),
        "ard_datasheet_sync": (ctypes.c_int, [vp, c_char_p, p(DatasheetSyncOptions),
                                              p(DatasheetSyncReport), err]),
        "ard_fof_stage_options_init": (None, [p(FofStageOptions)]),
        "ard_fof_stage_run": (ctypes.c_int, [p(FofStageOptions), p(FofStageReport), p(vp),
                                             p(c_i64p), err]),
        "ard_fof_num_galaxies": (c_i64, [vp]),
        "ard_fof_group_ids": (c_i64p, [vp]),
        "ard_fof_result_free": (None, [vp]),
        "ard_free": (None, [vp]),
        "ard_plan_free": (None, [vp]),
        "ard_plan_num_files": (c_i32, [vp]),
        "ard_plan_file": (c_char_p, [vp, c_i32]),
        "ard_plan_num_rows": (c_i64, [vp]),
        "ard_fetch_open": (ctypes.c_int, [c_char_p, vp, p(c_char_p), c_i32, c_i32, p(vp), err]),
        "ard_fetch_next": (ctypes.c_int, [vp, p(p(FetchBatch)), err]),
        "ard_fetch_close": (None, [vp]),
    }


def _recorded_library():
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, "_build_path.txt"), encoding="utf-8") as f:
            path = f.read().strip()
    except OSError:
        return None
    return path if path and os.path.exists(path) else None


def find_library():
    """The libard.so this package loads (see the module comment for the order)."""
    env = os.environ.get("ARD_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.startswith("libard.so"):
            return os.path.join(here, name)
    return _recorded_library() or "libard.so.0"


def declare(lib):
    """Sets restype/argtypes of every function the binding uses; AbiError for a missing one."""
    for name, (res, args) in _signatures().items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise AbiError(f"{library_path} has no {name}: it is older than ard {__version__}") \
                from None
        fn.restype = res
        fn.argtypes = args


def abi_differences(lib, structs):
    """Differences between ctypes declarations and the library's ard_abi_* report, as text lines
    (empty when they agree): sizes, field names and order, field offsets and sizes."""
    out = []
    for cls in structs:
        cname = cls._ard_name_.encode()
        size = lib.ard_abi_struct_size(cname)
        if size < 0:
            out.append(f"{cls._ard_name_}: unknown to the library")
            continue
        if size != ctypes.sizeof(cls):
            out.append(f"{cls._ard_name_}: size {ctypes.sizeof(cls)} here, {size} in the library")
        theirs = [lib.ard_abi_field_name(cname, i).decode()
                  for i in range(lib.ard_abi_num_fields(cname))]
        ours = [f[0] for f in cls._fields_]
        if ours != theirs:
            out.append(f"{cls._ard_name_}: fields {ours} here, {theirs} in the library")
        for name in ours:
            desc = getattr(cls, name)
            off = lib.ard_abi_field_offset(cname, name.encode())
            fsize = lib.ard_abi_field_size(cname, name.encode())
            if off < 0:
                continue  # reported by the field list above
            if off != desc.offset or fsize != desc.size:
                out.append(f"{cls._ard_name_}.{name}: offset {desc.offset} size {desc.size} here, "
                           f"offset {off} size {fsize} in the library")
    return out


def check_abi(lib, structs):
    """Raises AbiError listing every layout difference between `structs` and the library."""
    diffs = abi_differences(lib, structs)
    if diffs:
        raise AbiError(f"{library_path} does not match the ard package's struct layouts:\n  "
                       + "\n  ".join(diffs))


# ---- errors: one class per ard_status name, built from the library's list ------------------------

class Error(Exception):
    """An ard_status other than ARD_OK, with the library's message. Each status has a subclass named
    after it without the ARD_ prefix (ard.EINVAL, ard.ENOENT, ...); Error.status is the code,
    Error.name the symbolic name ("ARD_EINVAL") and Error.message the library's text."""

    status = None
    name = None

    def __init__(self, message="", status=None, name=None):
        if status is not None:
            self.status = status
        if name is not None:
            self.name = name
        self.message = message
        label = self.name or "ARD_ERROR"
        super().__init__(f"{label}: {message}" if message else label)


Error.__module__ = "ard"
AbiError.__module__ = "ard"

# Builtin exception each status also derives from, so `except ValueError` etc. keeps working.
_BUILTIN_BASES = {
    "ARD_EINVAL": ValueError, "ARD_ENOMEM": MemoryError, "ARD_ENOENT": FileNotFoundError,
    "ARD_EPERM": PermissionError, "ARD_ENOTSUP": NotImplementedError, "ARD_ERANGE": ValueError,
    "ARD_EIO": OSError,
}

ERRORS = {}  # status code -> class


def _make_error_classes(lib):
    classes = {}
    for code in range(1, lib.ard_status_count()):
        name = lib.ard_status_name(code).decode()
        short = name[4:] if name.startswith("ARD_") else name
        bases = (Error,) + ((_BUILTIN_BASES[name],) if name in _BUILTIN_BASES else ())
        doc = f"{name}: {lib.ard_status_str(code).decode()}."
        cls = type(short, bases, {"status": code, "name": name, "__doc__": doc,
                                  "__module__": "ard"})
        ERRORS[code] = cls
        classes[short] = cls
    return classes


def error_for(status, message=""):
    """The exception instance for a status code (Error itself for a code unknown to this build)."""
    cls = ERRORS.get(status)
    if cls is None:
        return Error(message, status, f"ARD_STATUS_{status}")
    return cls(message)


def check(status, err):
    """Raises the status's exception class for a failed call."""
    if status != 0:
        raise error_for(status, err.msg.decode(errors="replace"))


library_path = find_library()
try:
    lib = ctypes.CDLL(library_path)
except OSError as e:
    raise ImportError(f"ard: cannot load libard ({library_path}): {e}. Set ARD_LIBRARY, or build "
                      "with CMake and reinstall the package (python/README.md)") from None
declare(lib)
if lib.ard_version().decode() != __version__:
    raise AbiError(f"{library_path} is ard {lib.ard_version().decode()}, this package is "
                   f"ard {__version__}")
check_abi(lib, STRUCTS)
ERROR_CLASSES = _make_error_classes(lib)

STATUS_EEOF = ERROR_CLASSES["EEOF"].status
COLUMN_FLOAT64, COLUMN_INT64, COLUMN_TEXT, COLUMN_FLOAT32 = 0, 1, 2, 3
FETCH_F32, FETCH_U8 = 0, 1
INDEX_INT64, INDEX_DOUBLE, INDEX_TEXT = 0, 1, 2
INDEX_READ_ONLY = 1
