"""Run by anomaly_python.sh: the anomaly stage from Python, ard.load_safetensors, and the C forward
pass against numpy on the stream's own batches."""
import os
import sqlite3
import unittest

import numpy as np

import ard
from ard import anomaly

DS = os.environ["ARD_TEST_DATASET"]


class AnomalyPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ds = ard.Dataset(DS)
        cls.rep = cls.ds.anomaly_train(run="py1", epochs=2, hidden=32, embed=8, latent=5,
                                       batch_size=32, reference=64, seed=3)

    def test_train_report_and_model_file(self):
        r = self.rep
        self.assertEqual(r["run"], "py1")
        self.assertEqual(r["spectra"], 160)
        self.assertTrue(r["model_path"].endswith("models/anomaly-py1.safetensors"))
        w, meta = ard.load_safetensors(r["model_path"], with_metadata=True)
        self.assertEqual(w["embed.weight"].shape, (8, 64))
        self.assertEqual(w["enc2.weight"].shape, (5, 32))
        self.assertEqual(w["ref.latent"].shape, (64, 5))
        self.assertEqual(w["embed.weight"].dtype, np.float32)
        self.assertEqual(int(meta["ard.anomaly.latent"]), 5)

    def test_c_forward_equals_numpy(self):
        path = self.rep["model_path"]
        w, meta = ard.load_safetensors(path, with_metadata=True)
        # anomaly_train's default frame is the rest frame: the model's tokens are rest-frame ones
        self.assertEqual(int(meta["ard.anomaly.frame"]), 1)
        stream = self.ds.open_stream(batch_size=40, weights=True, norm="spectrum-median",
                                     frame="rest")
        checked = 0
        for b in stream.iter_batches():
            np.testing.assert_allclose(b["WAVE"], w["wave"], rtol=0, atol=0)
            lat_c, rec_c, chi2_c = anomaly.c_forward(path, b["TOKENS"], b["MASK"], b["WEIGHTS"])
            lat_n, rec_n = anomaly.numpy_forward(w, b["TOKENS"], b["MASK"])
            for c, n in ((lat_c, lat_n), (rec_c, rec_n)):
                self.assertLessEqual(np.max(np.abs(c - n)), 1e-5 * max(1.0, np.max(np.abs(n))))
            wt = b["WEIGHTS"].reshape(len(b["TOKENS"]), -1)
            tok = b["TOKENS"].reshape(len(b["TOKENS"]), -1)
            valid = (wt > 0).sum(axis=1)
            chi2_n = (wt * (rec_n - tok) ** 2).sum(axis=1) / np.maximum(valid, 1)
            ok = valid > 0
            np.testing.assert_allclose(chi2_c[ok], chi2_n[ok], rtol=1e-4)
            checked += len(b["TOKENS"])
        stream.close()
        self.assertEqual(checked, 160)

    def test_model_train_step_in_memory(self):
        """ard.anomaly.Model: train steps on arrays from the stream lower the loss, and the saved
        model's forward pass equals numpy's."""
        stream = self.ds.open_stream(batch_size=40, weights=True, norm="spectrum-median")
        b = next(iter(stream.iter_batches()))
        tok, mask, wt = b["TOKENS"].copy(), b["MASK"].copy(), b["WEIGHTS"].copy()
        stream.close()
        m = anomaly.Model(num_patches=tok.shape[1], wave=b["WAVE"], hidden=32, embed=8,
                          latent=4, threads=2)
        losses = [m.train_step(tok, mask, wt, lr=5e-3) for _ in range(15)]
        self.assertLess(losses[-1], 0.5 * losses[0])
        path = os.path.join(DS, "models", "py-model-step.safetensors")
        m.save(path)
        z, rec, chi2 = m.forward(tok, mask, wt, recon=True)
        m.close()
        z_n, rec_n = anomaly.numpy_forward(ard.load_safetensors(path), tok, mask)
        self.assertLessEqual(np.max(np.abs(rec - rec_n)), 1e-5 * max(1.0, np.max(np.abs(rec_n))))
        self.assertLessEqual(np.max(np.abs(z - z_n)), 1e-5 * max(1.0, np.max(np.abs(z_n))))
        self.assertTrue(np.all(np.isfinite(chi2)))
        with self.assertRaises(ard.Error):
            anomaly.Model(num_patches=tok.shape[1], embed=7)
        os.remove(path)

    def test_score_writes_table(self):
        r = self.ds.anomaly_score(run="py1", score_run="py1s")
        self.assertEqual(r["spectra"], 160)
        self.assertEqual(r["score_run"], "py1s")
        self.assertTrue(os.path.exists(r["scores_path"]))
        db = sqlite3.connect(os.path.join(DS, "ard.db"))
        rows = db.execute("SELECT rank, score FROM anomalies WHERE run_id = 'py1s' ORDER BY rank").fetchall()
        db.close()
        self.assertEqual([x[0] for x in rows], list(range(1, 161)))
        scores = [x[1] for x in rows if x[1] is not None]
        self.assertEqual(scores, sorted(scores, reverse=True))

    def test_sharded_score_merge(self):
        parts = [self.ds.anomaly_score(run="py1", score_run="pysh", rank=r, size=2)["spectra"]
                 for r in range(2)]
        self.assertEqual(sum(parts), 160)
        r = self.ds.anomaly_merge("pysh", 2, run="py1")
        self.assertEqual((r["spectra"], r["score_run"]), (160, "pysh"))
        db = sqlite3.connect(os.path.join(DS, "ard.db"))
        ranks = db.execute("SELECT rank FROM anomalies WHERE run_id = 'pysh' ORDER BY rank").fetchall()
        db.close()
        self.assertEqual([x[0] for x in ranks], list(range(1, 161)))
        with self.assertRaises(ard.Error) as cm:
            self.ds.anomaly_merge("pysh", 1, run="py1")
        self.assertEqual(cm.exception.name, "ARD_EINVAL")

    def test_errors(self):
        with self.assertRaises(ard.Error) as cm:
            self.ds.anomaly_score(run="no_such_run")
        self.assertEqual(cm.exception.name, "ARD_ENOENT")
        with self.assertRaises(ard.Error) as cm:
            self.ds.anomaly_train(run="empty", where="z > 100", epochs=1)
        self.assertEqual(cm.exception.name, "ARD_EINVAL")
        path = os.path.join(DS, "models", "anomaly-cut.safetensors")
        raw = open(self.rep["model_path"], "rb").read()
        open(path, "wb").write(raw[:len(raw) // 2])
        with self.assertRaises(ard.Error) as cm:
            anomaly.c_forward(path, np.zeros((1, 64, 64), np.float32))
        self.assertEqual(cm.exception.name, "ARD_ECORRUPT")
        with self.assertRaises(ValueError):
            ard.load_safetensors(path)


if __name__ == "__main__":
    unittest.main()
