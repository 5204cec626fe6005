"""A plain, per-candidate Python implementation of the LUNA16 FROC/CPM evaluation.

Written independently of ``practicum.graders.metrics.froc`` and as close to the structure
of the LUNA16 evaluation script as possible (dictionaries of candidates per scan, a loop
over nodule annotations, candidates deleted as they are matched, ``numpy.interp`` on the
curve), so that the vectorised implementation can be checked against it and timed
against it (``bench/froc_bootstrap.py``, ``tests/graders/metrics/test_froc.py``).

Conventions shared with the vectorised version (see its module docstring): at most 100
candidates per scan (probability strictly above the 101st highest), hit when the
squared distance is below (diameter / 2)^2, diameter -1 means 10 mm, excluded findings
ignored, false positives per scan = count / scans, sensitivity 0 when nothing is
detected and NaN when there are no nodules.
"""

from __future__ import annotations

import math

import numpy as np

FP_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def _limit(cands: list[tuple], max_per_scan: int) -> list[tuple]:
    if len(cands) <= max_per_scan:
        return cands
    probs = sorted((c[4] for c in cands), reverse=True)
    threshold = probs[max_per_scan]
    kept = []
    for c in cands:
        if len(kept) >= max_per_scan:
            break
        if c[4] > threshold:
            kept.append(c)
    return kept


def scan_items(
    candidates: list[tuple], nodules: list[tuple], excluded: list[tuple], n_scans: int, max_per_scan: int = 100
) -> dict[int, tuple[list[tuple[float, bool]], int]]:
    """Per scan: the FROC items (probability, is true positive) and its number of nodules.

    ``candidates`` rows are (scan, x, y, z, probability); ``nodules`` and ``excluded``
    rows are (scan, x, y, z, diameter_mm).
    """
    by_scan: dict[int, list[tuple]] = {s: [] for s in range(n_scans)}
    for c in candidates:
        by_scan[int(c[0])].append(c)
    out = {}
    for scan in range(n_scans):
        cands = dict(enumerate(_limit(by_scan[scan], max_per_scan)))
        remaining = dict(cands)
        items: list[tuple[float, bool]] = []
        annotations = [(n, True) for n in nodules if int(n[0]) == scan] + [(e, False) for e in excluded if int(e[0]) == scan]
        n_nodules = 0
        for annot, included in annotations:
            if included:
                n_nodules += 1
            diameter = float(annot[4])
            if diameter < 0.0:
                diameter = 10.0
            radius_sq = (diameter / 2.0) ** 2
            matches = []
            for key, c in cands.items():
                dist = (annot[1] - c[1]) ** 2 + (annot[2] - c[2]) ** 2 + (annot[3] - c[3]) ** 2
                if dist < radius_sq:
                    if included:
                        matches.append(c)
                        remaining.pop(key, None)
                    elif key in remaining:
                        del remaining[key]
            if included and matches:
                best = None
                for c in matches:
                    if best is None or c[4] > best:
                        best = c[4]
                items.append((float(best), True))
        for c in remaining.values():
            items.append((float(c[4]), False))
        out[scan] = (items, n_nodules)
    return out


def curve(items: list[tuple[float, bool]], n_nodules: int, n_scans: int) -> tuple[list[float], list[float]]:
    """FROC curve points (false positives per scan, sensitivity), starting at (0, 0)."""
    ordered = sorted(items, key=lambda t: -t[0])
    fps, sens = [0.0], [0.0]
    tp = fp = 0
    i = 0
    while i < len(ordered):
        p = ordered[i][0]
        while i < len(ordered) and ordered[i][0] == p:
            if ordered[i][1]:
                tp += 1
            else:
                fp += 1
            i += 1
        fps.append(fp / n_scans)
        sens.append(tp / n_nodules if n_nodules else math.nan)
    return fps, sens


def sensitivities(items: list[tuple[float, bool]], n_nodules: int, n_scans: int, rates=FP_RATES) -> list[float]:
    if n_nodules == 0:
        return [math.nan] * len(rates)
    fps, sens = curve(items, n_nodules, n_scans)
    return [float(np.interp(r, fps, sens)) for r in rates]


def froc_loop(candidates, nodules, excluded, n_scans: int, max_per_scan: int = 100) -> tuple[list[float], float]:
    """Sensitivities at the LUNA16 rates and the CPM."""
    per_scan = scan_items(candidates, nodules, excluded, n_scans, max_per_scan)
    items = [it for s in range(n_scans) for it in per_scan[s][0]]
    total = sum(per_scan[s][1] for s in range(n_scans))
    sens = sensitivities(items, total, n_scans)
    return sens, float(np.mean(sens))


def bootstrap_loop(candidates, nodules, excluded, n_scans: int, indices: np.ndarray, max_per_scan: int = 100) -> list[float]:
    """CPM of each bootstrap sample; row b of ``indices`` lists the scans drawn for sample b."""
    per_scan = scan_items(candidates, nodules, excluded, n_scans, max_per_scan)
    cpms = []
    for row in indices:
        items: list[tuple[float, bool]] = []
        total = 0
        for scan in row:
            scan_items_, n = per_scan[int(scan)]
            items.extend(scan_items_)
            total += n
        sens = sensitivities(items, total, n_scans)
        cpms.append(float(np.mean(sens)))
    return cpms


def random_case(seed: int, n_scans: int = 100, candidates_per_scan: int = 100, nodules_per_scan: float = 1.5):
    """Random candidates, nodules and excluded findings with the structure of a real evaluation:
    some candidates near nodules (several on some), some on excluded findings, some scans
    without nodules, probabilities with ties; rows as :func:`froc_loop` expects."""
    rng = np.random.default_rng(seed)
    nodules, excluded, candidates = [], [], []
    for s in range(n_scans):
        n_nod = int(rng.poisson(nodules_per_scan))
        centres = rng.uniform(-150, 150, size=(n_nod, 3))
        diams = rng.uniform(3.0, 30.0, size=n_nod)
        for c, d in zip(centres, diams, strict=True):
            nodules.append((s, *c, d))
        ex = rng.uniform(-150, 150, size=(int(rng.poisson(0.7)), 3))
        for c in ex:
            excluded.append((s, *c, -1.0 if rng.random() < 0.5 else rng.uniform(1.0, 3.0)))
        k = int(rng.integers(candidates_per_scan // 2, candidates_per_scan + candidates_per_scan // 5))
        pts = rng.uniform(-150, 150, size=(k, 3))
        probs = np.round(rng.random(k), 3)  # rounding makes ties
        for i in range(k):
            u = rng.random()
            if n_nod and u < 0.25:
                j = int(rng.integers(n_nod))
                pts[i] = centres[j] + rng.normal(0, diams[j] / 4.0, 3)
                probs[i] = min(1.0, probs[i] + 0.3)
            elif len(ex) and u < 0.3:
                pts[i] = ex[int(rng.integers(len(ex)))] + rng.normal(0, 1.0, 3)
            candidates.append((s, *pts[i], float(probs[i])))
    return candidates, nodules, excluded
