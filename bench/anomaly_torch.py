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


def metrics(ids, score, truth):
    y = np.array([truth[int(t)] != 0 for t in ids])
    kind = np.array([truth[int(t)] for t in ids])
    s = np.where(np.isfinite(score), score, -np.inf)
    order = np.argsort(-s, kind="stable")
    ys = y[order]
    na = int(y.sum())
    tp = np.cumsum(ys)
    prec = tp / np.arange(1, len(ys) + 1)
    auprc = float((prec * ys).sum() / max(na, 1))
    out = {"p@100": float(ys[:100].mean()), f"p@{na}": float(ys[:na].mean()), "auprc": auprc}
    top = set(order[:na])
    per = {}
    for k in range(1, len(KINDS)):
        idx = np.where(kind == k)[0]
        if len(idx):
            per[KINDS[k]] = round(sum(1 for i in idx if i in top) / len(idx), 2)
    return out, per


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
    t0 = time.perf_counter()
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
    t0 = time.perf_counter()
    with torch.no_grad():
        chi2 = []
        for i in range(0, n, 256):
            r, _ = net(X[i:i + 256], M[i:i + 256])
            wb = W[i:i + 256]
            chi2.append(((wb * (r - X[i:i + 256].flatten(1)) ** 2).sum(1) /
                         (wb > 0).sum(1).clamp(min=1)).numpy())
    score_sps = n / (time.perf_counter() - t0)
    return np.concatenate(chi2), train_sps, score_sps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("truth_csv")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    truth = {int(r["TARGETID"]): int(r["ANOMALY_CODE"]) for r in csv.DictReader(open(a.truth_csv))}
    ds = ard.Dataset(a.dataset)
    embed, hidden, latent, batch, lr = 16, 256, 8, 128, 2e-3
    rows = []
    t0 = time.perf_counter()
    tr = ds.anomaly_train(run="bench", epochs=a.epochs, threads=a.threads, seed=1)
    sc = ds.anomaly_score(run="bench", threads=a.threads, score_run="bench-score")
    import sqlite3
    db = sqlite3.connect(os.path.join(a.dataset, "ard.db"))
    got = db.execute("SELECT targetid, score, chi2 FROM anomalies WHERE run_id = 'bench-score'").fetchall()
    db.close()
    ids_ard = np.array([g[0] for g in got])
    score_ard = np.array([g[1] if g[1] is not None else np.nan for g in got], float)
    chi2_ard = np.array([g[2] if g[2] is not None else np.nan for g in got], float)
    rows.append(("ard AE (score = chi2 + 0.5 density)", metrics(ids_ard, score_ard, truth),
                 f"train {tr['spectra_per_second']:.0f} sp/s, score {sc['spectra_per_second']:.0f} sp/s "
                 f"(threads {a.threads}, end-to-end incl. read + tokenize + write)"))
    rows.append(("ard AE chi2 only", metrics(ids_ard, chi2_ard, truth), ""))
    x, w, m, ids, wave = load_all(ds)
    xf = x.reshape(len(x), -1)
    for k in (8, 32):
        rows.append((f"PCA {k} components (chi2)", metrics(ids, pca_scores(xf, w, k), truth), ""))
    rng = np.random.default_rng(0)
    rows.append(("random", metrics(ids, rng.random(len(ids)), truth), ""))
    for th in (1, 2):
        chi2_t, tsps, ssps = torch_twin(x, w, m, wave, embed, hidden, latent, a.epochs, batch, lr, th)
        if th == 2:
            rows.append(("torch twin (chi2)", metrics(ids, chi2_t, truth), ""))
        rows.append((f"torch twin speed, {th} thread(s)", None,
                     f"train {tsps:.0f} sp/s, inference {ssps:.0f} sp/s (tensors in memory)"))
    na = sum(1 for t in ids if truth[int(t)] != 0)
    print(f"## anomaly-bench: {len(ids)} spectra, {na} anomalies, {a.epochs} epochs, "
          f"model {tr['params']} parameters, total {time.perf_counter() - t0:.0f} s")
    for name, met, note in rows:
        if met is None:
            print(f"{name:40s} {note}")
            continue
        m_, per = met
        print(f"{name:40s} " + "  ".join(f"{k} {v:.3f}" for k, v in m_.items()) + (f"  [{note}]" if note else ""))
        print(f"{'':40s} recall@#anomalies per kind: {per}")


if __name__ == "__main__":
    main()
