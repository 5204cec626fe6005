"""The phantom and the simple detector: determinism, anatomy, findings, world coordinates."""

import numpy as np
import pytest

from practicum.datasets.ct import CaseSpec, detect_nodules, generate_case, lung_mask
from practicum.datasets.ct.anatomy import inside_lungs, sample_anatomy
from practicum.datasets.ct.geometry import VolumeGeometry

GEOM = VolumeGeometry(shape=(48, 96, 96), spacing=(4.0, 3.6, 3.6), origin=(-172.8, -190.0, -300.0))


@pytest.fixture(scope="module")
def case():
    return generate_case(CaseSpec("t", 11, GEOM))


def test_same_spec_same_scan(case):
    again = generate_case(CaseSpec("t", 11, GEOM))
    assert np.array_equal(case.stored, again.stored) and case.findings == again.findings
    other = generate_case(CaseSpec("t", 12, GEOM))
    assert not np.array_equal(case.stored, other.stored)


def test_anatomy_has_realistic_densities(case):
    hu = case.hu
    assert hu.dtype == np.float32 and hu.min() >= -1024 and hu.max() <= 3071
    mask = lung_mask(hu)
    assert 0.03 < mask.mean() < 0.35
    assert -900 < np.median(hu[mask]) < -780  # aerated lung around -850 HU
    assert (hu > 500).sum() > 0  # ribs and spine


def test_findings_lie_in_the_lungs_with_luna16_sizes(case):
    rng = np.random.default_rng(11)
    anatomy = sample_anatomy(rng, GEOM)
    for f in case.findings:
        assert inside_lungs(anatomy, np.asarray(f.center)), f
        if f.included:
            assert 3.0 <= f.diameter_mm <= 30.0
            assert f.kind in ("solid", "part_solid", "ground_glass", "calcified")
        else:
            assert f.kind in ("small_nodule", "non_nodule")
            assert f.annotation_diameter == -1.0 or f.diameter_mm < 3.0


def test_detector_reports_world_coordinates():
    # A 12 mm ball of soft tissue in air-filled "lungs", on a grid with a non-trivial origin.
    geom = VolumeGeometry(shape=(40, 64, 64), spacing=(2.5, 2.0, 2.0), origin=(-50.0, 20.0, -400.0))
    xs, ys, zs = geom.axes()
    hu = np.full(geom.shape, 40.0, dtype=np.float32)  # body
    hu[5:35, 10:54, 10:54] = -850.0  # one big lung
    centre = np.array([xs[30], ys[25], zs[20]])
    d = np.sqrt((xs[None, None, :] - centre[0]) ** 2 + (ys[None, :, None] - centre[1]) ** 2 + (zs[:, None, None] - centre[2]) ** 2)
    hu[d < 6.0] = 20.0
    hu[:, :3, :] = -1000.0  # outside air at the border
    det = detect_nodules(hu, geom.spacing, geom.origin)
    assert len(det) >= 1
    assert np.linalg.norm(det.xyz[0] - centre) < 2.0
    assert det.diameter_mm[0] == pytest.approx(12.0, abs=2.5) and det.probability[0] > 0.8
    assert len(detect_nodules(np.full(geom.shape, -1000.0, np.float32), geom.spacing, geom.origin)) == 0
