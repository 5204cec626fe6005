"""The simple detector scores a LUNA16 CPM between 0.55 and 0.75 on the small build.

This runs the exact ``small`` build of seed 0 (27 series) in memory - the same voxels a
build writes to DICOM (test_ct_build checks that a written series reads back identical) -
so the DICOM writing is skipped to keep the test quick.
"""

import numpy as np

from practicum.datasets.ct import SIZES, detect_nodules, generate_case, plan_build
from practicum.graders.metrics.froc import CandidateSet, FindingSet, froc


def test_simple_detector_cpm_on_the_small_build_is_in_the_calibration_window():
    series = [s for study in plan_build(SIZES["small"], seed=0) for s in study.series]
    cand, nod, excl = [], [], []
    for i, s in enumerate(series):
        case = generate_case(s.case)
        g = s.case.geometry
        det = detect_nodules(case.hu, g.spacing, g.origin)
        cand += [(i, *xyz, p) for xyz, p in zip(det.xyz, det.probability, strict=True)]
        for f in case.findings:
            (nod if f.included else excl).append((i, *f.center, f.annotation_diameter))
    c, n, e = (np.asarray(rows, dtype=float).reshape(-1, 5) for rows in (cand, nod, excl))
    result = froc(
        CandidateSet.from_arrays(c[:, 0], c[:, 1:4], c[:, 4]),
        FindingSet.from_arrays(n[:, 0], n[:, 1:4], n[:, 4]),
        len(series),
        excluded=FindingSet.from_arrays(e[:, 0], e[:, 1:4], e[:, 4]),
    )
    assert len(series) >= 20 and result.n_nodules >= 50
    assert 0.55 <= result.cpm <= 0.75, result.to_json()
    # Neither trivial nor hopeless at the extremes of the curve.
    assert result.sensitivities[0] < 0.8 and result.sensitivities[-1] > 0.6
