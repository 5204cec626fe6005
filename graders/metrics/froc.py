"""LUNA16 nodule-detection scoring: FROC curve, CPM and a bootstrap confidence interval.

Follows the LUNA16 evaluation (Setio et al., Medical Image Analysis 42, 2017, and the
challenge's ``noduleCADEvaluationLUNA16.py``):

* **At most 100 candidates per scan.** A scan with more keeps only the candidates whose
  probability is strictly greater than the 101st highest probability of that scan (the
  evaluation script's ``maxNumberOfCADMarks=100`` rule; ties at that value are dropped
  together, so a scan may keep fewer than 100).
* **Hit:** a candidate hits a finding when its squared distance to the finding's centre
  is strictly less than (diameter / 2)². A finding with a negative diameter (LUNA16
  writes -1 for excluded non-nodules) gets a 10 mm diameter.
* **Several candidates on one nodule** count once, with the highest probability among
  them. A candidate that hits two nodules counts for both.
* **Excluded findings** (``annotations_excluded.csv``: nodules under 3 mm, non-nodules,
  ...): a candidate that hits one and no included nodule is ignored - neither a true
  nor a false positive.
* Every other candidate is a **false positive**. Missed nodules count in the
  denominator of the sensitivity only.
* **FROC curve:** sensitivity against false positives per scan as the threshold sweeps
  the candidate probabilities (candidates with equal probability enter together).
  Sensitivity at a false-positive rate is read off the piecewise-linear curve, as
  ``numpy.interp`` does in the evaluation script; where the curve rises vertically
  exactly at that rate the upper value counts (the best sensitivity reached with at
  most that many false positives per scan). False positives per scan are computed
  exactly (count / scans).
* **CPM** is the mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 false positives per scan.
* **Bootstrap:** scans are resampled with replacement (all of a scan's candidates and
  nodules travel together), the curve recomputed per sample; bounds are the
  ``floor(B*(1-c)/2)``-th and ``floor(B*(1+c)/2)``-th of the sorted sample values, as in
  the evaluation script.

Where the script would produce NaN this module answers as follows: with no nodule
detected the sensitivity is 0; with no nodules at all it is NaN (bootstrap samples
without nodules are left out of the bounds and counted in ``n_valid``).

Everything is vectorised numpy; :func:`froc_bootstrap` evaluates all samples at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FP_RATES: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MAX_CANDIDATES_PER_SCAN = 100
NON_NODULE_DIAMETER_MM = 10.0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class CandidateSet:
    """Detector output: scan index (0..n_scans-1), world centre (x, y, z) in mm, probability."""

    scan: IntArray
    xyz: FloatArray
    probability: FloatArray

    def __post_init__(self) -> None:
        _check_points("candidates", self.scan, self.xyz, self.probability)

    @classmethod
    def from_arrays(cls, scan: ArrayLike, xyz: ArrayLike, probability: ArrayLike) -> CandidateSet:
        return cls(_as_int(scan), _as_xyz(xyz), np.asarray(probability, dtype=np.float64).reshape(-1))

    def __len__(self) -> int:
        return int(self.scan.shape[0])


@dataclass(frozen=True)
class FindingSet:
    """Reference findings: scan index, world centre (x, y, z) in mm, diameter in mm."""

    scan: IntArray
    xyz: FloatArray
    diameter_mm: FloatArray

    def __post_init__(self) -> None:
        _check_points("findings", self.scan, self.xyz, self.diameter_mm)

    @classmethod
    def from_arrays(cls, scan: ArrayLike, xyz: ArrayLike, diameter_mm: ArrayLike) -> FindingSet:
        return cls(_as_int(scan), _as_xyz(xyz), np.asarray(diameter_mm, dtype=np.float64).reshape(-1))

    @classmethod
    def empty(cls) -> FindingSet:
        return cls.from_arrays(np.zeros(0), np.zeros((0, 3)), np.zeros(0))

    def __len__(self) -> int:
        return int(self.scan.shape[0])


@dataclass(frozen=True)
class Matching:
    """Candidates matched against findings: the items the FROC curve is built from.

    Items are one per detected nodule (its best candidate's probability, ``is_tp``) and
    one per false-positive candidate. ``nodules_per_scan`` counts every included nodule,
    detected or not.
    """

    item_probability: FloatArray
    item_is_tp: NDArray[np.bool_]
    item_scan: IntArray
    nodules_per_scan: IntArray
    n_candidates_used: int
    n_dropped_over_limit: int
    n_ignored_excluded: int
    n_duplicate_hits: int

    @property
    def n_nodules(self) -> int:
        return int(self.nodules_per_scan.sum())

    @property
    def n_detected(self) -> int:
        return int(self.item_is_tp.sum())

    @property
    def n_false_positives(self) -> int:
        return int((~self.item_is_tp).sum())


@dataclass(frozen=True)
class FROCResult:
    """FROC curve, sensitivities at the LUNA16 false-positive rates and their mean (CPM)."""

    fp_rates: tuple[float, ...]
    sensitivities: tuple[float, ...]
    cpm: float
    curve_fps_per_scan: tuple[float, ...]
    curve_sensitivity: tuple[float, ...]
    curve_thresholds: tuple[float, ...]
    n_scans: int
    n_nodules: int
    n_detected: int
    n_false_positives: int
    n_candidates_used: int
    n_dropped_over_limit: int
    n_ignored_excluded: int
    n_duplicate_hits: int

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("fp_rates", "sensitivities", "curve_fps_per_scan", "curve_sensitivity", "curve_thresholds"):
            out[k] = [_json_float(v) for v in out[k]]
        out["cpm"] = _json_float(self.cpm)
        return out


@dataclass(frozen=True)
class FROCBootstrap:
    """Bootstrap over scans: mean and confidence bounds of each sensitivity and of the CPM."""

    fp_rates: tuple[float, ...]
    sensitivity_mean: tuple[float, ...]
    sensitivity_lower: tuple[float, ...]
    sensitivity_upper: tuple[float, ...]
    cpm: float
    cpm_mean: float
    cpm_lower: float
    cpm_upper: float
    confidence: float
    n_bootstrap: int
    n_valid: int
    seed: int | None
    samples_cpm: tuple[float, ...] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "samples_cpm"}
        for k in ("fp_rates", "sensitivity_mean", "sensitivity_lower", "sensitivity_upper"):
            out[k] = [_json_float(v) for v in out[k]]
        for k in ("cpm", "cpm_mean", "cpm_lower", "cpm_upper"):
            out[k] = _json_float(out[k])
        return out


def limit_candidates(scan: IntArray, probability: FloatArray, max_per_scan: int = MAX_CANDIDATES_PER_SCAN) -> NDArray[np.bool_]:
    """Mask of the candidates LUNA16 keeps: per scan with more than ``max_per_scan``, those
    with probability strictly above the (max_per_scan + 1)-th highest of that scan."""
    n = scan.shape[0]
    keep = np.ones(n, dtype=bool)
    if n == 0 or max_per_scan <= 0:
        return keep
    order = np.lexsort((-probability, scan))  # by scan, then probability descending
    s_sorted = scan[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    counts = np.diff(np.r_[starts, n])
    over = counts > max_per_scan
    if not over.any():
        return keep
    cut_pos = starts[over] + max_per_scan
    cut_value = np.full(n, -np.inf)
    cut_value[np.repeat(over, counts)] = np.repeat(probability[order][cut_pos], counts[over])
    keep_sorted = probability[order] > cut_value
    keep[order] = keep_sorted
    return keep


def match_candidates(
    candidates: CandidateSet,
    nodules: FindingSet,
    excluded: FindingSet | None = None,
    *,
    n_scans: int,
    max_candidates_per_scan: int = MAX_CANDIDATES_PER_SCAN,
) -> Matching:
    """Hits, misses, ignored and false-positive candidates (see the module docstring)."""
    _check_scans(candidates.scan, n_scans, "candidates")
    _check_scans(nodules.scan, n_scans, "nodules")
    keep = limit_candidates(candidates.scan, candidates.probability, max_candidates_per_scan)
    c_scan = candidates.scan[keep]
    c_xyz = candidates.xyz[keep]
    c_prob = candidates.probability[keep]
    n_c = c_scan.shape[0]

    hit_included = np.zeros(n_c, dtype=bool)
    best = np.full(len(nodules), -np.inf)
    n_hits = np.zeros(len(nodules), dtype=np.int64)
    if len(nodules) and n_c:
        i_nod, j_cand = _same_scan_pairs(nodules.scan, c_scan)
        hit = _hits(nodules.xyz[i_nod], nodules.diameter_mm[i_nod], c_xyz[j_cand])
        i_nod, j_cand = i_nod[hit], j_cand[hit]
        hit_included[j_cand] = True
        np.maximum.at(best, i_nod, c_prob[j_cand])
        n_hits = np.bincount(i_nod, minlength=len(nodules))
    hit_excluded = np.zeros(n_c, dtype=bool)
    if excluded is not None and len(excluded) and n_c:
        _check_scans(excluded.scan, n_scans, "excluded findings")
        i_ex, j_cand = _same_scan_pairs(excluded.scan, c_scan)
        hit = _hits(excluded.xyz[i_ex], excluded.diameter_mm[i_ex], c_xyz[j_cand])
        hit_excluded[j_cand[hit]] = True

    detected = n_hits > 0
    false_pos = ~hit_included & ~hit_excluded
    item_probability = np.concatenate([best[detected], c_prob[false_pos]])
    item_is_tp = np.concatenate([np.ones(int(detected.sum()), bool), np.zeros(int(false_pos.sum()), bool)])
    item_scan = np.concatenate([nodules.scan[detected], c_scan[false_pos]]).astype(np.int64)
    return Matching(
        item_probability=item_probability,
        item_is_tp=item_is_tp,
        item_scan=item_scan,
        nodules_per_scan=np.bincount(nodules.scan, minlength=n_scans).astype(np.int64),
        n_candidates_used=int(n_c),
        n_dropped_over_limit=int((~keep).sum()),
        n_ignored_excluded=int((hit_excluded & ~hit_included).sum()),
        n_duplicate_hits=int(np.maximum(n_hits - 1, 0).sum()),
    )


def froc(
    candidates: CandidateSet,
    nodules: FindingSet,
    n_scans: int,
    *,
    excluded: FindingSet | None = None,
    max_candidates_per_scan: int = MAX_CANDIDATES_PER_SCAN,
    fp_rates: tuple[float, ...] = FP_RATES,
) -> FROCResult:
    """The FROC curve of ``candidates`` against ``nodules`` over ``n_scans`` scans, and the CPM."""
    m = match_candidates(candidates, nodules, excluded, n_scans=n_scans, max_candidates_per_scan=max_candidates_per_scan)
    sens = sensitivities_at(m, n_scans, fp_rates)[0]
    fps, sensitivity, thresholds = froc_curve(m, n_scans)
    return FROCResult(
        fp_rates=tuple(float(f) for f in fp_rates),
        sensitivities=tuple(float(s) for s in sens),
        cpm=float(np.mean(sens)),
        curve_fps_per_scan=tuple(float(v) for v in fps),
        curve_sensitivity=tuple(float(v) for v in sensitivity),
        curve_thresholds=tuple(float(v) for v in thresholds),
        n_scans=int(n_scans),
        n_nodules=m.n_nodules,
        n_detected=m.n_detected,
        n_false_positives=m.n_false_positives,
        n_candidates_used=m.n_candidates_used,
        n_dropped_over_limit=m.n_dropped_over_limit,
        n_ignored_excluded=m.n_ignored_excluded,
        n_duplicate_hits=m.n_duplicate_hits,
    )


def froc_curve(m: Matching, n_scans: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Points of the FROC curve: false positives per scan, sensitivity and threshold.

    The first point is (0, 0) at threshold +inf; then one point per distinct probability.
    """
    order, ends = _sorted_groups(m.item_probability)
    tp = np.cumsum(m.item_is_tp[order])[ends]
    fp = np.cumsum(~m.item_is_tp[order])[ends]
    total = m.n_nodules
    sens = tp / total if total else np.full(tp.shape, np.nan)
    fps = np.r_[0.0, fp / n_scans]
    return fps, np.r_[0.0 if total else np.nan, sens], np.r_[np.inf, m.item_probability[order][ends]]


def sensitivities_at(
    m: Matching, n_scans: int, fp_rates: tuple[float, ...] = FP_RATES, scan_weights: NDArray[np.int64] | None = None
) -> FloatArray:
    """Sensitivity at each false-positive rate, for one or many weightings of the scans.

    ``scan_weights`` (B, n_scans) gives how often each scan occurs in each of B samples
    (a bootstrap); None means every scan once. Returns an array (B, len(fp_rates)).

    How: with items sorted by probability into G groups of equal probability, the
    cumulative true- and false-positive counts of scan s after group g form two (S, G+1)
    tables; a sample's counts are its scan weights times a column. Each (sample, rate)
    pair binary-searches the last column whose false-positive count stays within
    rate x scans - log2(G) matrix-vector steps for all pairs at once - and interpolates
    to the next column, as ``numpy.interp`` would on that sample's curve.
    """
    if scan_weights is None:
        scan_weights = np.ones((1, n_scans), dtype=np.int64)
    # float32 holds these integer counts exactly (a sample's count stays far below 2**24).
    weights = np.asarray(scan_weights, dtype=np.float32)
    b = weights.shape[0]
    rates = np.asarray(fp_rates, dtype=np.float64)
    r = rates.shape[0]
    lesions = np.asarray(scan_weights, dtype=np.float64) @ m.nodules_per_scan.astype(np.float64)  # (B,)
    tp_table, fp_table = _count_tables(m, n_scans)  # (G+1, S) each, row 0 = before any group
    g = tp_table.shape[0] - 1

    rows = np.repeat(np.arange(b), r)  # one search per (sample, rate)
    w = weights[rows]  # (B*R, S)
    thr = np.tile(rates * n_scans, b)
    lo = np.zeros(b * r, dtype=np.int64)
    hi = np.full(b * r, g, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi + 1) // 2
        fp_mid = np.einsum("ij,ij->i", w, fp_table[mid])
        ok = fp_mid <= thr
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid - 1, hi)
    j0 = lo
    j1 = np.minimum(j0 + 1, g)
    fp0 = np.einsum("ij,ij->i", w, fp_table[j0]).astype(np.float64)
    tp0 = np.einsum("ij,ij->i", w, tp_table[j0]).astype(np.float64)
    fp1 = np.einsum("ij,ij->i", w, fp_table[j1]).astype(np.float64)
    tp1 = np.einsum("ij,ij->i", w, tp_table[j1]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where((j0 >= g) | (fp1 <= fp0), 0.0, (thr - fp0) / (fp1 - fp0))
        tp = (tp0 + frac * (tp1 - tp0)).reshape(b, r)
        return np.where(lesions[:, None] > 0, tp / np.maximum(lesions, 1.0)[:, None], np.nan)


def _count_tables(m: Matching, n_scans: int) -> tuple[FloatArray, FloatArray]:
    """Cumulative TP and FP counts per scan after each probability group: (G+1, S) tables."""
    order, ends = _sorted_groups(m.item_probability)
    n = order.shape[0]
    group = np.zeros(n, dtype=np.int64)
    if n:
        starts = np.zeros(n, dtype=np.int64)
        starts[ends[:-1] + 1] = 1
        group = np.cumsum(starts)
    scans = m.item_scan[order]
    tp = m.item_is_tp[order]
    g = ends.shape[0]
    tp_counts = np.zeros((g + 1, n_scans), dtype=np.float32)
    fp_counts = np.zeros((g + 1, n_scans), dtype=np.float32)
    np.add.at(tp_counts, (group[tp] + 1, scans[tp]), 1.0)
    np.add.at(fp_counts, (group[~tp] + 1, scans[~tp]), 1.0)
    return np.cumsum(tp_counts, axis=0, dtype=np.float32), np.cumsum(fp_counts, axis=0, dtype=np.float32)


def bootstrap_scan_indices(n_scans: int, n_bootstrap: int, seed: int | None) -> IntArray:
    """(n_bootstrap, n_scans) scan indices drawn with replacement (numpy default_rng(seed))."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_scans, size=(n_bootstrap, n_scans), dtype=np.int64)


def scan_weights_from_indices(indices: IntArray, n_scans: int) -> IntArray:
    """How often each scan occurs in each bootstrap sample, from drawn indices."""
    b = indices.shape[0]
    flat = (indices + (np.arange(b, dtype=np.int64) * n_scans)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n_scans).reshape(b, n_scans).astype(np.int64)


def froc_bootstrap(
    candidates: CandidateSet,
    nodules: FindingSet,
    n_scans: int,
    *,
    excluded: FindingSet | None = None,
    n_bootstrap: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    max_candidates_per_scan: int = MAX_CANDIDATES_PER_SCAN,
    fp_rates: tuple[float, ...] = FP_RATES,
    indices: IntArray | None = None,
) -> FROCBootstrap:
    """Bootstrap confidence interval of the sensitivities and the CPM, resampling scans.

    ``indices`` (B, n_scans) overrides the draw (to compare implementations on identical samples).
    """
    m = match_candidates(candidates, nodules, excluded, n_scans=n_scans, max_candidates_per_scan=max_candidates_per_scan)
    if indices is None:
        indices = bootstrap_scan_indices(n_scans, n_bootstrap, seed)
    weights = scan_weights_from_indices(np.asarray(indices, dtype=np.int64), n_scans)
    samples = sensitivities_at(m, n_scans, fp_rates, weights)  # (B, R)
    cpm_samples = samples.mean(axis=1)
    valid = ~np.isnan(cpm_samples)
    point = float(np.mean(sensitivities_at(m, n_scans, fp_rates)[0]))
    lo_s, hi_s = _bounds(samples[valid], confidence)
    lo_c, hi_c = _bounds(cpm_samples[valid][:, None], confidence)
    return FROCBootstrap(
        fp_rates=tuple(float(f) for f in fp_rates),
        sensitivity_mean=tuple(float(v) for v in _nanmean(samples[valid])),
        sensitivity_lower=tuple(float(v) for v in lo_s),
        sensitivity_upper=tuple(float(v) for v in hi_s),
        cpm=point,
        cpm_mean=float(_nanmean(cpm_samples[valid][:, None])[0]),
        cpm_lower=float(lo_c[0]),
        cpm_upper=float(hi_c[0]),
        confidence=float(confidence),
        n_bootstrap=int(indices.shape[0]),
        n_valid=int(valid.sum()),
        seed=seed,
        samples_cpm=tuple(float(v) for v in cpm_samples),
    )


def encode_scans(seriesuids: list[str], values: list[str]) -> IntArray:
    """Scan indices of ``values`` in the ordered list of ``seriesuids``; unknown uids raise."""
    index = {uid: i for i, uid in enumerate(seriesuids)}
    missing = sorted({v for v in values if v not in index})
    if missing:
        raise ValueError(f"{len(missing)} series uid(s) not in the scan list, e.g. {missing[0]!r}")
    return np.asarray([index[v] for v in values], dtype=np.int64)


# --- internals -------------------------------------------------------------------------


def _as_int(a: ArrayLike) -> IntArray:
    return np.asarray(a, dtype=np.int64).reshape(-1)


def _as_xyz(a: ArrayLike) -> FloatArray:
    return np.asarray(a, dtype=np.float64).reshape(-1, 3)


def _check_points(what: str, scan: np.ndarray, xyz: np.ndarray, values: np.ndarray) -> None:
    n = scan.shape[0]
    if scan.ndim != 1 or xyz.shape != (n, 3) or values.shape != (n,):
        raise ValueError(f"{what}: expected scan (N,), xyz (N, 3), values (N,); got {scan.shape}, {xyz.shape}, {values.shape}")
    if not np.all(np.isfinite(xyz)) or not np.all(np.isfinite(values)):
        raise ValueError(f"{what}: coordinates and values must be finite")


def _check_scans(scan: IntArray, n_scans: int, what: str) -> None:
    if scan.size and (scan.min() < 0 or scan.max() >= n_scans):
        raise ValueError(f"{what}: scan indices must lie in [0, {n_scans})")


def _same_scan_pairs(a_scan: IntArray, b_scan: IntArray) -> tuple[IntArray, IntArray]:
    """All (i, j) with a_scan[i] == b_scan[j]."""
    order = np.argsort(b_scan, kind="stable")
    sb = b_scan[order]
    left = np.searchsorted(sb, a_scan, side="left")
    right = np.searchsorted(sb, a_scan, side="right")
    counts = right - left
    total = int(counts.sum())
    i = np.repeat(np.arange(a_scan.shape[0]), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    j = order[np.repeat(left, counts) + offsets]
    return i, j


def hit_matrix(points: ArrayLike, centres: ArrayLike, diameters: ArrayLike) -> NDArray[np.bool_]:
    """(n_points, n_findings): whether each point hits each finding by the LUNA16 rule (closer to
    the centre than the radius; diameter -1 counts as NON_NODULE_DIAMETER_MM)."""
    p, c = _as_xyz(points), _as_xyz(centres)
    dist2 = np.sum((p[:, None, :] - c[None, :, :]) ** 2, axis=2)
    return dist2 < _radius2(np.asarray(diameters, dtype=np.float64).reshape(-1))[None, :]


def _hits(centre: FloatArray, diameter: FloatArray, point: FloatArray) -> NDArray[np.bool_]:
    return np.sum((centre - point) ** 2, axis=1) < _radius2(diameter)


def _radius2(diameter: FloatArray) -> FloatArray:
    return (np.where(diameter < 0.0, NON_NODULE_DIAMETER_MM, diameter) / 2.0) ** 2


def _sorted_groups(probability: FloatArray) -> tuple[IntArray, IntArray]:
    """Order by probability (descending) and the last index of each run of equal values."""
    order = np.argsort(-probability, kind="stable")
    p = probability[order]
    if p.size == 0:
        return order, np.zeros(0, dtype=np.int64)
    ends = np.r_[np.flatnonzero(p[1:] != p[:-1]), p.size - 1]
    return order, ends


def _bounds(samples: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    n = samples.shape[0]
    if n == 0:
        nan = np.full(samples.shape[1], np.nan)
        return nan, nan
    s = np.sort(samples, axis=0)
    lo = int(np.floor((1.0 - confidence) / 2.0 * n))
    hi = min(int(np.floor((1.0 + confidence) / 2.0 * n)), n - 1)
    return s[lo], s[hi]


def _nanmean(samples: FloatArray) -> FloatArray:
    if samples.shape[0] == 0:
        return np.full(samples.shape[1], np.nan)
    return samples.mean(axis=0)


def _json_float(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)
