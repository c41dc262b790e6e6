#!/usr/bin/env python3
"""Interoperability test of `ard parquet cat/meta` against the shared Parquet corpora.

Usage: python3 parquet_corpus.py PATH_TO_ard SHARED_DIR
Exit 0 if every file passed, 1 otherwise, 77 if the corpus is missing.

Stdlib only. Covered (see the brief in the commit message / report):
  * every *.parquet / *.parquet.encrypted under parquet-testing/{data (recursive), bad_data,
    shredded_variant} and duckdb-generated/;
  * valid files: exit 0, row count = DuckDB count_star, first rows = DuckDB sample_rows after a
    type-directed normalisation (compare_duck below);
  * exact expected values stated in the two MANIFEST.md files;
  * files we do not support (encryption, memory cap) and files with wrong CRCs: exit 1 with a
    message naming the feature; the set of failing "valid-directory" files must be exactly the
    expected set;
  * bad_data/: clean rejection (exit 1, "ard: " + path on stderr, no sanitizer report) plus
    file-specific message checks.
Prints one line per file and, alone on the last line, "N passed, M failed".
"""
import concurrent.futures
import json
import math
import os
import re
import struct
import subprocess
import sys
from decimal import Decimal

TIMEOUT = 120  # seconds per ard invocation (ASan build)

# --------------------------------------------------------------------------------------------
# Expectations that come from the manifests
# --------------------------------------------------------------------------------------------

ENCRYPTED_WHY = "Parquet modular encryption is not supported (no keys/decryption)"
# relpath -> (regex the stderr must match, why the file is expected to fail)
EXPECTED_UNSUPPORTED = {
    "parquet-testing/data/aes256/encrypt_columns_and_footer.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/aes256/encrypt_columns_and_footer_ctr.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/aes256/encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/aes256/encrypt_columns_plaintext_footer.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; plaintext footer, all columns encrypted"),
    "parquet-testing/data/aes256/uniform_encryption.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/encrypt_columns_and_footer.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/encrypt_columns_and_footer_aad.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/encrypt_columns_and_footer_bloom_filter.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/encrypt_columns_and_footer_ctr.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/encrypt_columns_plaintext_footer.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; plaintext footer, double_field/float_field encrypted"),
    "parquet-testing/data/external_key_material_java.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/uniform_encryption.parquet.encrypted": ("encrypt", ENCRYPTED_WHY + "; PARE footer"),
    "parquet-testing/data/large_string_map.brotli.parquet": ("memory cap", "decodes to more than 2 GiB of strings (2 keys of 2^30 bytes): over the reader's memory cap"),
    # The issue asks for VARIANT to be rejected with ARD_ENOTSUP until it is implemented.
    "parquet-testing/shredded_variant/case-001.parquet": ("VARIANT", "VARIANT logical type: not supported yet (rejected, never garbage)"),
    "parquet-testing/shredded_variant/case-004.parquet": ("VARIANT", "VARIANT logical type: not supported yet (rejected, never garbage)"),
    "parquet-testing/shredded_variant/case-043-INVALID.parquet": ("VARIANT", "VARIANT logical type: not supported yet (rejected, never garbage)"),
}
# Valid files with a deliberately wrong page CRC: we verify CRCs, so they must fail.
# relpath -> (regex, columns that have a corrupt page)
EXPECTED_CRC_FAIL = {
    "parquet-testing/data/datapage_v1-corrupt-checksum.parquet": (r"(?i)crc|checksum", ("a", "b")),
    "parquet-testing/data/rle-dict-uncompressed-corrupt-checksum.parquet": (r"(?i)crc|checksum", ("long_field", "binary_field")),
}
# bad_data: file-specific expectations on the error message (regex, case-insensitive).
BAD_DATA_MESSAGE = {
    "parquet-testing/bad_data/ARROW-GH-45185.parquet": (r"(?i)first repetition level", "must say the first repetition level is not 0"),
    "parquet-testing/bad_data/PARQUET-1481.parquet": (r"(?i)type.*-7|-7.*type", "must name the bad physical type -7"),
    "parquet-testing/bad_data/ARROW-RS-GH-6229-LEVELS.parquet": (None, "must fail (num_values 21 vs 1 level), not return DuckDB's 1 row"),
    "parquet-testing/bad_data/ARROW-GH-47662.parquet": (r"(?i)byte|buffer|short|truncat", "REQUIRED FLBA page too short: must report a size problem"),
}
# Borderline per the manifest: "either return the 21186 values or a clean error".
BAD_DATA_MAY_SUCCEED = {"parquet-testing/bad_data/ARROW-GH-43605.parquet": 21186}

# Valid files DuckDB 1.5.6 cannot read; checked against manifest values instead.
DUCKDB_UNREADABLE = {
    "parquet-testing/data/hadoop_lz4_compressed.parquet",
    "parquet-testing/data/hadoop_lz4_compressed_larger.parquet",
    "parquet-testing/data/non_hadoop_lz4_compressed.parquet",
    "parquet-testing/data/byte_stream_split_extended.gzip.parquet",
    "parquet-testing/data/map_no_value.parquet",
}

LOGICAL_TYPES_FILES = ["logical_types_v1_snappy", "logical_types_v1_uncompressed", "logical_types_v1_gzip",
                       "logical_types_v2_zstd", "logical_types_v2_brotli"]
NESTED_FILES = ["nested_v1_snappy", "nested_v2_lz4raw"]

# Types of the duckdb-generated expected jsonl columns (DuckDB type names, plus pseudo types
# INTERVAL_TEXT and JSON_TEXT for DuckDB's renderings that need a mapping, see compare()).
LOGICAL_TYPES_TYPES = {
    "id": "INTEGER", "b": "BOOLEAN", "i8": "TINYINT", "i16": "SMALLINT", "i32": "INTEGER", "i64": "BIGINT",
    "u8": "UTINYINT", "u16": "USMALLINT", "u32": "UINTEGER", "u64": "UBIGINT", "f32": "FLOAT", "f64": "DOUBLE",
    "dec4": "DECIMAL(4,2)", "dec18": "DECIMAL(18,3)", "dec38": "DECIMAL(38,2)", "d": "DATE", "t": "TIME",
    "ts_us": "TIMESTAMP", "ts_ms": "TIMESTAMP", "ts_ns": "TIMESTAMP", "tstz": "TIMESTAMP WITH TIME ZONE",
    "s": "VARCHAR", "bl": "BLOB", "u": "UUID", "iv": "INTERVAL", "j": "JSON", "e": "VARCHAR",
}
NESTED_TYPES = {
    "id": "INTEGER", "l": "INTEGER[]", "st": "STRUCT(a INTEGER, b VARCHAR)", "m": "MAP(VARCHAR, INTEGER)",
    "ll": "INTEGER[][]", "ls": "STRUCT(x INTEGER, y VARCHAR[])[]", "fixed2": "INTEGER[2]",
}

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error")

# --------------------------------------------------------------------------------------------
# Running ard
# --------------------------------------------------------------------------------------------


class Run:
    def __init__(self, args, rc, out, err):
        self.args, self.rc, self.out, self.err = args, rc, out, err

    def crash_problems(self):
        p = []
        if self.rc is None:
            p.append("timed out after %ds" % TIMEOUT)
        elif self.rc < 0 or self.rc >= 128:
            p.append("crashed: exit code %s" % self.rc)
        for m in SANITIZER_MARKERS:
            if m in self.err:
                line = next((l for l in self.err.splitlines() if m in l), "")
                p.append("sanitizer report on stderr: %s" % line.strip()[:300])
                break
        return p

    def err_head(self):
        return self.err.strip().splitlines()[0][:300] if self.err.strip() else "(empty stderr)"


def run_ard(ard, args):
    try:
        cp = subprocess.run([ard] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        return Run(args, None, e.stdout or b"", (e.stderr or b"").decode("utf-8", "replace"))
    return Run(args, cp.returncode, cp.stdout, cp.stderr.decode("utf-8", "replace"))


def parse_int(s):
    # "-0" is a float zero with its sign (an integer column must never print it: the int checks reject floats)
    return -0.0 if s == "-0" else int(s)


def jloads(text):
    """ard's JSON -> Python. Floats are kept exact as Decimal, NaN/Infinity as float, -0 as -0.0."""
    return json.loads(text, parse_float=lambda x: -0.0 if float(x) == 0 and x.startswith("-") else Decimal(x),
                      parse_int=parse_int, parse_constant=float)


def parse_jsonl(data):
    rows = []
    for line in data.decode("utf-8").split("\n"):
        if line == "":
            continue
        rows.append(jloads(line))
    return rows


def count_lines(data):
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)

# --------------------------------------------------------------------------------------------
# DuckDB type strings
# --------------------------------------------------------------------------------------------


def parse_type(s):
    t, i = _ptype(s, 0)
    if i != len(s):
        raise ValueError("trailing text in type %r at %d" % (s, i))
    return t


def _ptype(s, i):
    j = i
    while j < len(s) and (s[j].isalnum() or s[j] == "_" or (s[j] == " " and s[j + 1:j + 2].isalpha()
                                                          and s[i:j] in ("TIMESTAMP", "TIMESTAMP WITH", "TIMESTAMP WITH TIME",
                                                                         "TIME", "TIME WITH", "TIME WITH TIME"))):
        j += 1
    name = s[i:j]
    if not name:
        raise ValueError("no type name in %r at %d" % (s, i))
    t = (name,)
    if j < len(s) and s[j] == "(":
        if name == "STRUCT":
            fields = []
            j += 1
            while True:
                if s[j] == '"':
                    k = j + 1
                    fname = ""
                    while True:
                        if s[k] == '"' and s[k + 1:k + 2] == '"':
                            fname += '"'
                            k += 2
                        elif s[k] == '"':
                            break
                        else:
                            fname += s[k]
                            k += 1
                    j = k + 1
                else:
                    k = s.index(" ", j)
                    fname = s[j:k]
                    j = k
                j += 1  # space
                ft, j = _ptype(s, j)
                fields.append((fname, ft))
                if s[j] == ")":
                    j += 1
                    break
                assert s[j:j + 2] == ", ", s[j:]
                j += 2
            t = ("STRUCT", fields)
        elif name == "MAP":
            kt, j = _ptype(s, j + 1)
            assert s[j:j + 2] == ", "
            vt, j = _ptype(s, j + 2)
            assert s[j] == ")"
            j += 1
            t = ("MAP", kt, vt)
        elif name == "DECIMAL":
            k = s.index(")", j)
            p, sc = s[j + 1:k].split(",")
            t = ("DECIMAL", int(p), int(sc))
            j = k + 1
        else:  # e.g. GEOMETRY('crs...'): skip the balanced, possibly quoted, argument
            depth, q = 0, False
            while True:
                c = s[j]
                if q:
                    if c == "'":
                        if s[j + 1:j + 2] == "'":
                            j += 1
                        else:
                            q = False
                elif c == "'":
                    q = True
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                    if depth == 0:
                        j += 1
                        break
                j += 1
    while j < len(s) and s[j] == "[":
        k = s.index("]", j)
        t = ("LIST", t)
        j = k + 1
    return t, j


BLOB_TYPES = {"BLOB", "GEOMETRY"}


def duck_blob(b):
    """DuckDB's BLOB rendering as found in duckdb-reference.json: bytes 0x20..0x7E as characters, except the
    single and double quotes (\\x27, \\x22: seen in geospatial/*); a backslash byte is shown raw (seen in
    geography-polygons); all other bytes \\xHH."""
    return "".join(chr(c) if 32 <= c <= 126 and c not in (0x22, 0x27) else "\\x%02X" % c for c in b)


INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT"}
STRING_TYPES = {"VARCHAR", "BLOB", "UUID", "GEOMETRY", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
                "TIME WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"}

TRUNC_RE = re.compile(r"^(.{120})\.\.\.\((\d+) chars\)$", re.S)


def fmt(v):
    s = json.dumps(v, default=str, ensure_ascii=False)
    return s if len(s) <= 160 else s[:160] + "..."


def is_nan(x):
    return isinstance(x, float) and math.isnan(x)


def to_float(x, where, probs):
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float, Decimal)):
        return float(x)
    if isinstance(x, str) and x in ("NaN", "nan", "Infinity", "-Infinity", "inf", "-inf"):
        return float(x)
    return None


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def parse_interval_text(s):
    """DuckDB's INTERVAL rendering -> (months, days, microseconds)."""
    months = days = micros = 0
    rest = s.strip()
    for m in re.finditer(r"(-?\d+) (year|years|mon|mons|month|months|day|days)\b", rest):
        n, unit = int(m.group(1)), m.group(2)
        if unit.startswith("year"):
            months += 12 * n
        elif unit.startswith("mon"):
            months += n
        else:
            days += n
    m = re.search(r"(-?)(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$", rest)
    if m:
        us = ((int(m.group(2)) * 60 + int(m.group(3))) * 60 + int(m.group(4))) * 1000000
        if m.group(5):
            us += int(m.group(5).ljust(6, "0"))
        micros = -us if m.group(1) else us
    return months, days, micros


def compare(t, duck, ours, where, probs, utc=False):
    """Compare DuckDB's rendering `duck` of a value of DuckDB type `t` with ard's parsed jsonl `ours`.

    Normalisation (documented mapping):
      * integers: DuckDB renders BIGINT/UBIGINT/HUGEINT as decimal strings -> int; ard must give a JSON integer;
      * FLOAT: both rounded to float32 and compared exactly (DuckDB prints the widened double);
      * DOUBLE: relative tolerance 1e-15; NaN/Infinity: DuckDB "NaN"/"Infinity" strings vs ard bare tokens;
        -0 and 0 compare equal (DuckDB's JSON drops the sign);
      * DECIMAL(p,s): DuckDB string/number -> Decimal, value equality; ard's number must carry exactly s
        fractional digits (exact rendering);
      * VARCHAR/UUID/DATE/TIME/TIMESTAMP[TZ]: string equality;
      * BLOB/GEOMETRY (WKB): ard's \\xHH rendering is decoded to bytes and re-rendered the DuckDB way (DuckDB
        also escapes the quotes ' and \" as \\x27/\\x22), then compared as a string;
      * TIMESTAMP with only the legacy ConvertedType TIMESTAMP_MILLIS/MICROS (no LogicalType): the spec
        makes it UTC-adjusted, so ard must add "+00"; DuckDB renders it as a naive TIMESTAMP (utc=True);
        DuckDB's reference cut strings to 120 chars + "...(N chars)": compare prefix and full length N;
      * MAP(K,V): DuckDB [{"key":k,"value":v},...] or {k: v} -> ordered (str(k), v) pairs; ard renders a JSON
        object with stringified keys;
      * STRUCT: same field names in the same order, fieldwise; LIST/ARRAY: same length, elementwise;
      * INTERVAL: DuckDB text "[N years] [N months] [N days] hh:mm:ss[.ffffff]" -> (months, days, micros);
        ard {"months","days","nanoseconds"}: nanoseconds = micros*1000;
      * JSON: DuckDB embeds the JSON value; ard renders the JSON text as a string -> json.loads(ard) == DuckDB.
    """
    if duck is None or ours is None:
        if not (duck is None and ours is None):
            probs.append("%s: expected %s, got %s" % (where, fmt(duck), fmt(ours)))
        return
    name = t[0]
    if name == "LIST":
        if not isinstance(ours, list) or not isinstance(duck, list) or len(duck) != len(ours):
            probs.append("%s: expected %s, got %s" % (where, fmt(duck), fmt(ours)))
            return
        for i, (d, o) in enumerate(zip(duck, ours)):
            compare(t[1], d, o, "%s[%d]" % (where, i), probs, utc)
        return
    if name == "STRUCT":
        if not isinstance(ours, dict) or not isinstance(duck, dict):
            probs.append("%s: expected struct %s, got %s" % (where, fmt(duck), fmt(ours)))
            return
        names = [f for f, _ in t[1]]
        if list(ours.keys()) != names:
            probs.append("%s: struct fields %s, expected %s" % (where, list(ours.keys()), names))
            return
        for f, ft in t[1]:
            compare(ft, duck.get(f), ours.get(f), "%s.%s" % (where, f), probs, utc)
        return
    if name == "MAP":
        if isinstance(duck, list):
            dpairs = [(e["key"], e["value"]) for e in duck]
        elif isinstance(duck, dict):
            dpairs = list(duck.items())
        else:
            probs.append("%s: unexpected DuckDB map rendering %s" % (where, fmt(duck)))
            return
        if not isinstance(ours, dict):
            probs.append("%s: expected map (JSON object) %s, got %s" % (where, fmt(duck), fmt(ours)))
            return
        opairs = list(ours.items())
        dkeys = [k if isinstance(k, str) else str(int(k)) if t[1][0] in INT_TYPES else json.dumps(k) for k, _ in dpairs]
        if dkeys != [k for k, _ in opairs]:
            probs.append("%s: map keys %s, expected %s" % (where, fmt([k for k, _ in opairs]), fmt(dkeys)))
            return
        for (k, dv), (_, ov) in zip(zip(dkeys, [v for _, v in dpairs]), opairs):
            compare(t[2], dv, ov, "%s[%s]" % (where, json.dumps(k)), probs, utc)
        return
    if name in INT_TYPES:
        try:
            dv = int(duck)
        except (TypeError, ValueError):
            probs.append("%s: DuckDB value %s is not an integer" % (where, fmt(duck)))
            return
        if isinstance(ours, bool) or not isinstance(ours, int) or ours != dv:
            probs.append("%s: expected %d, got %s" % (where, dv, fmt(ours)))
        return
    if name in ("FLOAT", "DOUBLE"):
        dv, ov = to_float(duck, where, probs), to_float(ours, where, probs)
        if dv is None or ov is None:
            probs.append("%s: expected %s, got %s" % (where, fmt(duck), fmt(ours)))
            return
        if math.isnan(dv) or math.isnan(ov):
            ok = math.isnan(dv) and math.isnan(ov)
        elif name == "FLOAT":
            ok = f32(dv) == f32(ov)
        else:
            ok = dv == ov or math.isclose(dv, ov, rel_tol=1e-15, abs_tol=0.0)
        if not ok:
            probs.append("%s: expected %r, got %s" % (where, dv, fmt(ours)))
        return
    if name == "DECIMAL":
        scale = t[2]
        try:
            dv = Decimal(str(duck))
        except Exception:
            probs.append("%s: DuckDB decimal %s unparsable" % (where, fmt(duck)))
            return
        if isinstance(ours, bool) or not isinstance(ours, (int, Decimal)):
            probs.append("%s: expected decimal %s, got %s" % (where, duck, fmt(ours)))
            return
        ov = Decimal(ours)
        if ov != dv:
            probs.append("%s: expected %s, got %s" % (where, duck, ours))
        elif scale > 0 and (not isinstance(ours, Decimal) or ours.as_tuple().exponent != -scale):
            probs.append("%s: decimal %s rendered with the wrong scale (want %d fractional digits)" % (where, ours, scale))
        return
    if name == "BOOLEAN":
        if duck is not ours:
            probs.append("%s: expected %s, got %s" % (where, fmt(duck), fmt(ours)))
        return
    if name == "INTERVAL":
        if not isinstance(ours, dict) or set(ours) != {"months", "days", "nanoseconds"}:
            probs.append("%s: expected interval object, got %s" % (where, fmt(ours)))
            return
        mo, da, us = parse_interval_text(duck)
        if (ours["months"], ours["days"], ours["nanoseconds"]) != (mo, da, us * 1000):
            probs.append("%s: expected %s = months %d days %d ns %d, got %s" % (where, duck, mo, da, us * 1000, fmt(ours)))
        return
    if name == "JSON":
        if not isinstance(ours, str):
            probs.append("%s: JSON must be rendered as a string, got %s" % (where, fmt(ours)))
            return
        try:
            ov = json.loads(ours)
        except ValueError:
            probs.append("%s: JSON string %s does not parse" % (where, fmt(ours)))
            return
        dv = json.loads(duck) if isinstance(duck, str) else duck
        if ov != dv:
            probs.append("%s: expected JSON %s, got %s" % (where, fmt(dv), fmt(ours)))
        return
    if name in STRING_TYPES:
        if not isinstance(ours, str) or not isinstance(duck, str):
            probs.append("%s: expected %s, got %s" % (where, fmt(duck), fmt(ours)))
            return
        if name in BLOB_TYPES:
            ours = duck_blob(unescape_blob(ours))
        if name == "TIMESTAMP" and utc:
            if not ours.endswith("+00"):
                probs.append("%s: legacy TIMESTAMP_MILLIS/MICROS is UTC-adjusted, expected %s+00, got %s"
                             % (where, duck, fmt(ours)))
                return
            ours = ours[:-3]
        m = TRUNC_RE.match(duck)
        if m:
            if not (ours.startswith(m.group(1)) and len(ours) == int(m.group(2))):
                probs.append("%s: expected %s (cut by the reference), got %s (length %d)" % (where, fmt(duck), fmt(ours), len(ours)))
        elif duck != ours:
            probs.append("%s: expected %s, got %s" % (where, fmt(duck), fmt(ours)))
        return
    # unknown type: exact
    if duck != ours:
        probs.append("%s: (type %s) expected %s, got %s" % (where, name, fmt(duck), fmt(ours)))


def compare_rows(types, exp_rows, our_rows, probs, skip_cols=(), label="row", utc_cols=()):
    """types: ordered list of (column, type tuple). utc_cols: top-level columns holding legacy
    (ConvertedType-only) TIMESTAMP_MILLIS/MICROS leaves."""
    names = [c for c, _ in types]
    for i, drow in enumerate(exp_rows):
        if i >= len(our_rows):
            probs.append("%s %d missing" % (label, i))
            break
        orow = our_rows[i]
        if list(orow.keys()) != names:
            probs.append("%s %d: columns %s, expected %s" % (label, i, list(orow.keys()), names))
            continue
        for c, t in types:
            if c in skip_cols:
                continue
            compare(t, drow.get(c), orow.get(c), "%s %d col %s" % (label, i, json.dumps(c)), probs, c in utc_cols)

# --------------------------------------------------------------------------------------------
# Helpers for specific checks
# --------------------------------------------------------------------------------------------


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


TS_RE = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(\+00)?$")


def ts_to_micros(s):
    m = TS_RE.match(s)
    if not m:
        return None
    days = days_from_civil(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    us = ((days * 24 + int(m.group(4))) * 60 + int(m.group(5))) * 60 + int(m.group(6))
    us = us * 1000000 + (int(m.group(7).ljust(6, "0")) if m.group(7) else 0)
    return us


def unescape_blob(s):
    """ard's/DuckDB's \\xHH rendering -> bytes."""
    out = bytearray()
    i = 0
    while i < len(s):
        if s.startswith("\\x", i) and re.match(r"[0-9A-Fa-f]{2}", s[i + 2:i + 4]):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            out += s[i].encode("utf-8")
            i += 1
    return bytes(out)


def stat_bytes(v):
    """ard meta --json renders binary statistics as text when printable, else "0x<hex>"."""
    if isinstance(v, str) and re.fullmatch(r"0x([0-9a-fA-F]{2})+", v):
        return bytes.fromhex(v[2:])
    if isinstance(v, str):
        return v.encode("utf-8")
    return None


def parse_csv_expect(text):
    """CSV with header; strings double-quoted; an EMPTY UNQUOTED field is null ("" is the empty string)."""
    rows = []
    for line in text.splitlines():
        if line == "":
            continue
        fields, i, n = [], 0, len(line)
        while True:
            if i < n and line[i] == '"':
                j, val = i + 1, ""
                while True:
                    k = line.index('"', j)
                    val += line[j:k]
                    if line[k + 1:k + 2] == '"':
                        val += '"'
                        j = k + 2
                    else:
                        i = k + 1
                        break
                fields.append(val)
            else:
                k = line.find(",", i)
                k = n if k < 0 else k
                raw = line[i:k]
                fields.append(None if raw == "" else raw)
                i = k
            if i >= n:
                break
            assert line[i] == ",", (line, i)
            i += 1
            if i == n:
                fields.append(None)
                break
        rows.append(fields)
    return rows[0], rows[1:]


def variant_metadata_len(b):
    hdr = b[0]
    osz = ((hdr >> 6) & 3) + 1
    dsz = int.from_bytes(b[1:1 + osz], "little")
    offs = [int.from_bytes(b[1 + osz * (k + 1):1 + osz * (k + 2)], "little") for k in range(dsz + 1)]
    return 1 + osz * (dsz + 2) + offs[-1]


def unshred(v):
    """Rebuild a VARIANT value from ard's raw {metadata, value, typed_value} rendering when it is fully
    shredded (no binary `value` anywhere). Returns (ok, value)."""
    if not isinstance(v, dict):
        return False, None
    if v.get("value") is not None:
        return False, None
    tv = v.get("typed_value")
    if isinstance(tv, list):
        out = []
        for e in tv:
            ok, x = unshred(e)
            if not ok:
                return False, None
            out.append(x)
        return True, out
    if isinstance(tv, dict):
        out = {}
        for k, e in tv.items():
            ok, x = unshred(e)
            if not ok:
                return False, None
            out[k] = x
        return True, out
    return True, tv

# --------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------


class Tester:
    def __init__(self, ard, shared):
        self.ard = ard
        self.shared = shared
        self.pt = os.path.join(shared, "parquet-testing")
        self.dg = os.path.join(shared, "duckdb-generated")
        with open(os.path.join(self.pt, "duckdb-reference.json"), encoding="utf-8") as f:
            # keys are relative to parquet-testing/; index them by our shared-relative paths
            self.ref = {"parquet-testing/" + k: v for k, v in json.load(f)["files"].items()}
        self.runs = {}
        self.passed = 0
        self.failed = 0
        self.failures = []

    def path(self, rel):
        return os.path.join(self.shared, rel)

    def cat(self, rel):
        return self.runs[("cat", rel)]

    def discover(self):
        files, ignored = [], []
        for top in ("parquet-testing/data", "parquet-testing/bad_data", "parquet-testing/shredded_variant",
                    "duckdb-generated"):
            root = self.path(top)
            for dp, dns, fns in os.walk(root):
                dns.sort()
                for fn in sorted(fns):
                    rel = os.path.relpath(os.path.join(dp, fn), self.shared)
                    if fn.endswith(".parquet") or fn.endswith(".parquet.encrypted"):
                        files.append(rel)
                    else:
                        ignored.append(rel)
        return sorted(files), ignored

    def prefetch(self, files):
        jobs = [("cat", rel, ["parquet", "cat", self.path(rel)]) for rel in files]
        for rel in ("parquet-testing/data/binary_truncated_min_max.parquet",
                    "parquet-testing/data/float16_nonzeros_and_nans.parquet",
                    "parquet-testing/data/float16_zeros_and_nans.parquet",
                    "duckdb-generated/empty_zero_rows.parquet"):
            jobs.append(("meta", rel, ["parquet", "meta", "--json", self.path(rel)]))
        # the slow one (memory cap) first so it overlaps with the rest
        jobs.sort(key=lambda j: 0 if "large_string_map" in j[1] else 1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            futs = {ex.submit(run_ard, self.ard, args): (kind, rel) for kind, rel, args in jobs}
            for fu in concurrent.futures.as_completed(futs):
                self.runs[futs[fu]] = fu.result()

    def report(self, rel, probs, notes):
        if probs:
            self.failed += 1
            self.failures.append(rel)
            print("FAIL %s" % rel)
            for p in probs[:12]:
                print("       - %s" % p)
            if len(probs) > 12:
                print("       - ... %d more problems" % (len(probs) - 12))
        else:
            self.passed += 1
            print("ok   %s%s" % (rel, (" (" + "; ".join(notes) + ")") if notes else ""))
        for n in notes if probs else []:
            print("       note: %s" % n)

    # -- classes of files ------------------------------------------------------------------------

    def check_expected_failure(self, rel, pattern, probs, notes, why):
        r = self.cat(rel)
        probs += r.crash_problems()
        if r.rc != 1:
            probs.append("expected exit 1 (%s), got %s; stderr: %s" % (why, r.rc, r.err_head()))
            return
        self.check_error_message(rel, r, probs)
        # match the message without the file path: names like *.encrypted / *-checksum contain the keywords
        if pattern and not re.search(pattern, self.message(rel, r), re.I):
            probs.append("error message does not match /%s/: %s" % (pattern, r.err_head()))
        notes.append("rejected as expected: %s" % r.err_head())

    def message(self, rel, r):
        return r.err.replace(self.path(rel), "FILE")

    def check_error_message(self, rel, r, probs):
        if not r.err.startswith("ard: "):
            probs.append("stderr does not start with 'ard: ': %s" % r.err_head())
        if self.path(rel) not in r.err:
            probs.append("stderr does not name the file path %s: %s" % (self.path(rel), r.err_head()))

    def check_valid_generic(self, rel, probs, notes, skip_cols=()):
        """exit 0, row count = DuckDB count_star, first rows = sample_rows."""
        r = self.cat(rel)
        probs += r.crash_problems()
        if r.rc != 0:
            probs.append("exit %s, expected 0; stderr: %s" % (r.rc, r.err_head()))
            return None
        duck = self.ref[rel]["duckdb"]
        rows = parse_jsonl(r.out)
        n = count_lines(r.out)
        if duck.get("count_star") is not None and n != int(duck["count_star"]):
            probs.append("%d rows, DuckDB count_star %s" % (n, duck["count_star"]))
        if duck.get("sample_rows"):
            types = [(c, parse_type(t)) for c, t in duck["columns"]]
            for c, t in types:
                if c in skip_cols:
                    notes.append("column %s (%s) not compared with DuckDB: %s" % (c, t[0], skip_cols[c]))
            utc_cols = set()
            for leaf in self.ref[rel].get("leaves", []):
                ann = leaf["ann"]
                if any(a in ("TIMESTAMP_MILLIS", "TIMESTAMP_MICROS") for a in ann) and \
                        not any(a.startswith("LT:TIMESTAMP") for a in ann):
                    utc_cols.add(leaf["path"].split(".")[0])
            for c in sorted(utc_cols):
                notes.append("column %s: legacy TIMESTAMP ConvertedType, UTC-adjusted per spec ('+00'), "
                             "DuckDB shows it naive" % c)
            compare_rows(types, duck["sample_rows"], rows, probs, skip_cols, utc_cols=utc_cols)
        return rows

    # -- per-file specific checks ------------------------------------------------------------------

    def specific(self, rel, rows, probs, notes):
        base = os.path.basename(rel)
        stem = base[:-len(".parquet")] if base.endswith(".parquet") else base
        fn = getattr(self, "x_" + re.sub(r"[^0-9a-zA-Z]", "_", stem), None)
        if fn:
            fn(rel, rows, probs, notes)

    def x_int96_from_spark(self, rel, rows, probs, notes):
        exp = [1704141296123456, 1704070800000000, 253402225200000000, 1735599600000000, None, 9089380393200000000]
        got = [r["a"] for r in rows]
        if len(got) != len(exp):
            probs.append("int96: %d rows, expected 6" % len(got))
            return
        for i, (e, g) in enumerate(zip(exp, got)):
            if e is None:
                if g is not None:
                    probs.append("int96 row %d: expected null, got %s" % (i, fmt(g)))
                continue
            us = ts_to_micros(g) if isinstance(g, str) else None
            if us != e:
                probs.append("int96 row %d: expected %d us since epoch, got %s (= %s us)" % (i, e, fmt(g), us))
            elif not re.search(r"\.\d{6}$|:\d\d$", g):
                probs.append("int96 row %d: %s not in microsecond precision form" % (i, g))
        notes.append("6 INT96 values checked as microseconds")

    def _float16(self, rows, exp, probs):
        got = [r["x"] for r in rows]
        if len(got) != len(exp):
            probs.append("float16: %d rows, expected %d" % (len(got), len(exp)))
            return
        for i, (e, g) in enumerate(zip(exp, got)):
            if e is None or g is None:
                if e is not g:
                    probs.append("float16 row %d: expected %s, got %s" % (i, e, fmt(g)))
                continue
            gf = float(g)
            if math.isnan(e):
                ok = math.isnan(gf)
            else:
                ok = gf == e and math.copysign(1, gf) == math.copysign(1, e)
            if not ok:
                probs.append("float16 row %d: expected %r, got %s" % (i, e, fmt(g)))

    def _float16_stats(self, rel, emin, emax, probs):
        r = self.runs[("meta", rel)]
        probs += r.crash_problems()
        if r.rc != 0:
            probs.append("meta --json exit %s: %s" % (r.rc, r.err_head()))
            return
        st = jloads(r.out)["row_groups"][0]["columns"][0]["statistics"]
        for k, e in (("min", emin), ("max", emax)):
            v = st.get(k)
            ok = isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) and float(v) == e \
                and math.copysign(1, float(v)) == math.copysign(1, e)
            if not ok:
                probs.append("statistics %s: expected %r, got %s" % (k, e, fmt(v)))

    def x_float16_nonzeros_and_nans(self, rel, rows, probs, notes):
        self._float16(rows, [None, 1.0, -2.0, math.nan, 0.0, -1.0, -0.0, 2.0], probs)
        self._float16_stats(rel, -2.0, 2.0, probs)

    def x_float16_zeros_and_nans(self, rel, rows, probs, notes):
        self._float16(rows, [None, 0.0, math.nan], probs)
        self._float16_stats(rel, -0.0, 0.0, probs)

    def x_binary_truncated_min_max(self, rel, rows, probs, notes):
        exp = {
            "utf8_full_truncation": (b"Al", False, b"Kf", False),
            "binary_full_truncation": (b"\x41\x6c", False, b"\x4b\x66", False),
            "utf8_partial_truncation": (b"Al", False, "🚀Kevin Bacon".encode(), True),
            "binary_partial_truncation": (b"\x41\x6c", False, b"\xff\xff\x01\x02", True),
            "utf8_no_truncation": (b"Al", True, b"Ke", True),
            "binary_no_truncation": (b"\x41\x6c", True, b"\x4b\x65", True),
        }
        r = self.runs[("meta", rel)]
        probs += r.crash_problems()
        if r.rc != 0:
            probs.append("meta --json exit %s: %s" % (r.rc, r.err_head()))
        else:
            cols = json.loads(r.out)["row_groups"][0]["columns"]
            seen = set()
            for c in cols:
                if c["path"] not in exp:
                    continue
                seen.add(c["path"])
                st = c.get("statistics") or {}
                emin, emin_x, emax, emax_x = exp[c["path"]]
                got = (stat_bytes(st.get("min")), st.get("min_exact"), stat_bytes(st.get("max")), st.get("max_exact"))
                if got != (emin, emin_x, emax, emax_x):
                    probs.append("statistics of %s: expected min %r exact %s max %r exact %s, got min %s exact %s max %s exact %s"
                                 % (c["path"], emin, emin_x, emax, emax_x, fmt(st.get("min")), st.get("min_exact"),
                                    fmt(st.get("max")), st.get("max_exact")))
            if seen != set(exp):
                probs.append("statistics: columns missing: %s" % sorted(set(exp) - seen))
        if len(rows) != 12:
            probs.append("%d rows, expected 12" % len(rows))
        else:
            # every column holds the same names except the documented cells
            special = {(1, "utf8_no_truncation"), (1, "binary_no_truncation"), (11, "utf8_no_truncation"),
                       (11, "binary_no_truncation"), (11, "utf8_partial_truncation"), (11, "binary_partial_truncation")}
            for i, r in enumerate(rows):
                for c in exp:
                    if (i, c) not in special and r.get(c) != r.get("utf8_full_truncation"):
                        probs.append("row %d col %s: %s differs from utf8_full_truncation %s"
                                     % (i + 1, c, fmt(r.get(c)), fmt(r.get("utf8_full_truncation"))))
            if rows[0]["utf8_full_truncation"] != "Blart Versenwald III" or rows[11]["utf8_full_truncation"] != "Kevin Bacon":
                probs.append("first/last names %s/%s, expected Blart Versenwald III/Kevin Bacon"
                             % (fmt(rows[0]["utf8_full_truncation"]), fmt(rows[11]["utf8_full_truncation"])))
            checks = [(1, "utf8_no_truncation", "Al"), (1, "binary_no_truncation", "Al"),
                      (11, "utf8_no_truncation", "Ke"), (11, "binary_no_truncation", "Ke"),
                      (11, "utf8_partial_truncation", "🚀Kevin Bacon"),
                      (11, "binary_partial_truncation", "\\xFF\\xFF\\x01\\x02")]
            for i, c, e in checks:
                if rows[i].get(c) != e:
                    probs.append("row %d col %s: expected %s, got %s" % (i + 1, c, fmt(e), fmt(rows[i].get(c))))
        notes.append("min/max/exactness of 6 columns checked via meta --json")

    def _nulls_per_page(self, rows, col, exp_counts, probs):
        if len(rows) != 100 * len(exp_counts):
            probs.append("%d rows, expected %d" % (len(rows), 100 * len(exp_counts)))
            return
        got = [sum(1 for r in rows[p * 100:(p + 1) * 100] if r[col] is None) for p in range(len(exp_counts))]
        if got != exp_counts:
            probs.append("nulls per 100-row page %s (total %d), expected %s (total %d)"
                         % (got, sum(got), exp_counts, sum(exp_counts)))

    def x_int32_with_null_pages(self, rel, rows, probs, notes):
        self._nulls_per_page(rows, "int32_field", [8, 55, 100, 52, 16, 12, 5, 7, 8, 12], probs)
        notes.append("275 nulls, per page as in the manifest")

    def x_fixed_length_byte_array(self, rel, rows, probs, notes):
        self._nulls_per_page(rows, "flba_field", [9, 9, 19, 10, 13, 11, 11, 8, 9, 6], probs)
        bad = 0
        for i, r in enumerate(rows):
            v = r["flba_field"]
            if v is None:
                continue
            e = (1000 - i).to_bytes(4, "big")
            if unescape_blob(v) != e:
                if bad < 5:
                    probs.append("row %d: expected bytes %s, got %s" % (i, e.hex(), fmt(v)))
                bad += 1
        if bad:
            probs.append("%d wrong values" % bad)
        notes.append("1000 values 0x3E8..1 with 105 nulls")

    def x_nested_lists_snappy(self, rel, rows, probs, notes):
        exp = [{"a": [[["a", "b"], ["c"]], [None, ["d"]]], "b": 1},
               {"a": [[["a", "b"], ["c", "d"]], [None, ["e"]]], "b": 1},
               {"a": [[["a", "b"], ["c", "d"], ["e"]], [None, ["f"]]], "b": 1}]
        if rows != exp:
            probs.append("rows %s, expected %s" % (fmt(rows), fmt(exp)))

    def _delta_csv(self, rel, rows, probs, notes):
        csvp = self.path(rel[:-len(".parquet")] + "_expect.csv")
        with open(csvp, encoding="utf-8") as f:
            header, exp = parse_csv_expect(f.read())
        types = self.ref[rel]["duckdb"]["columns"]
        if len(header) != len(types):
            probs.append("CSV has %d columns, file %d" % (len(header), len(types)))
            return
        if len(rows) != len(exp):
            probs.append("%d rows, CSV has %d" % (len(rows), len(exp)))
        nbad = 0
        for i, (erow, orow) in enumerate(zip(exp, rows)):
            ovals = list(orow.values())
            if len(ovals) != len(erow):
                probs.append("row %d: %d columns, CSV %d" % (i, len(ovals), len(erow)))
                nbad += 1
                continue
            for j, ((col, t), e, o) in enumerate(zip(types, erow, ovals)):
                if e is None:
                    ok = o is None
                elif t in ("VARCHAR", "BLOB"):
                    ok = o == e
                else:
                    ok = isinstance(o, int) and not isinstance(o, bool) and o == int(e)
                if not ok:
                    if nbad < 8:
                        probs.append("row %d col %s: expected %s, got %s" % (i, col, fmt(e), fmt(o)))
                    nbad += 1
        if nbad:
            probs.append("%d mismatching values" % nbad)
        notes.append("%d rows x %d columns = %s (columns matched by position)"
                     % (len(exp), len(header), os.path.basename(csvp)))

    x_delta_binary_packed = _delta_csv
    x_delta_byte_array = _delta_csv
    x_delta_encoding_optional_column = _delta_csv
    x_delta_encoding_required_column = _delta_csv

    def x_byte_stream_split_extended_gzip(self, rel, rows, probs, notes):
        if len(rows) != 200:
            probs.append("%d rows, expected 200" % len(rows))
        if not rows:
            return
        cols = list(rows[0].keys())
        bss = [c for c in cols if c.endswith("_byte_stream_split")]
        if len(bss) != 7:
            probs.append("expected 7 *_byte_stream_split columns, found %s" % bss)
        for c in bss:
            twin = c[:-len("_byte_stream_split")] + "_plain"
            if twin not in cols:
                probs.append("column %s has no twin %s" % (c, twin))
                continue
            nbad = 0
            for i, r in enumerate(rows):
                a, b = r[c], r[twin]
                if not (a == b or (is_nan(a) and is_nan(b))) or type(a) != type(b):
                    if nbad < 3:
                        probs.append("row %d: %s=%s but %s=%s" % (i, c, fmt(a), twin, fmt(b)))
                    nbad += 1
            if all(r[twin] is None for r in rows):
                probs.append("column %s is all null" % twin)
        notes.append("7 BSS columns equal their PLAIN twins over all rows")

    def _same_as(self, rel, rows, probs, notes, other):
        """LZ4 (Hadoop-framed / raw block) copies of the LZ4_RAW files: same data (Arrow's test suite
        checks the same expected values for all three); DuckDB cannot read codec LZ4, so compare with
        DuckDB's rendering of the LZ4_RAW twin, and with our full output of the twin."""
        duck = self.ref[other]["duckdb"]
        if len(rows) != int(duck["count_star"]):
            probs.append("%d rows, expected %s" % (len(rows), duck["count_star"]))
        types = [(c, parse_type(t)) for c, t in duck["columns"]]
        compare_rows(types, duck["sample_rows"], rows, probs)
        tw = self.cat(other)
        if tw.rc == 0 and tw.out != self.cat(rel).out:
            probs.append("output differs from %s" % other)
        notes.append("same values as %s" % os.path.basename(other))

    def x_hadoop_lz4_compressed(self, rel, rows, probs, notes):
        self._same_as(rel, rows, probs, notes, "parquet-testing/data/lz4_raw_compressed.parquet")

    def x_non_hadoop_lz4_compressed(self, rel, rows, probs, notes):
        self._same_as(rel, rows, probs, notes, "parquet-testing/data/lz4_raw_compressed.parquet")

    def x_hadoop_lz4_compressed_larger(self, rel, rows, probs, notes):
        self._same_as(rel, rows, probs, notes, "parquet-testing/data/lz4_raw_compressed_larger.parquet")

    def x_map_no_value(self, rel, rows, probs, notes):
        exp_map = [{"1": None, "2": None, "3": None}, {"4": None, "5": None, "6": None}, {"7": None, "8": None, "9": None}]
        exp_list = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
        if len(rows) != 3:
            probs.append("%d rows, expected 3" % len(rows))
            return
        for i, r in enumerate(rows):
            if list(r.keys()) != ["my_map", "my_map_no_v", "my_list"]:
                probs.append("row %d columns %s" % (i, list(r.keys())))
                continue
            if r["my_map"] != exp_map[i]:
                probs.append("row %d my_map: expected %s, got %s" % (i, fmt(exp_map[i]), fmt(r["my_map"])))
            # a MAP without value field is a set of keys: accept the key list or a map of nulls
            if r["my_map_no_v"] not in (exp_list[i], exp_map[i]):
                probs.append("row %d my_map_no_v: expected %s (or %s), got %s"
                             % (i, fmt(exp_list[i]), fmt(exp_map[i]), fmt(r["my_map_no_v"])))
            if r["my_list"] != exp_list[i]:
                probs.append("row %d my_list: expected %s, got %s" % (i, fmt(exp_list[i]), fmt(r["my_list"])))

    def x_nation_dict_malformed(self, rel, rows, probs, notes):
        if [r["nation_key"] for r in rows] != list(range(25)):
            probs.append("nation_key is not 0..24")
        elif rows[24]["name"] != "UNITED STATES" or rows[0]["name"] != "ALGERIA":
            probs.append("names: first %s last %s" % (fmt(rows[0]["name"]), fmt(rows[24]["name"])))

    def x_geospatial(self, rel, rows, probs, notes):
        """group/wkt of all 196 rows = geospatial.yaml; geometry null iff the yaml entry is null, and the
        WKB geometry type code agrees with the WKT type and dimension."""
        yp = self.path("parquet-testing/data/geospatial/geospatial.yaml")
        exp, group, cur = [], None, None
        with open(yp, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if re.match(r"^[A-Za-z0-9_-]+:\s*$", line):
                    group = line.split(":")[0]
                elif line.startswith("- "):
                    exp.append([group, line[2:].strip()])
                elif line.startswith("  ") and exp:
                    exp[-1][1] += " " + line.strip()
        for e in exp:
            if e[1] == "null":
                e[1] = None
        if len(rows) != len(exp):
            probs.append("%d rows, geospatial.yaml lists %d" % (len(rows), len(exp)))
            return
        kinds = {"POINT": 1, "LINESTRING": 2, "POLYGON": 3, "MULTIPOINT": 4, "MULTILINESTRING": 5,
                 "MULTIPOLYGON": 6, "GEOMETRYCOLLECTION": 7}
        nbad = 0
        for i, ((g, wkt), r) in enumerate(zip(exp, rows)):
            p = []
            if r.get("group") != g or r.get("wkt") != wkt:
                p.append("group/wkt %s/%s, expected %s/%s" % (fmt(r.get("group")), fmt(r.get("wkt")), g, fmt(wkt)))
            geom = r.get("geometry")
            if wkt is None:
                if geom is not None:
                    p.append("geometry should be null, got %s" % fmt(geom))
            elif geom is None:
                p.append("geometry is null, expected %s" % wkt)
            else:
                b = unescape_blob(geom)
                m = re.match(r"^([A-Z]+)(?: (ZM|Z|M))?", wkt)
                code = kinds[m.group(1)] + {None: 0, "Z": 1000, "M": 2000, "ZM": 3000}[m.group(2)]
                if len(b) < 5 or b[0] not in (0, 1):
                    p.append("geometry is not WKB: %s" % fmt(geom))
                else:
                    got = int.from_bytes(b[1:5], "little" if b[0] == 1 else "big")
                    if got != code:
                        p.append("WKB type %d, expected %d for %s" % (got, code, wkt[:40]))
            if p:
                if nbad < 6:
                    probs.append("row %d: %s" % (i, "; ".join(p)))
                nbad += 1
        if nbad:
            probs.append("%d rows differ from geospatial.yaml" % nbad)
        notes.append("%d rows vs geospatial.yaml (wkt text, null-ness, WKB type code)" % len(exp))

    def _variant(self, rel, rows, probs, notes):
        stem = os.path.basename(rel)[:-len(".parquet")]
        with open(self.path("parquet-testing/shredded_variant/%s_row-0.variant.bin" % stem), "rb") as f:
            vb = f.read()
        meta = vb[:variant_metadata_len(vb)]
        if len(rows) != 1:
            return
        var = rows[0].get("var")
        if not isinstance(var, dict) or not isinstance(var.get("metadata"), str):
            probs.append("var: expected the shredded group with a metadata blob, got %s" % fmt(var))
            return
        if unescape_blob(var["metadata"]) != meta:
            probs.append("var.metadata %s, expected bytes %s (from the .variant.bin)" % (fmt(var["metadata"]), meta.hex()))
        ok, val = unshred(var)
        if ok:
            exp = self.ref[rel]["duckdb"]["sample_rows"][0]["var"]
            if val != exp:
                probs.append("var (fully shredded) rebuilt as %s, DuckDB %s" % (fmt(val), fmt(exp)))
            notes.append("var metadata = .variant.bin; shredded value rebuilt = DuckDB")
        else:
            notes.append("var metadata = .variant.bin; value partly binary, not decoded here")

    x_case_001 = _variant
    x_case_004 = _variant
    x_case_043_INVALID = _variant

    # -- duckdb-generated ----------------------------------------------------------------------------

    def check_duckdb_generated(self, rel, probs, notes):
        stem = os.path.basename(rel)[:-len(".parquet")]
        r = self.cat(rel)
        probs += r.crash_problems()
        if stem == "empty_zero_rows":
            if r.rc != 0 or r.out.strip():
                probs.append("cat: exit %s, %d bytes of output, expected 0 rows" % (r.rc, len(r.out)))
            m = self.runs[("meta", rel)]
            probs += m.crash_problems()
            if m.rc != 0:
                probs.append("meta --json exit %s: %s" % (m.rc, m.err_head()))
                return
            d = json.loads(m.out)
            if d.get("num_rows") != 0 or d.get("row_groups") != []:
                probs.append("meta: num_rows %s, row_groups %s; expected 0 and []" % (d.get("num_rows"), fmt(d.get("row_groups"))))
            leaves = [(s["name"], s["type"], s["repetition"], s.get("converted_type")) for s in d["schema"][1:]]
            if leaves != [("a", "INT32", "OPTIONAL", "INT_32"), ("b", "BYTE_ARRAY", "OPTIONAL", "UTF8")]:
                probs.append("meta schema %s" % leaves)
            notes.append("0 rows, 0 row groups, schema a INT32?, b STRING?")
            return
        if r.rc != 0:
            probs.append("exit %s, expected 0; stderr: %s" % (r.rc, r.err_head()))
            return
        rows = parse_jsonl(r.out)
        if stem in LOGICAL_TYPES_FILES or stem in NESTED_FILES:
            lt = stem in LOGICAL_TYPES_FILES
            ep = os.path.join(self.dg, "logical_types.expected.jsonl" if lt else "nested.expected.jsonl")
            with open(ep, encoding="utf-8") as f:
                exp = [json.loads(l, parse_float=Decimal) for l in f if l.strip()]
            tmap = LOGICAL_TYPES_TYPES if lt else NESTED_TYPES
            types = [(c, parse_type(t)) for c, t in tmap.items()]
            if len(rows) != len(exp):
                probs.append("%d rows, expected %d" % (len(rows), len(exp)))
            sub = []
            compare_rows(types, exp, rows, sub)
            if len(sub) > 10:
                bycol = {}
                for p in sub:
                    m = re.search(r'col "([^"]+)"', p)
                    bycol.setdefault(m.group(1) if m else "?", []).append(p)
                sub = [v[0] + ("  [+%d more in this column]" % (len(v) - 1) if len(v) > 1 else "") for v in bycol.values()]
            probs += sub
            notes.append("%d rows x %d columns = %s" % (len(exp), len(types), os.path.basename(ep)))
            return
        if stem == "rowgroups_10x10000_lz4raw":
            if len(rows) != 100000:
                probs.append("%d rows, expected 100000" % len(rows))
            if rows:
                i = [x["i"] for x in rows]
                agg = {"sum(i)": sum(i), "min(i)": min(i), "max(i)": max(i), "sum(g)": sum(x["g"] for x in rows),
                       "count(DISTINCT s)": len({x["s"] for x in rows}),
                       "sum(d)": math.fsum(float(x["d"]) for x in rows)}
                exp = {"sum(i)": 4999950000, "min(i)": 0, "max(i)": 99999, "sum(g)": 299995,
                       "count(DISTINCT s)": 100, "sum(d)": 2499975000.0}
                for k in exp:
                    if agg[k] != exp[k]:
                        probs.append("%s = %s, expected %s" % (k, agg[k], exp[k]))
            notes.append("count, sum/min/max(i), sum(g), distinct s, sum(d) as computed by DuckDB")
            return
        probs.append("unclassified duckdb-generated file (no expectations known)")

    # -- main loop -------------------------------------------------------------------------------------

    def run(self):
        files, ignored = self.discover()
        print("ard: %s" % self.ard)
        print("corpus: %s (%d Parquet files; %d other files not read: %s)"
              % (self.shared, len(files), len(ignored), ", ".join(os.path.basename(x) for x in ignored)))
        self.prefetch(files)

        # The files that must fail although they are in the valid-data directories, and why.
        expected_fail = dict((k, v[1]) for k, v in EXPECTED_UNSUPPORTED.items())
        expected_fail.update((k, "corrupt page CRC (we verify CRCs)") for k in EXPECTED_CRC_FAIL)
        print("files expected to be rejected although they are not in bad_data/ (%d):" % len(expected_fail))
        for k in sorted(expected_fail):
            print("  %s: %s" % (k, expected_fail[k]))

        actual_fail = set()
        for rel in files:
            probs, notes = [], []
            in_bad = rel.startswith("parquet-testing/bad_data/")
            r = self.cat(rel)
            if not in_bad and r.rc != 0:
                actual_fail.add(rel)
            try:
                if rel.startswith("duckdb-generated/"):
                    self.check_duckdb_generated(rel, probs, notes)
                elif in_bad:
                    self.check_bad(rel, probs, notes)
                elif rel in EXPECTED_UNSUPPORTED:
                    pat, why = EXPECTED_UNSUPPORTED[rel]
                    self.check_expected_failure(rel, pat, probs, notes, why)
                elif rel in EXPECTED_CRC_FAIL:
                    pat, cols = EXPECTED_CRC_FAIL[rel]
                    self.check_expected_failure(rel, pat, probs, notes, "corrupt page CRC")
                    if r.rc == 1 and not any("'%s'" % c in self.message(rel, r) for c in cols):
                        probs.append("CRC error does not name a corrupt column %s: %s" % (cols, r.err_head()))
                elif rel.endswith(".encrypted") or self.has_pare(rel):
                    probs.append("encrypted file not in the expected-unsupported list (corpus changed?)")
                elif rel not in self.ref:
                    probs.append("no DuckDB reference and no expectation known for this file (corpus changed?)")
                elif rel in DUCKDB_UNREADABLE:
                    probs += r.crash_problems()
                    if r.rc != 0:
                        probs.append("exit %s, expected 0; stderr: %s" % (r.rc, r.err_head()))
                    else:
                        rows = parse_jsonl(r.out)
                        cs = self.ref[rel]["duckdb"].get("count_star")
                        if cs is not None and len(rows) != int(cs):
                            probs.append("%d rows, DuckDB count_star %s" % (len(rows), cs))
                        notes.append("DuckDB cannot read it: checked against the manifest")
                        self.specific(rel, rows, probs, notes)
                else:
                    skip = {}
                    if rel.startswith("parquet-testing/shredded_variant/"):
                        skip["var"] = ("DuckDB decodes VARIANT to its logical value; ard prints the raw "
                                       "metadata/value/typed_value group")
                    rows = self.check_valid_generic(rel, probs, notes, skip)
                    if rows is not None:
                        self.specific(rel, rows, probs, notes)
            except Exception as e:  # a broken output format must fail, not abort the run
                probs.append("checker exception: %s: %s" % (type(e).__name__, e))
            self.report(rel, probs, notes)

        # the set of rejected valid-directory files must be exactly the expected set
        probs = []
        unexpected = sorted(actual_fail - set(expected_fail))
        missing = sorted(set(expected_fail) - actual_fail)
        if unexpected:
            probs.append("valid files rejected unexpectedly: %s" % ", ".join(unexpected))
        if missing:
            probs.append("files expected to be rejected but accepted (or absent): %s" % ", ".join(missing))
        self.report("[set of rejected files outside bad_data/ == expected set of %d]" % len(expected_fail), probs, [])

        if self.failures:
            print("failed: %s" % ", ".join(self.failures))
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1

    def has_pare(self, rel):
        with open(self.path(rel), "rb") as f:
            f.seek(0, 2)
            if f.tell() < 4:
                return False
            f.seek(-4, 2)
            return f.read(4) == b"PARE"

    def check_bad(self, rel, probs, notes):
        r = self.cat(rel)
        probs += r.crash_problems()
        if rel in BAD_DATA_MAY_SUCCEED and r.rc == 0:
            rows = parse_jsonl(r.out)
            n = BAD_DATA_MAY_SUCCEED[rel]
            duck = self.ref[rel]["duckdb"]
            (col, t), = duck["columns"]
            exp = duck["sample_rows"][0][col]
            if len(rows) != n:
                probs.append("accepted with %d rows, expected %d (or a clean error)" % (len(rows), n))
            elif any(list(x.keys()) != [col] or x[col] != exp for x in rows):
                probs.append("accepted, but not all %d values equal dict[0] = %s" % (n, exp))
            notes.append("borderline per manifest (bit width 0, 1-entry dictionary): accepted, %d copies of %s"
                         % (n, exp))
            return
        if r.rc != 1:
            probs.append("expected exit 1, got %s; stderr: %s" % (r.rc, r.err_head()))
            return
        self.check_error_message(rel, r, probs)
        if rel in BAD_DATA_MESSAGE:
            pat, why = BAD_DATA_MESSAGE[rel]
            if pat and not re.search(pat, self.message(rel, r)):
                probs.append("message %s: %s" % (why, r.err_head()))
        notes.append("rejected: %s" % r.err_head().replace(self.path(rel), "FILE"))


def main():
    if len(sys.argv) != 3:
        print("usage: parquet_corpus.py PATH_TO_ard SHARED_DIR", file=sys.stderr)
        return 2
    ard, shared = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    for d in ("parquet-testing/data", "parquet-testing/bad_data", "parquet-testing/shredded_variant",
              "parquet-testing/duckdb-reference.json", "duckdb-generated"):
        if not os.path.exists(os.path.join(shared, d)):
            print("SKIPPED: corpus not found: %s is missing (set ARD_SHARED_DIR)" % os.path.join(shared, d))
            return 77
    return Tester(ard, shared).run()


if __name__ == "__main__":
    sys.exit(main())
