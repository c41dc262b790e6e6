"""ard.generate and ard.ingest_desi (python/ard/survey.py) against the CLI (run by survey.sh with
ARD_LIBRARY, PYTHONPATH, ARD_TEST_BIN, ARD_TEST_SHARED set): a dataset written from Python is
byte for byte the one `ard generate` / `ard ingest desi` writes with the same options, the report
counts what is on disk, and bad input raises the status's exception class without touching what
is already there."""
import filecmp
import glob
import os
import subprocess
import tempfile
import unittest

import ard

SAMPLES = os.path.join(os.environ.get("ARD_TEST_SHARED", ""), "desi-samples")
COADD = os.path.join(SAMPLES, "coadd-4-80613-thru20210324.fits")
REDROCK = os.path.join(SAMPLES, "redrock-4-80613-thru20210324.fits")


def cli(*args):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([os.environ["ARD_TEST_BIN"], *args], env=env, capture_output=True,
                       text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"ard {' '.join(args)}: rc {r.returncode}: {r.stderr}")
    return r


def files(root):
    return sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "**", "*"),
                                                               recursive=True)
                  if os.path.isfile(p))


class Same(unittest.TestCase):
    def assert_same_tree(self, a, b):
        fa, fb = files(a), files(b)
        self.assertTrue(fa)
        self.assertEqual(fa, fb)
        _, mismatch, errors = filecmp.cmpfiles(a, b, fa, shallow=False)
        self.assertEqual(mismatch, [])
        self.assertEqual(errors, [])


class Generate(Same):
    def test_same_bytes_as_cli_and_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            py, sh = os.path.join(tmp, "py"), os.path.join(tmp, "cli")
            rep = ard.generate(py, galaxies=400, seed=9, threads=2, lss_cells=32,
                               spectra_fraction=0.5, grid="log1024")
            cli("generate", sh, "--galaxies", "400", "--seed", "9", "--threads", "1",
                "--lss-cells", "32", "--spectra", "0.5", "--grid", "log1024", "--quiet")
            self.assert_same_tree(py, sh)
            tiles = glob.glob(os.path.join(py, "tiles", "**", "*.parquet"), recursive=True)
            self.assertEqual(rep["galaxies"], 400)
            self.assertEqual(sum(rep["class_counts"].values()), 400)
            self.assertEqual(set(rep["class_counts"]), {"BGS", "LRG", "ELG", "QSO"})
            self.assertEqual(rep["tiles"], len(tiles))
            self.assertTrue(0 < rep["spectra"] < 400)  # half of the pixels
            self.assertEqual(rep["catalog_files"],
                             len(glob.glob(os.path.join(py, "catalog", "*.parquet"))))
            on_disk = sum(os.path.getsize(os.path.join(py, f)) for f in files(py))
            self.assertLessEqual(rep["bytes_written"], on_disk)
            self.assertGreater(rep["bytes_written"], 0)
            # the index sees the spectra the report counts, on the grid asked for
            cli("sync", py, "--quiet")
            q = ard.Dataset(py).query("1 = 1", columns=["Z"])
            self.assertEqual(len(q["TARGETID"]), 400)
            self.assertEqual(ard.Dataset(py).fetch("1 = 1")["FLUX"].shape, (rep["spectra"], 1024))

    def test_region_and_options(self):
        with tempfile.TemporaryDirectory() as tmp:
            py, sh = os.path.join(tmp, "py"), os.path.join(tmp, "cli")
            rep = ard.generate(py, region=(180.0, 0.0, 0.4), lss=False, seed=3,
                               spectra_fraction=0.0, group_fraction=0.2, buffered_io=True)
            cli("generate", sh, "--region", "180,0,0.4", "--no-lss", "--seed", "3",
                "--spectra", "none", "--group-fraction", "0.2", "--buffered-io", "--quiet")
            self.assert_same_tree(py, sh)
            self.assertGreater(rep["galaxies"], 0)  # the DR1 count of the cap
            self.assertEqual(rep["spectra"], 0)
            self.assertEqual(rep["tiles"], 0)
            self.assertFalse(os.path.exists(os.path.join(py, "tiles")) and
                             glob.glob(os.path.join(py, "tiles", "**", "*.parquet"),
                                       recursive=True))

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "a")
            ard.generate(out, galaxies=200, lss=False, spectra_fraction=0.0)
            before = {f: os.path.getmtime(os.path.join(out, f)) for f in files(out)}
            with self.assertRaises(ard.EEXIST) as cm:
                ard.generate(out, galaxies=200, lss=False)
            self.assertIn(os.path.basename(out), str(cm.exception))
            self.assertEqual(before, {f: os.path.getmtime(os.path.join(out, f))
                                      for f in files(out)})
            with self.assertRaises(ard.EINVAL):
                ard.generate(os.path.join(tmp, "b"), galaxies=-5)
            with self.assertRaises(ard.EINVAL):
                ard.generate(os.path.join(tmp, "c"), galaxies=10, lss_cells=3)
            with self.assertRaises(ard.EINVAL) as cm:
                ard.generate(os.path.join(tmp, "d"), galaxies=10, grid="nonsense")
            self.assertIn("nonsense", str(cm.exception))
            with self.assertRaises(TypeError):
                ard.generate(os.path.join(tmp, "e"), galaxies=10, galaxy=10)
            with self.assertRaises(TypeError):
                ard.generate(os.path.join(tmp, "f"), galaxies=10, region=(1.0, 2.0))
            with self.assertRaises(TypeError):
                ard.generate(None, galaxies=10)
            for d in "bcdef":
                self.assertFalse(glob.glob(os.path.join(tmp, d, "**", "*.parquet"),
                                           recursive=True), d)


@unittest.skipUnless(os.path.exists(COADD) and os.path.exists(REDROCK),
                     f"SKIPPED: no DESI samples in {SAMPLES}")
class Ingest(Same):
    def test_same_bytes_as_cli_and_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            py, sh = os.path.join(tmp, "py"), os.path.join(tmp, "cli")
            rep = ard.ingest_desi(py, [COADD, REDROCK], threads=2, grid="log1024")
            cli("ingest", "desi", sh, COADD, REDROCK, "--threads", "1", "--grid", "log1024",
                "--quiet")
            self.assert_same_tree(py, sh)
            self.assertEqual(rep["files"], 1)
            self.assertGreater(rep["spectra"], 0)
            self.assertEqual(rep["with_redshift"], rep["spectra"])
            self.assertEqual(rep["tiles"], len(glob.glob(os.path.join(py, "tiles", "**",
                                                                      "*.parquet"),
                                                         recursive=True)))

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(ard.ENOENT) as cm:
                ard.ingest_desi(os.path.join(tmp, "a"), os.path.join(tmp, "no-such-coadd.fits"))
            self.assertIn("no-such-coadd.fits", str(cm.exception))
            junk = os.path.join(tmp, "coadd-junk.fits")
            with open(junk, "wb") as f:
                f.write(b"SIMPLE  =   this is not FITS" * 10)
            with self.assertRaises(ard.ECORRUPT) as cm:
                ard.ingest_desi(os.path.join(tmp, "b"), [junk])
            self.assertIn("coadd-junk.fits", str(cm.exception))
            with self.assertRaises(ValueError):
                ard.ingest_desi(os.path.join(tmp, "c"), [])


if __name__ == "__main__":
    unittest.main()
