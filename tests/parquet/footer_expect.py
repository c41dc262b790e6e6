#!/usr/bin/env python3
"""Turns shared/parquet-testing/duckdb-reference.json into footer_expect.txt, a line-based file the
footer tests (test_footer.c) read without a JSON parser. Rerun after the corpus changes:

    python3 tests/parquet/footer_expect.py ../shared/parquet-testing/duckdb-reference.json \
        > tests/parquet/footer_expect.txt

Records, one per line, fields separated by one space; strings are %-escaped (bytes outside
[A-Za-z0-9._:/()+-] become %XX):
  F <path relative to the shared dir>
  X <expected open status: OK | ENOTSUP | ECORRUPT>
  N <FileMetaData.num_rows as written>
  G <row group count> <rows of each row group...>
  V <version>
  C <created_by>            (or "C -" when absent)
  K <count> <keys...>
  O <count> <orders...>     (or "O -" when FileMetaData.column_orders is absent)
  L <leaf count>
  l <path> <type id> <type_length> <rep id> <max_def> <max_rep> <logical kind> <a> <b>
      logical kind as ard_pq_logical_name; a b = bits signed (INTEGER), unit utc (TIME/TIMESTAMP),
      precision scale (DECIMAL), else 0 0
  E
"""
import json
import re
import sys

TYPES = ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
         "FIXED_LEN_BYTE_ARRAY"]
REPS = ["REQUIRED", "OPTIONAL", "REPEATED"]
UNITS = {"MILLIS": 0, "MICROS": 1, "NANOS": 2}
SAFE = re.compile(rb"[A-Za-z0-9._:/()+\-]")

# Files whose footer decodes but must still be refused at open, with the MANIFEST's reason.
REJECT_AT_OPEN = {
    # chunks at [466,591) and [591,2593) start inside the footer or past the 533-byte file
    "bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet": "ECORRUPT",
}


def esc(text):
    out = []
    for b in text.encode("utf-8"):
        ch = bytes([b])
        out.append(ch.decode() if SAFE.fullmatch(ch) else "%%%02X" % b)
    return "".join(out) if out else "%"


def logical(leaf):
    anns = leaf["ann"]
    lt = [a[3:] for a in anns if a.startswith("LT:")]
    ct = [a for a in anns if not a.startswith("LT:")]
    if lt:
        s = lt[0]
        m = re.fullmatch(r"INT\((\d+),(signed|unsigned)\)", s)
        if m:
            return "INTEGER", int(m.group(1)), int(m.group(2) == "signed")
        m = re.fullmatch(r"(TIME|TIMESTAMP)\((\w+),utc=(True|False)\)", s)
        if m:
            return m.group(1), UNITS[m.group(2)], int(m.group(3) == "True")
        m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", s)
        if m:
            return "DECIMAL", int(m.group(1)), int(m.group(2))
        if s == "UNKNOWN":
            return "NULL", 0, 0
        if s.startswith("LT"):
            return "UNKNOWN_ID", 0, 0
        return s, 0, 0
    if not ct:
        return "NONE", 0, 0
    c = ct[0]
    m = re.fullmatch(r"(U?)INT_(\d+)", c)
    if m:
        return "INTEGER", int(m.group(2)), int(m.group(1) == "")
    m = re.fullmatch(r"(TIME|TIMESTAMP)_(MILLIS|MICROS)", c)
    if m:
        return m.group(1), UNITS[m.group(2)], 1
    if c == "DECIMAL":
        return "DECIMAL", leaf["precision"] or 0, leaf["scale"] or 0
    return {"UTF8": "STRING"}.get(c, c), 0, 0


def leaf_line(leaf):
    t = leaf["type"]
    m = re.fullmatch(r"FIXED_LEN_BYTE_ARRAY\((\d+)\)", t)
    tid, tlen = (7, int(m.group(1))) if m else (TYPES.index(t), 0)
    kind, a, b = logical(leaf)
    return "l %s %d %d %d %d %d %s %d %d" % (esc(leaf["path"]), tid, tlen, REPS.index(leaf["rep"]),
                                             leaf["max_def"], leaf["max_rep"], kind, a, b)


def main():
    ref = json.load(open(sys.argv[1], encoding="utf-8"))["files"]
    for name in sorted(ref):
        entry = ref[name]
        footer = entry["footer"]
        print("F parquet-testing/" + esc(name))
        if entry["magic_tail"] == "PARE":
            print("X ENOTSUP")
            print("E")
            continue
        bad_type = any(l["type"].startswith("?") for l in entry["leaves"])
        print("X " + ("ECORRUPT" if bad_type else REJECT_AT_OPEN.get(name, "OK")))
        print("N %d" % footer["num_rows"])
        print("G %d %s" % (footer["num_row_groups"], " ".join(str(r) for r in footer["rg_rows"])))
        print("V %d" % footer["version"])
        cb = footer["created_by"]
        print("C " + ("-" if cb is None else esc(cb)))
        print("K %d %s" % (len(footer["kv_keys"]), " ".join(esc(k) for k in footer["kv_keys"])))
        orders = footer["column_orders"]
        print("O -" if orders is None else "O %d %s" % (len(orders), " ".join(map(str, orders))))
        if not bad_type:
            print("L %d" % len(entry["leaves"]))
            for leaf in entry["leaves"]:
                print(leaf_line(leaf))
        print("E")


if __name__ == "__main__":
    main()
