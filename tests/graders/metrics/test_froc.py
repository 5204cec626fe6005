"""LUNA16 FROC / CPM: hand-worked cases, edge cases, and equality with a plain loop reference."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from practicum.graders.metrics.froc import (
    FP_RATES,
    CandidateSet,
    FindingSet,
    bootstrap_scan_indices,
    froc,
    froc_bootstrap,
    hit_matrix,
    limit_candidates,
)

REPO = Path(__file__).resolve().parents[3]


def _reference():
    spec = importlib.util.spec_from_file_location("froc_reference", REPO / "bench" / "froc_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _reference()


def cands(rows):
    a = np.asarray(rows, dtype=float).reshape(-1, 5)
    return CandidateSet.from_arrays(a[:, 0], a[:, 1:4], a[:, 4])


def finds(rows):
    a = np.asarray(rows, dtype=float).reshape(-1, 5)
    return FindingSet.from_arrays(a[:, 0], a[:, 1:4], a[:, 4])


def test_hand_worked_case():
    # 4 scans. Nodules: scan 0 (10 mm), scan 1 (6 mm), scan 2 (20 mm, never found); scan 3 has none.
    nodules = [(0, 0, 0, 0, 10), (1, 50, 50, 50, 6), (2, 0, 0, 0, 20)]
    candidates = [
        (0, 1, 1, 1, 0.9),  # hits the scan-0 nodule
        (0, 3, 0, 0, 0.4),  # second hit on it: counts once (max probability 0.9)
        (0, 40, 0, 0, 0.6),  # false positive
        (1, 50, 50, 52, 0.3),  # 2 mm from the 6 mm nodule: hit
        (1, 50, 50, 54, 0.95),  # 4 mm away: outside the 3 mm radius, false positive
        (2, 100, 100, 100, 0.2),  # false positive
        (3, 0, 0, 0, 0.5),  # false positives with tied probabilities
        (3, 9, 9, 9, 0.5),
    ]
    r = froc(cands(candidates), finds(nodules), 4)
    # Curve (FPs/scan, sensitivity): (0,0) (.25,0) (.25,1/3) (.5,1/3) (1,1/3) (1,2/3) (1.25,2/3)
    expected = [0.0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3]
    assert r.sensitivities == pytest.approx(expected)
    assert r.cpm == pytest.approx(10 / 21)
    assert (r.n_nodules, r.n_detected, r.n_false_positives, r.n_duplicate_hits) == (3, 2, 5, 1)
    assert r.curve_fps_per_scan == pytest.approx((0, 0.25, 0.25, 0.5, 1.0, 1.0, 1.25))
    assert r.curve_sensitivity == pytest.approx((0, 0, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3))
    ref_sens, ref_cpm = REF.froc_loop(candidates, nodules, [], 4)
    assert ref_sens == pytest.approx(expected) and ref_cpm == pytest.approx(10 / 21)


def test_interpolates_between_curve_points():
    # One scan; FP at 0.9, TP at 0.8 (of 2 nodules), FP at 0.7: points (0,0) (1,0) (1,.5) (2,.5).
    nodules = [(0, 0, 0, 0, 10), (0, 100, 0, 0, 10)]
    candidates = [(0, 50, 50, 50, 0.9), (0, 0, 0, 0, 0.8), (0, -50, -50, -50, 0.7)]
    r = froc(cands(candidates), finds(nodules), 1)
    assert r.sensitivities == pytest.approx([0, 0, 0, 0.5, 0.5, 0.5, 0.5])
    # Two scans: FPs per scan halve; 1/8 and 1/4 now fall on the rising segment's foot, 1/2 on its top.
    r2 = froc(cands(candidates), finds(nodules), 2)
    assert r2.sensitivities == pytest.approx([0, 0, 0.5, 0.5, 0.5, 0.5, 0.5])
    # A tie between a TP and an FP is one step: a diagonal segment, interpolated linearly.
    tie = [(0, 0, 0, 0, 0.8), (0, 70, 70, 70, 0.8)]
    r3 = froc(cands(tie), finds(nodules[:1]), 4)  # point (0.25, 1): at 1/8 halfway up
    assert r3.sensitivities[0] == pytest.approx(0.5)
    assert r3.sensitivities[1:] == pytest.approx([1.0] * 6)


def test_no_false_positives_at_all():
    nodules = [(0, 0, 0, 0, 10), (1, 0, 0, 0, 10)]
    r = froc(cands([(0, 1, 0, 0, 0.8)]), finds(nodules), 2)
    assert r.n_false_positives == 0
    assert r.sensitivities == pytest.approx([0.5] * 7) and r.cpm == pytest.approx(0.5)


def test_undetected_nodules_and_only_false_positives():
    nodules = [(0, 0, 0, 0, 10)]
    r = froc(cands([(0, 80, 0, 0, 0.9), (1, 0, 0, 0, 0.8)]), finds(nodules), 2)
    assert r.n_detected == 0 and r.cpm == 0.0


def test_candidates_on_excluded_findings_are_ignored():
    nodules = [(0, 100, 0, 0, 10)]
    excluded = [(0, 0, 0, 0, -1.0), (0, 0, 50, 0, 2.5)]  # a non-nodule (counts as 10 mm) and a 2.5 mm nodule
    candidates = [
        (0, 4, 0, 0, 0.99),  # within 5 mm of the non-nodule: ignored
        (0, 0, 51, 0, 0.98),  # 1 mm from the small nodule (radius 1.25): ignored
        (0, 6, 0, 0, 0.97),  # 6 mm from the non-nodule: a false positive
        (0, 100, 1, 0, 0.5),  # the real nodule
    ]
    r = froc(cands(candidates), finds(nodules), 1, excluded=finds(excluded))
    assert (r.n_ignored_excluded, r.n_false_positives, r.n_detected) == (2, 1, 1)
    # With one false positive above the hit: sensitivity 0 until 1 FP/scan, then 1.
    assert r.sensitivities == pytest.approx([0, 0, 0, 1, 1, 1, 1])
    # Without the exclusion list the two ignored candidates become false positives.
    assert froc(cands(candidates), finds(nodules), 1).n_false_positives == 3


def test_a_candidate_on_an_included_and_an_excluded_finding_is_a_hit():
    r = froc(cands([(0, 0, 0, 0, 0.7)]), finds([(0, 0, 0, 0, 8)]), 1, excluded=finds([(0, 1, 0, 0, -1)]))
    assert (r.n_detected, r.n_ignored_excluded, r.n_false_positives) == (1, 0, 0)


def test_one_candidate_on_two_overlapping_nodules_counts_for_both():
    nodules = [(0, 0, 0, 0, 10), (0, 2, 0, 0, 10)]
    r = froc(cands([(0, 1, 0, 0, 0.6)]), finds(nodules), 1)
    assert r.n_detected == 2 and r.cpm == pytest.approx(1.0)


def test_scans_without_candidates_and_scans_without_nodules():
    nodules = [(0, 0, 0, 0, 10)]
    candidates = [(0, 0, 0, 0, 0.9), (0, 50, 0, 0, 0.8), (0, 60, 0, 0, 0.7)]
    # Ten scans, nine with nothing at all: 2 FPs over 10 scans = 0.2 FPs/scan at the end.
    r = froc(cands(candidates), finds(nodules), 10)
    assert r.curve_fps_per_scan[-1] == pytest.approx(0.2)
    assert r.cpm == pytest.approx(1.0)
    empty = froc(cands([]), finds(nodules), 3)
    assert empty.cpm == 0.0 and empty.n_candidates_used == 0


def test_no_nodules_at_all_gives_nan():
    r = froc(cands([(0, 0, 0, 0, 0.5)]), FindingSet.empty(), 1)
    assert math.isnan(r.cpm)
    assert json.loads(json.dumps(r.to_json()))["cpm"] is None


def test_at_most_100_candidates_per_scan_luna16_rule():
    rng = np.random.default_rng(0)
    probs = rng.permutation(np.arange(150) / 150.0)
    keep = limit_candidates(np.zeros(150, dtype=np.int64), probs, 100)
    assert keep.sum() == 100 and probs[keep].min() > np.sort(probs)[::-1][100]
    # Ties at the cut: the 100th and 101st highest are equal, so both go (99 kept).
    tied = np.r_[np.linspace(1.0, 0.5, 99), 0.4, 0.4, np.linspace(0.3, 0.0, 20)]
    assert limit_candidates(np.zeros(tied.size, dtype=np.int64), tied, 100).sum() == 99
    # Scans are limited separately; a scan with <= 100 keeps everything.
    scans = np.r_[np.zeros(120, dtype=np.int64), np.ones(40, dtype=np.int64)]
    k = limit_candidates(scans, rng.random(160), 100)
    assert k[:120].sum() == 100 and k[120:].all()
    # A nodule hit only by the 120th-ranked candidate is missed.
    rows = [(0, 500 + i, 0, 0, 0.9 - i * 0.005) for i in range(150)]
    rows[119] = (0, 0, 0, 0, rows[119][4])
    assert froc(cands(rows), finds([(0, 0, 0, 0, 10)]), 1).n_detected == 0
    assert froc(cands(rows), finds([(0, 0, 0, 0, 10)]), 1, max_candidates_per_scan=200).n_detected == 1


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_equals_the_loop_reference_on_random_data(seed):
    candidates, nodules, excluded = REF.random_case(seed, n_scans=30, candidates_per_scan=40)
    ours = froc(cands(candidates), finds(nodules), 30, excluded=finds(excluded))
    sens, cpm = REF.froc_loop(candidates, nodules, excluded, 30)
    assert ours.sensitivities == pytest.approx(sens, abs=1e-12)
    assert ours.cpm == pytest.approx(cpm, abs=1e-12)


def test_bootstrap_equals_the_loop_reference_and_is_seedable():
    candidates, nodules, excluded = REF.random_case(7, n_scans=25, candidates_per_scan=30)
    C, N, E = cands(candidates), finds(nodules), finds(excluded)
    indices = bootstrap_scan_indices(25, 200, seed=3)
    ours = froc_bootstrap(C, N, 25, excluded=E, indices=indices)
    theirs = REF.bootstrap_loop(candidates, nodules, excluded, 25, indices)
    assert np.allclose(ours.samples_cpm, theirs, atol=1e-12, equal_nan=True)
    a = froc_bootstrap(C, N, 25, excluded=E, n_bootstrap=200, seed=3)
    b = froc_bootstrap(C, N, 25, excluded=E, n_bootstrap=200, seed=3)
    c = froc_bootstrap(C, N, 25, excluded=E, n_bootstrap=200, seed=4)
    assert a.samples_cpm == b.samples_cpm == ours.samples_cpm and a.samples_cpm != c.samples_cpm
    assert a.cpm_lower <= a.cpm <= a.cpm_upper and a.n_valid == 200
    s = np.sort(np.asarray(a.samples_cpm))
    assert (a.cpm_lower, a.cpm_upper) == (s[5], s[195])  # floor(200*.025), floor(200*.975)
    assert len(a.sensitivity_mean) == len(FP_RATES)
    json.dumps(a.to_json())


def test_bootstrap_skips_samples_without_nodules():
    # One scan holds the only nodule: samples that miss it have no sensitivity at all.
    C = cands([(0, 0, 0, 0, 0.9), (1, 5, 5, 5, 0.5)])
    N = finds([(0, 0, 0, 0, 10)])
    r = froc_bootstrap(C, N, 4, n_bootstrap=300, seed=0)
    assert 0 < r.n_valid < 300
    assert r.cpm_lower <= r.cpm_upper


def test_input_validation():
    with pytest.raises(ValueError):
        CandidateSet.from_arrays([0, 1], np.zeros((3, 3)), [0.1, 0.2])
    with pytest.raises(ValueError):
        froc(cands([(5, 0, 0, 0, 0.5)]), finds([]), 2)
    with pytest.raises(ValueError):
        CandidateSet.from_arrays([0], [[0, 0, np.nan]], [0.5])


def test_hit_matrix_is_the_rule_the_froc_counts_by():
    centres = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0]])
    diameters = np.array([6.0, -1.0])  # a 6 mm nodule; a non-nodule counts as 10 mm
    points = np.array([[0.0, 0.0, 2.9], [0.0, 0.0, 3.0], [24.9, 0.0, 0.0], [25.0, 0.0, 0.0]])
    assert hit_matrix(points, centres, diameters).tolist() == [[True, False], [False, False], [False, True], [False, False]]
    assert hit_matrix(np.zeros((0, 3)), centres, diameters).shape == (0, 2)
    # The same points scored as candidates: only the first hits the nodule.
    result = froc(CandidateSet.from_arrays([0] * 4, points, [0.9, 0.8, 0.7, 0.6]),
                  FindingSet.from_arrays([0], centres[:1], diameters[:1]), 1)
    assert result.n_detected == 1
