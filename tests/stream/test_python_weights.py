"""Per-pixel weights and rest-frame tokens through the Python binding, checked against a plain numpy
re-implementation of the rules in stream.h (run by python_weights.sh):
- weights = IVAR x scale^2 (float64, cast to float32) where the pixel is valid (non-null, finite,
  IVAR > 0), 0 elsewhere and in the padding, bit for bit; views on shared memory;
- rest frame: shift = rint((log10(1+zmax) - log10(1+Z)) / dloglam), rest bin j = observed bin
  j - shift, masked where the spectrum does not reach; Z NULL / -1 -> all masked + ARD_SPEC_NO_Z;
  Z beyond zmax or below zmin -> cut at the grid's edges; tokens equal a numpy tokenizer."""
import ctypes
import glob
import os
import re
import sqlite3
import subprocess
import tempfile
import unittest

import numpy as np

import ard
from ard import _lib

DS = os.environ["ARD_TEST_DATASET"]
FLT_MAX = np.finfo(np.float32).max
SPEC_ALL_MASKED, SPEC_NO_Z = 1, 4


def load_spectra(ds):
    spectra = {}
    for path in sorted(glob.glob(os.path.join(ds, "tiles", "**", "*.parquet"), recursive=True)):
        ids = []
        for b in ard.Dataset(items=[(path, rg, 0, -1) for rg in range(rowgroups(path))]).iter_batches(batch_size=4096):
            ids.extend(int(x) for x in b["targetid"])
        rows = read_rows(path)
        assert len(rows) == len(ids)
        for tid, row in zip(ids, rows):
            spectra[tid] = row
    return spectra


def rowgroups(path):
    err = _lib.ErrorStruct()
    f = ctypes.c_void_p()
    _lib.check(_lib.lib.ard_parquet_open(path.encode(), None, ctypes.byref(f), ctypes.byref(err)), err)
    n = 0
    try:
        m = _lib.F32Matrix()
        leaf = _lib.lib.ard_parquet_find_leaf(f, b"FLUX.list.element")
        while _lib.lib.ard_parquet_read_f32_matrix(f, n, leaf, ctypes.byref(m), ctypes.byref(err)) == 0:
            _lib.lib.ard_pq_matrix_reset(ctypes.byref(m))
            n += 1
    finally:
        _lib.lib.ard_parquet_close(f)
    return n


def read_rows(path):
    """[(flux, ivar, valid)] of every row of a tile in file order."""
    err = _lib.ErrorStruct()
    f = ctypes.c_void_p()
    _lib.check(_lib.lib.ard_parquet_open(path.encode(), None, ctypes.byref(f), ctypes.byref(err)), err)
    rows = []
    try:
        for rg in range(rowgroups(path)):
            mats = []
            for col in ("FLUX", "IVAR"):
                m = _lib.F32Matrix()
                leaf = _lib.lib.ard_parquet_find_leaf(f, f"{col}.list.element".encode())
                _lib.check(_lib.lib.ard_parquet_read_f32_matrix(f, rg, leaf, ctypes.byref(m), ctypes.byref(err)), err)
                n = m.rows * m.width
                vals = np.ctypeslib.as_array(m.values, shape=(n,)).reshape(m.rows, m.width).copy()
                bits = np.ones((m.rows, m.width), bool)
                if m.validity:
                    bits = np.unpackbits(np.ctypeslib.as_array(m.validity, shape=((n + 7) // 8,)),
                                         bitorder="little")[:n].reshape(m.rows, m.width).astype(bool)
                if m.row_validity:
                    ok = np.unpackbits(np.ctypeslib.as_array(m.row_validity, shape=((m.rows + 7) // 8,)),
                                       bitorder="little")[:m.rows].astype(bool)
                    bits &= ok[:, None]
                mats.append((vals, bits))
                _lib.lib.ard_pq_matrix_reset(ctypes.byref(m))
            (fl, fb), (iv, ib) = mats
            rows.extend((fl[i], iv[i], fb[i] & ib[i]) for i in range(fl.shape[0]))
    finally:
        _lib.lib.ard_parquet_close(f)
    return rows


def valid_pixels(flux, ivar, bits):
    with np.errstate(invalid="ignore"):
        return bits & np.isfinite(flux) & np.isfinite(ivar) & (ivar > 0)


def numpy_weights(ivar, ok, scales, patch):
    npch = len(scales)
    pad = np.zeros(npch * patch, np.float64)
    pad[:len(ivar)] = np.where(ok, ivar, 0).astype(np.float64)
    s2 = np.repeat(scales.astype(np.float64) ** 2, patch)
    w = np.minimum(pad * s2, float(FLT_MAX))
    okp = np.zeros(npch * patch, bool)
    okp[:len(ok)] = ok
    return np.where(okp, w, 0).astype(np.float32).reshape(npch, patch)


def numpy_tokens(flux, ok, patch, floor=1e-6):
    """ard's median mode in numpy (tolerance check): per-patch median, else the robust scale."""
    n = len(flux)
    npch = -(-n // patch)
    f = np.full(npch * patch, np.nan)
    f[:n] = np.where(ok, flux, np.nan)
    okp = ~np.isnan(f)
    f = f.reshape(npch, patch)
    counts = okp.reshape(npch, patch).sum(axis=1)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            med = np.nanmedian(f, axis=1)
        robust = np.median(np.abs(flux[ok])) if ok.any() else 1.0
    robust = robust if robust > floor else 1.0
    use = (counts >= patch // 4) & (med > floor)
    scale = np.where(use, med, robust)
    scale = np.where(counts == 0, 1.0, scale)  # a patch without a valid pixel keeps scale 1
    return np.where(okp.reshape(npch, patch), f / scale[:, None], 0), scale


class Weights(unittest.TestCase):
    def test_weights_equal_numpy(self):
        spectra = load_spectra(DS)
        stream = ard.Dataset(DS).open_stream(batch_size=40, prefetch_batches=3, weights=True,
                                             shuffle=True, seed=3)
        whole = np.ctypeslib.as_array((ctypes.c_uint8 * stream.size).from_address(stream.base))
        self.assertEqual(stream.columns, [("weights", "<f4")])
        seen = zeros = masked_rows = 0
        for b in stream.iter_batches():
            w = b["weights"]
            self.assertEqual(w.shape, b["tokens"].shape)
            self.assertTrue(np.shares_memory(w, whole))
            for i, tid in enumerate(b["targetid"]):
                flux, ivar, bits = spectra[int(tid)]
                ok = valid_pixels(flux, ivar, bits)
                want = numpy_weights(ivar, ok, b["scales"][i], b["tokens"].shape[2])
                self.assertTrue(np.array_equal(w[i].view(np.uint32), want.view(np.uint32)), int(tid))
                # a zero weight is exactly an invalid pixel (the IVAR is > 0 wherever valid)
                self.assertTrue(np.all((w[i].ravel()[:len(ok)] > 0) == ok))
                zeros += int((~ok).sum())
                masked_rows += int(b["flags"][i] & SPEC_ALL_MASKED != 0)
            seen += len(b["targetid"])
        stream.close()
        self.assertEqual(seen, len(spectra))
        self.assertGreater(zeros, 0)        # the fixture has nulls and IVAR = 0 pixels
        self.assertGreater(masked_rows, 0)  # and all-masked rows (weights all 0)

    def test_without_weights_no_column(self):
        b = next(ard.Dataset(DS).iter_batches(batch_size=8))
        self.assertNotIn("weights", b)


class RestFrame(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.ds = os.path.join(cls.tmp.name, "ds")
        ard_bin = os.environ["ARD_TEST_BIN"]
        subprocess.run([ard_bin, "generate", cls.ds, "--galaxies", "120", "--seed", "7", "--quiet"],
                       check=True, env=env)
        subprocess.run([ard_bin, "sync", cls.ds], check=True, env=env, capture_output=True)
        db = sqlite3.connect(os.path.join(cls.ds, "ard.db"))
        ids = [r[0] for r in db.execute("SELECT targetid FROM galaxies ORDER BY targetid")]
        # adversarial redshifts: NULL, -1 (invalid), beyond zmax, below zmin, exactly the bounds
        edits = [(None, ids[0]), (-1.0, ids[1]), (3.0, ids[2]), (-0.5, ids[3]), (0.0, ids[4]),
                 (1.6, ids[5]), (float("nan"), ids[6]), (1.5999, ids[7])]
        db.executemany("UPDATE galaxies SET z = ? WHERE targetid = ?", edits)
        db.commit()
        cls.z = {tid: (np.nan if z is None else z) for tid, z in
                 db.execute("SELECT targetid, z FROM galaxies")}
        db.close()
        cls.spectra = load_spectra(cls.ds)
        tile = sorted(glob.glob(os.path.join(cls.ds, "tiles", "**", "*.parquet"), recursive=True))[0]
        m = re.search(rb"kind=log;start=([0-9.eE+-]+);stop=([0-9.eE+-]+);n=([0-9]+)",
                      open(tile, "rb").read())
        cls.grid = {"start": m.group(1).decode(), "stop": m.group(2).decode(), "n": m.group(3).decode()}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_rest_tokens_and_weights_equal_numpy(self):
        zmin, zmax, patch = 0.0, 1.6, 64
        start, stop, n = float(self.grid["start"]), float(self.grid["stop"]), int(self.grid["n"])
        d = np.log10(stop / start) / (n - 1)
        n_rest = n + int(np.ceil((np.log10(1 + zmax) - np.log10(1 + zmin)) / d - 1e-9))
        npch = -(-n_rest // patch)
        stream = ard.Dataset(self.ds).open_stream(batch_size=25, prefetch_batches=3, weights=True,
                                                  frame="rest", rest_z=(zmin, zmax), columns=["SPECTYPE"])
        self.assertEqual([c[0] for c in stream.columns], ["SPECTYPE", "Z", "weights"])
        seen = no_z = cut = 0
        for b in stream.iter_batches():
            self.assertEqual(b["tokens"].shape[1:], (npch, patch))
            lo = np.log10(start) - np.log10(1 + zmax)
            centres = [(p * patch + min(p * patch + patch - 1, n_rest - 1)) / 2 for p in range(npch)]
            np.testing.assert_allclose(b["wave"], 10 ** (lo + d * np.array(centres)), rtol=2e-7)
            for i, tid in enumerate(b["targetid"]):
                tid = int(tid)
                z = self.z[tid]
                if not np.isnan(z):
                    self.assertEqual(float(b["Z"][i]), z)
                flux, ivar, bits = self.spectra[tid]
                ok = valid_pixels(flux, ivar, bits)
                rf = np.full(n_rest, np.nan, np.float32)
                rv = np.full(n_rest, np.nan, np.float32)
                rok = np.zeros(n_rest, bool)
                if np.isfinite(z) and z > -1:
                    s = int(np.rint((np.log10(1 + zmax) - np.log10(1 + z)) / d))
                    src = np.arange(n_rest) - s
                    inside = (src >= 0) & (src < n)
                    rf[inside], rv[inside], rok[inside] = flux[src[inside]], ivar[src[inside]], ok[src[inside]]
                    cut += int(inside.sum() < n)
                    if z in (0.0, zmax):
                        # grid edges: zmax at bin 0, zmin within the last bin of slack
                        self.assertTrue(s == 0 if z == zmax else n_rest - n - 1 <= s <= n_rest - n)
                else:
                    self.assertTrue(b["flags"][i] & SPEC_NO_Z)
                    self.assertTrue(b["flags"][i] & SPEC_ALL_MASKED)
                    no_z += 1
                self.assertTrue(np.all(b["weights"][i].ravel()[:n_rest][~rok] == 0))
                want_w = numpy_weights(rv, rok, b["scales"][i], patch)
                self.assertTrue(np.array_equal(b["weights"][i].view(np.uint32), want_w.view(np.uint32)), tid)
                if rok.any():
                    tok, scale = numpy_tokens(rf, rok, patch)
                    np.testing.assert_allclose(b["scales"][i], scale, rtol=1e-6)
                    np.testing.assert_allclose(b["tokens"][i], tok, rtol=1e-5, atol=1e-6)
                    has = np.zeros(npch * patch, bool)
                    has[:n_rest] = rok
                    self.assertTrue(np.array_equal(b["mask"][i] != 0, has.reshape(npch, patch).any(axis=1)))
                else:
                    self.assertTrue(np.all(b["tokens"][i] == 0) and np.all(b["mask"][i] == 0))
            seen += len(b["targetid"])
        stream.close()
        self.assertEqual(seen, len(self.spectra))
        self.assertEqual(no_z, 3)   # NULL, NaN and -1
        self.assertGreaterEqual(cut, 2)  # z = 3 (red end cut) and z = -0.5 (blue end cut)

    def test_bad_rest_options(self):
        with self.assertRaises(ard.Error) as cm:
            next(ard.Dataset(self.ds).iter_batches(frame="rest", rest_z=(0.5, 0.1)))
        self.assertEqual(cm.exception.name, "ARD_EINVAL")
        with self.assertRaises(ValueError):
            next(ard.Dataset(self.ds).iter_batches(frame="sideways"))
        with self.assertRaises(ard.Error) as cm:  # rest frame without an index: Z is unavailable
            next(ard.Dataset(DS).iter_batches(frame="rest"))
        self.assertIn(cm.exception.name, ("ARD_ENOENT", "ARD_EINVAL"))


if __name__ == "__main__":
    unittest.main()
