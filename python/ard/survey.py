"""The producers of datasets from Python: the synthetic survey generator and the DESI FITS ingest
(include/ard/survey.h), the same calls as `ard generate` and `ard ingest desi`:

    rep = ard.generate("/data/mock", galaxies=100_000, seed=7)       # catalog, truth, tiles
    rep = ard.generate("/data/cap", region=(180.0, 0.0, 1.2))       # DR1 density in a sky cap
    rep = ard.ingest_desi("/data/desi", ["coadd-....fits", "redrock-....fits"])

Options left at None take the library's defaults (ard_generate_options_init); `grid` is a grid
name as the CLI's --grid takes it ("log4096", "logN", "linearN", "desi"). Each returns the C
report as a dict; a failure raises the status's exception class (ard.EEXIST when the directory
already holds a dataset, ard.EINVAL for a bad option, ...). The struct layouts are checked
against the library at import (ard_abi_*)."""
import ctypes
import os

from ._lib import ErrorStruct, check, lib

c_i32, c_i64, c_u64, c_f64 = ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64, ctypes.c_double
_cp = ctypes.c_char_p
_CLASSES = ("BGS", "LRG", "ELG", "QSO")  # ard_target_class order (include/ard/dataset.h)


class Grid(ctypes.Structure):
    _ard_name_ = "ard_grid"
    _fields_ = [("kind", c_i32), ("start", c_f64), ("stop", c_f64), ("n", c_i64)]


class GenerateOptions(ctypes.Structure):
    _ard_name_ = "ard_generate_options"
    _fields_ = [("galaxies", c_i64), ("seed", c_u64), ("spectra_fraction", c_f64), ("grid", Grid),
                ("threads", c_i32), ("anomaly_fraction", c_f64), ("group_fraction", c_f64),
                ("progress", c_i32), ("lss", c_i32), ("lss_cells", c_i32), ("lss_box", c_f64),
                ("region_ra", c_f64), ("region_dec", c_f64), ("region_radius", c_f64),
                ("web_smoothing", c_f64), ("web_lambda_th", c_f64), ("lss_lpt_order", c_i32),
                ("buffered_io", c_i32)]


class GenerateReport(ctypes.Structure):
    _ard_name_ = "ard_generate_report"
    _fields_ = [("galaxies", c_i64), ("groups", c_i64), ("grouped", c_i64), ("spectra", c_i64),
                ("tiles", c_i64), ("anomalies", c_i64), ("catalog_files", c_i64),
                ("class_counts", c_i64 * len(_CLASSES)), ("bytes_written", c_i64),
                ("seconds_catalog", c_f64), ("seconds_web", c_f64), ("seconds_spectra", c_f64),
                ("cpu_seconds_spectra", c_f64)]


class IngestOptions(ctypes.Structure):
    _ard_name_ = "ard_ingest_options"
    _fields_ = [("grid", Grid), ("threads", c_i32), ("progress", c_i32), ("survey", _cp),
                ("program", _cp)]


class IngestReport(ctypes.Structure):
    _ard_name_ = "ard_ingest_report"
    _fields_ = [("files", c_i64), ("spectra", c_i64), ("tiles", c_i64), ("with_redshift", c_i64)]


_err = ctypes.POINTER(ErrorStruct)
_p = ctypes.POINTER
for _name, _res, _args in [
        ("ard_grid_from_name", ctypes.c_int, [_cp, _p(Grid), _err]),
        ("ard_generate_options_init", None, [_p(GenerateOptions)]),
        ("ard_generate", ctypes.c_int, [_cp, _p(GenerateOptions), _p(GenerateReport), _err]),
        ("ard_ingest_options_init", None, [_p(IngestOptions)]),
        ("ard_ingest_desi", ctypes.c_int, [_cp, _p(_cp), c_i32, _p(IngestOptions),
                                           _p(IngestReport), _err])]:
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

if hasattr(lib, "ard_abi_struct_size"):  # the layouts above, checked against the library
    from ._lib import check_abi
    check_abi(lib, [Grid, GenerateOptions, GenerateReport, IngestOptions, IngestReport])

# generate()'s keyword options that map one to one onto ard_generate_options fields
_GENERATE_KNOBS = ("galaxies", "seed", "spectra_fraction", "threads", "anomaly_fraction",
                   "group_fraction", "lss_cells", "lss_box", "web_smoothing", "web_lambda_th",
                   "lss_lpt_order")


def _path(p, what):
    if not isinstance(p, (str, bytes, os.PathLike)):
        raise TypeError(f"{what}: a path is needed, not {type(p).__name__}")
    return os.fsencode(p)


def _grid(name, out):
    err = ErrorStruct()
    check(lib.ard_grid_from_name(name.encode(), ctypes.byref(out), ctypes.byref(err)), err)


def _as_dict(report):
    out = {}
    for name, _ in report._fields_:
        v = getattr(report, name)
        out[name] = dict(zip(_CLASSES, (int(c) for c in v))) if name == "class_counts" else v
    return out


def generate(out_dir, region=None, grid=None, lss=None, buffered_io=None, progress=False,
             **options):
    """Writes a synthetic DESI-like survey into out_dir (ard_generate; `ard generate OUT`):
    catalog/, truth/ and tiles/. Same options, same bytes, whatever the thread count.

    options: galaxies (catalog rows; 0 with a region: DR1 density), seed (1), spectra_fraction
    (1.0 = a tile for every galaxy, 0 = none), threads (0 = all CPUs), anomaly_fraction (0.001),
    group_fraction (0.4), lss_cells (128), lss_box (256 Mpc/h), web_smoothing (2 Mpc/h),
    web_lambda_th (0.2), lss_lpt_order (1 Zel'dovich, 2 2LPT); region=(ra, dec, radius_deg) a
    sky cap; grid a grid name; lss=False the unclustered placement; buffered_io=True tiles
    through the page cache. Returns the report as a dict (galaxies, groups, spectra, tiles,
    class_counts by class, bytes_written, seconds_*)."""
    o = GenerateOptions()
    lib.ard_generate_options_init(ctypes.byref(o))
    for name, value in options.items():
        if name not in _GENERATE_KNOBS:
            raise TypeError(f"generate: unknown option {name!r} (one of "
                            f"{list(_GENERATE_KNOBS) + ['region', 'grid', 'lss', 'buffered_io']})")
        if value is not None:
            setattr(o, name, value)
    if region is not None:
        try:
            o.region_ra, o.region_dec, o.region_radius = (float(v) for v in region)
        except (TypeError, ValueError):
            raise TypeError(f"generate: region is (ra, dec, radius_deg), not {region!r}") from None
    if grid is not None:
        _grid(grid, o.grid)
    if lss is not None:
        o.lss = 1 if lss else 0
    if buffered_io is not None:
        o.buffered_io = 1 if buffered_io else 0
    o.progress = 1 if progress else 0
    r, err = GenerateReport(), ErrorStruct()
    check(lib.ard_generate(_path(out_dir, "generate"), ctypes.byref(o), ctypes.byref(r),
                           ctypes.byref(err)), err)
    return _as_dict(r)


def ingest_desi(out_dir, paths, grid=None, threads=None, survey=None, program=None,
                progress=False):
    """Converts DESI coadd files (and their redrock files) into an ARD dataset in out_dir
    (ard_ingest_desi; `ard ingest desi OUT PATH...`). paths: coadd/redrock files or directories
    (searched one level deep for coadd-*.fits and the matching redrock-*.fits). survey/program:
    used when a coadd header has none. Returns the report as a dict (files, spectra, tiles,
    with_redshift)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    enc = [_path(p, "ingest_desi") for p in paths]
    if not enc:
        raise ValueError("ingest_desi: no coadd paths given")
    o = IngestOptions()
    lib.ard_ingest_options_init(ctypes.byref(o))
    if grid is not None:
        _grid(grid, o.grid)
    if threads is not None:
        o.threads = threads
    keep = [survey.encode() if survey else None, program.encode() if program else None]
    o.survey, o.program = keep
    o.progress = 1 if progress else 0
    arr = (_cp * len(enc))(*enc)
    r, err = IngestReport(), ErrorStruct()
    check(lib.ard_ingest_desi(_path(out_dir, "ingest_desi"), arr, len(enc), ctypes.byref(o),
                              ctypes.byref(r), ctypes.byref(err)), err)
    del keep
    return _as_dict(r)
