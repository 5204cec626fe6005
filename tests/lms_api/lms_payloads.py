"""Request bodies the tests share."""

from __future__ import annotations

from typing import Any


def grade_result(
    submission_id: str, learner: str = "alice", item_id: str = "lung_nodule_ct_detection", *,
    kind: str = "project", passed: bool = True, score: float = 0.9, **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema_version": "1", "submission_id": submission_id, "learner": learner, "kind": kind,
        "item_id": item_id, "metrics": {"froc": 0.81}, "passed": passed, "score": score,
        "targets": [{"metric": "froc", "threshold": 0.7, "direction": "at_least", "value": 0.81, "met": True,
                     "margin": 0.81 - 0.7}],
        "mlflow_run_id": "0123456789abcdef0123456789abcdef", "dataset_version": "ct-1.0", "code_hash": "abc123",
        "grader_version": "1.0.0", "started_at": "2026-01-05T10:00:00Z", "finished_at": "2026-01-05T10:05:00Z",
    }
    body.update(overrides)
    return body


def interview(person: str, organisation: str | None = "acme", **levels: Any) -> dict[str, Any]:
    return {
        "person": person, "organisation": organisation, "role_target": "algorithm_engineer",
        "assessed_at": "2026-01-02T09:00:00Z", "assessor": "hr-lead",
        "levels": levels or {"ml_engineering": "aware", "medical_imaging": 0, "medical_statistics": 1},
    }
