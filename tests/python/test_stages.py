"""The stage calls of python/ard/stages.py against the library and the CLI (run by stages.sh with
ARD_LIBRARY, PYTHONPATH, ARD_TEST_DATASET, ARD_TEST_BIN set): ard.fetch_run writes what `ard fetch`
writes, ard.parquet_rewrite keeps every value of a tile under another codec, ard.stream_serve
serves every spectrum once to ard.connect_stream in another thread and stops on its Event; bad
input raises the status's exception class."""
import ctypes
import glob
import os
import subprocess
import tempfile
import threading
import time
import unittest

import numpy as np

import ard
from ard import _lib

DS = os.environ["ARD_TEST_DATASET"]
TILES = sorted(glob.glob(os.path.join(DS, "tiles", "**", "*.parquet"), recursive=True))
ROWS, WIDTH = 150, 512
ALL_IDS = sorted((t + 1) * 10000000 + r for t in range(len(TILES)) for r in range(ROWS))


def cli(*args):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return subprocess.run([os.environ["ARD_TEST_BIN"], *args], env=env, capture_output=True,
                          text=True, check=False)


def flux_matrix(path, rg=0):
    err = _lib.ErrorStruct()
    f = ctypes.c_void_p()
    _lib.check(_lib.lib.ard_parquet_open(path.encode(), None, ctypes.byref(f), ctypes.byref(err)),
               err)
    m = _lib.F32Matrix()
    try:
        leaf = _lib.lib.ard_parquet_find_leaf(f, b"FLUX.list.element")
        _lib.check(_lib.lib.ard_parquet_read_f32_matrix(f, rg, leaf, ctypes.byref(m),
                                                        ctypes.byref(err)), err)
        n = m.rows * m.width
        vals = np.ctypeslib.as_array(m.values, shape=(n,)).copy()
        return vals.reshape(m.rows, m.width)
    finally:
        _lib.lib.ard_pq_matrix_reset(ctypes.byref(m))
        _lib.lib.ard_parquet_close(f)


class Fetch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = cli("sync", DS)
        if r.returncode != 0:
            raise RuntimeError(f"ard sync: {r.stderr}")

    def test_fetch_run_equals_cli(self):
        ids = [ALL_IDS[3], ALL_IDS[160], ALL_IDS[-1]]
        with tempfile.TemporaryDirectory() as tmp:
            rep = ard.fetch_run(DS, os.path.join(tmp, "py.npy"), targetids=ids, threads=2)
            self.assertEqual(rep["rows"], 3)
            self.assertEqual(rep["query"]["spectra"], 3)
            self.assertEqual(rep["query"]["files"], 3)
            idfile = os.path.join(tmp, "ids.txt")
            with open(idfile, "w", encoding="utf-8") as f:
                f.write("".join(f"{i}\n" for i in ids))
            r = cli("fetch", DS, "--targetids", idfile, "--out", os.path.join(tmp, "cli.npy"))
            self.assertEqual(r.returncode, 0, r.stderr)
            py, ref = np.load(os.path.join(tmp, "py.npy")), np.load(os.path.join(tmp, "cli.npy"))
            self.assertEqual(py.shape, (3, WIDTH))
            self.assertTrue(np.array_equal(py.view(np.uint32), ref.view(np.uint32)))
            self.assertEqual(sorted(np.load(os.path.join(tmp, "py.TARGETID.npy")).tolist()), ids)

    def test_fetch_run_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(ard.EINVAL):  # the ending tells no format
                ard.fetch_run(DS, os.path.join(tmp, "x.txt"), targetids=[ALL_IDS[0]])
            with self.assertRaises(ValueError):
                ard.fetch_run(DS, os.path.join(tmp, "x.npy"), targetids=[ALL_IDS[0]], fmt="csv")
            self.assertFalse(os.path.exists(os.path.join(tmp, "x.txt")))


class Rewrite(unittest.TestCase):
    def test_rewrite_keeps_values(self):
        notices = []
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "z.parquet")
            rep = ard.parquet_rewrite(TILES[0], out, codec="zstd", rows_per_row_group=64,
                                      on_notice=notices.append)
            self.assertEqual(rep["rows"], ROWS)
            self.assertEqual(rep["columns"], 4)  # TARGETID, FLUX, IVAR, MASK
            self.assertGreater(rep["row_groups_in"], 1)
            a, b = flux_matrix(TILES[0], 1), flux_matrix(out, 1)
            self.assertEqual(a.shape, b.shape)
            self.assertTrue(np.array_equal(a.view(np.uint32), b.view(np.uint32)))
            self.assertEqual(rep["logical_types_dropped"], len(notices))

    def test_rewrite_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(ard.ENOENT):
                ard.parquet_rewrite(os.path.join(tmp, "missing.parquet"),
                                    os.path.join(tmp, "o.parquet"))
            with self.assertRaises(ValueError):
                ard.parquet_rewrite(TILES[0], os.path.join(tmp, "o.parquet"), codec="lzo")
            self.assertFalse(os.path.exists(os.path.join(tmp, "o.parquet")))


class Serve(unittest.TestCase):
    def _serve(self, name, **kw):
        out, started = {}, threading.Event()

        def run():
            try:
                out["report"] = ard.stream_serve(DS, name, on_started=lambda r: (
                    out.__setitem__("started", r), started.set()), **kw)
            except ard.Error as e:
                out["error"] = e
            finally:
                started.set()

        t = threading.Thread(target=run)
        t.start()
        self.assertTrue(started.wait(60))
        return t, out

    def test_serve_every_spectrum_once(self):
        name = f"ard-pystage-{os.getpid()}"
        t, out = self._serve(name, batch_size=40, prefetch=3)
        self.assertNotIn("error", out)
        self.assertEqual(out["started"]["rows_per_epoch"], len(ALL_IDS))
        ids = []
        with ard.connect_stream(name) as stream:
            for b in stream.iter_batches():
                ids.extend(int(x) for x in b["TARGETID"])
        t.join(60)
        self.assertFalse(t.is_alive())
        self.assertEqual(sorted(ids), ALL_IDS)
        self.assertEqual(len(ids), len(ALL_IDS))
        self.assertEqual(out["report"]["batches_per_epoch"], (len(ALL_IDS) + 39) // 40)
        self.assertEqual(out["report"]["interrupted"], 0)

    def test_serve_stops_on_event(self):
        stop = threading.Event()
        t, out = self._serve(f"ard-pystop-{os.getpid()}", batch_size=10, prefetch=2, stop=stop)
        time.sleep(0.2)  # nobody consumes: the serve waits
        self.assertTrue(t.is_alive())
        stop.set()
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertIsInstance(out.get("error"), ard.EIO)

    def test_serve_errors(self):
        with self.assertRaises(ard.Error):  # no such dataset
            ard.stream_serve(os.path.join(DS, "no-such"), f"ard-pyerr-{os.getpid()}")


if __name__ == "__main__":
    unittest.main()
