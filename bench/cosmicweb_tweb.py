#!/usr/bin/env python3
"""Is the T-web class recoverable from the galaxies at all? The classical estimator a cosmologist
tries first, on the galaxies bench_cosmicweb dumped (redshift-space positions, classes, truth and
HEALPix split of ard's run):

  1. the galaxies (redshift space) and a random catalogue (uniform on the sky where the galaxies
     are, drawn from each class's own radial distribution: the survey's n(z) and footprint) are
     CIC-assigned onto a grid (cell --cell Mpc, default 6 Mpc ~ 4 Mpc/h), both smoothed with the
     Gaussian of the truth (R = --R Mpc/h, default 8), and delta = D_s / (alpha R_s) - 1 where the
     smoothed randoms exceed a small fraction of their median (elsewhere 0: outside the survey);
  2. the tidal tensor T_ab = d_a d_b phi, lap phi = delta, by FFT (k_a k_b / k^2 W_R(k) delta_k, as
     src/astro/tweb_grid.c does for the truth on the matter field), trilinearly interpolated at each
     galaxy; its 3 sorted eigenvalues, their sum (delta_s), and the same at 2R;
  3. scikit-learn on the test pixels: logistic regression and gradient-boosted trees (as
     cosmicweb_torch.py's baselines: balanced class weights) on the 11 node features alone, on
     them + the galaxy-field T-web, and on the T-web alone; plus the direct T-web count of
     eigenvalues above a threshold fitted on the training galaxies (no learning).

usage: cosmicweb_tweb.py DUMPDIR [--R 8] [--cell 6] [--subsample 4] [--randoms 10] [--depth 5000]
                         [--graph G]
  --graph G: instead of the FFT field, the tidal tensor summed over a radius graph (every
  galaxy within G R, edges weighted by the Gaussian-softened point-mass tidal kernel, randoms
  subtracted): whether a graph reaching G R can see what the field shows.
Prints RESULT lines like cosmicweb_torch.py's. Peak memory ~ 10 float32 grids (a 5,000 Mpc deep
7-degree cap at 6 Mpc cells: ~2.5 GB).
"""
import sys
import time

import numpy as np
import scipy.fft as sfft
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, matthews_corrcoef

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cosmicweb_torch import features, graph, load  # noqa: E402

H0 = 0.6766  # Planck 2018 h: positions are in Mpc, the truth's R in Mpc/h
C = 4


def opt(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def rotate_to_x(xyz):
    """Rotates the cap's mean direction onto +x (eigenvalues do not change; the box gets tight)."""
    u = xyz.mean(0)
    u /= np.linalg.norm(u)
    a = np.cross(u, [1.0, 0.0, 0.0])
    s, c = np.linalg.norm(a), u[0]
    if s < 1e-12:
        return (xyz if c > 0 else -xyz), np.eye(3)
    a /= s
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    rot = np.eye(3) + s * k + (1 - c) * k @ k
    return xyz @ rot.T, rot


def randoms(xyz, cls, per, rng):
    """Uniform on the galaxies' sky (a 0.2-degree tangent-plane mask of non-empty cells), radii
    shuffled from each class's galaxies: the same n(z) and footprint, no clustering."""
    r = np.linalg.norm(xyz, axis=1)
    ty, tz = xyz[:, 1] / xyz[:, 0], xyz[:, 2] / xyz[:, 0]
    cell = np.radians(0.2)
    lo_y, lo_z = ty.min(), tz.min()
    ny, nz = int((ty.max() - lo_y) / cell) + 1, int((tz.max() - lo_z) / cell) + 1
    occupied = np.zeros((ny, nz), bool)
    occupied[((ty - lo_y) / cell).astype(int), ((tz - lo_z) / cell).astype(int)] = True
    out = []
    for c in np.unique(cls):
        rc = r[cls == c]
        m = per * len(rc)
        py = rng.uniform(lo_y, lo_y + ny * cell, 2 * m)
        pz = rng.uniform(lo_z, lo_z + nz * cell, 2 * m)
        # uniform in solid angle: tangent-plane density ~ (1 + ty^2 + tz^2)^-1.5
        keep = rng.uniform(size=2 * m) < (1 + py**2 + pz**2) ** -1.5
        keep &= occupied[((py - lo_y) / cell).astype(int), ((pz - lo_z) / cell).astype(int)]
        py, pz = py[keep][:m], pz[keep][:m]
        rr = rng.choice(rc, len(py))
        norm = np.sqrt(1 + py**2 + pz**2)
        out.append(np.stack([rr / norm, rr * py / norm, rr * pz / norm], 1))
    return np.concatenate(out)


def cic(pos, shape):
    g = np.zeros(int(np.prod(shape)))
    i0 = np.floor(pos).astype(np.int64)
    f = pos - i0
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                w = ((f[:, 0] if dx else 1 - f[:, 0]) * (f[:, 1] if dy else 1 - f[:, 1]) *
                     (f[:, 2] if dz else 1 - f[:, 2]))
                flat = ((i0[:, 0] + dx) * shape[1] + i0[:, 1] + dy) * shape[2] + i0[:, 2] + dz
                g += np.bincount(flat, w, len(g))
    return g.reshape(shape).astype(np.float32)


def interp(g, pos):
    i0 = np.floor(pos).astype(np.int64)
    f = pos - i0
    out = np.zeros(len(pos))
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                w = ((f[:, 0] if dx else 1 - f[:, 0]) * (f[:, 1] if dy else 1 - f[:, 1]) *
                     (f[:, 2] if dz else 1 - f[:, 2]))
                out += w * g[i0[:, 0] + dx, i0[:, 1] + dy, i0[:, 2] + dz]
    return out


def kgrid(shape, cell):
    kx = 2 * np.pi * sfft.fftfreq(shape[0], cell).astype(np.float32)
    ky = 2 * np.pi * sfft.fftfreq(shape[1], cell).astype(np.float32)
    kz = 2 * np.pi * sfft.rfftfreq(shape[2], cell).astype(np.float32)
    return kx[:, None, None], ky[None, :, None], kz[None, None, :]


def smooth(g, ks, rs):
    k2 = ks[0] ** 2 + ks[1] ** 2 + ks[2] ** 2
    return sfft.irfftn(sfft.rfftn(g, workers=2) * np.exp(-0.5 * k2 * rs * rs), g.shape,
                       workers=2).astype(np.float32)


def tidal_eigen(delta, ks, rs, gpos):
    """Sorted eigenvalues (n x 3, descending) of d_a d_b phi, lap phi = delta smoothed at rs."""
    dk = sfft.rfftn(delta, workers=2)
    k2 = ks[0] ** 2 + ks[1] ** 2 + ks[2] ** 2
    k2[0, 0, 0] = 1.0
    dk *= (np.exp(-0.5 * k2 * rs * rs) / k2).astype(np.complex64)
    dk[0, 0, 0] = 0
    t = np.zeros((len(gpos), 3, 3))
    for a in range(3):
        for b in range(a, 3):
            comp = sfft.irfftn(dk * (ks[a] * ks[b]), delta.shape, workers=2)
            t[:, a, b] = t[:, b, a] = interp(comp, gpos)
            del comp
    return np.linalg.eigvalsh(t)[:, ::-1]


TEST_CLASS = None  # the test galaxies' target class, for the per-class line


def radius_tidal(xyz, ran, per, rs, rmax, chunk=8192):
    """The tidal tensor of the galaxies by direct summation over a radius graph (what a graph
    whose edges reach rmax, weighted by the tidal kernel, could aggregate): each neighbour u of v
    within rmax adds the tidal tensor of a Gaussian-softened unit mass at its offset r e,
    -M_G(<r) / (4 pi r^3) (3 e e^T - I) + rho_G(r) e e^T (M_G: the enclosed fraction of the truth's
    Gaussian of width rs, rho_G its density), minus the same over the randoms (1 / per each: the
    survey's edges and n(z)); divided by the randoms' Gaussian density at v (n-bar): the tidal
    tensor of delta smoothed at rs, truncated at rmax."""
    from scipy.spatial import cKDTree
    from scipy.special import erf
    n = len(xyz)
    t = np.zeros((n, 3, 3))
    dens = np.zeros(n)
    nbar = np.zeros(n)
    pairs = 0
    trees = ((cKDTree(xyz), xyz, 1.0), (cKDTree(ran), ran, -1.0 / per))
    for a in range(0, n, chunk):
        q = xyz[a:a + chunk]
        sub = cKDTree(q)
        for tree, pts, sign in trees:
            m = sub.sparse_distance_matrix(tree, rmax, output_type="ndarray")
            i, j, r = m["i"], m["j"], m["v"]
            keep = r > 1e-6
            i, j, r = i[keep], j[keep], r[keep]
            pairs += len(r)
            e = (pts[j] - q[i]) / r[:, None]
            x = r / rs
            mg = erf(x / np.sqrt(2)) - np.sqrt(2 / np.pi) * x * np.exp(-0.5 * x * x)
            # d_a d_b phi of a Gaussian-softened unit mass, lap phi = rho_G:
            #   -M_G(<r) / (4 pi r^3) (3 e_a e_b - delta_ab) + rho_G(r) e_a e_b
            w = -sign * mg / (4 * np.pi * r**3)
            g = sign * np.exp(-0.5 * x * x) / ((2 * np.pi) ** 1.5 * rs**3)
            for u in range(3):
                for v in range(u, 3):
                    c = np.bincount(i, w * (3 * e[:, u] * e[:, v] - (u == v)) +
                                    g * e[:, u] * e[:, v], len(q))
                    t[a:a + len(q), u, v] += c
                    if v != u:
                        t[a:a + len(q), v, u] += c
            dens[a:a + len(q)] += np.bincount(i, g, len(q))
            if sign < 0:
                nbar[a:a + len(q)] += np.bincount(i, -g, len(q))
    ok = nbar > 1e-3 * np.median(nbar)
    scale = np.where(ok, 1.0 / np.where(ok, nbar, 1), 0.0)
    t *= scale[:, None, None]
    dens *= scale  # delta at R (the tensor's trace)
    lam = np.linalg.eigvalsh(t)[:, ::-1]
    print(f"# radius graph: rmax {rmax:.1f} Mpc, {pairs / n:.0f} edges per galaxy "
          f"(galaxies + randoms)", flush=True)
    return np.column_stack([lam, dens])


def report(tool, extra, y, p):
    cm = confusion_matrix(y, p, labels=range(C))
    print(f"RESULT tool={tool} {extra} bacc={balanced_accuracy_score(y, p):.4f} "
          f"macro_f1={f1_score(y, p, average='macro'):.4f} mcc={matthews_corrcoef(y, p):.4f} "
          f"confusion={cm.ravel().tolist()}", flush=True)
    if TEST_CLASS is not None and len(TEST_CLASS) == len(y):
        per = " ".join(f"{name}={balanced_accuracy_score(y[TEST_CLASS == c], p[TEST_CLASS == c]):.4f}"
                       for c, name in enumerate(("BGS", "LRG", "ELG", "QSO"))
                       if (TEST_CLASS == c).sum() > 0)
        print(f"BYCLASS tool={tool} {per}", flush=True)


def fit_threshold(lam, label, train, test):
    """The direct T-web: class = number of eigenvalues above th (th fitted on training galaxies)."""
    best = None
    for th in np.quantile(lam[train, 1], np.linspace(0.02, 0.98, 97)):
        p = (lam[train] > th).sum(1)
        b = balanced_accuracy_score(label[train], p)
        if best is None or b > best[0]:
            best = (b, th)
    report("tweb_threshold", f"th={best[1]:.4g}", label[test], (lam[test] > best[1]).sum(1))


def main():
    d = sys.argv[1]
    R, cell, sub, per = opt("--R", 8.0), opt("--cell", 6.0), opt("--subsample", 4), opt("--randoms", 10)
    rs = R / H0
    t0 = time.time()
    xyz, z, cls, label, split = load(d)
    nbr, dist = graph(xyz)
    x = features(dist, z, cls)
    del nbr
    rxyz, _ = rotate_to_x(xyz)
    rng = np.random.default_rng(1)
    # the field stops at --depth Mpc (beyond: only QSOs, too sparse for a field at R): their
    # T-web features are 0 (the mean field)
    inside = np.linalg.norm(rxyz, axis=1) < opt("--depth", 5000.0)
    ran = randoms(rxyz[inside], cls[inside], per, rng)
    rxyz = rxyz[inside]
    pad = 4 * 2 * rs
    lo = np.minimum(rxyz.min(0), ran.min(0)) - pad
    hi = np.maximum(rxyz.max(0), ran.max(0)) + pad
    shape = tuple(int(v) for v in np.ceil((hi - lo) / cell) + 2)
    print(f"# {len(xyz)} galaxies, {len(ran)} randoms, grid {shape} of {cell} Mpc, "
          f"R {R} Mpc/h = {rs:.2f} Mpc", flush=True)
    gpos = (rxyz - lo) / cell
    ks = kgrid(shape, cell)
    feats = []
    if "--graph" in sys.argv:  # the radius-graph estimate instead of the FFT field
        gr = opt("--graph", 3.0)
        ran_g = randoms(rxyz, cls[inside], 2, np.random.default_rng(2))
        f = np.zeros((len(xyz), 4))
        f[inside] = radius_tidal(rxyz, ran_g, 2, rs, gr * rs)
        feats.append(f)
        print(f"# radius graph done {time.time() - t0:.0f} s", flush=True)
    for scale in (rs, 2 * rs) if "--graph" not in sys.argv else ():
        ds = smooth(cic(gpos, shape), ks, scale)
        rr = smooth(cic((ran - lo) / cell, shape), ks, scale) / per
        ok = rr > 0.05 * np.median(rr[rr > 1e-3 * rr.max()])
        delta = np.where(ok, ds / np.where(ok, rr, 1) - 1, 0).astype(np.float32)
        del ds, rr, ok
        # delta is already smoothed at `scale`: the tidal filter adds no second Gaussian
        lam = tidal_eigen(delta, ks, 0.0, gpos)
        dens = interp(delta, gpos)
        f = np.zeros((len(xyz), 4))
        f[inside] = np.column_stack([lam, dens])
        feats.append(f)
        del delta
        print(f"# scale {scale:.1f} Mpc done {time.time() - t0:.0f} s", flush=True)
    tw = np.concatenate(feats, 1).astype(np.float32)
    global TEST_CLASS
    train = np.flatnonzero((split == 0) & (label >= 0))[::sub]
    test = (split == 2) & (label >= 0)
    TEST_CLASS = cls[test]
    fit_threshold(feats[0][:, :3], label, train, test)
    TEST_CLASS = None
    fit_threshold(feats[0][:, :3], label, train[inside[train]], test & inside)
    TEST_CLASS = cls[test]
    counts = np.bincount(label[train], minlength=C)
    weight = np.where(counts > 0, len(train) / (C * np.maximum(counts, 1)), 0.0)
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    def std(a):
        return (a - a[train].mean(0)) / np.maximum(a[train].std(0), 1e-6)

    for name, xs in (("node", std(x)), ("node+tweb", std(np.concatenate([x, tw], 1))),
                     ("tweb", std(tw)), ("tweb+z+class", std(np.concatenate([tw, x[:, 6:]], 1)))):
        lr = LogisticRegression(max_iter=500, class_weight="balanced").fit(xs[train], label[train])
        report("logreg_" + name, f"R={R}", label[test], lr.predict(xs[test]))
        hgb = HistGradientBoostingClassifier(max_iter=200, random_state=1)
        hgb.fit(xs[train], label[train], sample_weight=weight[label[train]])
        report("hgb_" + name, f"R={R}", label[test], hgb.predict(xs[test]))
    np.save(f"{d}/tweb_R{R:g}{'_graph' if '--graph' in sys.argv else ''}.npy", tw)
    print(f"# total {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
