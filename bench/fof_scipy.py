#!/usr/bin/python3
"""Reference friends-of-friends for bench/fof-bench and the science tests: scipy's cKDTree.query_pairs
plus scipy.sparse.csgraph.connected_components on the same raw float64 x,y,z file.

usage: fof_scipy.py POINTS.bin LINK [LABELS_OUT.bin]
Prints a RESULT line; with LABELS_OUT, writes int64 labels (smallest index of each component)."""
import sys
import time

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


def main():
    path, link = sys.argv[1], float(sys.argv[2])
    xyz = np.fromfile(path, dtype="<f8").reshape(-1, 3)
    n = len(xyz)
    t0 = time.perf_counter()
    tree = cKDTree(xyz)
    pairs = tree.query_pairs(link, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    ncomp, comp = connected_components(graph, directed=False)
    t1 = time.perf_counter()
    sizes = np.bincount(comp)
    grouped = int(sizes[sizes >= 2].sum())
    print(f"RESULT tool=scipy n={n} link={link} seconds={t1 - t0:.3f} components={ncomp} "
          f"grouped={grouped} pairs={len(pairs)}")
    if len(sys.argv) > 3:
        first = np.full(ncomp, n, dtype=np.int64)
        np.minimum.at(first, comp, np.arange(n, dtype=np.int64))
        first[comp].astype("<i8").tofile(sys.argv[3])


if __name__ == "__main__":
    main()
