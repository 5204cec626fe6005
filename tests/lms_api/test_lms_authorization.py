"""Per-object authorization, as one table of cases over every route that takes an id."""

from __future__ import annotations

from typing import Any

from lms_fixtures import PREFIX, Lms
from lms_payloads import grade_result, interview

from practicum.lms_api.tokens import Scope

OK, DENIED, UNAUTHENTICATED = "ok", "denied", "401"
A, B = "{A}", "{B}"
EVIDENCE = {"kind": "quiz", "score": 0.5, "level": 1, "weights": {"communication_teamwork": 1.0}}

# (who, method, path, body, expected). Learner A (alice, org X, course intro) and B (bob, org Y);
# carol instructs intro_medical_ai; HR tokens are bound to org X; `revoked` is an admin token, revoked.
CASES: list[tuple[str, str, str, Any, str]] = [
    # people/{id} and everything under it
    *[(who, "GET", f"people/{pid}{sub}", None, verdict)
      for sub in ("", "/enrollments", "/results", "/progress-events", "/progress", "/profile", "/profile/history",
                  "/learning-path", "/xapi/statements")
      for who, pid, verdict in (
          ("alice", A, OK), ("alice", B, DENIED), ("hr_x", A, OK), ("hr_x", B, DENIED),
          ("carol", A, OK), ("carol", B, DENIED), ("revoked", A, UNAUTHENTICATED), ("bob", A, DENIED),
      )],
    ("alice", "PATCH", f"people/{B}", {"display_name": "x"}, DENIED),
    ("alice", "PATCH", f"people/{A}", {"display_name": "x"}, DENIED),  # only admins and HR change people
    ("hr_x_write", "PATCH", f"people/{B}", {"role_target": "clinician"}, DENIED),
    ("hr_x_write", "PATCH", f"people/{A}", {"role_target": "clinician"}, OK),
    ("hr_x_write", "PATCH", f"people/{A}", {"organisation_id": "{orgY}"}, DENIED),
    ("alice", "POST", f"people/{A}/evidence", EVIDENCE, DENIED),  # no self-assessed evidence
    ("carol", "POST", f"people/{B}/evidence", EVIDENCE, DENIED),
    ("hr_x", "POST", f"people/{A}/evidence", EVIDENCE, DENIED),
    ("grader", "POST", f"people/{B}/evidence", EVIDENCE, OK),
    # results
    ("alice", "GET", "results/{resultA}", None, OK),
    ("alice", "GET", "results/{resultB}", None, DENIED),
    ("bob", "GET", "results/{resultA}", None, DENIED),
    ("hr_x", "GET", "results/{resultA}", None, OK),
    ("hr_x", "GET", "results/{resultB}", None, DENIED),
    ("carol", "GET", "results/{resultB}", None, DENIED),
    ("revoked", "GET", "results/{resultA}", None, UNAUTHENTICATED),
    # courses: instructors manage only their own
    *[(who, "GET", f"courses/{course}{sub}", None, verdict)
      for sub in ("/enrollments", "/results", "/progress")
      for who, course, verdict in (
          ("carol", "intro_medical_ai", OK), ("carol", "clinical_ai_projects", DENIED),
          ("alice", "intro_medical_ai", DENIED), ("hr_x", "intro_medical_ai", DENIED),
      )],
    ("alice", "GET", "courses/intro_medical_ai", None, OK),
    ("alice", "GET", "courses/intro_medical_ai/items", None, OK),
    ("alice", "GET", "items/intro_medical_ai/welcome", None, OK),
    ("revoked", "GET", "items/intro_medical_ai/welcome", None, UNAUTHENTICATED),
    ("alice", "PATCH", "courses/intro_medical_ai", {"title": "mine"}, DENIED),
    ("carol", "PATCH", "courses/intro_medical_ai", {"title": "mine"}, DENIED),
    ("carol", "POST", "courses/clinical_ai_projects/enrollments", {"person_id": A}, DENIED),
    ("carol", "POST", "courses/intro_medical_ai/enrollments", {"person_id": B}, OK),
    ("carol", "POST", "courses/intro_medical_ai/enrollments", {"person_id": A, "role": "instructor"}, DENIED),
    ("alice", "DELETE", "enrollments/{enrollB}", None, DENIED),
    ("carol", "DELETE", "enrollments/{enrollB}", None, DENIED),
    # organisations and teams
    ("hr_x", "GET", "organisations/{orgX}", None, OK),
    ("hr_x", "GET", "organisations/{orgY}", None, DENIED),
    ("alice", "GET", "organisations/{orgX}", None, DENIED),
    ("hr_x", "PATCH", "organisations/{orgX}", {"name": "x"}, DENIED),
    ("hr_x", "GET", "organisations/{orgX}/teams", None, OK),
    ("hr_x", "GET", "organisations/{orgY}/teams", None, DENIED),
    ("hr_x_write", "POST", "organisations/{orgY}/teams", {"name": "t"}, DENIED),
    ("hr_x_write", "POST", "organisations/{orgX}/teams", {"name": "t"}, OK),
    ("hr_x", "POST", "organisations/{orgX}/teams", {"name": "t2"}, DENIED),
    # webhooks: HR manages its own organisation's
    *[(who, method, f"webhooks/{hook}{sub}", body, verdict)
      for method, sub, body in (
          ("GET", "", None), ("PATCH", "", {"description": "d"}), ("GET", "/deliveries", None),
          ("POST", "/replay", {"since": "2020-01-01T00:00:00Z"}),
      )
      for who, hook, verdict in (
          ("hr_x_write", "{hookX}", OK), ("hr_x_write", "{hookY}", DENIED), ("hr_x", "{hookX}", DENIED),
          ("alice", "{hookX}", DENIED), ("revoked", "{hookX}", UNAUTHENTICATED),
      )],
    ("hr_x_write", "DELETE", "webhooks/{hookY}", None, DENIED),
    ("alice", "DELETE", "webhooks/{hookX}", None, DENIED),
    # tokens
    ("alice", "DELETE", "tokens/{tokenY}", None, DENIED),
    ("hr_x_write", "DELETE", "tokens/{tokenY}", None, DENIED),
    ("revoked", "DELETE", "tokens/{tokenY}", None, UNAUTHENTICATED),
]


def build_world(lms: Lms) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    lms.seed_catalog()
    org_x, org_y = lms.org("acme"), lms.org("globex")
    ids: dict[str, Any] = {"orgX": org_x, "orgY": org_y}
    headers = {
        "alice": lms.hub_user("alice", groups=["nbgrader-intro_medical_ai"]),
        "bob": lms.hub_user("bob"),
        "carol": lms.hub_user("carol", groups=["formgrade-intro_medical_ai"]),
        "hr_x": lms.bearer(lms.token(Scope.HR_READ, organisation_id=org_x)),
        "hr_x_write": lms.bearer(lms.token(Scope.HR_WRITE, Scope.HR_READ, organisation_id=org_x)),
        "grader": lms.bearer(lms.token(Scope.RESULTS_WRITE)),
    }
    for name in ("alice", "bob", "carol"):
        lms.ok(lms.get("capabilities", headers[name]))  # first sight: the hub user becomes a person
    ids["A"] = lms.ok(lms.post("profiles/import", lms.admin, interview("alice", "acme")), 201)["person_id"]
    ids["B"] = lms.ok(lms.post("profiles/import", lms.admin, interview("bob", "globex")), 201)["person_id"]
    ids["resultA"] = lms.ok(lms.post("results", headers["grader"], grade_result("ra", "alice")), 201)["id"]
    ids["resultB"] = lms.ok(lms.post("results", headers["grader"], grade_result("rb", "bob")), 201)["id"]
    ids["enrollB"] = lms.ok(lms.post("courses/clinical_ai_projects/enrollments", lms.admin, {"person_id": ids["B"]}),
                            201)["id"]
    for org, key in ((org_x, "hookX"), (org_y, "hookY")):
        body = {"url": "http://127.0.0.1:9/hook", "organisation_id": org}
        ids[key] = lms.ok(lms.post("webhooks", lms.admin, body), 201)["id"]
    ids["tokenY"] = lms.ok(lms.post("tokens", lms.admin, {"name": "y", "scopes": ["hr:read"], "organisation_id": org_y}),
                           201)["id"]
    revoked = lms.ok(lms.post("tokens", lms.admin, {"name": "gone", "scopes": ["admin"]}), 201)
    lms.ok(lms.client.delete(lms.url(f"tokens/{revoked['id']}"), headers=lms.admin))
    headers["revoked"] = lms.bearer(revoked["token"])
    return headers, {k: str(v) for k, v in ids.items()}


def fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        for key, value in ids.items():
            template = template.replace("{" + key + "}", value)
        return int(template) if template.isdigit() else template
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    return template


def test_every_case_of_the_table(lms: Lms) -> None:
    headers, ids = build_world(lms)
    failures = []
    for who, method, path, body, expected in CASES:
        response = lms.client.request(
            method, lms.url(str(fill(path, ids))), headers=headers[who], json=fill(body, ids)
        )
        status = response.status_code
        verdict = OK if status < 300 else DENIED if status in (403, 404) else UNAUTHENTICATED if status == 401 else "?"
        if verdict != expected:
            failures.append(f"{who} {method} {path}: expected {expected}, got {status} {response.text[:150]}")
        elif status >= 400:
            assert set(response.json()) == {"error"}
    assert not failures, "\n".join(failures)
    # Nothing the denied requests tried to delete is gone.
    for path in ("webhooks/{hookX}", "webhooks/{hookY}"):
        assert lms.get(str(fill(path, ids)), lms.admin).status_code == 200
    tokens = {t["id"]: t for t in lms.ok(lms.get("tokens", lms.admin))}
    assert tokens[int(ids["tokenY"])]["revoked_at"] is None


def test_the_table_covers_every_route_that_takes_an_id(sqlite_lms: Lms) -> None:
    covered = {(method, _template(path)) for _, method, path, _, _ in CASES}
    missing = []
    for route in sqlite_lms.client.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if not path.startswith(PREFIX) or "{" not in path:
            continue
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            if (method, _template(path[len(PREFIX):])) not in covered:
                missing.append(f"{method} {path}")
    assert not missing, missing


def _template(path: str) -> str:
    """Replace ids and id placeholders by {}, so table rows and route paths compare."""
    parts = []
    for part in path.split("/"):
        parts.append("{}" if part.startswith("{") or part.isdigit() or part in ("intro_medical_ai", "clinical_ai_projects",
                                                                                    "welcome") else part)
    text = "/".join(parts)
    return text.replace("items/{}/{}", "items/{}")
