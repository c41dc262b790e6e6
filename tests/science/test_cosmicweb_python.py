"""Run by cosmicweb_python.sh: the cosmicweb stage from Python (Dataset.cosmicweb_train /
cosmicweb_predict), checked against the index and files they write."""
import json
import os
import sqlite3
import unittest

import ard

DS = os.environ["ARD_TEST_DATASET"]
KNOBS = dict(epochs=1, accum=4, k=16, fanout1=8, fanout2=4, hidden=16, threads=2)


class CosmicwebPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ds = ard.Dataset(DS)
        cls.train = cls.ds.cosmicweb_train(run="pt1", seed=3, geo=2, **KNOBS)

    def test_train_report(self):
        r = self.train
        self.assertEqual(r["run_id"], "pt1")
        self.assertTrue(r["indexed"])
        self.assertTrue(r["model_path"].endswith("models/cosmicweb-pt1.safetensors"))
        self.assertTrue(os.path.exists(r["model_path"]))
        # geo=2 reached the model: its geometric-aggregator tensors are in the file
        self.assertIn("sage1.geo", ard.load_safetensors(r["model_path"]))
        self.assertEqual(r["galaxies"], 4000)
        self.assertEqual(r["train_nodes"] + r["val_nodes"] + r["test_nodes"], 4000)
        self.assertEqual(sum(map(sum, r["test_confusion"])), r["test_nodes"])
        self.assertEqual(sum(map(sum, r["baseline_test_confusion"])), r["test_nodes"])
        self.assertEqual(r["balanced_accuracy"], r["test_balanced_accuracy"])
        self.assertGreaterEqual(r["baseline_test_balanced_accuracy"], 0.0)
        self.assertLessEqual(r["baseline_test_balanced_accuracy"], 1.0)

    def test_predict_where_writes_table(self):
        r = self.ds.cosmicweb_predict(model="pt1", run="pp1", where="target_class = 'BGS'")
        db = sqlite3.connect(os.path.join(DS, "ard.db"))
        n = db.execute("SELECT count(*) FROM galaxies WHERE z > 0 AND target_class = 'BGS'"
                       ).fetchone()[0]
        self.assertEqual(r["galaxies"], n)
        self.assertEqual(sum(r["counts"].values()), n)
        self.assertEqual(r["labelled"], n)  # generated data carry the truth
        got = dict(db.execute("SELECT class, count(*) FROM cosmic_web WHERE run_id = 'pp1'"
                              " GROUP BY class").fetchall())
        for c, name in enumerate(ard.cosmicweb.CLASSES):
            self.assertEqual(got.get(c, 0), r["counts"][name])
        summary = json.loads(db.execute("SELECT summary FROM cosmicweb_runs WHERE run_id = 'pp1'"
                                        ).fetchone()[0])
        self.assertEqual(summary["kind"], "predict")
        self.assertAlmostEqual(summary["balanced_accuracy"], r["balanced_accuracy"], places=9)
        self.assertIn("pp1", list(self.ds.results("cosmicweb")["RUN_ID"]))

    def test_reach(self):
        r = self.ds.cosmicweb_train(run="pt_reach", seed=3, reach=2, reach_mpc=30.0, reach_bins=4,
                                    reach_fanout=64, **KNOBS)
        tensors = ard.load_safetensors(r["model_path"])
        self.assertEqual(tuple(tensors["sage1.reach"].shape), (2, 8))
        self.assertEqual(tuple(tensors["sage1.weight"].shape), (16, 2 * 11 + 5 * 2))
        a = self.ds.cosmicweb_predict(model="pt_reach", run="pr1", threads=1)
        b = self.ds.cosmicweb_predict(model="pt_reach", run="pr2", threads=2, reach=2,
                                      reach_mpc=30.0, reach_bins=4, reach_fanout=64)
        self.assertEqual(a["counts"], b["counts"])
        self.assertEqual(a["confusion"], b["confusion"])
        with self.assertRaises(ard.EINVAL) as e:
            self.ds.cosmicweb_predict(model="pt_reach", reach=2, reach_mpc=20.0)
        self.assertIn("was trained with reach 2 channels", str(e.exception))
        with self.assertRaises(ard.EINVAL):
            self.ds.cosmicweb_train(run="pt_bad", reach=2, reach_mpc=-1.0, **KNOBS)
        with self.assertRaises(TypeError):
            self.ds.cosmicweb_predict(model="pt_reach", hidden=3)

    def test_narrowed_dataset_and_errors(self):
        r = self.ds.where("target_class = 'QSO'").cosmicweb_predict(model="pt1", run="pp2")
        db = sqlite3.connect(os.path.join(DS, "ard.db"))
        n = db.execute("SELECT count(*) FROM galaxies WHERE z > 0 AND target_class = 'QSO'"
                       ).fetchone()[0]
        self.assertEqual(r["galaxies"], n)
        with self.assertRaises(ard.EINVAL) as e:
            self.ds.cosmicweb_predict(model="pt1", where="z > 100")
        self.assertIn("empty selection", str(e.exception))
        with self.assertRaises(ard.ENOENT):
            self.ds.cosmicweb_predict(model="no_such_run")
        with self.assertRaises(ard.EEXIST):
            self.ds.cosmicweb_train(run="pt1", **KNOBS)
        with self.assertRaises(TypeError):
            self.ds.cosmicweb_train(run="pt9", bogus=1)


if __name__ == "__main__":
    unittest.main()
