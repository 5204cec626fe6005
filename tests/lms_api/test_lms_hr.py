"""HR's pull API: profiles, results with evidence links, progress, cohorts; filters, pages, CSV; xAPI."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from lms_fixtures import Lms
from lms_payloads import grade_result, interview
from lms_receiver import running_receiver

from practicum.lms_api.tokens import Scope


def hr_world(lms: Lms) -> dict[str, Any]:
    lms.seed_catalog()
    acme, globex = lms.org("acme"), lms.org("globex")
    for n in range(5):
        body = interview(f"a{n}", "acme", ml_engineering=n % 4) | {"team": "imaging" if n % 2 else "data"}
        lms.ok(lms.post("profiles/import", lms.admin, body), 201)
        lms.ok(lms.post("results", lms.admin, grade_result(f"r{n}", f"a{n}", passed=n != 3, score=0.5 + n / 10)), 201)
    lms.ok(lms.post("profiles/import", lms.admin, interview("outsider", "globex")), 201)
    lms.ok(lms.post("results", lms.admin, grade_result("rx", "outsider")), 201)
    return {"acme": acme, "globex": globex, "hr": lms.bearer(lms.token(Scope.HR_READ, organisation_id=acme))}


def test_hr_pulls_only_its_organisation_with_filters_and_pages(lms: Lms) -> None:
    world = hr_world(lms)
    hr = world["hr"]
    profiles = lms.ok(lms.get("hr/profiles", hr, params={"limit": 2}))
    assert profiles["total"] == 5 and len(profiles["items"]) == 2
    page2 = lms.ok(lms.get("hr/profiles", hr, params={"limit": 2, "offset": 2}))
    assert {p["person"] for p in profiles["items"]}.isdisjoint({p["person"] for p in page2["items"]})
    everyone = lms.ok(lms.get("hr/profiles", hr, params={"limit": 500}))["items"]
    assert {p["person"] for p in everyone} == {f"a{n}" for n in range(5)}
    assert everyone[0]["values"]["ml_engineering"] >= 0 and everyone[0]["total_gap"] > 0

    results = lms.ok(lms.get("hr/results", hr, params={"passed": "false"}))
    assert [r["learner"] for r in results["items"]] == ["a3"]
    assert results["items"][0]["mlflow_run_id"] and results["items"][0]["mlflow_run_url"]
    other_org = lms.get("hr/results", hr, params={"organisation_id": world["globex"]})
    assert other_org.status_code == 404

    progress = lms.ok(lms.get("hr/progress", hr))
    assert {row["course_id"] for row in progress["items"]} == {"clinical_ai_projects"}
    assert len(progress["items"]) == 5

    cohorts = lms.ok(lms.get("hr/cohorts", hr))["items"]
    assert {c["team"]: c["headcount"] for c in cohorts} == {"data": 3, "imaging": 2}
    assert sum(c["results_total"] for c in cohorts) == 5 and sum(c["results_passed"] for c in cohorts) == 4

    admin_needs_org = lms.get("hr/profiles", lms.admin)
    assert admin_needs_org.status_code == 422
    assert lms.ok(lms.get("hr/profiles", lms.admin, params={"organisation_id": world["globex"]}))["total"] == 1


def test_csv_exports(lms: Lms) -> None:
    world = hr_world(lms)
    for path, first_column in (("hr/profiles", "person_id"), ("hr/results", "id"), ("hr/progress", "person_id"),
                               ("hr/cohorts", "team_id")):
        response = lms.get(path, world["hr"], params={"format": "csv"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert rows and next(iter(rows[0])) == first_column
    profiles = list(csv.DictReader(io.StringIO(lms.get("hr/profiles", world["hr"], params={"format": "csv"}).text)))
    assert {"ml_engineering", "medical_imaging", "total_gap"} <= set(profiles[0])


def test_csv_cells_cannot_smuggle_spreadsheet_formulas(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.org("acme")
    lms.ok(lms.post("profiles/import", lms.admin, interview("=HYPERLINK(\"http://x\")", "acme")), 201)
    hr = lms.bearer(lms.token(Scope.HR_READ, organisation_id=1))
    text = lms.get("hr/profiles", hr, params={"format": "csv"}).text
    assert "'=HYPERLINK" in text


def test_xapi_statements_and_lrs(lms: Lms) -> None:
    world = hr_world(lms)
    statements = lms.ok(lms.get("xapi/statements", world["hr"], params={"limit": 500}))["statements"]
    progress = [s for s in statements if s["verb"]["display"]["en-US"] != "scored"]  # interviews: see test_lms_xapi
    assert len(progress) == 5 * 3 - 1  # submitted + passed/failed (+ completed when passed)
    assert {s["actor"]["account"]["name"] for s in statements} == {f"a{n}" for n in range(5)}
    passed = next(s for s in statements if s["verb"]["display"]["en-US"] == "passed")
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert passed["result"]["success"] is True and 0 <= passed["result"]["score"]["scaled"] <= 1
    assert passed["object"]["id"].endswith("items/lung_nodule_ct_detection")
    assert len({s["id"] for s in statements}) == len(statements)

    assert lms.post("xapi/send", lms.admin).status_code == 409  # no LRS configured


def test_statements_go_to_a_configured_lrs(db_url: str, hub: object) -> None:
    from lms_fixtures import make_lms

    received: list[Any] = []
    with running_receiver() as lrs:
        lrs.handle = lambda headers, body: received.append((headers.get("X-Experience-API-Version"),  # type: ignore[method-assign]
                                                            json.loads(body))) or 200
        gen = make_lms(db_url, hub, lrs_url=lrs.url.rsplit("/", 2)[0] + "/xapi")  # type: ignore[arg-type]
        lms = next(gen)
        try:
            lms.seed_catalog()
            lms.ok(lms.post("results", lms.admin, grade_result("r1")), 201)
            assert lms.ok(lms.post("xapi/send", lms.admin))["sent"] == 3
        finally:
            gen.close()
    ((version, batch),) = received
    assert version == "1.0.3" and len(batch) == 3
