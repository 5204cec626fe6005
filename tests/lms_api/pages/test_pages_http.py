"""The pages over HTTP: who sees which page (the API's policy), the rubric form and its XSRF check,
the hub's service link, offline API docs and the vendored static files."""

from __future__ import annotations

import re

import pytest
from lms_fixtures import Lms
from pages_world import FEEDBACK_URL, MLFLOW_RUN, OVERDUE_ITEM, PROJECTS, World, build_world
from sqlalchemy import select

from practicum.lms_api.db.tables import Evidence
from practicum.lms_api.pages.xsrf import FIELD, xsrf_token
from practicum.lms_api.tokens import Scope


@pytest.fixture
def world(sqlite_lms: Lms) -> World:
    return build_world(sqlite_lms.client, "/services/lms/", sqlite_lms.hub, sqlite_lms.admin_token,
                       sqlite_lms.token(Scope.RESULTS_WRITE))


def page(lms: Lms, path: str, headers: dict[str, str], status: int = 200) -> str:
    response = lms.client.get(lms.url(path), headers=headers)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_the_hub_service_link_lands_on_the_persons_own_page(sqlite_lms: Lms, world: World) -> None:
    response = sqlite_lms.client.get("/services/lms/", headers=world.cookie("alice"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/services/lms/pages/people/{world.ids['alice']}"
    # Without the cookie a browser is sent to the hub's login (OAuth with PKCE), not a JSON 404.
    anonymous = sqlite_lms.client.get("/services/lms/", headers={"Accept": "text/html"})
    assert anonymous.status_code == 302 and "/hub/api/oauth2/authorize?" in anonymous.headers["location"]
    assert "code_challenge_method=S256" in anonymous.headers["location"]


def test_a_learner_sees_their_results_feedback_profile_path_and_overdue_work(sqlite_lms: Lms, world: World) -> None:
    html = page(sqlite_lms, f"pages/people/{world.ids['alice']}", world.cookie("alice"))
    assert f'href="{FEEDBACK_URL}"' in html and "Feedback and plots" in html
    assert "froc 0.810 (at least 0.700): met" in html
    assert "your learning record" in html and "not passed" in html
    assert OVERDUE_ITEM in html or "Glucose forecasting from CGM and EHR" in html
    assert "(overdue)" in html
    assert 'id="radar"' in html and 'id="history"' in html  # the radar chart and the history per dimension
    assert "passed: D = 3 x 0.92" in html  # the rule behind each change, with its numbers
    assert "Learning path" in html and "<ol class=\"path\">" in html
    for name in ("bob", "amir"):  # nobody else's page, in or out of the organisation
        other = page(sqlite_lms, f"pages/people/{world.ids[name]}", world.cookie("alice"), status=404)
        assert "not visible to you" in other and name not in other


def test_pages_send_security_headers(sqlite_lms: Lms, world: World) -> None:
    response = sqlite_lms.client.get(f"/services/lms/pages/people/{world.ids['alice']}", headers=world.cookie("alice"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*(src=|application/json))", response.text)  # no inline script


def test_an_instructor_sees_their_course_and_its_enrolled_learners_only(sqlite_lms: Lms, world: World) -> None:
    html = page(sqlite_lms, f"pages/courses/{PROJECTS}", world.cookie("ines"))
    assert "3 learners" in html and "alice" in html and "amir" in html and "bob" in html
    assert "Who is stuck" in html and f"overdue: {OVERDUE_ITEM}" in html
    assert 'id="scores"' in html and "Best scores per item" in html
    page(sqlite_lms, "pages/courses/intro_medical_ai", world.cookie("ines"), status=403)
    page(sqlite_lms, f"pages/people/{world.ids['bob']}", world.cookie("ines"))  # a learner of her course
    page(sqlite_lms, f"pages/people/{world.ids['harriet']}", world.cookie("ines"), status=404)  # not a learner
    page(sqlite_lms, "pages/organisation", world.cookie("ines"), status=403)


def test_hr_sees_its_organisation_only(sqlite_lms: Lms, world: World) -> None:
    html = page(sqlite_lms, "pages/organisation", world.cookie("harriet"))
    assert "Acme Hospital" in html and 'id="heatmap"' in html
    assert "alice" in html and "amir" in html and "bob" not in html
    assert "/services/lms/hr/cohorts?role_target=algorithm_engineer&amp;format=csv" in html
    profile = page(sqlite_lms, f"pages/people/{world.ids['alice']}", world.cookie("harriet"))
    assert f"#/runs/{MLFLOW_RUN}" in profile or f"mlflow-run:{MLFLOW_RUN}" in profile  # evidence: the MLflow run
    page(sqlite_lms, f"pages/people/{world.ids['bob']}", world.cookie("harriet"), status=404)
    page(sqlite_lms, f"pages/courses/{PROJECTS}", world.cookie("harriet"), status=403)
    # The CSV link is the HR API's export, and the same cookie downloads it (a page load).
    csv = sqlite_lms.client.get("/services/lms/hr/cohorts", params={"format": "csv", "role_target": "algorithm_engineer"},
                                headers=world.cookie("harriet"))
    assert csv.status_code == 200 and csv.text.startswith("team_id,team,headcount")
    # A learner is no HR person.
    page(sqlite_lms, "pages/organisation", world.cookie("alice"), status=403)


def form_token(lms: Lms, world: World, name: str) -> str:
    html = page(lms, f"pages/courses/{PROJECTS}", world.cookie(name))
    match = re.search(rf'name="{FIELD}" value="([^"]+)"', html)
    assert match
    return match.group(1)


def rubric(lms: Lms, world: World, name: str, token: str, **fields: str) -> object:
    body = {FIELD: token, "learner": "amir", "item_id": "lung_nodule_ct_detection", "score": "0.8", "passed": "",
            "note": "clear model card", **fields}
    headers = {**world.cookie(name), "Content-Type": "application/x-www-form-urlencoded"}
    return lms.client.post(f"/services/lms/pages/courses/{PROJECTS}/rubric-grades", data=body, headers=headers)


def evidence_of(lms: Lms, person_id: int) -> list[Evidence]:
    with lms.db.read() as session:
        return list(session.scalars(select(Evidence).where(Evidence.person_id == person_id, Evidence.kind == "rubric")))


def test_the_rubric_form_records_through_the_evidence_route(sqlite_lms: Lms, world: World) -> None:
    token = form_token(sqlite_lms, world, "ines")
    response = rubric(sqlite_lms, world, "ines", token)
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    assert response.headers["location"].endswith(f"pages/courses/{PROJECTS}?graded=amir#grading")  # type: ignore[attr-defined]
    [recorded] = evidence_of(sqlite_lms, world.ids["amir"])
    assert (recorded.level, recorded.score, recorded.passed, recorded.recorded_by) == (3.0, 0.8, True, "user:ines")
    assert recorded.weights["medical_imaging"] == 1.0  # the catalog's weights, as the API applies them
    assert "clear model card" in page(sqlite_lms, f"pages/people/{world.ids['amir']}", world.cookie("ines"))


def test_the_rubric_form_needs_its_xsrf_token_and_the_api_policy(sqlite_lms: Lms, world: World) -> None:
    token = form_token(sqlite_lms, world, "ines")
    alices = xsrf_token(sqlite_lms.client.app.state.pages_xsrf_key, world.token("alice"))  # type: ignore[attr-defined]
    for bad in ("", "x" * 43, alices):  # missing, forged, another person's
        assert rubric(sqlite_lms, world, "ines", bad).status_code == 403  # type: ignore[attr-defined]
    # A learner who posts the form (with her own valid token) gets the API's answer: amir is not hers to see.
    refused = rubric(sqlite_lms, world, "alice", alices)
    assert refused.status_code == 404 and "not visible to you" in refused.text  # type: ignore[attr-defined]
    # Unknown names and people who are not her learners answer alike.
    unknown = rubric(sqlite_lms, world, "ines", token, learner="nobody")
    foreign = rubric(sqlite_lms, world, "ines", token, learner="harriet")
    assert unknown.status_code == foreign.status_code == 404  # type: ignore[attr-defined]
    assert "nobody" in unknown.text and "harriet" in foreign.text and f"person {world.ids['harriet']}" not in foreign.text  # type: ignore[attr-defined]
    # An item of another course, and a bad score, are refused.
    assert rubric(sqlite_lms, world, "ines", token, item_id="intro_medical_ai/welcome").status_code == 422  # type: ignore[attr-defined]
    assert rubric(sqlite_lms, world, "ines", token, score="1.5").status_code == 422  # type: ignore[attr-defined]
    assert evidence_of(sqlite_lms, world.ids["amir"]) == [] and evidence_of(sqlite_lms, world.ids["harriet"]) == []


def test_the_course_report_api_matches_the_page(sqlite_lms: Lms, world: World) -> None:
    report = sqlite_lms.ok(sqlite_lms.get(f"courses/{PROJECTS}/report", world.as_user("ines")))
    lung = next(s for s in report["scores"] if s["item_id"] == "lung_nodule_ct_detection")
    assert (lung["learners_with_results"], lung["learners_passed"]) == (3, 2)  # alice's best 0.92, amir 0.4, bob 0.8
    assert lung["best_score_bins"][9] == 1 and lung["best_score_bins"][8] == 1 and lung["best_score_bins"][4] == 1
    assert {s["person"] for s in report["stuck"]} == {"alice", "amir", "bob"}  # the glucose project is overdue
    assert sqlite_lms.get(f"courses/{PROJECTS}/report", world.as_user("alice")).status_code == 403
    assert sqlite_lms.get("courses/intro_medical_ai/report", world.as_user("ines")).status_code == 403


def test_api_docs_work_offline_with_a_bearer_scheme(sqlite_lms: Lms) -> None:
    docs = sqlite_lms.client.get("/services/lms/docs")
    assert docs.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", docs.text)
    assert urls and all(u.startswith("/services/lms/") for u in urls), urls  # nothing from a CDN
    for url in urls:
        assert sqlite_lms.client.get(url).status_code == 200, url
    schema = sqlite_lms.ok(sqlite_lms.client.get("/services/lms/openapi.json"))
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    assert schema["security"] == [{"bearer": []}] and schema["paths"]["/services/lms/health"]["get"]["security"] == []
    # What Swagger UI sends once authorized: the header works for LMS tokens.
    assert sqlite_lms.client.get("/services/lms/people", headers=sqlite_lms.admin).status_code == 200


def test_vendored_scripts_are_served_compressed_and_cached(sqlite_lms: Lms) -> None:
    from practicum.lms_api.pages.assets import asset_names

    url = f"/services/lms/pages/static/{asset_names()['plotly']}"
    response = sqlite_lms.client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert "plotly.js v" in response.text[:200] and "immutable" in response.headers["cache-control"]
    again = sqlite_lms.client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert sqlite_lms.client.get("/services/lms/pages/static/../../app.py").status_code == 404
    assert sqlite_lms.client.get("/services/lms/pages/static/nothing.js").status_code == 404


def test_reminders_show_on_the_learners_own_page_and_its_form_marks_them_read(sqlite_lms: Lms, world: World) -> None:
    from datetime import UTC, datetime

    from practicum.lms_api.db.tables import Notice

    alice = world.ids["alice"]
    with sqlite_lms.db.write() as session:
        session.add(Notice(person_id=alice, kind="overdue", title="Overdue: <script>x</script>", body="was due",
                           link=None, created_at=datetime.now(UTC)))
        session.commit()
    html = page(sqlite_lms, f"pages/people/{alice}", world.cookie("alice"))
    assert 'id="notices"' in html and "Overdue: &lt;script&gt;" in html and "<script>x" not in html
    assert 'id="notices"' not in page(sqlite_lms, f"pages/people/{alice}", world.cookie("ines"))  # the person's own
    match = re.search(rf'name="{FIELD}" value="([^"]+)"', html)
    assert match
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    target = f"/services/lms/pages/people/{alice}/notices/read"
    assert sqlite_lms.client.post(target, data={FIELD: "forged"}, headers={**world.cookie("alice"), **form}).status_code == 403
    done = sqlite_lms.client.post(target, data={FIELD: match.group(1)}, headers={**world.cookie("alice"), **form})
    assert done.status_code == 303 and done.headers["location"].endswith(f"pages/people/{alice}")
    assert 'id="notices"' not in page(sqlite_lms, f"pages/people/{alice}", world.cookie("alice"))


def test_a_learner_enrols_from_their_page_where_a_course_is_open_and_nowhere_else(sqlite_lms: Lms, world: World) -> None:
    catalog = {"courses": [{"id": "open_course", "title": "Open to all", "enrolment": "self", "items": []},
                           {"id": "closed_course", "title": "Roster only", "enrolment": "roster", "items": []}]}
    sqlite_lms.ok(sqlite_lms.post("catalog/sync", sqlite_lms.admin, catalog))
    alice = world.ids["alice"]
    html = page(sqlite_lms, f"pages/people/{alice}", world.cookie("alice"))
    assert "Courses open to you" in html and "Open to all" in html and "Roster only" not in html
    assert 'action="/services/lms/pages/courses/open_course/self-enrolment"' in html
    token = re.search(rf'name="{FIELD}" value="([^"]+)"', html).group(1)
    headers = {**world.cookie("alice"), "Content-Type": "application/x-www-form-urlencoded"}

    def enrol(course: str, xsrf: str):
        return sqlite_lms.client.post(f"/services/lms/pages/courses/{course}/self-enrolment", data={FIELD: xsrf},
                                      headers=headers, follow_redirects=False)

    assert enrol("open_course", "x" * 43).status_code == 403  # a forged form token
    assert enrol("open_course", token + "&pad=" + "x" * 20_000).status_code == 413  # a form too large to read
    assert enrol("closed_course", token).status_code == 403  # the roster decides there
    assert sqlite_lms.hub.group_members == {}
    done = enrol("open_course", token)
    assert done.status_code == 303 and done.headers["location"] == f"/services/lms/pages/people/{alice}"
    assert sqlite_lms.hub.group_members == {"nbgrader-open_course": {"alice"}}
    enrolled = sqlite_lms.ok(sqlite_lms.get("courses/open_course/enrollments", sqlite_lms.admin))
    assert [(e["person_id"], e["role"]) for e in enrolled] == [(alice, "learner")]
    assert "open_course/self-enrolment" not in page(sqlite_lms, f"pages/people/{alice}", world.cookie("alice"))
