"""The LMS catalog generated from the course files and project specs: synced as the lab syncs it, titles
and weights equal to the specs, hours and enrolment kept; the learning path skips what a learner passed
and closes a communication gap; self-enrolment is refused where the course enrols from its roster."""

from __future__ import annotations

from typing import Any

import yaml
from lms_fixtures import Lms
from lms_payloads import grade_result, interview

from practicum.authoring import lms_catalog, load_catalog
from practicum.contracts.project_spec import load_project_spec
from practicum.lab.layout import REPO_ROOT
from practicum.lms_api.services.catalog import SEED_CATALOG
from practicum.lms_api.tokens import Scope


def shipped_catalog() -> dict[str, Any]:
    return lms_catalog(load_catalog(REPO_ROOT / "courses"))


def sync_shipped(lms: Lms) -> dict[str, Any]:
    catalog = shipped_catalog()
    lms.ok(lms.post("catalog/sync", lms.admin, catalog))
    return catalog


def test_project_titles_and_weights_are_the_specs(lms: Lms) -> None:
    sync_shipped(lms)
    items = {i["id"]: i for i in lms.ok(lms.get("items", lms.admin))}
    specs = [load_project_spec(p) for p in sorted((REPO_ROOT / "projects").glob("*/project.yaml"))]
    assert specs
    for spec in specs:
        item = items[spec.id]
        assert item["title"] == spec.title and item["kind"] == "project"
        assert item["weights"] == {d.value: w for d, w in sorted(spec.capabilities.items())}
        assert item["attempt_limit"] == spec.attempt_limit
    assert items["ehr_complication_risk"]["title"] == "Five-year diabetic retinopathy risk from the EHR"


def test_the_seed_catalog_is_the_generated_one() -> None:
    assert yaml.safe_load(SEED_CATALOG.read_text()) == shipped_catalog(), (
        "lms_api/seed_catalog.yaml is stale: run `practicum course catalog --out lms_api/seed_catalog.yaml`"
    )


def test_course_files_give_items_hours_levels_prerequisites_and_enrolment(lms: Lms) -> None:
    catalog = sync_shipped(lms)
    courses = {c["id"]: c for c in lms.ok(lms.get("courses", lms.admin))}
    for course in catalog["courses"]:
        assert courses[course["id"]]["enrolment"] == course["enrolment"]
        for expected in course["items"]:
            item = lms.ok(lms.get(f"items/{expected['id']}", lms.admin))
            assert (item["level"], item["hours"], item["prerequisites"]) == (
                expected["level"], expected["hours"], sorted(expected["prerequisites"])
            )
    welcome = lms.ok(lms.get("items/intro_medical_ai/welcome", lms.admin))
    assert welcome["hours"] == 1.0 and courses["intro_medical_ai"]["enrolment"] == "self"
    # A course named as a prerequisite stands for its items.
    assert lms.ok(lms.get("items/ehr_complication_risk", lms.admin))["prerequisites"] == ["intro_medical_ai/welcome"]


def test_a_due_date_of_a_course_file_reaches_the_item(lms: Lms) -> None:
    catalog = shipped_catalog()
    catalog["courses"][0]["items"][0]["due_at"] = "2027-03-01T23:59:59Z"
    lms.ok(lms.post("catalog/sync", lms.admin, catalog))
    assert lms.ok(lms.get("items/intro_medical_ai/welcome", lms.admin))["due_at"].startswith("2027-03-01T23:59:59")


def test_passed_items_are_never_recommended_again(lms: Lms) -> None:
    sync_shipped(lms)
    lms.org("acme")
    person_id = lms.ok(lms.post("profiles/import", lms.admin, interview("alice")), 201)["person_id"]
    before = [r["item_id"] for r in lms.ok(lms.get(f"people/{person_id}/learning-path?limit=20", lms.admin))["recommendations"]]
    assert "intro_medical_ai/welcome" in before and "ehr_complication_risk" in before
    lms.ok(lms.post("results", lms.admin, grade_result("w1", item_id="intro_medical_ai/welcome", kind="assignment", score=1.0)), 201)
    lms.ok(lms.post("results", lms.admin, grade_result("e1", item_id="ehr_complication_risk", score=0.9)), 201)
    # A later failed attempt does not make a passed item due again.
    lms.ok(lms.post("results", lms.admin, grade_result("e2", item_id="ehr_complication_risk", passed=False, score=0.2)), 201)
    path = lms.ok(lms.get(f"people/{person_id}/learning-path?limit=20", lms.admin))
    after = [r["item_id"] for r in path["recommendations"]]
    assert after and "intro_medical_ai/welcome" not in after and "ehr_complication_risk" not in after
    assert not any("intro_medical_ai/welcome" in r["prerequisite_for"] or "after intro_medical_ai/welcome" in r["reason"]
                   for r in path["recommendations"])


def test_a_communication_gap_is_closed_by_the_collaboration_course(lms: Lms) -> None:
    sync_shipped(lms)
    lms.org("acme")
    levels = {"ml_engineering": 3, "medical_imaging": 3, "clinical_data": 2, "medical_statistics": 3,
              "clinical_scenario": 2, "data_privacy_compliance": 2, "communication_teamwork": 0}
    person_id = lms.ok(lms.post("profiles/import", lms.admin, interview("carl", **levels)), 201)["person_id"]
    path = lms.ok(lms.get(f"people/{person_id}/learning-path", lms.admin))
    gaps = {g["dimension"]: g["gap"] for g in path["gaps"] if g["gap"] > 0}
    assert gaps == {"communication_teamwork": 2.0}
    # The first item recommended for its own sake (not as another's prerequisite) is the collaboration course's.
    first = [r for r in path["recommendations"] if not r["prerequisite_for"]][0]
    assert first["course_id"] == "clinical_collaboration"
    assert [c["dimension"] for c in first["addresses"]] == ["communication_teamwork"] and first["expected_gain"] == 1.0
    assert "Communication" in first["reason"]
    # Its prerequisites (course file: intro_medical_ai, glucose_cgm_forecasting) come before it.
    order = [r["item_id"] for r in path["recommendations"]]
    assert order.index("glucose_cgm_forecasting") < order.index(first["item_id"])


def test_self_enrolment_is_refused_where_the_course_enrols_from_its_roster(lms: Lms) -> None:
    catalog = {"courses": [{"id": "closed_course", "title": "Closed", "enrolment": "roster", "items": []}]}
    lms.ok(lms.post("catalog/sync", lms.admin, catalog))
    dana = lms.hub_user("dana")
    lms.ok(lms.get("me", dana))
    refused = lms.post("courses/closed_course/self-enrolment", dana)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "enrolment_closed"
    assert lms.post("courses/nowhere/self-enrolment", dana).status_code == 404
    # A token is not a learner: it cannot enrol "itself" even where the course is open.
    lms.ok(lms.post("catalog/sync", lms.admin, {"courses": [{"id": "open_course", "title": "Open", "enrolment": "self", "items": []}]}))
    token = lms.bearer(lms.token(Scope.RESULTS_WRITE))
    assert lms.post("courses/open_course/self-enrolment", token).json()["error"]["code"] in ("learners_only", "missing_scope")
    assert lms.ok(lms.get("courses/closed_course/enrollments", lms.admin)) == []
    assert lms.ok(lms.get("courses/open_course/enrollments", lms.admin)) == []


def test_a_due_date_in_a_course_file_makes_the_item_overdue_in_the_lms(lms: Lms, tmp_path) -> None:
    import shutil

    courses = tmp_path / "courses"
    shutil.copytree(REPO_ROOT / "courses" / "intro_medical_ai", courses / "intro_medical_ai")
    spec = yaml.safe_load((courses / "intro_medical_ai" / "course.yaml").read_text())
    spec["assignments"][0]["due"] = "2020-01-31"
    (courses / "intro_medical_ai" / "course.yaml").write_text(yaml.safe_dump(spec))
    catalog = lms_catalog(load_catalog(courses))
    assert catalog["courses"][0]["items"][0]["due_at"] == "2020-01-31T23:59:59Z"
    lms.ok(lms.post("catalog/sync", lms.admin, catalog))
    person_id = lms.person("olga")
    lms.ok(lms.post("courses/intro_medical_ai/enrollments", lms.admin, {"person_id": person_id}), 201)
    progress = lms.ok(lms.get(f"people/{person_id}/progress", lms.admin))
    (course,) = [c for c in progress["courses"] if c["course_id"] == "intro_medical_ai"]
    assert course["overdue"] == ["intro_medical_ai/welcome"]
