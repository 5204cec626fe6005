"""Results from the grader: idempotent by submission id, also under concurrent posts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from lms_fixtures import Lms
from lms_payloads import grade_result
from sqlalchemy import func, select

from practicum.lms_api.db.tables import Evidence, ProfileChange, ProgressEvent, Result
from practicum.lms_api.tokens import Scope


def count(lms: Lms, table: type) -> int:
    with lms.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_same_result_twice_is_stored_once(lms: Lms) -> None:
    lms.seed_catalog()
    grader = lms.bearer(lms.token(Scope.RESULTS_WRITE))
    first = lms.ok(lms.post("results", grader, grade_result("sub-1")), 201)
    again = lms.ok(lms.post("results", grader, grade_result("sub-1")), 200)
    assert again["id"] == first["id"] and first["attempt"] == 1
    assert (count(lms, Result), count(lms, Evidence)) == (1, 1)


def test_same_submission_id_with_another_body_is_a_conflict(lms: Lms) -> None:
    lms.seed_catalog()
    lms.ok(lms.post("results", lms.admin, grade_result("sub-1", score=0.9)), 201)
    response = lms.post("results", lms.admin, grade_result("sub-1", score=0.2))
    assert response.status_code == 409 and response.json()["error"]["code"] == "submission_conflict"
    assert count(lms, Result) == 1


def test_concurrent_posts_of_one_result_store_one_result(lms: Lms) -> None:
    lms.seed_catalog()
    grader = lms.bearer(lms.token(Scope.RESULTS_WRITE))
    body = grade_result("sub-concurrent")
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: lms.post("results", grader, body).status_code, range(16)))
    assert sorted(statuses) == [200] * 15 + [201]
    assert count(lms, Result) == 1
    assert count(lms, Evidence) == 1
    assert count(lms, ProgressEvent) == 3  # submitted, passed, completed
    assert count(lms, ProfileChange) == 6  # the lung project's six weighted dimensions (project.yaml)


def test_attempts_progress_and_overdue(lms: Lms) -> None:
    lms.seed_catalog()
    person_id = lms.person("alice")
    lms.ok(lms.post("courses/intro_medical_ai/enrollments", lms.admin, {"person_id": person_id}), 201)
    lms.ok(lms.post("results", lms.admin, grade_result("a1", passed=False, score=0.3)), 201)
    second = lms.ok(lms.post("results", lms.admin, grade_result("a2", score=0.8)), 201)
    assert second["attempt"] == 2
    progress = lms.ok(lms.get(f"people/{person_id}/progress", lms.admin))
    courses = {c["course_id"]: c for c in progress["courses"]}
    projects = courses["clinical_ai_projects"]
    assert projects["items_total"] == 3 and projects["items_passed"] == 1
    assert projects["completion_rate"] == round(1 / 3, 4) and projects["attempts"] == 2
    lung = next(i for i in projects["items"] if i["item_id"] == "lung_nodule_ct_detection")
    assert (lung["status"], lung["attempts"], lung["best_score"], lung["seconds_spent"]) == ("passed", 2, 0.8, 600)
    intro = courses["intro_medical_ai"]
    assert intro["completion_rate"] == 0.0 and intro["overdue"] == []

    # An item past its due date and not passed is overdue.
    item = lms.ok(lms.get("items/intro_medical_ai/welcome", lms.admin))
    catalog = {"courses": [{"id": "intro_medical_ai", "title": "Intro", "items": [{
        **{k: item[k] for k in ("id", "kind", "title", "level", "weights")}, "due_at": "2020-01-01T00:00:00Z"}]}]}
    lms.ok(lms.post("catalog/sync", lms.admin, catalog))
    progress = lms.ok(lms.get(f"people/{person_id}/progress", lms.admin))
    intro = next(c for c in progress["courses"] if c["course_id"] == "intro_medical_ai")
    assert intro["overdue"] == ["intro_medical_ai/welcome"]
    summary = lms.ok(lms.get("courses/intro_medical_ai/progress", lms.admin))
    assert summary["learners"] == 1 and summary["learners_with_overdue_items"] == 1


def test_unknown_item_is_refused_and_nothing_is_stored(lms: Lms) -> None:
    lms.seed_catalog()
    response = lms.post("results", lms.admin, grade_result("x", item_id="no_such_project"))
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_item"
    assert count(lms, Result) == 0


def test_learners_report_start_and_time_but_not_passes(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.seed_catalog()
    alice = lms.hub_user("alice")
    started = lms.post("progress-events", alice, {"item_id": "lung_nodule_ct_detection", "kind": "started"})
    lms.ok(started, 201)
    spent = {"item_id": "lung_nodule_ct_detection", "kind": "time_spent", "seconds_spent": 1200}
    lms.ok(lms.post("progress-events", alice, spent), 201)
    cheat = lms.post("progress-events", alice, {"item_id": "lung_nodule_ct_detection", "kind": "passed"})
    assert cheat.status_code == 403
    me = lms.ok(lms.get("people", alice, params={"name": "alice"}))["items"][0]
    progress = lms.ok(lms.get(f"people/{me['id']}/progress", alice))
    lung = next(i for c in progress["courses"] for i in c["items"] if i["item_id"] == "lung_nodule_ct_detection")
    assert (lung["status"], lung["seconds_spent"]) == ("started", 1200)
