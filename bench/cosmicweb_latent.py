#!/usr/bin/env python3
"""Anomaly latents as extra node features (issue 14, "optionally the anomaly stage's latent
vector"): the torch twin of ard's GraphSAGE (bench/cosmicweb_torch.py, same graph, split and
hyper-parameters) and the density-only logistic regression, each with and without the latent
vector that `ard anomaly score` wrote for every spectrum (results/anomaly-RUN-scores.parquet,
LATENT_0..S-1), matched by TARGETID. A galaxy without a scored spectrum gets zeros and a
has-latent flag of 0, as in ard's `cosmicweb train --latent RUN` (the twin of that path).

usage: cosmicweb_latent.py DUMPDIR LATENTS.csv EPOCHS      (accumulation 8 steps)
  DUMPDIR: bench_cosmicweb dump output (with targetid.i64)
  LATENTS.csv: `ard parquet cat results/anomaly-RUN-scores.parquet --format csv
               --columns TARGETID,LATENT_0,...`
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cosmicweb_torch as tw  # noqa: E402


def main():
    d, csv, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(1)
    tw.ACCUM = 8  # a small survey: 8-step accumulation gives the optimizer enough steps
    tw.GEO = 0  # ard's default architecture (plain mean-aggregator SAGE)
    xyz, z, cls, label, split = tw.load(d)
    tid = np.fromfile(f"{d}/targetid.i64", dtype="<i8")
    # TARGETIDs exceed 2^53: parse them as integers, not through float64
    ltid = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=0, dtype=np.int64)
    lat = np.atleast_2d(np.genfromtxt(csv, delimiter=",", skip_header=1, dtype=np.float64))[:, 1:]
    order = np.argsort(ltid)
    pos = np.searchsorted(ltid[order], tid)
    pos[pos >= len(ltid)] = 0
    hit = ltid[order][pos] == tid
    glat = np.zeros((len(tid), lat.shape[1]))
    glat[hit] = lat[order][pos[hit]]
    print(f"INFO galaxies={len(tid)} with_latent={int(hit.sum())} latent={lat.shape[1]}")
    nbr, dist = tw.graph(xyz)
    base = tw.features(dist, z, cls)
    train = np.flatnonzero((split == 0) & (label >= 0))
    test = (split == 2) & (label >= 0)
    counts = np.bincount(label[train], minlength=tw.C)
    weight = np.where(counts > 0, len(train) / (tw.C * np.maximum(counts, 1)), 0.0)
    from sklearn.linear_model import LogisticRegression
    for name, x in (("without", base),
                    ("with", np.hstack([base, glat, hit[:, None]]).astype(np.float32))):
        mean, std = x[train].mean(0), x[train].std(0)
        std[std < 1e-6] = 1.0
        x = ((x - mean) / std).astype(np.float32)
        pos = torch.from_numpy(xyz)
        model, nps, _ = tw.train_twin(x, nbr, pos, label, train, weight, epochs)
        with torch.no_grad():
            pred = model.full(torch.from_numpy(x), torch.from_numpy(nbr), pos).argmax(1).numpy()
        tw.report("torch_twin", f"latents={name} features={x.shape[1]} epochs={epochs}",
                  label[test], pred[test])
        lr = LogisticRegression(max_iter=500, class_weight="balanced").fit(x[train], label[train])
        tw.report("density_logreg", f"latents={name}", label[test], lr.predict(x[test]))


if __name__ == "__main__":
    main()
