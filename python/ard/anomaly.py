"""Anomaly detection from Python: the library's autoencoder stage (Dataset.anomaly_train /
Dataset.anomaly_score, the same calls as `ard anomaly train|score`), ard.load_safetensors (numpy
only) and a numpy forward pass of a saved model (the reference the C forward pass is tested
against).

    ds = ard.Dataset("/data/DESI-ARD")
    rep = ds.anomaly_train(epochs=10, latent=8, run="r1")   # models/anomaly-r1.safetensors
    rep = ds.anomaly_score(run="r1")       # results/anomaly-r1-scores.parquet + table anomalies
    w = ard.load_safetensors(rep["model_path"])               # {name: numpy array}
"""
import ctypes
import json
import struct

import numpy as np

from ._lib import ErrorStruct, check, lib

c_i32, c_i64, c_u64, c_f32, c_f64 = (ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64,
                                      ctypes.c_float, ctypes.c_double)
PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, c_i64, c_i64)


class AnomalyArch(ctypes.Structure):
    _ard_name_ = "ard_anomaly_arch"
    _fields_ = [("num_patches", c_i32), ("patch", c_i32), ("embed", c_i32), ("hidden", c_i32),
                ("latent", c_i32)]


class AnomalyOptions(ctypes.Structure):
    _ard_name_ = "ard_anomaly_options"
    _fields_ = [("dataset", ctypes.c_char_p), ("dsn", ctypes.c_char_p), ("where", ctypes.c_char_p),
                ("run", ctypes.c_char_p), ("arch", AnomalyArch), ("epochs", c_i32),
                ("batch_size", c_i32), ("lr", c_f32), ("seed", c_u64), ("frame", c_i32),
                ("rest_zmin", c_f64), ("rest_zmax", c_f64), ("reference", c_i32), ("knn_k", c_i32),
                ("density_weight", c_f32), ("threads", c_i32), ("loader_threads", c_i32),
                ("rank", c_i32), ("size", c_i32), ("progress", PROGRESS_FN),
                ("progress_ctx", ctypes.c_void_p), ("score_run", ctypes.c_char_p),
                ("gather", ctypes.c_void_p)]


class AnomalyReport(ctypes.Structure):
    _ard_name_ = "ard_anomaly_report"
    _fields_ = [("run", ctypes.c_char * 72), ("model_path", ctypes.c_char * 1024),
                ("scores_path", ctypes.c_char * 1024), ("spectra", c_i64), ("params", c_i64),
                ("epochs", c_i32), ("first_loss", c_f64), ("final_loss", c_f64),
                ("seconds", c_f64), ("spectra_per_second", c_f64), ("score_median", c_f64),
                ("score_p99", c_f64), ("score_max", c_f64), ("score_run", ctypes.c_char * 96)]


_vp = ctypes.c_void_p
_err = ctypes.POINTER(ErrorStruct)
for _name, _res, _args in [
        ("ard_anomaly_options_init", None, [ctypes.POINTER(AnomalyOptions)]),
        ("ard_anomaly_train", ctypes.c_int, [ctypes.POINTER(AnomalyOptions),
                                             ctypes.POINTER(AnomalyReport), _err]),
        ("ard_anomaly_score", ctypes.c_int, [ctypes.POINTER(AnomalyOptions),
                                             ctypes.POINTER(AnomalyReport), _err]),
        ("ard_anomaly_merge", ctypes.c_int, [ctypes.POINTER(AnomalyOptions),
                                             ctypes.POINTER(AnomalyReport), _err]),
        ("ard_anomaly_model_load", ctypes.c_int, [ctypes.c_char_p, c_i32, ctypes.POINTER(_vp), _err]),
        ("ard_anomaly_model_free", None, [_vp]),
        ("ard_anomaly_model_forward", ctypes.c_int,
         [_vp, ctypes.POINTER(c_f32), ctypes.POINTER(ctypes.c_uint8), ctypes.POINTER(c_f32), c_i64,
          ctypes.POINTER(c_f32), ctypes.POINTER(c_f32), ctypes.POINTER(c_f64), _err]),
        ("ard_anomaly_arch_init", None, [ctypes.POINTER(AnomalyArch)]),
        ("ard_anomaly_model_new", ctypes.c_int,
         [ctypes.POINTER(AnomalyArch), ctypes.POINTER(c_f32), c_u64, c_i32, ctypes.POINTER(_vp),
          _err]),
        ("ard_anomaly_model_save", ctypes.c_int, [_vp, ctypes.c_char_p, _err]),
        ("ard_anomaly_model_train_step", ctypes.c_int,
         [_vp, ctypes.POINTER(c_f32), ctypes.POINTER(ctypes.c_uint8), ctypes.POINTER(c_f32), c_i64,
          c_f32, ctypes.POINTER(c_f64), _err])]:
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

FRAMES = {"observed": 0, "rest": 1}

if hasattr(lib, "ard_abi_struct_size"):  # the layouts above, checked against the library
    from ._lib import check_abi
    check_abi(lib, [AnomalyArch, AnomalyOptions, AnomalyReport])


def load_safetensors(path, with_metadata=False):
    """{name: numpy array} of a safetensors file (numpy alone: 8-byte header length, JSON header,
    raw little-endian tensors). with_metadata=True returns (arrays, metadata dict)."""
    raw = open(path, "rb").read()
    if len(raw) < 8:
        raise ValueError(f"{path}: truncated safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: truncated safetensors header")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(raw)[8 + n:]
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1"}
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        if e > len(data) or b > e:
            raise ValueError(f"{path}: truncated tensor {name}")
        out[name] = np.frombuffer(data[b:e], dtype=dtypes[t["dtype"]]).reshape(t["shape"]).copy()
    return (out, meta) if with_metadata else out


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def positional_encoding(wave, embed):
    """The fixed sinusoidal encoding of the patch centres (see science.h)."""
    x = np.where(wave > 0, 1000.0 * np.log(np.where(wave > 0, wave, 1.0) / 3000.0), 0.0)
    freq = 10000.0 ** (-2.0 * np.arange(embed // 2) / embed)
    pe = np.empty((len(wave), embed))
    pe[:, 0::2] = np.sin(x[:, None] * freq)
    pe[:, 1::2] = np.cos(x[:, None] * freq)
    return pe.astype(np.float32).astype(np.float64)


def numpy_forward(w, tokens, mask=None):
    """Forward pass of a loaded model (load_safetensors) in float64: (latent [n, S], recon
    [n, num_patches * patch]). tokens [n, num_patches, patch]; mask [n, num_patches] (0 = patch
    without a valid pixel) or None."""
    t = np.asarray(tokens, np.float64)
    n, npch, _ = t.shape
    e = t @ w["embed.weight"].T.astype(np.float64) + w["embed.bias"]
    e = e + positional_encoding(w["wave"].astype(np.float64), e.shape[2])
    if mask is not None:
        e = e * (np.asarray(mask) != 0)[:, :, None]
    h1 = _gelu(e.reshape(n, -1) @ w["enc1.weight"].T + w["enc1.bias"])
    z = h1 @ w["enc2.weight"].T + w["enc2.bias"]
    h2 = _gelu(z @ w["dec1.weight"].T + w["dec1.bias"])
    return z, h2 @ w["dec2.weight"].T + w["dec2.bias"]


def c_forward(model_path, tokens, mask=None, weights=None, threads=1):
    """The library's forward pass (ard_anomaly_model_forward): (latent, recon, chi2 or None)."""
    err = ErrorStruct()
    h = ctypes.c_void_p()
    check(lib.ard_anomaly_model_load(str(model_path).encode(), threads, ctypes.byref(h),
                                     ctypes.byref(err)), err)
    try:
        t = np.ascontiguousarray(tokens, np.float32)
        n = t.shape[0]
        m = None if mask is None else np.ascontiguousarray(mask, np.uint8)
        wt = None if weights is None else np.ascontiguousarray(weights, np.float32)
        w = load_safetensors(model_path)
        latent = np.zeros((n, w["enc2.bias"].shape[0]), np.float32)
        recon = np.zeros((n, w["dec2.bias"].shape[0]), np.float32)
        chi2 = np.zeros(n, np.float64) if wt is not None else None
        f32p, u8p, f64p = ctypes.POINTER(c_f32), ctypes.POINTER(ctypes.c_uint8), ctypes.POINTER(c_f64)
        st = lib.ard_anomaly_model_forward(
            h, t.ctypes.data_as(f32p), None if m is None else m.ctypes.data_as(u8p),
            None if wt is None else wt.ctypes.data_as(f32p), n, latent.ctypes.data_as(f32p),
            recon.ctypes.data_as(f32p), None if chi2 is None else chi2.ctypes.data_as(f64p),
            ctypes.byref(err))
        check(st, err)
        return latent, recon, chi2
    finally:
        lib.ard_anomaly_model_free(h)


class Model:
    """The library's autoencoder on arrays in memory (ard_anomaly_model_*): train steps and forward
    passes on tokens from anywhere (a torch DataLoader, numpy), the same code ard_anomaly_train and
    ard_anomaly_score run per batch.

        m = ard.anomaly.Model(num_patches=64, wave=wave, latent=8, threads=2)   # or Model(path=...)
        loss = m.train_step(tokens, mask, weights, lr=2e-3)
        latent, recon, chi2 = m.forward(tokens, mask, weights)
    """

    def __init__(self, path=None, num_patches=None, wave=None, patch=64, embed=16, hidden=256,
                 latent=8, seed=1, threads=2):
        self._h = ctypes.c_void_p()
        err = ErrorStruct()
        if path is not None:
            check(lib.ard_anomaly_model_load(str(path).encode(), threads, ctypes.byref(self._h),
                                             ctypes.byref(err)), err)
            w = load_safetensors(path)
            patch, latent = w["embed.weight"].shape[1], w["enc2.bias"].shape[0]
            num_patches = w["wave"].shape[0]
        else:
            a = AnomalyArch()
            lib.ard_anomaly_arch_init(ctypes.byref(a))
            a.num_patches, a.patch, a.embed, a.hidden, a.latent = (num_patches, patch, embed,
                                                                    hidden, latent)
            wv = None if wave is None else np.ascontiguousarray(wave, np.float32)
            check(lib.ard_anomaly_model_new(
                ctypes.byref(a), None if wv is None else wv.ctypes.data_as(ctypes.POINTER(c_f32)),
                seed, threads, ctypes.byref(self._h), ctypes.byref(err)), err)
        self.num_patches, self.patch, self.latent = num_patches, patch, latent

    def close(self):
        if self._h:
            lib.ard_anomaly_model_free(self._h)
            self._h = ctypes.c_void_p()

    __del__ = close

    def _arrays(self, tokens, mask, weights):
        t = np.ascontiguousarray(tokens, np.float32)
        m = None if mask is None else np.ascontiguousarray(mask, np.uint8)
        w = None if weights is None else np.ascontiguousarray(weights, np.float32)
        if t.size != len(t) * self.num_patches * self.patch:
            raise ValueError(f"tokens: {self.num_patches} x {self.patch} values per spectrum needed")
        f32p, u8p = ctypes.POINTER(c_f32), ctypes.POINTER(ctypes.c_uint8)
        return (t, m, w, t.ctypes.data_as(f32p), None if m is None else m.ctypes.data_as(u8p),
                None if w is None else w.ctypes.data_as(f32p))

    def train_step(self, tokens, mask, weights, lr=2e-3):
        """One Adam step on the batch; returns the batch loss before the step."""
        keep = self._arrays(tokens, mask, weights)
        loss, err = c_f64(), ErrorStruct()
        check(lib.ard_anomaly_model_train_step(self._h, *keep[3:], len(keep[0]), lr,
                                               ctypes.byref(loss), ctypes.byref(err)), err)
        return loss.value

    def forward(self, tokens, mask=None, weights=None, recon=False):
        """(latent [n, S], recon [n, P] or None, chi2 [n] or None)."""
        keep = self._arrays(tokens, mask, weights)
        n = len(keep[0])
        z = np.zeros((n, self.latent), np.float32)
        r = np.zeros((n, self.num_patches * self.patch), np.float32) if recon else None
        chi2 = np.zeros(n, np.float64) if weights is not None else None
        f32p, f64p, err = ctypes.POINTER(c_f32), ctypes.POINTER(c_f64), ErrorStruct()
        check(lib.ard_anomaly_model_forward(
            self._h, *keep[3:], n, z.ctypes.data_as(f32p),
            None if r is None else r.ctypes.data_as(f32p),
            None if chi2 is None else chi2.ctypes.data_as(f64p), ctypes.byref(err)), err)
        return z, r, chi2

    def save(self, path):
        err = ErrorStruct()
        check(lib.ard_anomaly_model_save(self._h, str(path).encode(), ctypes.byref(err)), err)


def _options(ds, run, where, epochs, latent, hidden, embed, patch, batch_size, lr, seed, frame,
             reference, knn, density_weight, threads, loader_threads):
    o = AnomalyOptions()
    lib.ard_anomaly_options_init(ctypes.byref(o))
    sel = where or getattr(ds, "_where", None)  # a Dataset narrowed by a where clause
    sel = sel if isinstance(sel, str) else None
    keep = [str(ds.path).encode(), ds.dsn.encode() if ds.dsn else None,
            sel.encode() if sel else None, run.encode() if run else None]
    o.dataset, o.dsn, o.where, o.run = keep
    for name, value in (("latent", latent), ("hidden", hidden), ("embed", embed), ("patch", patch)):
        if value is not None:
            setattr(o.arch, name, int(value))
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr),
                        ("seed", seed), ("reference", reference), ("knn_k", knn),
                        ("density_weight", density_weight), ("threads", threads),
                        ("loader_threads", loader_threads)):
        if value is not None:
            setattr(o, name, value)
    if frame is not None:  # None: the C default (rest)
        if frame not in FRAMES:
            raise ValueError(f"frame must be one of {sorted(FRAMES)}")
        o.frame = FRAMES[frame]
    return o, keep


def _report(r):
    out = {k: getattr(r, k) for k, _ in AnomalyReport._fields_}
    for k in ("run", "model_path", "scores_path", "score_run"):
        out[k] = out[k].decode()
    return out


def anomaly_train(self, run=None, where=None, epochs=None, latent=None, hidden=None, embed=None,
                  patch=None, batch_size=None, lr=None, seed=None, frame=None,
                  reference=None, knn=None, density_weight=None, threads=None,
                  loader_threads=None):
    """Trains the autoencoder (ard_anomaly_train); returns the report as a dict."""
    o, keep = _options(self, run, where, epochs, latent, hidden, embed, patch, batch_size, lr, seed,
                       frame, reference, knn, density_weight, threads, loader_threads)
    r, err = AnomalyReport(), ErrorStruct()
    check(lib.ard_anomaly_train(ctypes.byref(o), ctypes.byref(r), ctypes.byref(err)), err)
    del keep
    return _report(r)


def anomaly_score(self, run=None, where=None, threads=None, loader_threads=None, batch_size=None,
                  score_run=None, rank=0, size=1):
    """Scores the selected spectra with the model of `run` (default: the newest) as result run
    `score_run` (default: a UTC timestamp): results/anomaly-ID-scores.parquet, the index table
    anomalies and a row of anomaly_runs; returns the report. size > 1 scores part `rank` of the
    selection only (results/anomaly-ID-part-RANK-scores.parquet, no index table)."""
    o, keep = _options(self, run, where, None, None, None, None, None, batch_size, None, None,
                       None, None, None, None, threads, loader_threads)
    o.rank, o.size = rank, size
    sr = score_run.encode() if score_run else None
    o.score_run = sr
    r, err = AnomalyReport(), ErrorStruct()
    check(lib.ard_anomaly_score(ctypes.byref(o), ctypes.byref(r), ctypes.byref(err)), err)
    del keep, sr
    return _report(r)


def anomaly_merge(self, score_run, size, run=None, where=None):
    """Merges the parts of a sharded scoring run (anomaly_score(score_run=ID, rank=R, size=N) run
    as separate jobs) into one run ID with the index table anomalies (ard_anomaly_merge); run: the
    model's run (default: the newest model). Returns the report."""
    o, keep = _options(self, run, where, None, None, None, None, None, None, None, None,
                       "observed", None, None, None, None, None)
    sr = score_run.encode()
    o.score_run, o.size = sr, size
    r, err = AnomalyReport(), ErrorStruct()
    check(lib.ard_anomaly_merge(ctypes.byref(o), ctypes.byref(r), ctypes.byref(err)), err)
    del keep, sr
    return _report(r)


def install(dataset_class):
    dataset_class.anomaly_train = anomaly_train
    dataset_class.anomaly_score = anomaly_score
    dataset_class.anomaly_merge = anomaly_merge
