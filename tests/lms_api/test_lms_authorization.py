"""Per-object authorization, as one table of cases over every route that takes an id."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lms_fake_hub import FakeHub
from lms_fixtures import PREFIX, Lms, make_lms
from lms_payloads import grade_result, interview

from practicum.lms_api.tokens import Scope

OK, DENIED, UNAUTHENTICATED, INVALID, CONFLICT = "ok", "denied", "401", "422", "409"
A, B = "{A}", "{B}"
EVIDENCE = {"kind": "quiz", "score": 0.5, "level": 1, "weights": {"communication_teamwork": 1.0}}
WELCOME = "intro_medical_ai/welcome"  # carol's course's item (weights: see seed_catalog.yaml)
RUBRIC = {"kind": "rubric", "item_id": WELCOME, "score": 0.8}
TIME = {"item_id": WELCOME, "kind": "time_spent"}
SCIM_USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}
PATCH_INACTIVE = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "replace", "path": "active", "value": False}]}
PATCH_NAME = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "replace", "path": "displayName", "value": "renamed"}]}
INTERNAL_URLS = (
    "http://127.0.0.1:5432/", "http://localhost:8081/hub/api", "http://10.0.0.8/hook", "http://172.16.3.4/",
    "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://0.0.0.0:22/",
    "http://[::1]:8000/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/", "http://[fd00::1]/",
    "http://[fe80::1]/", "http://224.0.0.1/", "http://240.0.0.1/", "http://2130706433/", "http://0x7f.1/",
    "http://[2002:7f00:1::]/", "ftp://93.184.216.34/", "http://user:pw@93.184.216.34/",
)
PUBLIC_HOOK = "http://93.184.216.34/hook"  # a public address (never called by this test)


def page_of(size: int) -> Callable[[Any], bool]:
    return lambda body: isinstance(body, dict) and len(body["items"]) == size and body["total"] >= size


def csv_without_formulas(text: str) -> bool:
    """No cell of an HR export starts a formula, even after leading blanks or control characters."""
    import csv
    import io

    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    return any("HYPERLINK" in c for c in cells) and not any(
        c.lstrip(" \t\r\n\x00\x0b\x0c").startswith(("=", "+", "-", "@")) for c in cells
    )


# (who, method, path, body, expected). Learner A (alice, org X, course intro) and B (bob, org Y);
# carol instructs intro_medical_ai; HR tokens are bound to org X; `revoked` is an admin token, revoked.
# `expected` may be (verdict, check of the answer's body) where the status alone would not show the hole.
CASES: list[tuple[str, str, str, Any, Any]] = [
    # people/{id} and everything under it
    *[(who, "GET", f"people/{pid}{sub}", None, verdict)
      for sub in ("", "/enrollments", "/results", "/progress-events", "/progress", "/profile", "/profile/history",
                  "/learning-path", "/xapi/statements", "/badges")
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
    ("grader", "POST", f"people/{B}/evidence", EVIDENCE, DENIED),  # weights are the item's, from the catalog
    ("grader", "POST", f"people/{B}/evidence", {**RUBRIC, "kind": "quiz"}, OK),
    # (2) rubric grades carry the item's own dimensions and weights, never the instructor's
    ("carol", "POST", f"people/{A}/evidence", {**RUBRIC, "weights": {"medical_imaging": 1.0}}, DENIED),
    ("carol", "POST", f"people/{A}/evidence", {**RUBRIC, "level": 4}, DENIED),
    ("carol", "POST", f"people/{A}/evidence", {**RUBRIC, "item_id": None, "level": 4,
                                              "weights": {"medical_imaging": 1.0}}, DENIED),
    ("carol", "POST", f"people/{A}/evidence", RUBRIC, OK),
    # erin teaches both courses; alice takes only intro: no grade for her on the projects course's item
    ("erin", "POST", f"people/{A}/evidence", {**RUBRIC, "item_id": "lung_nodule_ct_detection"}, DENIED),
    ("erin", "POST", f"people/{A}/evidence", RUBRIC, OK),
    # (6) the grader's results:write posts results and events and reads nothing about people
    *[("grader", "GET", f"people/{A}{sub}", None, DENIED)
      for sub in ("", "/enrollments", "/results", "/progress-events", "/progress", "/profile", "/profile/history",
                  "/learning-path", "/xapi/statements", "/badges")],
    ("grader", "GET", "people", None, DENIED),
    ("grader", "GET", "results/{resultA}", None, DENIED),
    ("grader", "GET", "xapi/statements", None, DENIED),
    ("grader", "GET", "hr/profiles?organisation_id={orgX}", None, DENIED),
    ("grader", "POST", "progress-events", {**TIME, "person_id": A, "seconds_spent": 60}, OK),
    ("grader", "POST", "results", grade_result("rg", "alice"), OK),
    # (7) links are http(s) or paths; reported time is bounded; CSV cells never start a formula
    *[("grader", "POST", "results", grade_result(f"bad-link-{n}", "alice", feedback_url=url), INVALID)
      for n, url in enumerate(("javascript:alert(1)", " javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x",
                               "//evil.example/x", "vbscript:x", "http://", "/\\evil.example"))],
    ("grader", "POST", "results", grade_result("good-link", "alice", feedback_url="/services/lms/feedback/1"), OK),
    ("alice", "POST", "progress-events", {**TIME, "seconds_spent": 7 * 24 * 3600}, INVALID),
    ("alice", "POST", "progress-events", {**TIME, "duration": "PT13H"}, INVALID),
    ("alice", "POST", "progress-events", {**TIME, "duration": "P30D"}, INVALID),
    ("alice", "POST", "progress-events", {**TIME, "duration": "PT11H30M"}, OK),
    ("alice", "POST", "progress-events", {**TIME, "duration": "PT11H"}, OK),
    ("alice", "POST", "progress-events", {**TIME, "duration": "PT2H"}, INVALID),  # 24 h within 24 h at most
    ("alice", "POST", "progress-events", {**TIME, "duration": "PT1H"}, OK),
    # xAPI: `stored` (and `authority`) are the LRS's to set, never the client's
    ("alice", "POST", "progress-events", {**TIME, "duration": "PT1M", "stored": "2020-01-01T00:00:00Z"}, INVALID),
    ("alice", "POST", "progress-events", {**TIME, "duration": "PT1M", "recorded_at": "2020-01-01T00:00:00Z"}, INVALID),
    ("hr_x", "GET", "hr/profiles?format=csv", None, (OK, csv_without_formulas)),
    # attempt limits hold: the 3rd attempt at an item with attempt_limit 2 is refused
    ("grader", "POST", "results", grade_result("limit-1", "alice", item_id="glucose_cgm_forecasting"), OK),
    ("grader", "POST", "results", grade_result("limit-2", "alice", item_id="glucose_cgm_forecasting"), OK),
    ("grader", "POST", "results", grade_result("limit-3", "alice", item_id="glucose_cgm_forecasting"), CONFLICT),
    ("grader", "POST", "results", grade_result("limit-2", "alice", item_id="glucose_cgm_forecasting"), OK),  # a retry
    # (1) HR imports only for people already in its organisation; nobody joins by being named
    ("hr_x_write", "POST", "profiles/import", interview("dave", "acme"), DENIED),  # in no organisation
    ("hr_x_write", "POST", "profiles/import", interview("dave", None), DENIED),
    ("hr_x_write", "POST", "profiles/import", interview("nobody-yet", "acme"), DENIED),  # unknown: not created
    ("hr_x_write", "POST", "profiles/import", interview("bob", None), DENIED),  # another organisation
    ("hr_x_write", "POST", "profiles/import", interview("bob", "globex"), DENIED),
    ("hr_x_write", "POST", "profiles/import", interview("alice", "acme"), OK),
    ("hr_x", "GET", "people/{D}", None, DENIED),  # dave is still nobody's
    # (1) SCIM provisioning: the organisation's scim token sees and changes only its own people and teams
    ("scim_x", "GET", "scim/v2/Users/{A}", None, OK),
    ("scim_x", "GET", "scim/v2/Users/{B}", None, DENIED),
    ("scim_x", "GET", "scim/v2/Users/{D}", None, DENIED),
    ("scim_x", "PUT", "scim/v2/Users/{B}", {**SCIM_USER, "userName": "bob"}, DENIED),
    ("scim_x", "PATCH", "scim/v2/Users/{B}", PATCH_INACTIVE, DENIED),
    ("scim_x", "DELETE", "scim/v2/Users/{B}", None, DENIED),
    ("scim_x", "POST", "scim/v2/Users", {**SCIM_USER, "userName": "dave"}, CONFLICT),  # cannot claim dave
    ("scim_x", "POST", "scim/v2/Users", {**SCIM_USER, "userName": "bob"}, CONFLICT),
    ("scim_x", "GET", 'scim/v2/Users?filter=userName eq "bob"', None,
     (OK, lambda body: body["totalResults"] == 0 and body["Resources"] == [])),
    ("scim_x", "GET", "scim/v2/Groups/{teamY}", None, DENIED),
    ("scim_x", "PATCH", "scim/v2/Groups/{teamY}", PATCH_NAME, DENIED),
    ("scim_x", "DELETE", "scim/v2/Groups/{teamY}", None, DENIED),
    ("scim_x", "PATCH", "scim/v2/Groups/{teamX}", {**PATCH_NAME, "Operations": [
        {"op": "add", "path": "members", "value": [{"value": B}]}]}, INVALID),  # bob is not theirs to place
    ("scim_x", "GET", "scim/v2/Groups/{teamX}", None, OK),
    ("hr_x_write", "GET", "scim/v2/Users/{A}", None, DENIED),  # HR tokens do not provision
    ("scim_x", "GET", "people/{A}/profile", None, DENIED),  # provisioning tokens read no learning records
    ("scim_x", "GET", "hr/profiles", None, DENIED),
    ("revoked", "GET", "scim/v2/Users/{A}", None, UNAUTHENTICATED),
    # active=false: a deactivated person is refused
    ("gina", "GET", "capabilities", None, DENIED),
    # (4) the hub removed frank from formgrade-intro_medical_ai: his instructor access is gone
    ("frank", "GET", "courses/intro_medical_ai/enrollments", None, DENIED),
    ("frank", "GET", f"people/{A}/profile", None, DENIED),
    ("frank", "POST", f"people/{A}/evidence", RUBRIC, DENIED),
    # (5) cohorts page in SQL
    ("hr_x", "GET", "hr/cohorts?limit=1", None, (OK, page_of(1))),
    ("hr_x", "GET", "hr/cohorts?limit=1&offset=1", None, (OK, page_of(1))),
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
    # (2) instructors do not enroll anyone (then they would read them): the hub sync and admins do
    ("carol", "POST", "courses/intro_medical_ai/enrollments", {"person_id": B}, DENIED),
    ("carol", "POST", "courses/intro_medical_ai/enrollments", {"person_id": "{D}"}, DENIED),
    *[("carol", "GET", f"people/{pid}{sub}", None, DENIED)
      for pid in (B, "{D}") for sub in ("", "/profile", "/learning-path", "/xapi/statements")],
    ("admin", "POST", "courses/intro_medical_ai/enrollments", {"person_id": "{D}"}, OK),
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
    # (3) webhook targets are public addresses (the admin allow-list names exceptions: none here)
    *[(who, "POST", "webhooks", {"url": url, **extra}, INVALID)
      for url in INTERNAL_URLS for who, extra in (("hr_x_write", {}), ("admin", {"organisation_id": "{orgX}"}))],
    ("hr_x_write", "POST", "webhooks", {"url": PUBLIC_HOOK}, OK),
    ("alice", "DELETE", "webhooks/{hookX}", None, DENIED),
    # Open Badges: a badge is read as its owner is; only admins revoke
    *[(who, "GET", f"badges/{badge}", None, verdict)
      for who, badge, verdict in (
          ("alice", "{badgeA}", OK), ("alice", "{badgeB}", DENIED), ("hr_x", "{badgeA}", OK),
          ("hr_x", "{badgeB}", DENIED), ("carol", "{badgeA}", OK), ("carol", "{badgeB}", DENIED),
          ("grader", "{badgeA}", DENIED), ("scim_x", "{badgeA}", DENIED), ("revoked", "{badgeA}", UNAUTHENTICATED),
          ("alice", "00000000-0000-4000-8000-000000000000", DENIED), ("alice", "not-a-uuid", INVALID),
      )],
    *[(who, "POST", "badges/{badgeA}/revoke", {"reason": "x"}, DENIED) for who in ("alice", "hr_x_write", "carol", "grader")],
    ("admin", "POST", "badges/{badgeA}/revoke", {"reason": "x" * 501}, INVALID),
    ("admin", "POST", "badges/{badgeA}/revoke", {"reason": "r", "revoked_at": "2020-01-01T00:00:00Z"}, INVALID),
    # reminders: preferences and notices are the person's own (and admins'); the log and a round are admins'
    *[(who, method, f"people/{pid}{sub}", body, verdict)
      for method, sub, body in (
          ("GET", "/reminder-preferences", None), ("PUT", "/reminder-preferences", {"opt_out": True}),
          ("GET", "/notices", None), ("POST", "/notices/read", {"all": True}),
      )
      for who, pid, verdict in (
          ("alice", A, OK), ("alice", B, DENIED), ("carol", A, DENIED), ("hr_x_write", A, DENIED),
          ("grader", A, DENIED), ("scim_x", A, DENIED), ("revoked", A, UNAUTHENTICATED), ("admin", B, OK),
      )],
    *[("alice", "PUT", f"people/{A}/reminder-preferences", body, INVALID)
      for body in ({"timezone": "Mars/Olympus_Mons"}, {"timezone": "../../etc/passwd"}, {"quiet_start_hour": 25,
                   "quiet_end_hour": 1}, {"quiet_start_hour": 3}, {"email": "yes please"}, {"person_id": B})],
    ("alice", "POST", f"people/{A}/notices/read", {}, INVALID),
    ("alice", "POST", f"people/{A}/notices/read", {"ids": list(range(1, 1002))}, INVALID),
    ("alice", "GET", "reminders", None, DENIED),
    ("hr_x_write", "GET", "reminders?status=interrupted", None, DENIED),
    ("admin", "GET", "reminders?status=nonsense", None, INVALID),
    ("alice", "POST", "reminders/run", None, DENIED),
    ("grader", "POST", "reminders/run", None, DENIED),
    # PIPL/GDPR: the person and admins export; only admins erase (and must name whom)
    *[(who, "GET", f"people/{pid}/export", None, verdict)
      for who, pid, verdict in (
          ("alice", A, (OK, lambda body: body["person"] == "alice" and "bob" not in json.dumps(body["tables"]["results"]))),
          ("alice", B, DENIED), ("carol", A, DENIED), ("hr_x", A, DENIED), ("hr_x_write", A, DENIED),
          ("grader", A, DENIED), ("scim_x", A, DENIED), ("revoked", A, UNAUTHENTICATED), ("admin", B, OK),
      )],
    *[(who, "POST", f"people/{B}/erasure", {"confirm": "bob"}, DENIED)
      for who in ("alice", "bob", "carol", "hr_x_write", "grader", "scim_x")],
    ("revoked", "POST", f"people/{B}/erasure", {"confirm": "bob"}, UNAUTHENTICATED),
    ("admin", "POST", f"people/{B}/erasure", {"confirm": "alice"}, INVALID),
    ("admin", "POST", f"people/{B}/erasure", {}, INVALID),
    ("admin", "POST", f"people/{B}/erasure", {"confirm": "bob", "cascade": "all"}, INVALID),
    ("admin", "POST", "people/2147483648/erasure", {"confirm": "bob"}, INVALID),
    ("admin", "POST", "people/999999/erasure", {"confirm": "bob"}, DENIED),
    ("bob", "GET", "people/{B}/profile", None, OK),  # nothing above erased bob
    # tokens
    ("alice", "DELETE", "tokens/{tokenY}", None, DENIED),
    ("hr_x_write", "DELETE", "tokens/{tokenY}", None, DENIED),
    ("revoked", "DELETE", "tokens/{tokenY}", None, UNAUTHENTICATED),
]


@pytest.fixture
def lms(db_url: str, hub: FakeHub) -> Iterator[Lms]:
    # No identity caches: a deactivation or a hub group change counts on the next request (by default
    # within `identity_cache_seconds`; see lms_api/README.md).
    yield from make_lms(db_url, hub, identity_cache_seconds=0)


def build_world(lms: Lms) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    lms.seed_catalog()
    org_x, org_y = lms.org("acme"), lms.org("globex")
    ids: dict[str, Any] = {"orgX": org_x, "orgY": org_y}
    with lms.db.write() as session:  # an attempt limit to reach
        from practicum.lms_api.db.tables import CatalogItem

        session.get(CatalogItem, "glucose_cgm_forecasting").attempt_limit = 2  # type: ignore[union-attr]
        session.commit()
    headers = {
        "admin": lms.admin,
        "alice": lms.hub_user("alice", groups=["nbgrader-intro_medical_ai"]),
        "bob": lms.hub_user("bob"),
        "carol": lms.hub_user("carol", groups=["formgrade-intro_medical_ai"]),
        "dave": lms.hub_user("dave"),  # signed in; in no organisation (as every hub-created person starts)
        "erin": lms.hub_user("erin", groups=["formgrade-intro_medical_ai", "formgrade-clinical_ai_projects"]),
        "frank": lms.hub_user("frank", groups=["formgrade-intro_medical_ai", "nbgrader-clinical_ai_projects"]),
        "gina": lms.hub_user("gina", groups=["nbgrader-intro_medical_ai"]),
        "hr_x": lms.bearer(lms.token(Scope.HR_READ, organisation_id=org_x)),
        "hr_x_write": lms.bearer(lms.token(Scope.HR_WRITE, Scope.HR_READ, organisation_id=org_x)),
        "scim_x": lms.bearer(lms.token(Scope.SCIM, organisation_id=org_x)),
        "grader": lms.bearer(lms.token(Scope.RESULTS_WRITE)),
    }
    for name in ("alice", "bob", "carol", "dave", "erin", "frank", "gina"):
        lms.ok(lms.get("capabilities", headers[name]))  # first sight: the hub user becomes a person
    # The hub takes frank out of formgrade-intro_medical_ai (his next token shows it); gina is deactivated.
    lms.hub.tokens["hub-token-frank-now"] = {**lms.hub.tokens["hub-token-frank"], "groups": ["nbgrader-clinical_ai_projects"]}
    headers["frank"] = {"Authorization": "token hub-token-frank-now"}
    gina = lms.ok(lms.get("people", lms.admin, params={"name": "gina"}))["items"][0]["id"]
    lms.ok(lms.client.patch(lms.url(f"people/{gina}"), headers=lms.admin, json={"active": False}))
    ids["D"] = lms.ok(lms.get("people", lms.admin, params={"name": "dave"}))["items"][0]["id"]
    display = {"display_name": " =HYPERLINK(\"http://x\")"}  # a leading space before the formula
    ids["A"] = lms.ok(lms.post("profiles/import", lms.admin, interview("alice", "acme") | display), 201)["person_id"]
    ids["B"] = lms.ok(lms.post("profiles/import", lms.admin, interview("bob", "globex")), 201)["person_id"]
    for n, name in enumerate(("x1", "x2", "x3")):  # three teams in org X for the cohort pages
        lms.ok(lms.post("profiles/import", lms.admin, interview(name, "acme") | {"team": f"team{n}"}), 201)
    ids["teamX"] = lms.ok(lms.get(f"organisations/{org_x}/teams", lms.admin))[0]["id"]
    ids["teamY"] = lms.ok(lms.post(f"organisations/{org_y}/teams", lms.admin, {"name": "y-team"}), 201)["id"]
    ids["resultA"] = lms.ok(lms.post("results", headers["grader"], grade_result("ra", "alice")), 201)["id"]
    ids["resultB"] = lms.ok(lms.post("results", headers["grader"], grade_result("rb", "bob")), 201)["id"]
    for key, pid in (("badgeA", ids["A"]), ("badgeB", ids["B"])):
        ids[key] = lms.ok(lms.get(f"people/{pid}/badges", lms.admin))[0]["id"]
    ids["enrollB"] = lms.ok(lms.post("courses/clinical_ai_projects/enrollments", lms.admin, {"person_id": ids["B"]}),
                            201)["id"]
    for org, key in ((org_x, "hookX"), (org_y, "hookY")):
        body = {"url": PUBLIC_HOOK, "organisation_id": org}
        ids[key] = lms.ok(lms.post("webhooks", lms.admin, body), 201)["id"]
    ids["tokenY"] = lms.ok(lms.post("tokens", lms.admin, {"name": "y", "scopes": ["hr:read"], "organisation_id": org_y}),
                           201)["id"]
    revoked = lms.ok(lms.post("tokens", lms.admin, {"name": "gone", "scopes": ["admin"]}), 201)
    lms.ok(lms.client.delete(lms.url(f"tokens/{revoked['id']}"), headers=lms.admin))
    headers["revoked"] = lms.bearer(revoked["token"])
    return headers, {k: str(v) for k, v in ids.items()}


def fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        placeholder = "{" in template
        for key, value in ids.items():
            template = template.replace("{" + key + "}", value)
        return int(template) if placeholder and template.isdigit() else template
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, ids) for v in template]
    return template


def _error_shape_ok(path: str, status: int, response: Any) -> bool:
    """The LMS error body, or under /scim/v2/ RFC 7644's (its schema and content type)."""
    body = response.json()
    if path.startswith("scim/"):
        return response.headers["content-type"].startswith("application/scim+json") and body.get("schemas") == [
            "urn:ietf:params:scim:api:messages:2.0:Error"] and body.get("status") == str(status)
    return set(body) == {"error"}


def test_every_case_of_the_table(lms: Lms) -> None:
    headers, ids = build_world(lms)
    failures = []
    for who, method, path, body, expected in CASES:
        response = lms.client.request(
            method, lms.url(str(fill(path, ids))), headers=headers[who], json=fill(body, ids)
        )
        status = response.status_code
        invalid = 400 if path.startswith("scim/") else 422  # SCIM says invalidValue with a 400
        verdict = OK if status < 300 else DENIED if status in (403, 404) else UNAUTHENTICATED if status == 401 else \
            INVALID if status == invalid else CONFLICT if status == 409 else "?"
        expected, check = expected if isinstance(expected, tuple) else (expected, None)
        if verdict != expected:
            failures.append(f"{who} {method} {path}: expected {expected}, got {status} {response.text[:150]}")
        elif check is not None and not check(response.json() if "json" in response.headers["content-type"]
                                              else response.text):
            failures.append(f"{who} {method} {path}: the answer shows the hole: {response.text[:200]}")
        elif status >= 400 and not _error_shape_ok(path, status, response):
            failures.append(f"{who} {method} {path}: not the error shape of the API: {response.text[:150]}")
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
