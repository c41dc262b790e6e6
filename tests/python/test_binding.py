"""The binding as a thin client of libard (run by binding.sh with ARD_LIBRARY, PYTHONPATH,
ARD_TEST_BIN set): the version and struct-layout checks made at import (and that a wrong layout is
refused), the exception classes generated from the library's status list, and Dataset.sync / query
/ fetch on a generated dataset compared with SQLite itself and with the CLI's `ard fetch`."""
import ctypes
import os
import re
import sqlite3
import subprocess
import tempfile
import unittest

import numpy as np

import ard
from ard import _lib

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def run_cli(*args):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return subprocess.run([os.environ["ARD_TEST_BIN"], *args], check=True, env=env,
                          capture_output=True, text=True)


def record_run(ds_dir, stage, run_id, params):
    """A result run written through the C API (ard_result_run_*), as a science stage records one:
    one table "members" (targetid int64, score double) into the index table <stage>_members."""
    lib, vp, err = _lib.lib, ctypes.c_void_p, _lib.ErrorStruct()
    lib.ard_result_run_begin.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.c_char_p, ctypes.POINTER(vp),
                                         ctypes.POINTER(_lib.ErrorStruct)]
    lib.ard_result_run_add_table.argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(_lib.IndexColumn),
                                             ctypes.c_int32, ctypes.c_int64, ctypes.c_char_p,
                                             ctypes.POINTER(_lib.ErrorStruct)]
    lib.ard_result_run_commit.argtypes = [vp, ctypes.POINTER(_lib.ErrorStruct)]
    lib.ard_result_run_abort.argtypes = [vp]
    idx, run = vp(), vp()
    _lib.check(lib.ard_index_open(ds_dir.encode(), None, 0, ctypes.byref(idx), ctypes.byref(err)),
               err)
    try:
        _lib.check(lib.ard_result_run_begin(idx, ds_dir.encode(), stage.encode(), run_id.encode(),
                                            params.encode(), ctypes.byref(run), ctypes.byref(err)),
                   err)
        ids = np.array([1, 2, 3], np.int64)
        score = np.array([0.5, 1.5, 2.5])
        cols = (_lib.IndexColumn * 2)(
            _lib.IndexColumn(b"targetid", _lib.INDEX_INT64, ids.ctypes.data, None),
            _lib.IndexColumn(b"score", _lib.INDEX_DOUBLE, score.ctypes.data, None))
        st = lib.ard_result_run_add_table(run, b"members", cols, 2, 3,
                                          f"{stage}_members".encode(), ctypes.byref(err))
        if st != 0:
            lib.ard_result_run_abort(run)
            _lib.check(st, err)
        _lib.check(lib.ard_result_run_commit(run, ctypes.byref(err)), err)
    finally:
        lib.ard_index_close(idx)


class Version(unittest.TestCase):
    def test_version_is_the_cmake_project_version(self):
        with open(os.path.join(SRC, "CMakeLists.txt"), encoding="utf-8") as f:
            project = re.search(r"project\(ard VERSION (\S+)", f.read()).group(1)
        self.assertEqual(ard.library_version(), project)
        self.assertEqual(ard.__version__, project)


class Abi(unittest.TestCase):
    def test_every_mapped_struct_matches(self):
        self.assertEqual(_lib.abi_differences(_lib.lib, _lib.STRUCTS), [])
        for cls in _lib.STRUCTS:
            self.assertEqual(_lib.lib.ard_abi_struct_size(cls._ard_name_.encode()),
                             ctypes.sizeof(cls))

    def test_wrong_layouts_are_refused(self):
        class ShortMsg(ctypes.Structure):  # msg[256] instead of msg[512]
            _ard_name_ = "ard_error"
            _fields_ = [("code", ctypes.c_int), ("sys_errno", ctypes.c_int),
                        ("msg", ctypes.c_char * 256)]

        class Swapped(ctypes.Structure):  # first_row and num_rows declared the other way round
            _ard_name_ = "ard_read_item"
            _fields_ = [("path", ctypes.c_char_p), ("row_group", ctypes.c_int32),
                        ("num_rows", ctypes.c_int64), ("first_row", ctypes.c_int64)]

        class Narrow(ctypes.Structure):  # int32 where the library has int64: offsets shift
            _ard_name_ = "ard_read_item"
            _fields_ = [("path", ctypes.c_char_p), ("row_group", ctypes.c_int32),
                        ("first_row", ctypes.c_int32), ("num_rows", ctypes.c_int64)]

        class Unknown(ctypes.Structure):
            _ard_name_ = "ard_no_such_struct"
            _fields_ = [("x", ctypes.c_int)]

        for cls, needle in ((ShortMsg, "ard_error.msg"), (Swapped, "fields"),
                            (Narrow, "ard_read_item.first_row"), (Unknown, "unknown")):
            with self.assertRaises(ard.AbiError) as cm:
                _lib.check_abi(_lib.lib, [cls])
            self.assertIn(needle, str(cm.exception), cls.__name__)
            self.assertTrue(issubclass(ard.AbiError, ImportError))
        self.assertIn("size 264 here, 520 in the library",
                      "\n".join(_lib.abi_differences(_lib.lib, [ShortMsg])))

    def test_unknown_names_report_minus_one(self):
        lib = _lib.lib
        self.assertEqual(lib.ard_abi_struct_size(b"ard_nope"), -1)
        self.assertEqual(lib.ard_abi_field_offset(b"ard_error", b"nope"), -1)
        self.assertEqual(lib.ard_abi_field_size(b"ard_nope", b"code"), -1)
        self.assertEqual(lib.ard_abi_num_fields(b"ard_nope"), -1)
        self.assertIsNone(lib.ard_abi_field_name(b"ard_error", 3))


class Errors(unittest.TestCase):
    def test_one_class_per_status(self):
        lib = _lib.lib
        n = lib.ard_status_count()
        self.assertGreaterEqual(n, 15)
        for code in range(1, n):
            name = lib.ard_status_name(code).decode()
            cls = getattr(ard, name[len("ARD_"):])
            self.assertTrue(issubclass(cls, ard.Error))
            self.assertEqual((cls.status, cls.name), (code, name))
            self.assertIs(_lib.ERRORS[code], cls)
        self.assertEqual(lib.ard_status_name(n).decode(), "ARD_UNKNOWN")
        self.assertTrue(issubclass(ard.EINVAL, ValueError))
        self.assertTrue(issubclass(ard.ENOENT, FileNotFoundError))
        self.assertFalse(issubclass(ard.EDB, ValueError))

    def test_a_failing_call_raises_its_status_class(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(ard.ENOENT) as cm:
                ard.Dataset(tmp).query("Z > 1")  # read-only open of a missing index
        self.assertEqual(cm.exception.status, 4)
        self.assertEqual(cm.exception.name, "ARD_ENOENT")
        self.assertIn("ard.db", cm.exception.message)
        self.assertTrue(str(cm.exception).startswith("ARD_ENOENT: "))


class Stages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.ds_dir = os.path.join(cls.tmp.name, "ds")
        run_cli("generate", cls.ds_dir, "--galaxies", "200", "--seed", "9", "--quiet")
        cls.ds = ard.Dataset(cls.ds_dir)
        cls.first = cls.ds.sync()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_sync_reports(self):
        r = self.first
        self.assertGreater(r["files_added"], 0)
        self.assertEqual((r["files_failed"], r["first_error"]), (0, ""))
        self.assertEqual((r["spectra_rows"], r["galaxy_rows"]), (200, 200))
        again = self.ds.sync()
        self.assertEqual(again["files_added"], 0)
        self.assertEqual(again["files_unchanged"], r["files_seen"])
        self.assertEqual(again["data_reads"], 0)
        self.assertGreater(again["run_id"], r["run_id"])

    def test_query_typed_columns_equal_sqlite(self):
        got = self.ds.query("Z > 0.8", columns=["Z", "spectype", "ZWARN", "TARGET_RA"])
        self.assertEqual(list(got), ["TARGETID", "Z", "SPECTYPE", "ZWARN", "TARGET_RA"])
        db = sqlite3.connect(os.path.join(self.ds_dir, "ard.db"))
        ref = db.execute("SELECT targetid, z, spectype, zwarn, target_ra FROM galaxies "
                         "WHERE z > 0.8 ORDER BY targetid").fetchall()
        db.close()
        self.assertTrue(0 < len(ref) < 200)
        self.assertEqual(got["TARGETID"].dtype, np.int64)
        self.assertEqual(got["Z"].dtype, np.float64)
        self.assertEqual(got["ZWARN"].dtype, np.int64)
        self.assertEqual(got["SPECTYPE"].dtype.kind, "U")
        for i, row in enumerate(ref):  # exact, also for doubles
            self.assertEqual((int(got["TARGETID"][i]), float(got["Z"][i]), str(got["SPECTYPE"][i]),
                              int(got["ZWARN"][i]), float(got["TARGET_RA"][i])), row)

    def test_query_all_columns_limit_targetids(self):
        every = self.ds.query()
        self.assertEqual(len(every["TARGETID"]), 200)
        self.assertEqual(len(every), 20)
        self.assertEqual(every["COADD_FIBERSTATUS"].dtype, np.int64)
        self.assertEqual(every["TARGET_CLASS"].dtype.kind, "U")
        self.assertTrue(np.all(np.diff(every["TARGETID"]) > 0))
        self.assertEqual(len(self.ds.query(limit=7, columns="Z")["Z"]), 7)
        self.assertEqual(len(self.ds.query("targetid < 0", columns=["Z"])["TARGETID"]), 0)
        # by TARGETID, in the given order; an unknown one is a row of NULLs (masked)
        ids = [int(every["TARGETID"][9]), 12345, int(every["TARGETID"][2])]
        got = self.ds.query(targetids=ids, columns=["Z", "SPECTYPE"])
        self.assertIsInstance(got["Z"], np.ma.MaskedArray)
        self.assertEqual(got["Z"].mask.tolist(), [False, True, False])
        self.assertEqual(got["SPECTYPE"].mask.tolist(), [False, True, False])
        self.assertEqual(float(got["Z"][0]), float(every["Z"][9]))
        self.assertEqual(str(got["SPECTYPE"][2]), str(every["SPECTYPE"][2]))
        self.assertNotIsInstance(self.ds.query("Z > 0.8", columns=["Z"])["Z"], np.ma.MaskedArray)

    def test_query_refusals(self):
        with self.assertRaises(ard.EPERM):  # one statement only
            self.ds.query("Z > 1; DROP TABLE galaxies")
        with self.assertRaises(ard.EPERM):
            self.ds.fetch("Z > 1; DROP TABLE galaxies")
        with self.assertRaises(ard.EINVAL) as cm:
            self.ds.query("Z > 1", columns=["Z", "NOT_A_COLUMN"])
        self.assertIn("NOT_A_COLUMN".lower(), cm.exception.message.lower())
        with self.assertRaises(ard.EINVAL):
            self.ds.query("Z > 1", columns=["Z; DROP TABLE galaxies"])
        with self.assertRaises(ard.EDB) as cm:
            self.ds.query("NOT_A_COLUMN > 1")
        self.assertIn("NOT_A_COLUMN".lower(), cm.exception.message.lower())

    def test_fetch_equals_cli(self):
        out = os.path.join(self.tmp.name, "cli.npy")
        run_cli("fetch", self.ds_dir, "--where", "Z > 0.8", "--out", out, "--columns",
                "FLUX,IVAR,MASK")
        got = self.ds.fetch("Z > 0.8")
        self.assertEqual(list(got), ["TARGETID", "FLUX", "IVAR", "MASK"])
        np.testing.assert_array_equal(got["TARGETID"], np.load(out[:-4] + ".TARGETID.npy"))
        for col, dtype in (("FLUX", np.float32), ("IVAR", np.float32), ("MASK", np.uint8)):
            ref = np.load(out if col == "FLUX" else out[:-4] + f".{col}.npy")
            self.assertEqual(got[col].dtype, dtype)
            self.assertTrue(np.array_equal(got[col], ref, equal_nan=True), col)
        q = self.ds.query("Z > 0.8", columns=["Z"])
        self.assertEqual(sorted(got["TARGETID"].tolist()), q["TARGETID"].tolist())
        narrowed = self.ds.where("Z > 0.8").fetch(columns=["IVAR"])
        self.assertEqual(list(narrowed), ["TARGETID", "IVAR"])
        np.testing.assert_array_equal(narrowed["IVAR"], got["IVAR"])

    def test_fetch_by_targetids(self):
        ids = self.ds.query(columns=["Z"])["TARGETID"]
        want = [int(ids[5]), int(ids[0]), int(ids[77])]
        got = self.ds.fetch(targetids=want + [12345], columns=["FLUX"])
        self.assertEqual(sorted(got["TARGETID"].tolist()), sorted(want))
        self.assertEqual(got["FLUX"].shape[0], 3)
        with self.assertRaises(ValueError):
            self.ds.fetch("Z > 1", targetids=want)
        with self.assertRaises(ard.EINVAL):
            self.ds.fetch("Z > 1", columns=["NOT_A_TILE_COLUMN"])

    def test_results_lists_recorded_runs(self):
        with self.assertRaises(ard.ENOENT):
            self.ds.results("demo")
        record_run(self.ds_dir, "demo", "r1", '{"k": 1}')
        record_run(self.ds_dir, "demo", "r2", '{"k": 2}')
        self.assertIn("demo", self.ds.results())
        runs = self.ds.results("demo")
        self.assertEqual(runs["RUN_ID"].tolist(), ["r1", "r2"])
        self.assertEqual(runs["STAGE"].tolist(), ["demo", "demo"])
        self.assertEqual(runs["PARAMS"].tolist(), ['{"k": 1}', '{"k": 2}'])
        self.assertEqual(runs["ARD_VERSION"].tolist(), [ard.__version__] * 2)
        self.assertTrue(os.path.exists(os.path.join(self.ds_dir, "results",
                                                    "demo-r2-members.parquet")))
        with self.assertRaises(ard.EINVAL):
            self.ds.results("Not A Stage")


if __name__ == "__main__":
    unittest.main()
