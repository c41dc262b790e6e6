#!/usr/bin/env python3
"""The cosmic web in a slice, true vs predicted: an SVG of two panels (the generator's T-web truth
and ard's GraphSAGE prediction) of the galaxies in a thin declination slice of a sky cap, in
comoving redshift-space coordinates (line-of-sight distance across, transverse distance up; truth above, prediction below), coloured
void / sheet / filament / knot. Galaxies of held-out (test) pixels are drawn solid, the others
faint, so the panel shows where the model was scored.

usage: cosmicweb_slice.py DUMPDIR PRED.csv OUT.svg [--dec-width DEG] [--dmax MPC]
  DUMPDIR: bench_cosmicweb dump output (xyz, label, split, targetid)
  PRED.csv: `ard parquet cat results/cosmicweb-RUN-galaxies.parquet --format csv
            --columns TARGETID,CLASS`
"""
import sys

import numpy as np

COLOURS = ["#3b6fb6", "#7fbf7b", "#f0a030", "#d62728"]
NAMES = ["void", "sheet", "filament", "knot"]


def main():
    d, pred_csv, out = sys.argv[1], sys.argv[2], sys.argv[3]
    width = float(sys.argv[sys.argv.index("--dec-width") + 1]) if "--dec-width" in sys.argv else 0.5
    dmax = float(sys.argv[sys.argv.index("--dmax") + 1]) if "--dmax" in sys.argv else 1100.0
    xyz = np.fromfile(f"{d}/xyz.f64", dtype="<f8").reshape(-1, 3)
    label = np.fromfile(f"{d}/label.i32", dtype="<i4")
    split = np.fromfile(f"{d}/split.i32", dtype="<i4")
    tid = np.fromfile(f"{d}/targetid.i64", dtype="<i8")
    raw = np.genfromtxt(pred_csv, delimiter=",", skip_header=1, dtype=np.int64)
    order = np.argsort(raw[:, 0])
    pos = np.clip(np.searchsorted(raw[order, 0], tid), 0, len(raw) - 1)
    hit = raw[order, 0][pos] == tid
    pred = np.where(hit, raw[order, 1][pos], -1)
    r = np.linalg.norm(xyz, axis=1)
    dec = np.degrees(np.arcsin(xyz[:, 2] / r))
    ra = np.arctan2(xyz[:, 1], xyz[:, 0])
    ra0 = np.median(ra)
    # the slice goes through the held-out galaxies: centred on their median declination
    dec0 = np.median(dec[(split == 2) & (r < dmax)]) if ((split == 2) & (r < dmax)).any() else np.median(dec)
    sel = (np.abs(dec - dec0) < width / 2) & (r < dmax) & hit & (label >= 0)
    los, tr = r[sel] * np.cos(ra[sel] - ra0), r[sel] * np.sin(ra[sel] - ra0)
    test = split[sel] == 2
    # line of sight across, transverse up; the two panels stacked (truth above prediction)
    W, pad, top = 960, 30, 24
    x0, x1 = los.min(), los.max()
    y0, y1 = tr.min(), tr.max()
    s = (W - 2 * pad) / max(x1 - x0, 1e-9)
    ph = (y1 - y0) * s + 2 * top
    H = int(2 * ph + 40)
    agree = np.mean(pred[sel][test] == label[sel][test]) if test.any() else float("nan")
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for panel, cls, title in ((0, label[sel], "truth (T-web of the matter field)"),
                              (1, pred[sel], "ard GraphSAGE prediction (from the galaxies)")):
        oy = panel * ph
        svg.append(f'<text x="{pad}" y="{oy + 16:.0f}" font-size="14">{title}</text>')
        for faint in (True, False):
            m = ~test if faint else test
            op = 0.3 if faint else 0.95
            for c in range(4):
                mm = m & (cls == c)
                # one path per class: a zero-length segment with a round cap per galaxy
                pts = "".join(f"M{pad + (a - x0) * s:.0f} {oy + top + (y1 - b) * s:.0f}h0"
                              for a, b in zip(los[mm], tr[mm]))
                svg.append(f'<path d="{pts}" stroke="{COLOURS[c]}" stroke-opacity="{op}" '
                           f'stroke-width="2.4" stroke-linecap="round" fill="none"/>')
    for c in range(4):
        svg.append(f'<rect x="{pad + 90 * c}" y="{H - 22}" width="10" height="10" '
                   f'fill="{COLOURS[c]}"/><text x="{pad + 14 + 90 * c}" y="{H - 13}">{NAMES[c]}</text>')
    svg.append(f'<text x="{pad + 380}" y="{H - 13}">line of sight {x0:.0f}-{x1:.0f} Mpc '
               f'across, |dec - dec0| &lt; {width / 2:g} deg; solid: test pixels</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")
    print(f"slice: {int(sel.sum())} galaxies, {int(test.sum())} in test pixels, agreement {agree:.3f}")


if __name__ == "__main__":
    main()
