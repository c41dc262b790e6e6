"""Cosmic-web classification from Python: the library's GraphSAGE stage (Dataset.cosmicweb_train /
Dataset.cosmicweb_predict, the same calls as `ard cosmicweb train|predict`).

    ds = ard.Dataset("/data/mock")
    rep = ds.cosmicweb_train(run="w1", epochs=5)        # models/cosmicweb-w1.safetensors
    print(rep["test_balanced_accuracy"], rep["baseline_test_balanced_accuracy"])
    rep = ds.cosmicweb_predict(model="w1", run="p1", where="target_class = 'LRG'")
    # results/cosmicweb-p1-galaxies.parquet + index table cosmic_web + a row of cosmicweb_runs
"""
import ctypes

from ._lib import ErrorStruct, check, lib

c_i32, c_i64, c_u64, c_f32, c_f64 = (ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64,
                                      ctypes.c_float, ctypes.c_double)
_C = 4
CLASSES = ("void", "sheet", "filament", "knot")


class CosmicwebOptions(ctypes.Structure):
    _ard_name_ = "ard_cosmicweb_options"
    _fields_ = [("k", c_i32), ("fanout1", c_i32), ("fanout2", c_i32), ("hidden", c_i32),
                ("batch", c_i32), ("accum", c_i32), ("epochs", c_i32), ("lr", c_f32),
                ("balanced", c_i32), ("seed", c_u64), ("threads", c_i32), ("queue", c_i32),
                ("geo", c_i32), ("reach", c_i32), ("reach_bins", c_i32), ("reach_mpc", c_f32),
                ("reach_fanout", c_i32), ("reach_randoms", c_i32)]


class CosmicwebReport(ctypes.Structure):
    _ard_name_ = "ard_cosmicweb_report"
    _fields_ = [("train_nodes", c_i64), ("val_nodes", c_i64), ("test_nodes", c_i64),
                ("steps", c_i64), ("final_loss", c_f64), ("val_balanced_accuracy", c_f64),
                ("test_balanced_accuracy", c_f64), ("test_confusion", c_i64 * _C * _C),
                ("seconds_graph", c_f64), ("seconds_train", c_f64), ("cpu_seconds_train", c_f64),
                ("train_nodes_per_s", c_f64), ("baseline_test_balanced_accuracy", c_f64),
                ("baseline_test_confusion", c_i64 * _C * _C)]


class CosmicwebStageOptions(ctypes.Structure):
    _ard_name_ = "ard_cosmicweb_stage_options"
    _fields_ = [("dataset", ctypes.c_char_p), ("dsn", ctypes.c_char_p),
                ("where", ctypes.c_char_p), ("run_id", ctypes.c_char_p),
                ("model", ctypes.c_char_p), ("label", ctypes.c_char_p), ("val_frac", c_f64),
                ("test_frac", c_f64), ("no_index", c_i32), ("train", CosmicwebOptions),
                ("latent", ctypes.c_char_p)]


class CosmicwebStageReport(ctypes.Structure):
    _ard_name_ = "ard_cosmicweb_stage_report"
    _fields_ = [("run_id", ctypes.c_char * 72), ("model_path", ctypes.c_char * 1024),
                ("results_path", ctypes.c_char * 1024), ("indexed", c_i32),
                ("split_nside", c_i32), ("galaxies", c_i64), ("skipped", c_i64),
                ("labelled", c_i64), ("counts", c_i64 * _C), ("balanced_accuracy", c_f64),
                ("baseline_balanced_accuracy", c_f64), ("confusion", c_i64 * _C * _C),
                ("train", CosmicwebReport), ("seconds", c_f64), ("latent_dim", c_i32),
                ("with_latent", c_i64)]


_err = ctypes.POINTER(ErrorStruct)
for _name, _res, _args in [
        ("ard_cosmicweb_stage_options_init", None, [ctypes.POINTER(CosmicwebStageOptions)]),
        ("ard_cosmicweb_stage_train", ctypes.c_int,
         [ctypes.POINTER(CosmicwebStageOptions), ctypes.POINTER(CosmicwebStageReport), _err]),
        ("ard_cosmicweb_stage_predict", ctypes.c_int,
         [ctypes.POINTER(CosmicwebStageOptions), ctypes.POINTER(CosmicwebStageReport), _err])]:
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

if hasattr(lib, "ard_abi_struct_size"):  # the layouts above, checked against the library
    from ._lib import check_abi
    check_abi(lib, [CosmicwebOptions, CosmicwebReport, CosmicwebStageOptions,
                    CosmicwebStageReport])

_TRAIN_KNOBS = ("k", "fanout1", "fanout2", "hidden", "batch", "accum", "epochs", "lr", "seed",
                "threads", "queue", "geo", "reach", "reach_bins", "reach_mpc", "reach_fanout",
                "reach_randoms")


def _matrix(m):
    return [[int(m[t][p]) for p in range(_C)] for t in range(_C)]


def _report(r):
    t = r.train
    out = {"run_id": r.run_id.decode(), "model_path": r.model_path.decode(),
           "results_path": r.results_path.decode(), "indexed": bool(r.indexed),
           "split_nside": r.split_nside, "galaxies": r.galaxies, "skipped": r.skipped,
           "labelled": r.labelled, "counts": dict(zip(CLASSES, (int(c) for c in r.counts))),
           "balanced_accuracy": r.balanced_accuracy,
           "baseline_balanced_accuracy": r.baseline_balanced_accuracy,
           "confusion": _matrix(r.confusion), "seconds": r.seconds,
           "latent_dim": r.latent_dim, "with_latent": r.with_latent}
    for name, _ in CosmicwebReport._fields_:
        v = getattr(t, name)
        out[name] = _matrix(v) if name.endswith("confusion") else v
    return out


def _run(ds, fn, run, where, model, label, val, test, no_index, balanced, knobs, latent=None):
    o = CosmicwebStageOptions()
    lib.ard_cosmicweb_stage_options_init(ctypes.byref(o))
    sel = where or getattr(ds, "_where", None)  # a Dataset narrowed by a where clause
    sel = sel if isinstance(sel, str) else None
    keep = [str(ds.path).encode(), ds.dsn.encode() if ds.dsn else None,
            sel.encode() if sel else None, run.encode() if run else None,
            model.encode() if model else None, label.encode() if label else None,
            latent.encode() if latent is not None else None]
    o.dataset, o.dsn, o.where, o.run_id, o.model, o.label, o.latent = keep
    if val is not None:
        o.val_frac = float(val)
    if test is not None:
        o.test_frac = float(test)
    o.no_index = 1 if no_index else 0
    if balanced is not None:
        o.train.balanced = 1 if balanced else 0
    for name, value in knobs.items():
        if name not in _TRAIN_KNOBS:
            raise TypeError(f"cosmicweb: unknown option {name!r} (one of {list(_TRAIN_KNOBS)})")
        if value is not None:
            setattr(o.train, name, value)
    r, err = CosmicwebStageReport(), ErrorStruct()
    check(fn(ctypes.byref(o), ctypes.byref(r), ctypes.byref(err)), err)
    del keep
    return _report(r)


def cosmicweb_train(self, run=None, where=None, label=None, val=None, test=None, no_index=False,
                    balanced=None, latent=None, **knobs):
    """Trains the GraphSAGE classifier (ard_cosmicweb_stage_train) on the truth (label None or
    "truth") or a predict run's classes; latent: an anomaly score run id whose per-spectrum
    latents become extra node features (the model then predicts only with latent= too); knobs:
    k, fanout1, fanout2, hidden, batch, accum, epochs, lr, seed, threads, queue, geo (geometric
    aggregator channels, default 0), reach (reach aggregator channels, default 4; 0: off),
    reach_bins (8), reach_mpc (35.0), reach_fanout (512; 0 = all), reach_randoms (2); the model
    records the reach settings and predict uses them. Returns the report as a dict (run_id, model_path,
    test_balanced_accuracy, baseline_test_balanced_accuracy, test_confusion, latent_dim,
    with_latent, ...)."""
    self._need_path("cosmicweb_train")
    return _run(self, lib.ard_cosmicweb_stage_train, run, where, None, label, val, test, no_index,
                balanced, knobs, latent)


def cosmicweb_predict(self, model=None, run=None, where=None, no_index=False, threads=None,
                      latent=None, **reach):
    """Classifies the selected galaxies with `model` (a train run id or a path; default the newest
    model) as result run `run` (ard_cosmicweb_stage_predict): results/cosmicweb-RUN-galaxies.parquet,
    the index table cosmic_web and a row of cosmicweb_runs. Returns the report as a dict (counts per
    class, balanced_accuracy against the truth when there is one, confusion). latent: the anomaly
    score run whose latents a model trained with latent= needs. reach, reach_bins, reach_mpc,
    reach_fanout, reach_randoms (optional): the reach settings expected of the model (predict
    uses the model's own; given ones that differ raise EINVAL)."""
    self._need_path("cosmicweb_predict")
    for name in reach:
        if not name.startswith("reach"):
            raise TypeError(f"cosmicweb_predict: unknown option {name!r}")
    if "reach" not in reach:
        reach["reach"] = 0  # the model's own settings, whatever they are
    return _run(self, lib.ard_cosmicweb_stage_predict, run, where, model, None, None, None,
                no_index, None, dict(reach, threads=threads), latent)


def install(dataset_class):
    dataset_class.cosmicweb_train = cosmicweb_train
    dataset_class.cosmicweb_predict = cosmicweb_predict
