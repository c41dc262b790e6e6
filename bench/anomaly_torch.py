"""Anomaly benchmark (run by bench/anomaly-bench): on one generated survey with injected anomalies,
ard's autoencoder (trained and scored through the library, batches from the shared-memory stream)
beside a PCA reconstruction-chi^2 baseline (numpy, same tokens and weights), a PyTorch twin of the
same architecture trained on the same tokens (same epochs, batch size, lr, float32), and random.
Prints precision@k (k = 100 and #anomalies), AUPRC overall and recall per kind at k = #anomalies,
and training / scoring spectra per second (ard at the given threads; torch at 1 and 2 threads).

    python3 bench/anomaly_torch.py DATASET TRUTH_CSV [--epochs E] [--threads T]
"""
import argparse
import csv
import os
import time

import numpy as np

import ard
from ard import anomaly

KINDS = ["", "cosmic_ray", "dead_arm", "wrong_class", "flat", "line_ratio", "redshift_blunder",
         "star_as_galaxy", "double_peaked", "bal_qso", "blend"]


def _auprc(y, s):
    """Average precision of scores s for labels y (ties broken by order; NaN scores last)."""
    s = np.where(np.isfinite(s), s, -np.inf)
    order = np.argsort(-s, kind="stable")
    ys = y[order]
    na = int(ys.sum())
    if na == 0:
        return float("nan"), order, ys
    prec = np.cumsum(ys) / np.arange(1, len(ys) + 1)
    return float((prec * ys).sum() / na), order, ys


def metrics(ids, score, truth, keep=None):
    """precision@100, @1000, @#anomalies, AUPRC overall; per kind: AUPRC of that kind against the
    normal spectra, and its recall in the top #anomalies. keep: a boolean mask of the rows that
    count (the test half)."""
    kind = np.array([truth[int(t)] for t in ids])
    score = np.asarray(score, float)
    if keep is not None:
        kind, score = kind[keep], score[keep]
    y = kind != 0
    auprc, order, ys = _auprc(y, score)
    na = int(y.sum())
    out = {"p@100": float(ys[:100].mean()), "p@1000": float(ys[:1000].mean()),
           f"p@{na}": float(ys[:na].mean()), "auprc": auprc}
    top = np.zeros(len(y), bool)
    top[order[:na]] = True
    per = {}
    for k in range(1, len(KINDS)):
        sel = kind == k
        if sel.any():
            sub = (kind == 0) | sel
            per[KINDS[k]] = (round(_auprc(sel[sub], score[sub])[0], 3),
                             round(float(top[sel].mean()), 2), int(sel.sum()))
    return out, per


def pr_curve(ids, score, truth, keep, points=200):
    """(recall, precision) arrays of the PR curve on the kept rows, thinned to ~points."""
    kind = np.array([truth[int(t)] for t in ids])[keep]
    y = kind != 0
    s = np.asarray(score, float)[keep]
    s = np.where(np.isfinite(s), s, -np.inf)
    ys = y[np.argsort(-s, kind="stable")]
    tp = np.cumsum(ys)
    rec, prec = tp / max(int(y.sum()), 1), tp / np.arange(1, len(ys) + 1)
    idx = np.unique(np.concatenate([np.geomspace(1, len(ys), points).astype(int) - 1, [len(ys) - 1]]))
    return rec[idx], prec[idx]


def pr_svg(curves, title, path):
    """Precision-recall curves as a plain SVG (no matplotlib on the bench machine)."""
    colors = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f"]
    x0, y0, pw, ph = 70, 40, 600, 340
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="720" height="460" viewBox="0 0 720 460" '
           'font-family="sans-serif" font-size="12">', '<rect width="720" height="460" fill="white"/>',
           f'<text x="360" y="22" text-anchor="middle" font-size="14">{title}</text>',
           f'<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="black"/>',
           f'<text x="{x0 + pw / 2}" y="{y0 + ph + 36}" text-anchor="middle">recall</text>',
           f'<text x="18" y="{y0 + ph / 2}" text-anchor="middle" '
           f'transform="rotate(-90 18 {y0 + ph / 2})">precision</text>']
    for t in range(6):
        v = t / 5
        out.append(f'<text x="{x0 + pw * v:.1f}" y="{y0 + ph + 18}" text-anchor="middle">{v:.1f}</text>')
        out.append(f'<text x="{x0 - 8}" y="{y0 + ph - ph * v + 4:.1f}" text-anchor="end">{v:.1f}</text>')
    for i, (name, (rec, prec)) in enumerate(curves):
        pts = " ".join(f"{x0 + pw * r:.1f},{y0 + ph - ph * p:.1f}" for r, p in zip(rec, prec))
        c = colors[i % len(colors)]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{pts}"/>')
        out.append(f'<rect x="{x0 + pw - 250}" y="{y0 + 10 + 18 * i}" width="12" height="12" fill="{c}"/>'
                   f'<text x="{x0 + pw - 232}" y="{y0 + 21 + 18 * i}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def load_all(ds, epochs_hint=None):
    toks, ws, masks, ids = [], [], [], []
    for b in ds.iter_batches(batch_size=256, weights=True, norm="spectrum-median"):
        toks.append(b["tokens"].copy())
        ws.append(b["weights"].reshape(len(b["tokens"]), -1).copy())
        masks.append(b["mask"].copy())
        ids.append(b["targetid"].copy())
        wave = b["wave"].copy()
    return (np.concatenate(toks), np.concatenate(ws), np.concatenate(masks), np.concatenate(ids),
            wave)


def pca_scores(x, w, n_comp, seed=0):
    rng = np.random.default_rng(seed)
    fit = x[rng.choice(len(x), size=min(len(x), 4000), replace=False)]
    mu = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mu, full_matrices=False)
    v = vt[:n_comp]
    rec = (x - mu) @ v.T @ v + mu
    valid = np.maximum((w > 0).sum(axis=1), 1)
    return (w * (rec - x) ** 2).sum(axis=1) / valid


def torch_twin(x, w, m, wave, embed, hidden, latent, epochs, batch, lr, threads, seed=1):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    n, npch, patch = x.shape
    pe = torch.tensor(anomaly.positional_encoding(wave.astype(np.float64), embed), dtype=torch.float32)

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Linear(patch, embed)
            self.enc1 = torch.nn.Linear(npch * embed, hidden)
            self.enc2 = torch.nn.Linear(hidden, latent)
            self.dec1 = torch.nn.Linear(latent, hidden)
            self.dec2 = torch.nn.Linear(hidden, npch * patch)

        def forward(self, t, mk):
            e = (self.embed(t) + pe) * mk.unsqueeze(-1)
            h = torch.nn.functional.gelu(self.enc1(e.flatten(1)), approximate="tanh")
            z = self.enc2(h)
            return self.dec2(torch.nn.functional.gelu(self.dec1(z), approximate="tanh")), z

    net = Twin()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    X = torch.from_numpy(x)
    W = torch.from_numpy(w)
    M = torch.from_numpy((m != 0).astype(np.float32))
    g = torch.Generator().manual_seed(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            r, _ = net(X[idx], M[idx])
            wb = W[idx]
            loss = (wb * (r - X[idx].flatten(1)) ** 2).sum() / (wb > 0).sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
    train_sps = epochs * n / (time.perf_counter() - t0)
    train_cpu = epochs * n / (time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        chi2 = []
        for i in range(0, n, 256):
            r, _ = net(X[i:i + 256], M[i:i + 256])
            wb = W[i:i + 256]
            chi2.append(((wb * (r - X[i:i + 256].flatten(1)) ** 2).sum(1) /
                         (wb > 0).sum(1).clamp(min=1)).numpy())
    score_sps = n / (time.perf_counter() - t0)
    score_cpu = n / (time.process_time() - c0)
    return np.concatenate(chi2), train_sps, score_sps, train_cpu, score_cpu


def speed_ard(x, w, m, wave, embed, hidden, latent, epochs, batch, lr, threads, seed=1):
    """ard's model on the same in-memory tensors as the torch twin (ard.anomaly.Model: the code the
    stage runs per batch): (chi2, train and inference spectra per wall second, the same per CPU
    second of the process, all threads)."""
    n, npch, patch = x.shape
    net = anomaly.Model(num_patches=npch, wave=wave, patch=patch, embed=embed, hidden=hidden,
                        latent=latent, seed=seed, threads=threads)
    rng = np.random.default_rng(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, batch):
            idx = np.sort(perm[i:i + batch])
            net.train_step(x[idx], m[idx], w[idx], lr)
    train_sps = epochs * n / (time.perf_counter() - t0)
    train_cpu = epochs * n / (time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    chi2 = np.concatenate([net.forward(x[i:i + 256], m[i:i + 256], w[i:i + 256])[2]
                           for i in range(0, n, 256)])
    score_sps = n / (time.perf_counter() - t0)
    score_cpu = n / (time.process_time() - c0)
    net.close()
    return chi2, train_sps, score_sps, train_cpu, score_cpu


def speed_table(x, w, m, wave, epochs, trials=2):
    """ard and torch, 1 and 2 threads, interleaved (ard, torch, ard, torch ...) so that load from
    other processes hits both alike; the best of `trials` per cell."""
    embed, hidden, latent, batch, lr = 16, 256, 8, 128, 2e-3
    best = {}
    for _ in range(trials):
        for th in (1, 2):
            for who in ("ard", "torch"):
                fn = speed_ard if who == "ard" else torch_twin
                r = fn(x, w, m, wave, embed, hidden, latent, epochs, batch, lr, th)
                k = (who, th)
                old = best.get(k, (0, 0, 0, 0))
                best[k] = tuple(max(o, v) for o, v in zip(old, r[1:]))
    lines = []
    for th in (1, 2):
        a, t = best[("ard", th)], best[("torch", th)]
        lines.append(f"speed, {th} thread(s), {len(x)} spectra in memory, batch {batch}: "
                     f"train ard {a[0]:.0f} / torch {t[0]:.0f} sp/s ({a[0] / t[0]:.2f}x); "
                     f"inference ard {a[1]:.0f} / torch {t[1]:.0f} sp/s ({a[1] / t[1]:.2f}x)")
        lines.append(f"   per CPU-second (process time, all threads): "
                     f"train ard {a[2]:.0f} / torch {t[2]:.0f} ({a[2] / t[2]:.2f}x); "
                     f"inference ard {a[3]:.0f} / torch {t[3]:.0f} ({a[3] / t[3]:.2f}x)")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("truth_csv")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--figure", help="write the precision-recall curves (SVG) here")
    ap.add_argument("--speed-only", action="store_true",
                    help="only the in-memory speed table (ard vs torch, 1 and 2 threads)")
    a = ap.parse_args()
    if a.speed_only:
        x, w, m, ids, wave = load_all(ard.Dataset(a.dataset))
        for line in speed_table(x, w, m, wave, a.epochs):
            print(line, flush=True)
        return
    truth = {int(r["TARGETID"]): int(r["ANOMALY_CODE"]) for r in csv.DictReader(open(a.truth_csv))}
    ds = ard.Dataset(a.dataset)
    embed, hidden, latent, batch, lr = 16, 256, 8, 128, 2e-3
    rows, curves = [], []
    t0 = time.perf_counter()
    tr = ds.anomaly_train(run="bench", epochs=a.epochs, threads=a.threads, seed=1)
    sc = ds.anomaly_score(run="bench", threads=a.threads, score_run="bench-score")
    import sqlite3
    db = sqlite3.connect(os.path.join(a.dataset, "ard.db"))
    got = dict((g[0], g[1:]) for g in db.execute(
        "SELECT targetid, score, chi2 FROM anomalies WHERE run_id = 'bench-score'"))
    db.close()
    x, w, m, ids, wave = load_all(ds)
    # validation / test halves by TARGETID hash: PCA's k is chosen on validation; all figures are
    # on the test half
    keep = (ids * 2654435761 % 1000) >= 500
    val = ~keep
    score_ard = np.array([got[int(t)][0] if got[int(t)][0] is not None else np.nan for t in ids])
    chi2_ard = np.array([got[int(t)][1] if got[int(t)][1] is not None else np.nan for t in ids])
    rows.append(("ard AE (score = chi2 + 0.5 density)", metrics(ids, score_ard, truth, keep),
                 f"train {tr['spectra_per_second']:.0f} sp/s, score {sc['spectra_per_second']:.0f} "
                 f"sp/s (threads {a.threads}, end-to-end incl. read + tokenize + write)"))
    curves.append(("ard AE (score)", pr_curve(ids, score_ard, truth, keep)))
    rows.append(("ard AE chi2 only", metrics(ids, chi2_ard, truth, keep), ""))
    curves.append(("ard AE (chi2 only)", pr_curve(ids, chi2_ard, truth, keep)))
    xf = x.reshape(len(x), -1)
    best = None
    for k in (4, 8, 16, 32, 64):
        sp = pca_scores(xf, w, k)
        v = metrics(ids, sp, truth, val)[0]["auprc"]
        best = (v, k, sp) if best is None or v > best[0] else best
    rows.append((f"PCA (chi2), k = {best[1]} chosen on validation", metrics(ids, best[2], truth, keep),
                 ""))
    curves.append((f"PCA k={best[1]} (chi2)", pr_curve(ids, best[2], truth, keep)))
    del xf
    chi2_t, tsps, ssps, _, _ = torch_twin(x, w, m, wave, embed, hidden, latent, a.epochs, batch, lr,
                                          a.threads)
    rows.append(("torch twin (chi2)", metrics(ids, chi2_t, truth, keep),
                 f"train {tsps:.0f} sp/s, inference {ssps:.0f} sp/s (threads {a.threads}, in memory)"))
    curves.append(("torch twin (chi2)", pr_curve(ids, chi2_t, truth, keep)))
    rng = np.random.default_rng(0)
    rnd = rng.random(len(ids))
    rows.append(("random", metrics(ids, rnd, truth, keep), ""))
    curves.append(("random", pr_curve(ids, rnd, truth, keep)))
    na = int(sum(1 for t in ids[keep] if truth[int(t)] != 0))
    print(f"## anomaly-bench: {len(ids)} spectra ({int(keep.sum())} test, {int(val.sum())} "
          f"validation), {na} anomalies in the test half, {a.epochs} epochs, model {tr['params']} "
          f"parameters, total {time.perf_counter() - t0:.0f} s")
    for name, met, note in rows:
        m_, per = met
        print(f"{name:44s} " + "  ".join(f"{k} {v:.3f}" for k, v in m_.items()) +
              (f"  [{note}]" if note else ""))
        print(f"{'':44s} per kind (AUPRC vs normal, recall@#anomalies, count): {per}")
    if a.figure:
        pr_svg(curves, f"Precision-recall, {int(keep.sum())} test spectra, {na} injected anomalies",
               a.figure)
        print(f"PR curves: {a.figure}")
    speed_n = min(len(x), 6000)
    for line in speed_table(x[:speed_n], w[:speed_n], m[:speed_n], wave, 1):
        print(line, flush=True)


if __name__ == "__main__":
    main()
