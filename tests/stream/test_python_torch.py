"""iter_torch_batches: every tensor is torch.from_numpy over the shared-memory slot (same data
pointer as the numpy view, inside the store mapping); values equal the numpy batches."""
import os
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
            self.assertEqual(t["tokens"].dtype, torch.float32)
            self.assertEqual(t["targetid"].dtype, torch.int64)
            n += t["targetid"].shape[0]
        stream.close()
        self.assertEqual(n, 3 * 150)

    def test_iter_torch_batches_matches_numpy(self):
        ref = [np.array(b["tokens"]) for b in ard.Dataset(DS).iter_batches(batch_size=100)]
        got = [b["tokens"].clone() for b in ard.Dataset(DS).iter_torch_batches(batch_size=100)]
        self.assertEqual(len(ref), len(got))
        for r, g in zip(ref, got):
            self.assertIsInstance(g, torch.Tensor)
            self.assertTrue(np.array_equal(r, g.numpy()))


if __name__ == "__main__":
    unittest.main()
