"""ctypes declarations of the parts of libard.so the binding uses (include/ard/stream.h, parquet.h).

The library is found, in order: $ARD_LIBRARY, libard.so next to this package, then the system's
dynamic loader path."""
import ctypes
import os

c_i32, c_i64, c_u64, c_f32 = ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64, ctypes.c_float
c_u8p = ctypes.POINTER(ctypes.c_uint8)
c_f32p = ctypes.POINTER(ctypes.c_float)
c_i64p = ctypes.POINTER(ctypes.c_int64)


class Error(Exception):
    """An ard_status other than ARD_OK, with the library's message."""

    def __init__(self, status, name, message):
        super().__init__(f"{name}: {message}" if message else name)
        self.status = status
        self.name = name
        self.message = message


class ErrorStruct(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("sys_errno", ctypes.c_int), ("msg", ctypes.c_char * 512)]


class TokenizeOptions(ctypes.Structure):
    _fields_ = [("patch", c_i32), ("norm", c_i32), ("min_valid", c_i32), ("floor", c_f32)]


class LoaderOptions(ctypes.Structure):
    _fields_ = [
        ("batch_size", c_i32), ("prefetch_batches", c_i32), ("shuffle", c_i32),
        ("local_shuffle_buffer", c_i64), ("seed", c_u64), ("epochs", c_i32), ("drop_last", c_i32),
        ("rank", c_i32), ("world", c_i32), ("threads", c_i32), ("memory_cap", c_i64),
        ("cache", c_i32), ("store_name", ctypes.c_char_p), ("flux_column", ctypes.c_char_p),
        ("ivar_column", ctypes.c_char_p), ("id_column", ctypes.c_char_p),
        ("tokenize", TokenizeOptions), ("columns", ctypes.c_char_p), ("text_width", c_i32),
        ("index_dataset", ctypes.c_char_p), ("index_dsn", ctypes.c_char_p),
        ("weights", c_i32), ("frame", c_i32), ("rest_zmin", ctypes.c_double),
        ("rest_zmax", ctypes.c_double),
    ]


class ReadItem(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("row_group", c_i32), ("first_row", c_i64),
                ("num_rows", c_i64)]


class Batch(ctypes.Structure):
    _fields_ = [
        ("slot", c_i32), ("count", c_i32), ("seq", c_i64), ("epoch", c_i32),
        ("batch_size", c_i32), ("num_patches", c_i32), ("patch", c_i32),
        ("tokens", c_f32p), ("scales", c_f32p), ("mask", c_u8p), ("targetid", c_i64p),
        ("flags", c_u8p), ("wave", c_f32p),
    ]


class F32Matrix(ctypes.Structure):
    _fields_ = [("rows", c_i64), ("width", c_i64), ("values", c_f32p), ("validity", c_u8p),
                ("row_validity", c_u8p)]


def _find():
    env = os.environ.get("ARD_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.startswith("libard.so"):
            return os.path.join(here, name)
    return "libard.so"


def _declare(lib):
    vp, p = ctypes.c_void_p, ctypes.POINTER
    err = p(ErrorStruct)
    sigs = {
        "ard_status_name": (ctypes.c_char_p, [ctypes.c_int]),
        "ard_loader_options_init": (None, [p(LoaderOptions)]),
        "ard_loader_new": (ctypes.c_int, [p(LoaderOptions), p(ReadItem), c_i64, p(vp), err]),
        "ard_loader_new_dataset": (ctypes.c_int, [p(LoaderOptions), ctypes.c_char_p, p(vp), err]),
        "ard_loader_new_query": (ctypes.c_int, [p(LoaderOptions), ctypes.c_char_p, ctypes.c_char_p,
                                                ctypes.c_char_p, p(vp), err]),
        "ard_loader_start": (ctypes.c_int, [vp, err]),
        "ard_loader_store": (vp, [vp]),
        "ard_loader_rows_per_epoch": (c_i64, [vp]),
        "ard_loader_batches_per_epoch": (c_i64, [vp]),
        "ard_loader_wait": (ctypes.c_int, [vp, err]),
        "ard_loader_free": (None, [vp]),
        "ard_store_connect": (ctypes.c_int, [ctypes.c_char_p, p(vp), err]),
        "ard_store_attach": (ctypes.c_int, [vp, p(vp), err]),
        "ard_store_acquire": (ctypes.c_int, [vp, c_i64, p(Batch), err]),
        "ard_store_release": (ctypes.c_int, [vp, p(Batch), err]),
        "ard_store_close": (None, [vp]),
        "ard_store_base": (vp, [vp]),
        "ard_store_size": (c_i64, [vp]),
        "ard_store_num_columns": (c_i32, [vp]),
        "ard_store_column_name": (ctypes.c_char_p, [vp, c_i32]),
        "ard_store_column_type": (c_i32, [vp, c_i32]),
        "ard_store_column_width": (c_i32, [vp, c_i32]),
        "ard_batch_column": (vp, [vp, p(Batch), c_i32]),
        "ard_tokenize_options_init": (None, [p(TokenizeOptions)]),
        "ard_tokenize_spectrum": (ctypes.c_int, [p(TokenizeOptions), c_f32p, c_f32p, c_u8p, c_u8p,
                                                 c_i64, c_u8p, c_i64, c_f32p, c_f32p, c_u8p, c_u8p,
                                                 vp, err]),
        "ard_parquet_open": (ctypes.c_int, [ctypes.c_char_p, vp, p(vp), err]),
        "ard_parquet_close": (None, [vp]),
        "ard_parquet_find_leaf": (c_i32, [vp, ctypes.c_char_p]),
        "ard_parquet_read_f32_matrix": (ctypes.c_int, [vp, c_i32, c_i32, p(F32Matrix), err]),
        "ard_pq_matrix_reset": (None, [p(F32Matrix)]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


lib = ctypes.CDLL(_find())
_declare(lib)

EEOF = 13
COLUMN_FLOAT64, COLUMN_INT64, COLUMN_TEXT, COLUMN_FLOAT32 = 0, 1, 2, 3


def check(status, err):
    """Raises Error for a failed call."""
    if status != 0:
        name = lib.ard_status_name(status).decode()
        raise Error(status, name, err.msg.decode(errors="replace"))
