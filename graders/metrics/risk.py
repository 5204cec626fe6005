"""Risk-prediction metrics: AUROC, average precision, Brier score, calibration bins and ECE.

Pure functions over array-likes; labels are 0/1 (or booleans), scores are any real numbers
(probabilities in [0, 1] where the metric says so). They follow scikit-learn's definitions
so that a learner's local numbers match the grader's:

- ``roc_auc``: area under the ROC curve, ties counted half (Mann-Whitney U / (n1 n0));
- ``average_precision``: sum over distinct thresholds of (R_n - R_{n-1}) P_n, no interpolation;
- ``calibration_bins``: ``sklearn.calibration.calibration_curve`` binning (a value equal to
  an inner edge falls in the lower bin), plus the counts of every non-empty bin;
- ``expected_calibration_error``: sum over bins of n_b / N * |mean(y) - mean(p)|.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _labels_scores(y_true: ArrayLike, y_score: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    raw = np.asarray(y_true).ravel()
    s = np.asarray(y_score, dtype=np.float64).ravel()
    if raw.shape != s.shape:
        raise ValueError(f"y_true and y_score differ in length: {raw.size} != {s.size}")
    if raw.size == 0:
        raise ValueError("no values to score")
    if not np.all(np.isin(raw, (0, 1))):
        raise ValueError("y_true must contain only 0/1 labels")
    if not np.all(np.isfinite(s)):
        raise ValueError("NaN or infinite scores")
    return raw.astype(bool), s


def _both_classes(y: NDArray[np.bool_]) -> None:
    if y.all() or not y.any():
        raise ValueError("y_true holds a single class; the metric is undefined")


def _probabilities(p: NDArray[np.float64]) -> None:
    if p.min() < 0 or p.max() > 1:
        raise ValueError("probabilities must lie in [0, 1]")


def _average_ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks with ties sharing their average rank."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average = ends - (counts - 1) / 2.0
    return average[inverse]


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve."""
    y, s = _labels_scores(y_true, y_score)
    _both_classes(y)
    ranks = _average_ranks(s)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _cumulative_counts(
    y: NDArray[np.bool_], s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """True/false positives when thresholding at each distinct score, highest first."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(s_sorted)), y.size - 1]
    tps = np.cumsum(y_sorted)[last_of_value].astype(np.float64)
    fps = (last_of_value + 1) - tps
    return tps, fps, s_sorted[last_of_value]


def roc_curve(
    y_true: ArrayLike, y_score: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """False-positive rates, true-positive rates and thresholds (starting at (0, 0), threshold +inf)."""
    y, s = _labels_scores(y_true, y_score)
    _both_classes(y)
    tps, fps, thresholds = _cumulative_counts(y, s)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return fpr, tpr, np.r_[np.inf, thresholds]


def average_precision(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Average precision (area under the step precision-recall curve)."""
    y, s = _labels_scores(y_true, y_score)
    if not y.any():
        raise ValueError("y_true has no positive label; average precision is undefined")
    tps, fps, _ = _cumulative_counts(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier_score(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """Mean squared difference between predicted probability and outcome."""
    y, p = _labels_scores(y_true, y_prob)
    _probabilities(p)
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class CalibrationBins:
    """Non-empty calibration bins: observed frequency, mean prediction and count per bin."""

    edges: tuple[float, ...]
    prob_true: tuple[float, ...]
    prob_pred: tuple[float, ...]
    counts: tuple[int, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def calibration_bins(
    y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10, strategy: Literal["uniform", "quantile"] = "uniform"
) -> CalibrationBins:
    """Reliability-diagram bins (scikit-learn's ``calibration_curve`` binning)."""
    y, p = _labels_scores(y_true, y_prob)
    _probabilities(p)
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0.0, 100.0, n_bins + 1))
    else:
        raise ValueError(f"unknown strategy {strategy!r}; use 'uniform' or 'quantile'")
    ids = np.searchsorted(edges[1:-1], p)
    total = np.bincount(ids, minlength=n_bins)
    sum_true = np.bincount(ids, weights=y.astype(np.float64), minlength=n_bins)
    sum_pred = np.bincount(ids, weights=p, minlength=n_bins)
    keep = total > 0
    return CalibrationBins(
        edges=tuple(float(e) for e in edges),
        prob_true=tuple(float(v) for v in sum_true[keep] / total[keep]),
        prob_pred=tuple(float(v) for v in sum_pred[keep] / total[keep]),
        counts=tuple(int(c) for c in total[keep]),
    )


def expected_calibration_error(
    y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10, strategy: Literal["uniform", "quantile"] = "uniform"
) -> float:
    """Count-weighted mean |observed frequency - mean prediction| over the bins."""
    bins = calibration_bins(y_true, y_prob, n_bins=n_bins, strategy=strategy)
    counts = np.asarray(bins.counts, dtype=np.float64)
    gaps = np.abs(np.asarray(bins.prob_true) - np.asarray(bins.prob_pred))
    return float(np.sum(counts * gaps) / counts.sum())
