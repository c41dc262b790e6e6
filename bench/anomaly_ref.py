"""The Python references of the anomaly benchmark at survey scale (bench/anomaly-bench with
ARD_BENCH_ANOMALY_REF=1): PCA and the PyTorch twin on the tokens and weights ard trains on, without
holding the survey in memory and without a second streaming pass per reference.

    dump   DATASET OUT [--frame observed|rest]
        One pass of the ard stream (the stage's loader options: batch 256, weights, norm
        spectrum-median, min_valid patch/4, rest_z 0..1.6) into raw files in OUT: tokens and
        weights as float16 (N x patches x patch), the patch mask (uint8), TARGETID (int64) and the
        patch wavelengths; float16 values beyond its range are clipped and counted in meta.json.
    refs   OUT TRUTH_CSV --ard NPZ [--epochs 2] [--threads 2] [--figure SVG] [--json JSON]
        PCA (fit on a hash subsample, k in PCA_KS chosen on the validation half) and the twin
        (same architecture as ard's model, trained on every dumped spectrum: same epochs, batch
        128, lr 2e-3, seed 1; one seeded permutation per epoch) read their batches from the
        dump (float16 -> float32 per batch, read with pread: the resident set holds one batch). Scores every dumped spectrum, then prints the table
        (precision@100/1000/#anomalies, AUPRC, per kind) on the test half for ard (from NPZ:
        ids, score, chi2 of a score run), PCA, the twin and random.
    ard-npz DATASET SCORE_RUN NPZ
        ard's scores of one score run (index table anomalies) as NPZ (ids, score, chi2, density).
    table  JSON...
        The rows of refs runs as Markdown tables (overall, then AUPRC per kind).
"""
import argparse
import csv
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import anomaly_torch as at  # noqa: E402  (metrics, PR curves, the twin's architecture)

F16_MAX = 65504.0


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dump(dataset, out, frame):
    import ard
    os.makedirs(out, exist_ok=True)
    ds = ard.Dataset(dataset)
    files = {k: open(os.path.join(out, k), "wb") for k in ("tokens.f16", "weights.f16", "mask.u8",
                                                         "ids.i64")}
    n = clipped_t = clipped_w = 0
    wave = None
    t0 = time.perf_counter()
    for b in ds.iter_batches(batch_size=256, weights=True, norm="spectrum-median", frame=frame):
        t, w = b["TOKENS"], b["WEIGHTS"]
        clipped_t += int((np.abs(t) > F16_MAX).sum())
        clipped_w += int((w > F16_MAX).sum())
        files["tokens.f16"].write(np.clip(t, -F16_MAX, F16_MAX).astype(np.float16).tobytes())
        files["weights.f16"].write(np.minimum(w, F16_MAX).astype(np.float16).tobytes())
        files["mask.u8"].write(np.ascontiguousarray(b["MASK"]).tobytes())
        files["ids.i64"].write(np.ascontiguousarray(b["TARGETID"]).astype(np.int64).tobytes())
        wave = b["WAVE"].copy()
        n += len(t)
        shape = t.shape[1:]
        if n % 25600 < len(t):
            print(f"dump {frame}: {n} spectra, {time.perf_counter() - t0:.0f} s, peak RSS "
                  f"{rss_mb():.0f} MB", flush=True)
    for f in files.values():
        f.close()
    np.save(os.path.join(out, "wave.npy"), wave)
    meta = {"n": n, "patches": int(shape[0]), "patch": int(shape[1]), "frame": frame,
            "clipped_tokens": clipped_t, "clipped_weights": clipped_w,
            "seconds": time.perf_counter() - t0, "peak_rss_mb": rss_mb()}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"dump {frame}: {meta}", flush=True)


class Dump:
    """The dumped tokens, read in batches with pread (float32 copies): no file mapping, so the
    resident set holds only the batch (a mapping's fault-around would pull most of the file in)."""

    def __init__(self, out):
        with open(os.path.join(out, "meta.json")) as f:
            self.meta = json.load(f)
        self.n, self.shape = self.meta["n"], (self.meta["patches"], self.meta["patch"])
        self.mask = np.fromfile(os.path.join(out, "mask.u8"), np.uint8).reshape(self.n, -1)
        self.ids = np.fromfile(os.path.join(out, "ids.i64"), np.int64)
        self.wave = np.load(os.path.join(out, "wave.npy"))
        self.fds = [os.open(os.path.join(out, k), os.O_RDONLY) for k in ("tokens.f16",
                                                                          "weights.f16")]
        self.row = self.shape[0] * self.shape[1] * 2

    def _read(self, fd, rows):
        if isinstance(rows, slice):
            start, stop = rows.start, min(rows.stop, self.n)
            buf = os.pread(fd, (stop - start) * self.row, start * self.row)
            return np.frombuffer(buf, np.float16).reshape((stop - start,) + self.shape)
        out = np.empty((len(rows),) + self.shape, np.float16)
        view = memoryview(out.reshape(-1).view(np.uint8))
        for j, r in enumerate(rows):
            os.preadv(fd, [view[j * self.row:(j + 1) * self.row]], int(r) * self.row)
        return out

    def get(self, rows):
        """(tokens, weights, mask) of rows (an index array or a slice), float32."""
        return (self._read(self.fds[0], rows).astype(np.float32),
                self._read(self.fds[1], rows).astype(np.float32), self.mask[rows])


def pca_fit(d, fit_n, method="randomized", seed=0):
    """Mean and top max(PCA_KS) components of fit_n spectra drawn by a seeded generator."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(d.n, size=min(d.n, fit_n), replace=False))
    x = np.concatenate([d.get(rows[i:i + 2048])[0].reshape(-1, d.shape[0] * d.shape[1])
                        for i in range(0, len(rows), 2048)])
    mu = x.mean(axis=0)
    x -= mu
    if method == "exact":
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        return mu, vt[:max(at.PCA_KS)].astype(np.float32)
    # randomized range finder (Halko, Martinsson & Tropp 2011) with power iterations: the top
    # max(PCA_KS) components at a few percent of a full SVD's cost (the rest frame has 8,000 dims)
    k = max(at.PCA_KS) + 64
    q = np.linalg.qr(x.T @ rng.standard_normal((x.shape[0], k)).astype(np.float32))[0]
    for _ in range(4):
        q = np.linalg.qr(x.T @ (x @ q))[0]
    _, _, vt = np.linalg.svd(x @ q, full_matrices=False)
    return mu, (vt @ q.T)[:max(at.PCA_KS)].astype(np.float32)


def twin_train(d, epochs, batch, lr, threads, seed=1):
    import torch
    torch.set_num_threads(threads)
    embed, hidden, latent = 16, 256, 8
    net = at.torch_twin_model(d.shape[0], d.shape[1], d.wave, embed, hidden, latent, seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    t0, c0 = time.perf_counter(), time.process_time()
    losses = []
    for ep, perm in enumerate(at._epoch_order(d.n, epochs, seed)):
        tot = 0.0
        for i in range(0, d.n, batch):
            rows = np.sort(perm[i:i + batch])  # the same set as the batch; sorted for the disk
            x, w, m = d.get(rows)
            xb, wb = torch.from_numpy(x), torch.from_numpy(w.reshape(len(rows), -1))
            r, _ = net(xb, torch.from_numpy((m != 0).astype(np.float32)))
            loss = (wb * (r - xb.flatten(1)) ** 2).sum() / (wb > 0).sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss) * len(rows)
            if (i // batch) % 200 == 0:
                print(f"twin epoch {ep}: {i}/{d.n}, {time.perf_counter() - t0:.0f} s, peak RSS "
                      f"{rss_mb():.0f} MB", flush=True)
        losses.append(tot / d.n)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return net, {"epochs": epochs, "loss": losses, "train_sps": epochs * d.n / wall,
                 "train_sps_cpu": epochs * d.n / cpu, "seconds": wall}


def score_all(d, mu, vt, net):
    pca, chi2 = [], []
    for i in range(0, d.n, 1024):
        x, w, m = d.get(slice(i, i + 1024))
        n = len(x)
        pca.append(at.pca_batch_scores(mu, vt, x.reshape(n, -1), w.reshape(n, -1)))
        chi2.append(at.torch_chi2(net, x, m, w.reshape(n, -1)))
    return np.concatenate(pca, axis=1), np.concatenate(chi2)


def _row(name, met):
    m_, per = met
    return {"name": name, **m_, "per_kind": per}


def refs(a):
    truth = {int(r["TARGETID"]): int(r["ANOMALY_CODE"]) for r in csv.DictReader(open(a.truth_csv))}
    d = Dump(a.out)
    print(f"dump {a.out}: {d.meta}", flush=True)
    t0 = time.perf_counter()
    mu, vt = pca_fit(d, a.pca_fit, a.pca_method)
    print(f"PCA ({a.pca_method}) fit on {min(d.n, a.pca_fit)} spectra: {time.perf_counter() - t0:.0f} s, peak RSS "
          f"{rss_mb():.0f} MB", flush=True)
    net, tw = twin_train(d, a.epochs, 128, 2e-3, a.threads)
    print(f"twin: {tw}", flush=True)
    t0 = time.perf_counter()
    pca, chi2_t = score_all(d, mu, vt, net)
    print(f"scoring pass {d.n} spectra: {time.perf_counter() - t0:.0f} s, peak RSS {rss_mb():.0f} "
          f"MB", flush=True)
    ids = d.ids
    keep = (ids * 2654435761 % 1000) >= 500  # the test half (the same hash as anomaly_torch.py)
    val = ~keep
    rows, curves = [], []
    for label, path in (("ard AE", a.ard), ("ard AE", a.ard2)):
        if not path:
            continue
        z = np.load(path)
        pos = {int(t): i for i, t in enumerate(z["ids"])}
        idx = np.array([pos.get(int(t), -1) for t in ids])
        tag = z["label"].item() if "label" in z else os.path.basename(path)
        for col in ("score", "chi2"):
            v = np.where(idx >= 0, z[col][idx], np.nan)
            name = f"{label} {tag} ({col})"
            rows.append(_row(name, at.metrics(ids, v, truth, keep)))
            curves.append((name, at.pr_curve(ids, v, truth, keep)))
    best = max(range(len(at.PCA_KS)),
               key=lambda i: at.metrics(ids, pca[i], truth, val)[0]["auprc"])
    name = f"PCA k={at.PCA_KS[best]} (chi2; k chosen on validation)"
    rows.append(_row(name, at.metrics(ids, pca[best], truth, keep)))
    curves.append((f"PCA k={at.PCA_KS[best]} (chi2)", at.pr_curve(ids, pca[best], truth, keep)))
    name = f"torch twin (chi2; {a.epochs} epochs)"
    rows.append(_row(name, at.metrics(ids, chi2_t, truth, keep)))
    curves.append(("torch twin (chi2)", at.pr_curve(ids, chi2_t, truth, keep)))
    rnd = np.random.default_rng(0).random(len(ids))
    rows.append(_row("random", at.metrics(ids, rnd, truth, keep)))
    curves.append(("random", at.pr_curve(ids, rnd, truth, keep)))
    na = int(sum(1 for t in ids[keep] if truth[int(t)] != 0))
    head = (f"## {d.meta['frame']} frame: {d.n} spectra ({int(keep.sum())} test, "
            f"{int(val.sum())} validation), {na} anomalies in the test half")
    print(head)
    for r in rows:
        print(f"{r['name']:52s} " + "  ".join(f"{k} {v:.3f}" for k, v in r.items()
                                             if k not in ("name", "per_kind")))
        print(f"{'':52s} per kind (AUPRC vs normal, recall@#anomalies, count): {r['per_kind']}",
              flush=True)
    pca_val = {k: at.metrics(ids, pca[i], truth, val)[0]["auprc"] for i, k in enumerate(at.PCA_KS)}
    print(f"PCA validation AUPRC by k: {pca_val}")
    if a.save_scores:
        np.savez(a.save_scores, ids=ids, pca=pca[best], pca_k=at.PCA_KS[best], twin=chi2_t)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"head": head, "rows": rows, "twin": tw, "pca_val": pca_val,
                       "meta": d.meta}, f, indent=1)
    if a.figure:
        at.pr_svg(curves, f"Precision-recall, {d.meta['frame']} frame, {int(keep.sum())} test "
                  f"spectra, {na} injected anomalies", a.figure)
        print(f"PR curves: {a.figure}")


def ard_npz(dataset, run, out, label):
    import sqlite3
    db = sqlite3.connect(os.path.join(dataset, "ard.db"))
    got = db.execute("SELECT targetid, score, chi2, density FROM anomalies WHERE run_id = ? "
                     "ORDER BY targetid", (run,)).fetchall()
    db.close()
    v = np.array([g[1:] for g in got], dtype=float)
    np.savez(out, ids=np.array([g[0] for g in got], np.int64), score=v[:, 0], chi2=v[:, 1],
             density=v[:, 2], label=np.array(label))
    print(f"{len(got)} scores of run {run} -> {out}")


def table(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        frame = r["meta"]["frame"]
        for row in r["rows"]:
            name = row["name"]
            if not name.startswith("ard") and not name.startswith("random"):
                name = f"{name}, {frame} tokens"
            if name.startswith("random") and any(x["name"].startswith("random") for x in rows):
                continue
            rows.append({**row, "name": name})
    keys = [k for k in rows[0] if k.startswith("p@")] + ["auprc"]
    print("| method | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    seen = set()
    for row in rows:
        if row["name"] in seen:
            continue
        seen.add(row["name"])
        print(f"| {row['name']} | " + " | ".join(f"{row[k]:.3f}" for k in keys) + " |")
    kinds = list(rows[0]["per_kind"])
    print()
    print("| AUPRC per kind (count in the test half) | " +
          " | ".join(f"{k} ({rows[0]['per_kind'][k][2]})" for k in kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    seen = set()
    for row in rows:
        if row["name"] in seen:
            continue
        seen.add(row["name"])
        print(f"| {row['name']} | " + " | ".join(f"{row['per_kind'][k][0]:.3f}" for k in kinds) +
              " |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("dump")
    p.add_argument("dataset")
    p.add_argument("out")
    p.add_argument("--frame", default="observed")
    p = sub.add_parser("refs")
    p.add_argument("out")
    p.add_argument("truth_csv")
    p.add_argument("--ard", help="NPZ of ard's scores (ids, score, chi2)")
    p.add_argument("--ard2", help="a second NPZ (another frame)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pca-fit", type=int, default=10000)
    p.add_argument("--pca-method", choices=("randomized", "exact"), default="randomized")
    p.add_argument("--figure")
    p.add_argument("--json")
    p.add_argument("--save-scores", help="NPZ of the references' scores (ids, pca, twin)")
    p = sub.add_parser("ard-npz")
    p.add_argument("dataset")
    p.add_argument("run")
    p.add_argument("npz")
    p.add_argument("--label", default="")
    p = sub.add_parser("table")
    p.add_argument("json", nargs="+")
    a = ap.parse_args()
    if a.cmd == "table":
        table(a.json)
    elif a.cmd == "dump":
        dump(a.dataset, a.out, a.frame)
    elif a.cmd == "refs":
        refs(a)
    else:
        ard_npz(a.dataset, a.run, a.npz, a.label or a.run)


if __name__ == "__main__":
    main()
