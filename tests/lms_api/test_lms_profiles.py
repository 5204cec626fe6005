"""The profile update rule on worked examples, and its explanation through the API."""

from __future__ import annotations

import pytest
from lms_fixtures import Lms
from lms_payloads import grade_result, interview

from practicum.lms_api.services.profiles import next_value


@pytest.mark.parametrize(
    ("value", "weight", "level", "score", "passed", "expected"),
    [
        # passed: D = 3 x 0.9 = 2.7; 1.0 + 0.5 x 1.0 x (2.7 - 1.0) = 1.85
        (1.0, 1.0, 3, 0.9, True, 1.85),
        # passed, half weight, from zero: 0 + 0.5 x 0.5 x 2.7 = 0.675
        (0.0, 0.5, 3, 0.9, True, 0.675),
        # passed but D (1 x 1.0 = 1) is below the value: no change
        (2.0, 1.0, 1, 1.0, True, 2.0),
        # failed: D = 3 x 0.4 = 1.2; 2.0 - 0.25 x 0.8 x (2.0 - 1.2) = 1.84
        (2.0, 0.8, 3, 0.4, False, 1.84),
        # failed with D above the value: a failure never raises a value
        (0.5, 1.0, 3, 0.6, False, 0.5),
        # repeated evidence converges on D and never passes it: 2.6 + 0.5 x (2.7 - 2.6) = 2.65
        (2.6, 1.0, 3, 0.9, True, 2.65),
        # rounding to 4 decimals: 0 + 0.5 x 0.3 x (1 x 0.77) = 0.1155
        (0.0, 0.3, 1, 0.77, True, 0.1155),
    ],
)
def test_worked_examples_of_the_update_rule(
    value: float, weight: float, level: int, score: float, passed: bool, expected: float
) -> None:
    assert next_value(value, weight=weight, level=level, score=score, passed=passed) == expected


def test_values_stay_within_zero_and_four() -> None:
    assert next_value(4.0, weight=1.0, level=4, score=1.0, passed=True) == 4.0
    assert next_value(0.0, weight=1.0, level=1, score=0.0, passed=False) == 0.0


def test_interview_then_result_moves_the_profile_with_explained_evidence(lms: Lms) -> None:
    lms.seed_catalog()
    lms.org("acme")
    imported = lms.ok(lms.post("profiles/import", lms.admin, interview("alice", ml_engineering="aware")), 201)
    person_id = imported["person_id"]
    assert [(c["dimension"], c["before"], c["after"]) for c in imported["changes"]] == [("ml_engineering", 0.0, 1.0)]

    posted = lms.ok(lms.post("results", lms.admin, grade_result("s-1", score=0.9)), 201)
    assert posted["profile_changes"] == 6

    profile = lms.ok(lms.get(f"people/{person_id}/profile", lms.admin))
    values = {d["dimension"]: d["value"] for d in profile["dimensions"]}
    # lung_nodule_ct_detection (weights from its project.yaml): level 3, score 0.9 -> D = 2.7
    assert values["ml_engineering"] == 1.85  # 1.0 + 0.5 x 1.0 x (2.7 - 1.0)
    assert values["medical_imaging"] == 1.35  # 0 + 0.5 x 1.0 x 2.7
    assert values["medical_statistics"] == 0.675  # 0 + 0.5 x 0.5 x 2.7
    assert values["clinical_scenario"] == 0.81  # 0 + 0.5 x 0.6 x 2.7
    assert values["clinical_data"] == 0.0
    ml = next(d for d in profile["dimensions"] if d["dimension"] == "ml_engineering")
    assert ml["level"] == "aware" and ml["target"] == 3 and ml["gap"] == 1.15
    latest, first = ml["changes"]
    assert (latest["before"], latest["after"], latest["delta"]) == (1.0, 1.85, 0.85)
    assert latest["evidence"]["kind"] == "result" and latest["evidence"]["score"] == 0.9
    assert latest["evidence"]["links"]["result"] == f"/services/lms/results/{posted['id']}"
    assert "mlflow_run" in latest["evidence"]["links"]
    assert "passed" in latest["rule"]
    assert first["evidence"]["kind"] == "interview"

    history = lms.ok(lms.get(f"people/{person_id}/profile/history", lms.admin, params={"dimension": "ml_engineering"}))
    assert [c["after"] for c in history["items"]] == [1.0, 1.85]


def test_quiz_and_rubric_evidence(lms: Lms) -> None:
    lms.seed_catalog()
    person_id = lms.person("bob")
    quiz = {"kind": "quiz", "score": 0.8, "level": 2, "weights": {"data_privacy_compliance": 1.0}}
    recorded = lms.ok(lms.post(f"people/{person_id}/evidence", lms.admin, quiz), 201)
    # D = 2 x 0.8 = 1.6; 0 + 0.5 x 1.0 x 1.6 = 0.8
    assert [(c["dimension"], c["after"]) for c in recorded["changes"]] == [("data_privacy_compliance", 0.8)]
    rubric = {"kind": "rubric", "item_id": "intro_medical_ai/welcome", "score": 0.3, "passed": False}
    recorded = lms.ok(lms.post(f"people/{person_id}/evidence", lms.admin, rubric), 201)
    # failed, D = 1 x 0.3 = 0.3 < 0.8: 0.8 - 0.25 x 0.5 x 0.5 = 0.7375
    assert [(c["dimension"], c["after"]) for c in recorded["changes"]] == [("data_privacy_compliance", 0.7375)]
    missing = lms.post(f"people/{person_id}/evidence", lms.admin, {"kind": "quiz", "score": 0.5})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "evidence_needs_item_or_weights"
