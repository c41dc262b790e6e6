"""on_error= of the Python binding over a dataset with one corrupt row group (see
python_on_error.sh: ARD_TEST_DATASET holds 3 tiles of 150 spectra in row groups of 64)."""
import glob
import json
import os
import subprocess
import unittest

import ard


def smash_row_group(tile, rg):
    """Overwrites the first page header of row group rg's FLUX chunk with 0xff bytes."""
    meta = json.loads(subprocess.run([os.environ["ARD_TEST_BIN"], "parquet", "meta", tile,
                                      "--json"], check=True, capture_output=True).stdout)
    col = [c for c in meta["row_groups"][rg]["columns"] if c["path"].startswith("FLUX")][0]
    off = col["dictionary_page_offset"] or col["data_page_offset"]
    with open(tile, "r+b") as f:
        f.seek(off)
        f.write(b"\xff" * 32)
    return meta["row_groups"][rg]["num_rows"], meta["num_rows"]


class OnError(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.path = os.environ["ARD_TEST_DATASET"]
        cls.tiles = sorted(glob.glob(os.path.join(cls.path, "tiles", "**", "*.parquet"),
                                     recursive=True))
        ds = ard.Dataset(cls.path)
        cls.total = sum(len(b["targetid"]) for b in ds.iter_batches(batch_size=50))
        cls.bad_rows, _ = smash_row_group(cls.tiles[1], 1)

    def test_fail_is_the_default(self):
        ds = ard.Dataset(self.path)
        with self.assertRaises(ard.Error) as cm:
            for _ in ds.iter_batches(batch_size=50):
                pass
        self.assertIn(self.tiles[1], str(cm.exception))

    def test_skip(self):
        ds = ard.Dataset(self.path)
        ids = []
        for b in ds.iter_batches(batch_size=50, on_error="skip"):
            ids.extend(b["targetid"].tolist())
        self.assertEqual(len(ids), self.total - self.bad_rows)
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(len(ds.skipped), 1)
        s = ds.skipped[0]
        self.assertEqual(s["path"], self.tiles[1])
        self.assertEqual(s["row_group"], 1)
        self.assertIn(s["status"], ("ARD_ECORRUPT", "ARD_ECHECKSUM"))
        self.assertIn(self.tiles[1], s["error"])

    def test_bad_policy(self):
        with self.assertRaises(ValueError):
            next(ard.Dataset(self.path).iter_batches(on_error="sometimes"))


if __name__ == "__main__":
    unittest.main()
