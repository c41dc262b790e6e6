#!/usr/bin/env python3
"""References for bench/cosmicweb-bench, on the galaxies bench_cosmicweb dumped (same positions,
classes, truth and HEALPix split as ard's run):

  (d) a PyTorch twin of ard's GraphSAGE (plain torch; PyG is not in Debian): the same k-NN graph
      (scipy cKDTree, k = 32), the same 11 features, 2 layers on [self, mean of neighbours, the
      geometric aggregator's 3 G invariants] (G = --geo, default 4 as ard: a learned per-neighbour
      weight P [h_u, log10 r, 1] times 3 e e^T - I, averaged, the second layer adding a_g times the
      mean of its neighbours' first-layer tensors; log1p tr T^2, asinh tr T^3, l^T T l;
      G = 0 is the plain mean-aggregator SAGE), hidden 64, fan-out [25, 10] without replacement, minibatches of 64 seeds,
      gradients accumulated over 64 minibatches with the loss normalised by the step's total seed
      weight, class-balanced weights, Adam lr 1e-2, full-neighbourhood inference. Its sampler is
      numpy in the training thread (vectorised), so its nodes/s include sampling, like ard's trainer
      waiting on its producers.
  (b) density-only baseline: multinomial logistic regression (scikit-learn, class_weight balanced)
      on the same standardised node features;
  (c) an MLP on the node features without the graph (scikit-learn MLPClassifier, 2 x 64 hidden,
      trained on a class-balanced resample), and gradient-boosted trees on the same features
      (HistGradientBoosting, class-balanced sample weights): the strongest non-graph reference.
  (c+) with --shape: the same three on the node features plus each node's own neighbour-cloud
      shape (non-learned: sorted eigenvalues and l^T T l of mean(3 e e^T - I) over the 8, 16 and
      32 nearest neighbours, 12 more features): what a no-graph model gets from the node's own
      anisotropy, so that a GNN margin over it comes from message passing.

  (d') with --reach BASIS G BINS: the twin of ard's reach aggregator (science.h "Reach") on the
      very radius-neighbourhood basis ard's stage computes (`bench_cosmicweb reach DATASET BASIS
      MPC BINS FANOUT RANDOMS` writes it: per galaxy and radial bin the randoms-subtracted contrast
      monopole D_b and traceless tensor M_b, normalised as ard's training does): per channel g the
      learned profiles T_g = sum_b a_gb M_b, d_g = sum_b c_gb D_b, and the first layer's input gains
      d_g, T_g's eigenvalues (descending; torch.linalg.eigvalsh) and l^T T_g l.

usage: cosmicweb_torch.py DUMPDIR EPOCHS THREADS [--baselines | --baselines-only] [--subsample S]
                           [--geo G] [--accum A] [--shape] [--reach BASIS G BINS] [--seed S]
                           [--init torch | ard]
(--seed: the twin's initialisation and sampling seed, default 1; --init: torch (default) keeps
torch's Linear init (U(+-1/sqrt(fan_in)) weights and biases) and Kaiming-uniform reach profiles;
ard draws every parameter from ard's distributions (src/science/cosmicweb_model.c): Kaiming normal
N(0, 2 / fan_in) for layer 1 (fan_in = its input width), the reach profiles (fan_in 2 BINS) and
the geometric weights P (bias column included, fan_in = input + 2), Xavier uniform for layer 2,
zero biases, a_g = 1; same distributions, not ard's random stream)
Prints RESULT lines: tool=..., nodes_per_s, bacc, macro_f1, mcc and the confusion matrix.
"""
import sys
import time

import numpy as np
import torch
from scipy.spatial import cKDTree
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, matthews_corrcoef

K, F1, F2, H, B, ACCUM, LR, C = 32, 25, 10, 64, 64, 64, 1e-2, 4
GEO = 4
INFER_CHUNK = 32768


def opt(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def load(d):
    xyz = np.fromfile(f"{d}/xyz.f64", dtype="<f8").reshape(-1, 3)
    z = np.fromfile(f"{d}/z.f64", dtype="<f8")
    cls = np.fromfile(f"{d}/cls.i32", dtype="<i4")
    label = np.fromfile(f"{d}/label.i32", dtype="<i4")
    split = np.fromfile(f"{d}/split.i32", dtype="<i4")
    return xyz, z, cls, label, split


def graph(xyz):
    dist, idx = cKDTree(xyz).query(xyz, k=K + 1, workers=-1)
    n = len(xyz)
    self_col = idx == np.arange(n)[:, None]
    # drop the node itself (or the farthest when a duplicate pushed it out)
    keep = ~self_col
    keep[~self_col.any(1), K] = False
    return idx[keep].reshape(n, K), dist[keep].reshape(n, K)


def features(dist, z, cls):
    ranks = [1, 2, 4, 8, 16, K]
    f = [np.log10(np.maximum(dist[:, r - 1], 1e-3)) for r in ranks]
    f.append(z)
    for c in range(4):
        f.append((cls == c).astype(np.float64))
    return np.stack(f, 1).astype(np.float32)


def metrics(y, p):
    return (balanced_accuracy_score(y, p), f1_score(y, p, average="macro"),
            matthews_corrcoef(y, p), confusion_matrix(y, p, labels=range(C)))


def report(tool, extra, y, p):
    bacc, f1, mcc, cm = metrics(y, p)
    print(f"RESULT tool={tool} {extra} bacc={bacc:.4f} macro_f1={f1:.4f} mcc={mcc:.4f} "
          f"confusion={cm.ravel().tolist()}".replace(" ", " "), flush=True)


def geo_tensor(p, h_nbr, pos_self, pos_nbr, t_nbr=None, a=None):
    """ard's geometric aggregator: rows R, neighbours m -> the tensors [R, G, 3, 3] (layer 2 adds
    a_g times the mean of the neighbours' layer-1 tensors t_nbr [R, m, G, 3, 3])."""
    d = pos_nbr - pos_self[:, None, :]
    r = d.norm(dim=2)
    e = d / r.clamp_min(1e-30)[..., None]
    eye = torch.eye(3, dtype=d.dtype)
    m = 3.0 * e[..., :, None] * e[..., None, :] - eye
    m = torch.where((r > 0)[..., None, None], m, torch.zeros_like(m)).float()
    lr = torch.log10(r.clamp_min(1e-3)).float()
    w = p(torch.cat([h_nbr, lr[..., None]], 2))  # [R, m, G]
    t = torch.einsum("rmg,rmab->rgab", w, m) / h_nbr.shape[1]
    if t_nbr is not None:
        t = t + a[None, :, None, None] * t_nbr.mean(1)
    return t


def geo_invariants(t, pos_self):
    q = (t * t).sum((2, 3))
    c = torch.einsum("rgab,rgbc,rgca->rg", t, t, t)
    los = pos_self / pos_self.norm(dim=1, keepdim=True).clamp_min(1e-30)
    ll = torch.einsum("ra,rgab,rb->rg", los.float(), t, los.float())
    return torch.stack([torch.log1p(q), torch.asinh(c), ll], 2).reshape(len(t), -1)


def reach_invariants(pr, basis, pos_self):
    """ard's reach layer: basis rows [R, 7 B] -> [R, 5 G] (monopole, eigenvalues descending, los)."""
    g, b2 = pr.shape
    b = b2 // 2
    d = basis[:, :b]
    m = basis[:, b:].reshape(-1, b, 6)
    t6 = torch.einsum("gb,rbc->rgc", pr[:, :b], m)
    mono = d @ pr[:, b:].t()
    t = torch.stack([torch.stack([t6[..., 0], t6[..., 3], t6[..., 4]], -1),
                     torch.stack([t6[..., 3], t6[..., 1], t6[..., 5]], -1),
                     torch.stack([t6[..., 4], t6[..., 5], t6[..., 2]], -1)], -2)
    w = torch.linalg.eigvalsh(t.double()).float().flip(-1)
    los = (pos_self / pos_self.norm(dim=1, keepdim=True).clamp_min(1e-30)).float()
    ll = torch.einsum("ra,rgab,rb->rg", los, t, los)
    return torch.cat([mono[..., None], w, ll[..., None]], 2).reshape(len(basis), -1)


class Sage(torch.nn.Module):
    def __init__(self, nf, geo, reach=0, bins=0):
        super().__init__()
        self.geo = geo
        self.reach = reach
        self.l1 = torch.nn.Linear(2 * nf + 3 * geo + 5 * reach, H)
        if reach:
            # Kaiming-uniform over fan-in 2 bins, as ard's ard_nn_init_kaiming
            bound = (6.0 / (2 * bins)) ** 0.5
            self.pr = torch.nn.Parameter(torch.empty(reach, 2 * bins).uniform_(-bound, bound))
        self.l2 = torch.nn.Linear(2 * H + 3 * geo, C)
        if geo:
            self.p1 = torch.nn.Linear(nf + 1, geo)
            self.p2 = torch.nn.Linear(H + 1, geo)
            self.a2 = torch.nn.Parameter(torch.ones(geo))

    def layer(self, lin, p, h_self, h_nbr, pos_self, pos_nbr, t_nbr=None, basis=None):
        """The layer's output and its geometric tensors (None without geo); basis: the reach
        basis rows of h_self's nodes (layer 1 of a reach model)."""
        parts, t = [h_self, h_nbr.mean(1)], None
        if self.geo:
            t = geo_tensor(p, h_nbr, pos_self, pos_nbr, t_nbr, self.a2 if t_nbr is not None else None)
            parts.append(geo_invariants(t, pos_self))
        if basis is not None:
            parts.append(reach_invariants(self.pr, basis, pos_self))
        return lin(torch.cat(parts, 1)), t

    def full(self, x, nbr, pos, basis=None):
        """Full-neighbourhood inference in chunks of rows (memory: a chunk's neighbourhoods)."""
        p1, p2 = (self.p1, self.p2) if self.geo else (None, None)
        hs, ts = [], []
        for a in range(0, len(x), INFER_CHUNK):
            nb = nbr[a:a + INFER_CHUNK]
            h, t = self.layer(self.l1, p1, x[a:a + INFER_CHUNK], x[nb], pos[a:a + INFER_CHUNK],
                              pos[nb], None,
                              basis[a:a + INFER_CHUNK] if basis is not None else None)
            hs.append(torch.relu(h))
            ts.append(t)
        h = torch.cat(hs)
        t1 = torch.cat(ts) if self.geo else None
        out = []
        for a in range(0, len(x), INFER_CHUNK):
            nb = nbr[a:a + INFER_CHUNK]
            out.append(self.layer(self.l2, p2, h[a:a + INFER_CHUNK], h[nb], pos[a:a + INFER_CHUNK],
                                  pos[nb], t1[nb] if self.geo else None)[0])
        return torch.cat(out)


def init_ard(model, bins):
    """ard's initialisation (cosmicweb_model.c, nn.h): the same distributions and fans."""
    def kaiming(t, fan_in):
        torch.nn.init.normal_(t, 0.0, (2.0 / fan_in) ** 0.5)

    with torch.no_grad():
        kaiming(model.l1.weight, model.l1.in_features)
        model.l1.bias.zero_()
        if model.reach:
            kaiming(model.pr, 2 * bins)
        fan_in, fan_out = model.l2.in_features, model.l2.out_features
        a = (6.0 / (fan_in + fan_out)) ** 0.5
        model.l2.weight.uniform_(-a, a)
        model.l2.bias.zero_()
        if model.geo:
            # ard's rows [weights, log10 r, bias] share one Kaiming draw over fan_in = input + 2
            for p in (model.p1, model.p2):
                kaiming(p.weight, p.in_features + 1)
                kaiming(p.bias, p.in_features + 1)
            model.a2.fill_(1.0)


def sample(rng, nbr, nodes, fanout):
    pick = np.argsort(rng.random((len(nodes), K)), axis=1)[:, :fanout]
    return np.take_along_axis(nbr[nodes], pick, 1)


def relabel(first, extra):
    """Local ids: `first` keep 0..len-1 (distinct), new nodes of `extra` follow in first-seen order."""
    allv = np.concatenate([first, extra.ravel()])
    uniq, pos, inv = np.unique(allv, return_index=True, return_inverse=True)
    order = np.argsort(pos, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return uniq[order], rank[inv][len(first):].reshape(extra.shape)


def train_twin(x, nbr, pos, label, train, weight, epochs, seed=1, basis=None, reach=0, bins=0,
               init="torch"):
    torch.manual_seed(seed)
    model = Sage(x.shape[1], GEO, reach, bins)
    if init == "ard":
        init_ard(model, bins)
    p1, p2 = (model.p1, model.p2) if GEO else (None, None)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    rng = np.random.default_rng(seed)
    xt = torch.from_numpy(x)
    wt = torch.from_numpy(weight.astype(np.float32))
    seen = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        order = rng.permutation(train)
        nb = (len(order) + B - 1) // B
        for s in range(nb):
            if s % ACCUM == 0:
                opt.zero_grad()
                step = order[s * B:(s + ACCUM) * B]
                step_w = float(weight[label[step]].sum())
            seeds = order[s * B:(s + 1) * B]
            n1 = sample(rng, nbr, seeds, F1)
            l1, i2 = relabel(seeds, n1)
            n2 = sample(rng, nbr, l1, F2)
            l0, i1 = relabel(l1, n2)
            x0 = xt[torch.from_numpy(l0)]
            p0 = pos[torch.from_numpy(l0)]
            i1t, i2t = torch.from_numpy(i1), torch.from_numpy(i2)
            h, t1 = model.layer(model.l1, p1, x0[:len(l1)], x0[i1t], p0[:len(l1)], p0[i1t], None,
                                basis[torch.from_numpy(l1)] if basis is not None else None)
            h = torch.relu(h)
            logits, _ = model.layer(model.l2, p2, h[:len(seeds)], h[i2t], p0[:len(seeds)], p0[i2t],
                                    t1[i2t] if GEO else None)
            y = torch.from_numpy(label[seeds].astype(np.int64))
            ce = torch.nn.functional.cross_entropy(logits, y, reduction="none")
            (wt[y] * ce).sum().div(step_w).backward()
            seen += len(seeds)
            if s % ACCUM == ACCUM - 1 or s == nb - 1:
                opt.step()
    return model, seen / (time.perf_counter() - t0), seen / (time.process_time() - c0)


def shape_features(xyz, nbr):
    """Each node's own neighbour-cloud anisotropy (no learning, no message passing): sorted
    eigenvalues and l^T T l of mean(3 e e^T - I) over its 8, 16 and 32 nearest neighbours."""
    out = []
    for a in range(0, len(xyz), 65536):
        d = xyz[nbr[a:a + 65536]] - xyz[a:a + 65536, None, :]
        r = np.linalg.norm(d, axis=2)
        e = d / np.maximum(r, 1e-30)[..., None]
        m = 3.0 * e[..., :, None] * e[..., None, :] - np.eye(3)
        m[r == 0] = 0.0
        los = xyz[a:a + 65536] / np.linalg.norm(xyz[a:a + 65536], axis=1, keepdims=True)
        cols = []
        for k in (8, 16, 32):
            t = m[:, :k].mean(1)
            cols.append(np.linalg.eigvalsh(t))
            cols.append(np.einsum("ra,rab,rb->r", los, t, los)[:, None])
        out.append(np.concatenate(cols, 1))
    return np.concatenate(out).astype(np.float32)


def main():
    global GEO, ACCUM
    d, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    GEO, ACCUM = opt("--geo", GEO), opt("--accum", ACCUM)
    init = opt("--init", "torch")
    if init not in ("torch", "ard"):
        sys.exit(f"cosmicweb_torch.py: --init must be torch or ard, not {init!r}")
    torch.set_num_threads(threads)
    xyz, z, cls, label, split = load(d)
    nbr, dist = graph(xyz)
    x = features(dist, z, cls)
    train = np.flatnonzero((split == 0) & (label >= 0))
    test = (split == 2) & (label >= 0)
    mean, std = x[train].mean(0), x[train].std(0)
    std[std < 1e-6] = 1.0
    x = ((x - mean) / std).astype(np.float32)
    counts = np.bincount(label[train], minlength=C)
    weight = np.where(counts > 0, len(train) / (C * np.maximum(counts, 1)), 0.0)
    basis, reach, bins = None, 0, 0
    if "--reach" in sys.argv:
        at = sys.argv.index("--reach")
        reach, bins = int(sys.argv[at + 2]), int(sys.argv[at + 3])
        basis = torch.from_numpy(np.fromfile(sys.argv[at + 1], dtype="<f4").reshape(-1, 7 * bins))
        assert len(basis) == len(x)
    if "--baselines-only" not in sys.argv:
        pos = torch.from_numpy(xyz)
        model, nps, npc = train_twin(x, nbr, pos, label, train, weight, epochs, opt("--seed", 1),
                                     basis, reach, bins, init)
        with torch.no_grad():
            pred = model.full(torch.from_numpy(x), torch.from_numpy(nbr), pos,
                              basis).argmax(1).numpy()
        report("torch_twin", f"geo={GEO} reach={reach} accum={ACCUM} seed={opt('--seed', 1)} "
               f"{'init=ard ' if init == 'ard' else ''}"
               f"threads={threads} "
               f"epochs={epochs} nodes_per_s={nps:.1f} nodes_per_cpu_s={npc:.1f}",
               label[test], pred[test])
    if "--baselines-only" in sys.argv or "--baselines" in sys.argv:
        # --subsample S: the baselines fit every S-th training galaxy (time on a loaded machine)
        if "--subsample" in sys.argv:
            train = train[::int(sys.argv[sys.argv.index("--subsample") + 1])]
        sets = [("", x)]
        if "--shape" in sys.argv:
            s = shape_features(xyz, nbr)
            s = (s - s[train].mean(0)) / np.maximum(s[train].std(0), 1e-6)
            sets.append(("+shape", np.concatenate([x, s], 1).astype(np.float32)))
        for suffix, xs in sets:
            baselines(xs, label, train, test, counts, weight, suffix)


def baselines(x, label, train, test, counts, weight, suffix):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    lr = LogisticRegression(max_iter=500, class_weight="balanced").fit(x[train], label[train])
    report("density_logreg" + suffix, "", label[test], lr.predict(x[test]))
    # MLPClassifier has no class weights: train it on a class-balanced resample (every class
    # drawn equally often, with replacement) so that it optimises what balanced accuracy scores
    rng = np.random.default_rng(1)
    per = len(train) // C
    bal = np.concatenate([rng.choice(train[label[train] == c], per)
                          for c in range(C) if counts[c] > 0])
    mlp = MLPClassifier(hidden_layer_sizes=(H, H), max_iter=50, random_state=1,
                        early_stopping=True)
    mlp.fit(x[bal], label[bal])
    report("mlp_no_graph" + suffix, "", label[test], mlp.predict(x[test]))
    from sklearn.ensemble import HistGradientBoostingClassifier
    hgb = HistGradientBoostingClassifier(max_iter=200, random_state=1)
    hgb.fit(x[train], label[train], sample_weight=weight[label[train]])
    report("hgb_no_graph" + suffix, "", label[test], hgb.predict(x[test]))


if __name__ == "__main__":
    main()
