"""Anomaly benchmark (run by bench/anomaly-bench): on one generated survey with injected anomalies,
ard's autoencoder (trained and scored through the library, batches from the shared-memory stream)
beside a PCA reconstruction-chi^2 baseline (numpy, same tokens and weights), a PyTorch twin of the
same architecture trained on the same tokens (same epochs, batch size, lr, float32), and random.
Prints precision@k (k = 100 and #anomalies), AUPRC overall and recall per kind at k = #anomalies,
and training / scoring spectra per second (ard at the given threads; torch at 1 and 2 threads).
Streams: the survey is never held in memory. The references train on a TARGETID-hash subsample
(--ref-fraction, float32 copies; the twin gets as many gradient steps as ard unless --ref-epochs)
and score every spectrum in one streaming pass, so peak memory stays ~2 x 16 KiB x subsample.

    python3 bench/anomaly_torch.py DATASET TRUTH_CSV [--epochs E] [--threads T]
                                   [--ref-fraction F] [--ref-epochs E] [--rest] [--speed-only]
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
    colors = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
              "#17becf", "#7f7f7f"]
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


def batches(ds, frame="observed"):
    """The stream's batches (the tokens ard trains on): dicts of numpy views, valid until the next."""
    yield from ds.iter_batches(batch_size=256, weights=True, norm="spectrum-median", frame=frame)


def _hash_keep(ids, fraction):
    """Deterministic subsample by TARGETID hash (independent of the validation/test split hash)."""
    return ((ids * 0x9E3779B97F4A7C15) % (1 << 64) >> 40) % 100000 < fraction * 100000


def load_subsample(ds, fraction):
    """One streaming pass: copies of the spectra whose TARGETID hash falls in `fraction` (the
    training set of the Python references; float32), plus the wavelength of each patch. Peak memory
    ~ 2 x 4 bytes x pixels x subsample: the whole survey is never held."""
    toks, ws, masks, ids, wave = [], [], [], [], None
    for b in batches(ds):
        tid = b["TARGETID"].astype(np.uint64)
        keep = _hash_keep(tid, fraction)
        wave = b["WAVE"].copy()
        if keep.any():
            n = len(b["TOKENS"])
            toks.append(b["TOKENS"][keep].copy())
            ws.append(b["WEIGHTS"].reshape(n, -1)[keep].copy())
            masks.append(b["MASK"][keep].copy())
            ids.append(b["TARGETID"][keep].copy())
    return (np.concatenate(toks), np.concatenate(ws), np.concatenate(masks), np.concatenate(ids),
            wave)


PCA_KS = (4, 8, 16, 32, 64)


def pca_fit(x, seed=0, fit_n=8000):
    """Mean and the top max(PCA_KS) principal components of fit_n spectra of x (float32)."""
    rng = np.random.default_rng(seed)
    fit = x[rng.choice(len(x), size=min(len(x), fit_n), replace=False)].astype(np.float32)
    mu = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mu, full_matrices=False)
    return mu, vt[:max(PCA_KS)].astype(np.float32)


def pca_batch_scores(mu, vt, x, w):
    """PCA reconstruction chi2 of one batch for every k in PCA_KS: [len(PCA_KS), n]."""
    d = x - mu
    c = d @ vt.T
    valid = np.maximum((w > 0).sum(axis=1), 1)
    out = np.empty((len(PCA_KS), len(x)))
    for i, k in enumerate(PCA_KS):
        r = c[:, :k] @ vt[:k] - d
        out[i] = (w * r * r).sum(axis=1) / valid
    return out


def _epoch_order(n, epochs, seed):
    """One permutation per epoch (the same for ard and torch)."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def torch_twin_model(npch, patch, wave, embed, hidden, latent, seed=1):
    import torch
    torch.manual_seed(seed)
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

    return Twin()


def torch_chi2(net, x, m, w):
    """The twin's reconstruction chi2 of one batch (numpy in, numpy out)."""
    import torch
    with torch.no_grad():
        X = torch.from_numpy(np.ascontiguousarray(x))
        W = torch.from_numpy(np.ascontiguousarray(w).reshape(len(x), -1))
        r, _ = net(X, torch.from_numpy((m != 0).astype(np.float32)))
        return ((W * (r - X.flatten(1)) ** 2).sum(1) / (W > 0).sum(1).clamp(min=1)).numpy()


def torch_twin(x, w, m, wave, embed, hidden, latent, epochs, batch, lr, threads, seed=1,
               score=True):
    """Trains the twin on x (each epoch: one shuffled copy, then contiguous batches — the gather
    is the loader's job and is not timed, as for ard); returns (net, chi2 of x or None, train and
    inference spectra per wall second and per CPU second)."""
    import torch
    torch.set_num_threads(threads)
    n, npch, patch = x.shape
    net = torch_twin_model(npch, patch, wave, embed, hidden, latent, seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    wall = cpu = 0.0
    for perm in _epoch_order(n, epochs, seed):
        X = torch.from_numpy(x[perm])
        W = torch.from_numpy(w[perm].reshape(n, -1))
        M = torch.from_numpy((m[perm] != 0).astype(np.float32))
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, n, batch):
            xb, wb = X[i:i + batch], W[i:i + batch]
            r, _ = net(xb, M[i:i + batch])
            loss = (wb * (r - xb.flatten(1)) ** 2).sum() / (wb > 0).sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        del X, W, M
    train_sps, train_cpu = epochs * n / wall, epochs * n / cpu
    if not score:
        return net, None, train_sps, 0.0, train_cpu, 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    chi2 = np.concatenate([torch_chi2(net, x[i:i + 256], m[i:i + 256], w[i:i + 256])
                           for i in range(0, n, 256)])
    score_sps = n / (time.perf_counter() - t0)
    score_cpu = n / (time.process_time() - c0)
    return net, chi2, train_sps, score_sps, train_cpu, score_cpu


def speed_ard(x, w, m, wave, embed, hidden, latent, epochs, batch, lr, threads, seed=1):
    """ard's model on the same in-memory tensors as the torch twin (ard.anomaly.Model: the code the
    stage runs per batch), the same shuffled copies and batches: (chi2, train and inference
    spectra per wall second, the same per CPU second of the process, all threads)."""
    n, npch, patch = x.shape
    net = anomaly.Model(num_patches=npch, wave=wave, patch=patch, embed=embed, hidden=hidden,
                        latent=latent, seed=seed, threads=threads)
    wall = cpu = 0.0
    for perm in _epoch_order(n, epochs, seed):
        xs, ws, ms = x[perm], w[perm], m[perm]
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, n, batch):
            net.train_step(xs[i:i + batch], ms[i:i + batch], ws[i:i + batch], lr)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        del xs, ws, ms
    train_sps, train_cpu = epochs * n / wall, epochs * n / cpu
    t0, c0 = time.perf_counter(), time.process_time()
    chi2 = np.concatenate([net.forward(x[i:i + 256], m[i:i + 256], w[i:i + 256])[2]
                           for i in range(0, n, 256)])
    score_sps = n / (time.perf_counter() - t0)
    score_cpu = n / (time.process_time() - c0)
    net.close()
    return None, chi2, train_sps, score_sps, train_cpu, score_cpu


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
                best[k] = tuple(max(o, v) for o, v in zip(old, r[2:]))
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


def ard_scores(dataset, score_run):
    import sqlite3
    db = sqlite3.connect(os.path.join(dataset, "ard.db"))
    got = dict((g[0], g[1:]) for g in db.execute(
        "SELECT targetid, score, chi2 FROM anomalies WHERE run_id = ?", (score_run,)))
    db.close()
    return got


def _col(got, ids, j):
    return np.array([got[int(t)][j] if int(t) in got and got[int(t)][j] is not None else np.nan
                     for t in ids])


def print_rows(rows):
    for name, met, note in rows:
        m_, per = met
        print(f"{name:44s} " + "  ".join(f"{k} {v:.3f}" for k, v in m_.items()) +
              (f"  [{note}]" if note else ""))
        print(f"{'':44s} per kind (AUPRC vs normal, recall@#anomalies, count): {per}", flush=True)


def rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ard_only_table(a, truth):
    """ard's rows from the score run bench-score already in the index, beside random."""
    got = ard_scores(a.dataset, "bench-score")
    ids = np.array(sorted(got), dtype=np.int64)
    keep = (ids * 2654435761 % 1000) >= 500
    score, chi2 = _col(got, ids, 0), _col(got, ids, 1)
    rnd = np.random.default_rng(0).random(len(ids))
    na = int(sum(1 for t in ids[keep] if truth[int(t)] != 0))
    print(f"## ard only (score run bench-score): {len(ids)} spectra ({int(keep.sum())} test), "
          f"{na} anomalies in the test half")
    print_rows([("ard AE (score = chi2 + 0.5 density)", metrics(ids, score, truth, keep), ""),
                ("ard AE chi2 only", metrics(ids, chi2, truth, keep), ""),
                ("random", metrics(ids, rnd, truth, keep), "")])
    if a.figure:
        pr_svg([("ard AE (score)", pr_curve(ids, score, truth, keep)),
                ("ard AE (chi2 only)", pr_curve(ids, chi2, truth, keep)),
                ("random", pr_curve(ids, rnd, truth, keep))],
               f"Precision-recall, {int(keep.sum())} test spectra, {na} injected anomalies (ard only)",
               a.figure)


def frames_table(ds, a, truth):
    """ard trained and scored in the observed and in the rest frame on one selection: per-kind
    AUPRC on the test half, side by side."""
    out = []
    for frame in ("observed", "rest"):
        t0 = time.perf_counter()
        run = f"frames-{frame}"
        ds.anomaly_train(run=run, where=a.frames_only, epochs=a.epochs, threads=a.threads, seed=1,
                         frame=frame)
        ds.anomaly_score(run=run, where=a.frames_only, threads=a.threads, score_run=run + "-s")
        got = ard_scores(a.dataset, run + "-s")
        ids = np.array(sorted(got), dtype=np.int64)
        keep = (ids * 2654435761 % 1000) >= 500
        out.append((f"ard AE --frame {frame} (score)", metrics(ids, _col(got, ids, 0), truth, keep),
                    f"{time.perf_counter() - t0:.0f} s"))
        out.append((f"ard AE --frame {frame} (chi2)", metrics(ids, _col(got, ids, 1), truth, keep),
                    ""))
    na = int(sum(1 for t in ids[keep] if truth[int(t)] != 0))
    print(f"## --frame observed vs rest: {len(ids)} spectra selected by '{a.frames_only}' "
          f"({int(keep.sum())} test, {na} anomalies in the test half), {a.epochs} epochs")
    print_rows(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("truth_csv")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--figure", help="write the precision-recall curves (SVG) here")
    ap.add_argument("--speed-only", action="store_true",
                    help="only the in-memory speed table (ard vs torch, 1 and 2 threads)")
    ap.add_argument("--speed-n", type=int, default=6000, help="spectra in the speed table")
    ap.add_argument("--ref-fraction", type=float, default=1.0,
                    help="TARGETID-hash share of the survey held in memory as the training set of "
                         "the Python references (PCA fit, torch twin); scoring always streams all")
    ap.add_argument("--ref-epochs", type=int, default=0,
                    help="torch twin epochs over its training set (default: as many gradient steps "
                         "as ard's --epochs over the whole survey)")
    ap.add_argument("--rest", action="store_true",
                    help="also train + score ard with --frame rest and compare per kind")
    ap.add_argument("--no-speed", action="store_true", help="skip the in-memory speed table")
    ap.add_argument("--reuse-ard", action="store_true",
                    help="take ard's scores from the score run bench-score already in the index "
                         "(a previous run of this script) instead of training and scoring again")
    ap.add_argument("--ard-only", action="store_true",
                    help="only ard's rows (and random) from the score run bench-score in the index: "
                         "no references, no streaming")
    ap.add_argument("--frames-only", metavar="WHERE",
                    help="only ard --frame observed vs rest on the spectra selected by WHERE "
                         "(trained and scored on that selection)")
    a = ap.parse_args()
    ds = ard.Dataset(a.dataset)
    if a.speed_only:
        x, w, m, ids, wave = load_subsample(ds, a.ref_fraction)
        n = min(len(x), a.speed_n)
        for line in speed_table(x[:n], w[:n], m[:n], wave, a.epochs):
            print(line, flush=True)
        return
    truth = {int(r["TARGETID"]): int(r["ANOMALY_CODE"]) for r in csv.DictReader(open(a.truth_csv))}
    if a.frames_only:
        frames_table(ds, a, truth)
        return
    if a.ard_only:
        ard_only_table(a, truth)
        return
    embed, hidden, latent, batch, lr = 16, 256, 8, 128, 2e-3
    rows, curves = [], []
    t0 = time.perf_counter()
    if a.reuse_ard:
        tr = sc = {"spectra_per_second": float("nan"), "params": "(reused)"}
    else:
        tr = ds.anomaly_train(run="bench", epochs=a.epochs, threads=a.threads, seed=1,
                              frame="observed")  # the frame of the references' batches
        sc = ds.anomaly_score(run="bench", threads=a.threads, score_run="bench-score")
    print(f"ard stage: train {tr['spectra_per_second']:.0f} sp/s, score "
          f"{sc['spectra_per_second']:.0f} sp/s ({time.perf_counter() - t0:.0f} s)", flush=True)
    got = ard_scores(a.dataset, "bench-score")
    # the references' training set: a TARGETID-hash subsample held in memory (float32)
    t1 = time.perf_counter()
    x, w, m, sub_ids, wave = load_subsample(ds, a.ref_fraction)
    n_all = len(got)
    ref_epochs = a.ref_epochs or max(1, round(a.epochs * n_all / len(x)))
    mu, vt = pca_fit(x.reshape(len(x), -1))
    net, _, tsps, _, _, _ = torch_twin(x, w, m, wave, embed, hidden, latent, ref_epochs, batch, lr,
                                       a.threads, score=False)
    print(f"references: {len(x)} training spectra in memory ({a.ref_fraction:g} of the survey), "
          f"torch twin {ref_epochs} epochs ({ref_epochs * len(x)} spectrum-steps; ard "
          f"{a.epochs * n_all}), train {tsps:.0f} sp/s; {time.perf_counter() - t1:.0f} s, "
          f"python peak RSS {rss_mb():.0f} MB", flush=True)
    speed_n = min(len(x), a.speed_n)
    xs, ws, ms = x[:speed_n].copy(), w[:speed_n].copy(), m[:speed_n].copy()
    del x, w, m
    # scoring pass: stream every spectrum once through PCA and the twin (constant memory)
    ids, pca, chi2_t = [], [], []
    t1 = time.perf_counter()
    tsc = 0.0
    for b in batches(ds):
        n = len(b["TOKENS"])
        xb, wb = b["TOKENS"], b["WEIGHTS"].reshape(n, -1)
        ids.append(b["TARGETID"].copy())
        pca.append(pca_batch_scores(mu, vt, xb.reshape(n, -1), wb))
        t2 = time.perf_counter()
        chi2_t.append(torch_chi2(net, xb, b["MASK"], wb))
        tsc += time.perf_counter() - t2
    ids, pca, chi2_t = np.concatenate(ids), np.concatenate(pca, axis=1), np.concatenate(chi2_t)
    print(f"reference scoring pass: {len(ids)} spectra, {time.perf_counter() - t1:.0f} s (twin "
          f"inference {len(ids) / tsc:.0f} sp/s), python peak RSS {rss_mb():.0f} MB", flush=True)
    # validation / test halves by TARGETID hash: PCA's k is chosen on validation; all figures are
    # on the test half
    keep = (ids * 2654435761 % 1000) >= 500
    val = ~keep
    score_ard, chi2_ard = _col(got, ids, 0), _col(got, ids, 1)
    rows.append(("ard AE (score = chi2 + 0.5 density)", metrics(ids, score_ard, truth, keep),
                 f"train {tr['spectra_per_second']:.0f} sp/s, score {sc['spectra_per_second']:.0f} "
                 f"sp/s (threads {a.threads}, end-to-end incl. read + tokenize + write)"))
    curves.append(("ard AE (score)", pr_curve(ids, score_ard, truth, keep)))
    rows.append(("ard AE chi2 only", metrics(ids, chi2_ard, truth, keep), ""))
    curves.append(("ard AE (chi2 only)", pr_curve(ids, chi2_ard, truth, keep)))
    best = max(range(len(PCA_KS)), key=lambda i: metrics(ids, pca[i], truth, val)[0]["auprc"])
    rows.append((f"PCA (chi2), k = {PCA_KS[best]} chosen on validation",
                 metrics(ids, pca[best], truth, keep), ""))
    curves.append((f"PCA k={PCA_KS[best]} (chi2)", pr_curve(ids, pca[best], truth, keep)))
    rows.append(("torch twin (chi2)", metrics(ids, chi2_t, truth, keep),
                 f"train {tsps:.0f} sp/s (threads {a.threads}, in memory)"))
    curves.append(("torch twin (chi2)", pr_curve(ids, chi2_t, truth, keep)))
    rnd = np.random.default_rng(0).random(len(ids))
    rows.append(("random", metrics(ids, rnd, truth, keep), ""))
    curves.append(("random", pr_curve(ids, rnd, truth, keep)))
    na = int(sum(1 for t in ids[keep] if truth[int(t)] != 0))
    print(f"## anomaly-bench: {len(ids)} spectra ({int(keep.sum())} test, {int(val.sum())} "
          f"validation), {na} anomalies in the test half, {a.epochs} epochs, model {tr['params']} "
          f"parameters, total {time.perf_counter() - t0:.0f} s")
    print_rows(rows)
    if a.figure:
        pr_svg(curves, f"Precision-recall, {int(keep.sum())} test spectra, {na} injected anomalies",
               a.figure)
        print(f"PR curves: {a.figure}", flush=True)
    if not a.no_speed:
        for line in speed_table(xs, ws, ms, wave, 1):
            print(line, flush=True)
    if a.rest:
        t1 = time.perf_counter()
        tr = ds.anomaly_train(run="bench-rest", epochs=a.epochs, threads=a.threads, seed=1,
                              frame="rest")
        ds.anomaly_score(run="bench-rest", threads=a.threads, score_run="bench-rest-score")
        got = ard_scores(a.dataset, "bench-rest-score")
        print(f"## --frame rest vs observed (same epochs, test half; {time.perf_counter() - t1:.0f} "
              f"s)")
        print_rows([("ard AE --frame rest (score)", metrics(ids, _col(got, ids, 0), truth, keep),
                     ""),
                    ("ard AE --frame rest (chi2)", metrics(ids, _col(got, ids, 1), truth, keep),
                     ""), rows[0]])


if __name__ == "__main__":
    main()
