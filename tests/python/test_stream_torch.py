"""iter_torch_batches: every tensor is torch.from_numpy over the shared-memory slot (same data
pointer as the numpy view, inside the store mapping); values equal the numpy batches; catalog
columns: numeric ones become tensors, text ones stay numpy 'S16' views."""
import os
import subprocess
import tempfile
import unittest

import numpy as np
import torch

import ard

DS = os.environ["ARD_TEST_DATASET"]


class Torch(unittest.TestCase):
    def test_zero_copy_tensors(self):
        ds = ard.Dataset(DS)
        stream = ds.open_stream(batch_size=64, prefetch_batches=4)
        n = 0
        for b in stream.iter_batches():
            t = {k: torch.from_numpy(v) for k, v in b.items()}
            for k, v in t.items():
                self.assertEqual(v.data_ptr(), b[k].ctypes.data, k)
                self.assertTrue(stream.base <= v.data_ptr() < stream.base + stream.size, k)
            self.assertEqual(t["TOKENS"].dtype, torch.float32)
            self.assertEqual(t["TARGETID"].dtype, torch.int64)
            n += t["TARGETID"].shape[0]
        stream.close()
        self.assertEqual(n, 3 * 150)

    def test_slot_tensors_reused_and_equal_plain_path(self):
        """Slots recur (3 slots, 2 epochs, 16 batches): the tensors built once per slot still
        carry each batch's values, equal to copies taken through iter_batches (numpy; checked
        against the plain acquire/release path in test_stream.SlotViews)."""
        kw = dict(batch_size=64, prefetch_batches=3, threads=2, epochs=2, shuffle=True, seed=9,
                  local_shuffle_buffer_size=100)
        want = [{k: np.array(v) for k, v in b.items()} for b in ard.Dataset(DS).iter_batches(**kw)]
        got, tensors = [], {}
        for b in ard.Dataset(DS).iter_torch_batches(**kw):
            got.append({k: v.clone().numpy() for k, v in b.items()})
            tensors[id(b["TOKENS"])] = b["TOKENS"]
        self.assertEqual(len(got), len(want))
        self.assertLess(len(tensors), len(got))  # reused across batches of the same slot
        for g, w in zip(got, want):
            self.assertEqual(sorted(g), sorted(w))
            for k in w:
                self.assertEqual(g[k].tobytes(), w[k].tobytes(), k)

    def test_iter_torch_batches_matches_numpy(self):
        ref = [np.array(b["TOKENS"]) for b in ard.Dataset(DS).iter_batches(batch_size=100)]
        got = [b["TOKENS"].clone() for b in ard.Dataset(DS).iter_torch_batches(batch_size=100)]
        self.assertEqual(len(ref), len(got))
        for r, g in zip(ref, got):
            self.assertIsInstance(g, torch.Tensor)
            self.assertTrue(np.array_equal(r, g.numpy()))

    def test_catalog_columns(self):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        ard_bin = os.environ["ARD_TEST_BIN"]
        with tempfile.TemporaryDirectory() as tmp:
            ds_dir = os.path.join(tmp, "ds")
            subprocess.run([ard_bin, "generate", ds_dir, "--galaxies", "60", "--seed", "3",
                            "--quiet"], check=True, env=env)
            subprocess.run([ard_bin, "sync", ds_dir], check=True, env=env, capture_output=True)
            n = 0
            for b in ard.Dataset(ds_dir).iter_torch_batches(batch_size=25,
                                                            columns=["Z", "SPECTYPE", "ZWARN"]):
                self.assertEqual(b["Z"].dtype, torch.float64)
                self.assertEqual(b["ZWARN"].dtype, torch.int64)
                self.assertIsInstance(b["SPECTYPE"], np.ndarray)
                self.assertEqual(b["SPECTYPE"].dtype, np.dtype("S16"))
                self.assertFalse(torch.isnan(b["Z"]).any())
                self.assertTrue(all(s in (b"GALAXY", b"QSO", b"STAR") for s in b["SPECTYPE"]))
                n += b["Z"].shape[0]
            self.assertEqual(n, 60)


if __name__ == "__main__":
    unittest.main()
