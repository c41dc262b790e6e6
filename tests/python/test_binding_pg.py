"""Dataset(path, dsn=PostgreSQL) against Dataset(path) on SQLite (run by binding_pg.sh with
ARD_TEST_PG_DSN set): sync reports, every catalog column (types, values bit for bit, NULL masks),
by-TARGETID reads and fetched spectra are the same on both backends."""
import os
import unittest

import numpy as np

import ard
from test_binding import run_cli


class Backends(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ds_dir = os.path.join(os.environ["ARD_TEST_DATASET"], "..", "survey")
        run_cli("generate", cls.ds_dir, "--galaxies", "300", "--seed", "5", "--quiet")
        cls.pg = ard.Dataset(cls.ds_dir, dsn=os.environ["ARD_TEST_PG_DSN"])
        cls.lite = ard.Dataset(cls.ds_dir)
        cls.pg_sync, cls.lite_sync = cls.pg.sync(), cls.lite.sync()

    def test_sync_reports_agree(self):
        for key in ("files_seen", "files_added", "files_failed", "spectra_rows", "galaxy_rows"):
            self.assertEqual(self.pg_sync[key], self.lite_sync[key], key)
        self.assertEqual(self.pg_sync["galaxy_rows"], 300)

    def assert_same_columns(self, a, b):
        self.assertEqual(list(a), list(b))
        for k in a:
            self.assertEqual(a[k].dtype, b[k].dtype, k)
            self.assertEqual(isinstance(a[k], np.ma.MaskedArray),
                             isinstance(b[k], np.ma.MaskedArray), k)
            self.assertEqual(np.ma.getmaskarray(a[k]).tolist(), np.ma.getmaskarray(b[k]).tolist())
            if a[k].dtype == np.float64:
                self.assertTrue(np.array_equal(np.ma.getdata(a[k]), np.ma.getdata(b[k]),
                                               equal_nan=True), k)
            else:
                self.assertEqual(np.ma.getdata(a[k]).tolist(), np.ma.getdata(b[k]).tolist(), k)

    def test_query_same_on_both_backends(self):
        self.assert_same_columns(self.pg.query(), self.lite.query())
        where = "Z > 0.5 AND SPECTYPE = 'GALAXY'"
        a = self.pg.query(where, columns=["Z", "ZERR", "FLUX_R"])
        self.assertGreater(len(a["TARGETID"]), 0)
        self.assert_same_columns(a, self.lite.query(where, columns=["Z", "ZERR", "FLUX_R"]))
        ids = list(self.lite.query(limit=5)["TARGETID"]) + [42]
        self.assert_same_columns(self.pg.query(targetids=ids), self.lite.query(targetids=ids))

    def test_fetch_same_on_both_backends(self):
        a, b = self.pg.fetch("Z > 0.8"), self.lite.fetch("Z > 0.8")
        self.assertEqual(list(a), list(b))
        self.assertGreater(len(a["TARGETID"]), 0)
        for k in a:
            self.assertTrue(np.array_equal(a[k], b[k], equal_nan=True), k)

    def test_errors_same_class(self):
        for ds in (self.pg, self.lite):
            with self.assertRaises(ard.EDB):
                ds.query("NOT_A_COLUMN > 1")
            with self.assertRaises(ard.EPERM):
                ds.query("Z > 1; DELETE FROM galaxies")


if __name__ == "__main__":
    unittest.main()
