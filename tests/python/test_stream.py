"""Python binding tests (run by stream_numpy.sh with ARD_LIBRARY, PYTHONPATH, ARD_TEST_DATASET set):
zero copy (data pointers inside the store mapping, np.shares_memory with the mapping), every spectrum
exactly once, shuffle determinism, batches bit-equal to the C tokenizer applied to the reader's
matrices, a numpy re-implementation agreeing, connect_stream to `ard stream serve`, and catalog
columns (Z float64, SPECTYPE 'S16') as views equal to the index's values."""
import ctypes
import glob
import os
import subprocess
import time
import unittest

import numpy as np

import ard
from ard import _lib

DS = os.environ["ARD_TEST_DATASET"]
TILES = sorted(glob.glob(os.path.join(DS, "tiles", "**", "*.parquet"), recursive=True))
ROWS, WIDTH = 150, 512
ALL_IDS = sorted((t + 1) * 10000000 + r for t in range(len(TILES)) for r in range(ROWS))


def mapping_view(stream):
    return np.ctypeslib.as_array((ctypes.c_uint8 * stream.size).from_address(stream.base))


def read_matrix(path, column, rg):
    err = _lib.ErrorStruct()
    f = ctypes.c_void_p()
    _lib.check(_lib.lib.ard_parquet_open(path.encode(), None, ctypes.byref(f), ctypes.byref(err)), err)
    m = _lib.F32Matrix()
    leaf = _lib.lib.ard_parquet_find_leaf(f, f"{column}.list.element".encode())
    _lib.check(_lib.lib.ard_parquet_read_f32_matrix(f, rg, leaf, ctypes.byref(m), ctypes.byref(err)), err)
    return f, m


def c_tokenize(flux_m, ivar_m, row, patch=64):
    o = _lib.TokenizeOptions()
    _lib.lib.ard_tokenize_options_init(ctypes.byref(o))
    npch = (WIDTH + patch - 1) // patch
    tokens = np.zeros(npch * patch, np.float32)
    scales = np.zeros(npch, np.float32)
    mask = np.zeros(npch, np.uint8)
    flags = np.zeros(1, np.uint8)
    err = _lib.ErrorStruct()
    fp = ctypes.cast(ctypes.addressof(flux_m.values.contents) + row * WIDTH * 4, _lib.c_f32p)
    ip = ctypes.cast(ctypes.addressof(ivar_m.values.contents) + row * WIDTH * 4, _lib.c_f32p)
    st = _lib.lib.ard_tokenize_spectrum(
        ctypes.byref(o), fp, ip, flux_m.validity, ivar_m.validity, row * WIDTH, None, WIDTH,
        tokens.ctypes.data_as(_lib.c_f32p), scales.ctypes.data_as(_lib.c_f32p),
        mask.ctypes.data_as(_lib.c_u8p), flags.ctypes.data_as(_lib.c_u8p), None, ctypes.byref(err))
    _lib.check(st, err)
    return tokens.reshape(npch, patch), scales, mask, flags[0]


def numpy_tokenize(flux, ivar, valid, patch=64, floor=1e-6):
    """Same semantics as ard's median mode, in numpy (for a tolerance check)."""
    ok = valid & (ivar > 0) & np.isfinite(flux) & np.isfinite(ivar)
    npch = len(flux) // patch
    f = np.where(ok, flux, np.nan).reshape(npch, patch)
    counts = ok.reshape(npch, patch).sum(axis=1)
    with np.errstate(all="ignore"):
        med = np.nanmedian(f, axis=1)
        robust = np.nanmedian(np.abs(flux[ok])) if ok.any() else 1.0
    robust = robust if robust > floor else 1.0
    use = (counts >= patch // 4) & (med > floor)
    scale = np.where(use, med, robust).astype(np.float32)
    return np.where(ok.reshape(npch, patch), flux.reshape(npch, patch) / scale[:, None], 0), scale


class ZeroCopy(unittest.TestCase):
    def test_views_inside_mapping(self):
        ds = ard.Dataset(DS)
        stream = ds.open_stream(batch_size=64, prefetch_batches=4, threads=2)
        whole = mapping_view(stream)
        seen = 0
        for b in stream.iter_batches():
            for key in ("TOKENS", "SCALES", "MASK", "TARGETID", "FLAGS", "WAVE"):
                arr = b[key]
                ptr = arr.ctypes.data
                self.assertTrue(stream.base <= ptr < stream.base + stream.size, key)
                self.assertTrue(np.shares_memory(arr, whole), key)
            self.assertEqual(b["TOKENS"].dtype, np.float32)
            self.assertEqual(b["TOKENS"].shape[1:], (WIDTH // 64, 64))
            seen += len(b["TARGETID"])
        stream.close()
        self.assertEqual(seen, len(ALL_IDS))


def plain_batches(stream):
    """The plain consumer path (before per-slot views): acquire, fresh views, copy, release."""
    err = _lib.ErrorStruct()
    while True:
        b = _lib.BatchStruct()
        st = _lib.lib.ard_store_acquire(stream._m.h, -1, ctypes.byref(b), ctypes.byref(err))
        if st == _lib.STATUS_EEOF:
            return
        _lib.check(st, err)
        yield {k: v.copy() for k, v in ard._views(b, stream._m, stream.columns).items()}
        _lib.check(_lib.lib.ard_store_release(stream._m.h, ctypes.byref(b), ctypes.byref(err)), err)


class Counted:
    """Wraps a ctypes function and counts its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


class SlotViews(unittest.TestCase):
    """iter_batches reuses each slot's views and makes one libard call per batch: the batches
    equal the plain path's, bit for bit (shuffled, 2 epochs, a short last batch per epoch)."""

    def test_cached_views_equal_plain_path(self):
        kw = dict(batch_size=64, prefetch_batches=3, threads=2, shuffle=True, seed=3, epochs=2,
                  local_shuffle_buffer_size=100)
        ds = ard.Dataset(DS)
        plain = ds.open_stream(**kw)
        want = list(plain_batches(plain))
        plain.close()
        lib = ard.lib
        counters = {name: Counted(getattr(lib, name))
                    for name in ("ard_store_next", "ard_store_acquire", "ard_store_release")}
        for name, c in counters.items():
            setattr(lib, name, c)
        try:
            stream = ds.open_stream(**kw)
            got, arrays = [], {}
            for b in stream.iter_batches():
                got.append({k: v.copy() for k, v in b.items()})
                arrays[id(b["TOKENS"])] = b["TOKENS"]  # keeps the object alive: ids stay unique
            stream.close()
        finally:
            for name, c in counters.items():
                setattr(lib, name, c.fn)
        self.assertGreater(len(want), 6)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(sorted(g), sorted(w))
            for k in w:
                self.assertEqual(g[k].dtype, w[k].dtype, k)
                self.assertEqual(g[k].shape, w[k].shape, k)
                self.assertEqual(g[k].tobytes(), w[k].tobytes(), k)
        short = sum(len(w["TARGETID"]) < 64 for w in want)
        self.assertGreater(short, 0)
        # the views of full batches are built once per slot (at most 64 slots)
        self.assertLessEqual(len(arrays), min(len(want), 64 + short))
        self.assertLess(len(arrays), len(want))
        self.assertEqual(counters["ard_store_next"].calls, len(want) + 1)  # + the end of data
        self.assertEqual(counters["ard_store_acquire"].calls, 0)
        self.assertEqual(counters["ard_store_release"].calls, 0)


class Delivery(unittest.TestCase):
    def ids(self, **kw):
        out = []
        for b in ard.Dataset(DS).iter_batches(batch_size=50, **kw):
            out.extend(int(x) for x in b["TARGETID"])
        return out

    def test_every_spectrum_once(self):
        ids = self.ids()
        self.assertEqual(ids, ALL_IDS)

    def test_shuffle_deterministic(self):
        a = self.ids(shuffle=True, local_shuffle_buffer_size=100, seed=5)
        b = self.ids(shuffle=True, local_shuffle_buffer_size=100, seed=5)
        c = self.ids(shuffle=True, local_shuffle_buffer_size=100, seed=6)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        self.assertNotEqual(a, ALL_IDS)
        self.assertEqual(sorted(a), ALL_IDS)

    def test_drop_last_and_epochs(self):
        ids = self.ids(drop_last=True, epochs=2)
        per = len(ALL_IDS) // 50 * 50
        self.assertEqual(len(ids), 2 * per)

    def test_items(self):
        ds = ard.Dataset(items=[(TILES[1], 1, 3, 7)])
        ids = [int(x) for b in ds.iter_batches(batch_size=4) for x in b["TARGETID"]]
        self.assertEqual(ids, [20000000 + 64 + 3 + i for i in range(7)])

    def test_errors(self):
        with self.assertRaises(ard.Error) as cm:
            next(ard.Dataset("/nonexistent-ard").iter_batches())
        self.assertEqual(cm.exception.name, "ARD_ENOENT")
        with self.assertRaises(ard.Error):
            next(ard.Dataset(DS).iter_batches(patch=16))
        with self.assertRaises(ard.Error):
            ard.connect_stream("ard-no-such-stream")


class Reference(unittest.TestCase):
    def test_first_batch_equals_c_tokenizer(self):
        f, fm = read_matrix(TILES[0], "FLUX", 0)
        g, im = read_matrix(TILES[0], "IVAR", 0)
        try:
            it = ard.Dataset(DS).iter_batches(batch_size=32)  # keep it: the slot stays ours
            b = next(it)
            for row in range(32):
                tokens, scales, mask, flags = c_tokenize(fm, im, row)
                self.assertTrue(np.array_equal(b["TOKENS"][row].view(np.uint32), tokens.view(np.uint32)))
                self.assertTrue(np.array_equal(b["SCALES"][row].view(np.uint32), scales.view(np.uint32)))
                self.assertTrue(np.array_equal(b["MASK"][row], mask))
                self.assertEqual(int(b["FLAGS"][row]), int(flags))
                # and a numpy implementation of the same rules agrees to float rounding
                flux = np.ctypeslib.as_array(fm.values, shape=(fm.rows * WIDTH,))[row * WIDTH:(row + 1) * WIDTH]
                ivar = np.ctypeslib.as_array(im.values, shape=(im.rows * WIDTH,))[row * WIDTH:(row + 1) * WIDTH]
                bits = np.unpackbits(np.ctypeslib.as_array(fm.validity, shape=((fm.rows * WIDTH + 7) // 8,)),
                                     bitorder="little")[row * WIDTH:(row + 1) * WIDTH].astype(bool)
                nt, ns = numpy_tokenize(flux, ivar, bits)
                np.testing.assert_allclose(b["SCALES"][row], ns, rtol=1e-6)
                np.testing.assert_allclose(b["TOKENS"][row], nt, rtol=1e-5, atol=1e-7)
            it.close()
        finally:
            _lib.lib.ard_pq_matrix_reset(ctypes.byref(fm))
            _lib.lib.ard_pq_matrix_reset(ctypes.byref(im))
            _lib.lib.ard_parquet_close(f)
            _lib.lib.ard_parquet_close(g)


class Served(unittest.TestCase):
    def test_connect_stream(self):
        name = f"ard-pytest-{os.getpid()}"
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        proc = subprocess.Popen([os.environ["ARD_TEST_BIN"], "stream", "serve", DS, "--name", name,
                                 "--batch-size", "40", "--prefetch", "3"], env=env)
        try:
            stream = None
            for _ in range(200):
                try:
                    stream = ard.connect_stream(name)
                    break
                except ard.Error:
                    time.sleep(0.05)
            self.assertIsNotNone(stream)
            whole = mapping_view(stream)
            ids = []
            for b in stream.iter_batches():
                self.assertTrue(np.shares_memory(b["TOKENS"], whole))
                ids.extend(int(x) for x in b["TARGETID"])
            stream.close()
            self.assertEqual(ids, ALL_IDS)
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def test_killed_producer_is_an_error(self):
        name = f"ard-pykill-{os.getpid()}"
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        proc = subprocess.Popen([os.environ["ARD_TEST_BIN"], "stream", "serve", DS, "--name", name,
                                 "--batch-size", "10", "--prefetch", "2"], env=env)
        try:
            stream = None
            for _ in range(200):
                try:
                    stream = ard.connect_stream(name)
                    break
                except ard.Error:
                    time.sleep(0.05)
            self.assertIsNotNone(stream)
            it = stream.iter_batches()
            next(it)
            proc.kill()  # the producer dies while the consumer still wants batches
            proc.wait()
            with self.assertRaises(ard.Error) as cm:
                for _ in it:
                    pass
            self.assertEqual(cm.exception.name, "ARD_EIO")
            stream.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            try:
                os.unlink(f"/dev/shm/{name}")
            except FileNotFoundError:
                pass


class Query(unittest.TestCase):
    def test_query_through_index(self):
        import tempfile
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        ard_bin = os.environ["ARD_TEST_BIN"]
        with tempfile.TemporaryDirectory() as tmp:
            ds_dir = os.path.join(tmp, "ds")
            subprocess.run([ard_bin, "generate", ds_dir, "--galaxies", "200", "--seed", "9",
                            "--quiet"], check=True, env=env)
            subprocess.run([ard_bin, "sync", ds_dir], check=True, env=env, capture_output=True)
            out = subprocess.run([ard_bin, "query", ds_dir, "--where", "Z > 0.8", "--format",
                                  "targets"], check=True, env=env, capture_output=True, text=True)
            want = sorted(int(x) for x in out.stdout.split())
            self.assertTrue(0 < len(want) < 200)
            got = [int(x) for b in ard.Dataset(ds_dir).where("Z > 0.8").iter_batches(batch_size=16)
                   for x in b["TARGETID"]]
            self.assertEqual(sorted(got), want)
            with self.assertRaises(ard.Error) as cm:
                next(ard.Dataset(ds_dir).where("Z >").iter_batches())
            self.assertIn(cm.exception.name, ("ARD_EDB", "ARD_EINVAL"))
            # the earlier spelling query(where).iter_batches() still streams, with a warning
            with self.assertWarns(DeprecationWarning):
                old = [int(x) for b in ard.Dataset(ds_dir).query("Z > 0.8").iter_batches()
                       for x in b["TARGETID"]]
            self.assertEqual(sorted(old), want)

    def test_lower_case_batch_keys_are_deprecated_aliases(self):
        b = next(ard.Dataset(DS).iter_batches(batch_size=8))
        with self.assertWarns(DeprecationWarning):
            self.assertIs(b["targetid"], b["TARGETID"])
        self.assertEqual(sorted(b), ["FLAGS", "MASK", "SCALES", "TARGETID", "TOKENS", "WAVE"])
        with self.assertRaises(KeyError):
            b["Targetid"]


class CatalogColumns(unittest.TestCase):
    def test_columns_are_views_with_catalog_values(self):
        import sqlite3
        import tempfile
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        ard_bin = os.environ["ARD_TEST_BIN"]
        with tempfile.TemporaryDirectory() as tmp:
            ds_dir = os.path.join(tmp, "ds")
            subprocess.run([ard_bin, "generate", ds_dir, "--galaxies", "150", "--seed", "4",
                            "--quiet"], check=True, env=env)
            subprocess.run([ard_bin, "sync", ds_dir], check=True, env=env, capture_output=True)
            db = sqlite3.connect(os.path.join(ds_dir, "ard.db"))
            ref = {tid: (z, st) for tid, z, st in
                   db.execute("SELECT targetid, z, spectype FROM galaxies")}
            db.close()
            stream = ard.Dataset(ds_dir).open_stream(batch_size=32, prefetch_batches=3,
                                                     shuffle=True, seed=2,
                                                     columns=["Z", "spectype"])
            self.assertEqual(stream.columns, [("Z", "<f8"), ("SPECTYPE", "|S16")])
            whole = mapping_view(stream)
            seen = 0
            for b in stream.iter_batches():
                for key in ("Z", "SPECTYPE"):
                    arr = b[key]
                    self.assertTrue(stream.base <= arr.ctypes.data < stream.base + stream.size)
                    self.assertTrue(np.shares_memory(arr, whole), key)
                    self.assertEqual(len(arr), len(b["TARGETID"]))
                self.assertEqual(b["Z"].dtype, np.float64)
                self.assertEqual(b["SPECTYPE"].dtype, np.dtype("S16"))
                for tid, z, st in zip(b["TARGETID"], b["Z"], b["SPECTYPE"]):
                    want_z, want_st = ref[int(tid)]
                    self.assertEqual(float(z), want_z)  # exact
                    self.assertEqual(st.decode(), want_st)
                seen += len(b["TARGETID"])
            stream.close()
            self.assertEqual(seen, 150)
            with self.assertRaises(ard.Error) as cm:
                next(ard.Dataset(ds_dir).iter_batches(columns=["Z", "NOT_A_COLUMN"]))
            self.assertEqual(cm.exception.name, "ARD_EINVAL")
            self.assertIn("NOT_A_COLUMN", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
