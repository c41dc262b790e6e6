"""The FoF stage from Python (run by fof.sh with ARD_LIBRARY, PYTHONPATH, ARD_TEST_BIN set):
Dataset.fof gives the same groups as `ard fof` on the same survey and predicate, records its run
(Dataset.results("fof")), refuses a run id already used, and Dataset.sync follows the datasheet
rule (DATA_README.md written when the index changed, left alone otherwise)."""
import json
import os
import sqlite3
import tempfile
import unittest

import numpy as np

import ard
from test_binding import run_cli


class Fof(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.ds_dir = os.path.join(cls.tmp.name, "survey")
        run_cli("generate", cls.ds_dir, "--galaxies", "4000", "--seed", "7", "--spectra", "none",
                "--quiet")
        cls.ds = ard.Dataset(cls.ds_dir)
        cls.synced = cls.ds.sync()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_sync_writes_the_datasheet_when_the_index_changed(self):
        readme = os.path.join(self.ds_dir, "DATA_README.md")
        self.assertEqual(self.synced["datasheet"], readme)
        self.assertTrue(os.path.getsize(readme) > 0)
        again = self.ds.sync()
        self.assertEqual(again["files_added"], 0)
        self.assertIsNone(again["datasheet"])  # unchanged index: same bytes, not rewritten

    def test_same_groups_as_the_cli(self):
        cli = json.loads(run_cli("fof", self.ds_dir, "--where", "ZWARN = 0", "--run-id", "cli",
                                 "--json").stdout)
        db = sqlite3.connect(os.path.join(self.ds_dir, "ard.db"))
        cli_groups = dict(db.execute("SELECT targetid, group_id FROM galaxy_groups"))
        db.close()
        seen = []
        py = self.ds.fof(where="ZWARN = 0", run_id="py",
                         progress=lambda phase, f: seen.append(phase))
        self.assertEqual(py["run_id"], "py")
        for key in ("galaxies", "groups", "grouped", "skipped"):
            self.assertEqual(py[key], cli[key], key)
        self.assertGreater(py["groups"], 10)
        self.assertEqual(json.loads(py["params_json"]), cli["params"])
        self.assertEqual(py["score"]["bijective"], cli["truth"]["bijective"])
        labels = py["labels"]
        self.assertEqual(len(labels["TARGETID"]), py["galaxies"])
        self.assertEqual(labels["GROUP_ID"].dtype, np.int64)
        self.assertEqual(int(np.count_nonzero(labels["GROUP_ID"])), py["grouped"])
        got = dict(zip(labels["TARGETID"].tolist(), labels["GROUP_ID"].tolist()))
        for tid, gid in cli_groups.items():  # the CLI's run, as the index held it before ours
            self.assertEqual(got.get(tid, 0), gid, tid)
        self.assertTrue({"load", "link", "write"} <= set(seen), seen)
        runs = self.ds.results("fof")
        self.assertEqual(runs["RUN_ID"].tolist()[-2:], ["cli", "py"])
        self.assertTrue(os.path.exists(os.path.join(self.ds_dir, "results",
                                                    "fof-py-galaxies.parquet")))
        with self.assertRaises(ard.EEXIST):
            self.ds.fof(where="ZWARN = 0", run_id="py")

    def test_options_and_refusals(self):
        dry = self.ds.fof(write_results=False, mode="isotropic", b=0.2, threads=1)
        self.assertEqual(dry["mode"], "isotropic")
        self.assertEqual(dry["written"], 0)
        self.assertGreater(dry["groups"], 0)
        with self.assertRaises(ard.EINVAL):
            self.ds.fof(write_results=False, not_a_parameter=1)
        with self.assertRaises(ard.EINVAL):
            self.ds.fof(write_results=False, mode="sideways")
        with self.assertRaises(ard.EPERM):
            self.ds.fof(where="Z > 0; DROP TABLE galaxies", write_results=False)


if __name__ == "__main__":
    unittest.main()
