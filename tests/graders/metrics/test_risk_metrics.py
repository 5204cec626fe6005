"""Risk metrics against scikit-learn on random data with ties, and small hand-worked cases."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from practicum.graders.metrics.risk import (
    average_precision,
    brier_score,
    calibration_bins,
    expected_calibration_error,
    roc_auc,
    roc_curve,
)


@pytest.fixture(params=[0, 1, 2])
def labelled_scores(request):
    rng = np.random.default_rng(request.param)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 400), 0, 1)
    p = np.round(p, 2)  # ties on purpose
    return y, p


def test_roc_auc_matches_scikit_learn(labelled_scores):
    y, p = labelled_scores
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))


def test_roc_curve_matches_scikit_learn(labelled_scores):
    y, p = labelled_scores
    fpr, tpr, thr = roc_curve(y, p)
    sk_fpr, sk_tpr, _ = sk_roc_curve(y, p, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    assert np.isinf(thr[0])


def test_average_precision_matches_scikit_learn(labelled_scores):
    y, p = labelled_scores
    assert average_precision(y, p) == pytest.approx(average_precision_score(y, p))


def test_brier_matches_scikit_learn(labelled_scores):
    y, p = labelled_scores
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p))


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_bins_match_scikit_learn(labelled_scores, strategy):
    y, p = labelled_scores
    bins = calibration_bins(y, p, n_bins=8, strategy=strategy)
    sk_true, sk_pred = calibration_curve(y, p, n_bins=8, strategy=strategy)
    np.testing.assert_allclose(bins.prob_true, sk_true)
    np.testing.assert_allclose(bins.prob_pred, sk_pred)
    assert sum(bins.counts) == len(y)


def test_hand_worked_cases():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    # ranked 1(+), 0.8(-), 0.6(+): precision at the positives 1 and 2/3, recall steps 1/2 each
    assert average_precision([1, 0, 1], [1.0, 0.8, 0.6]) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert brier_score([1, 0], [0.8, 0.4]) == pytest.approx((0.04 + 0.16) / 2)
    # bins (0, .5] and (.5, 1]: the first holds .2,.4 with one positive, the second .9 positive
    ece = expected_calibration_error([0, 1, 1], [0.2, 0.4, 0.9], n_bins=2)
    assert ece == pytest.approx(2 / 3 * abs(0.5 - 0.3) + 1 / 3 * abs(1 - 0.9))


def test_perfectly_calibrated_bins_have_zero_ece():
    assert expected_calibration_error([0, 0, 1, 1], [0.0, 0.0, 1.0, 1.0]) == 0.0


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (roc_auc, ([1, 1], [0.1, 0.2])),
        (roc_auc, ([0, 2], [0.1, 0.2])),
        (brier_score, ([0, 1], [0.1, 1.2])),
        (average_precision, ([0, 0], [0.1, 0.2])),
        (calibration_bins, ([0, 1], [0.1, 0.2], 0)),
    ],
)
def test_bad_inputs_raise(call, args):
    with pytest.raises(ValueError):
        call(*args)
