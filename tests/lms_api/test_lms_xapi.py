"""xAPI: account homePage is a URL, the version header, `stored` left to the LRS, and statements for
quiz, rubric and interview evidence."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from lms_fake_hub import FakeHub
from lms_fixtures import Lms, make_lms
from lms_payloads import grade_result, interview
from lms_receiver import running_receiver

from practicum.lms_api.tokens import Scope

WELCOME = "intro_medical_ai/welcome"


def _world(lms: Lms) -> dict[str, Any]:
    lms.seed_catalog()
    lms.org("acme")
    alice = lms.hub_user("alice", groups=["nbgrader-intro_medical_ai"])
    carol = lms.hub_user("carol", groups=["formgrade-intro_medical_ai"])
    for h in (alice, carol):
        lms.ok(lms.get("capabilities", h))
    aid = lms.ok(lms.post("profiles/import", lms.admin, interview("alice", "acme")), 201)["person_id"]
    grader = lms.bearer(lms.token(Scope.RESULTS_WRITE))
    lms.ok(lms.post("results", grader, grade_result("r1", "alice")), 201)
    lms.ok(lms.post(f"people/{aid}/evidence", carol, {"kind": "rubric", "item_id": WELCOME, "score": 0.8}), 201)
    lms.ok(lms.post(f"people/{aid}/evidence", grader, {"kind": "quiz", "item_id": WELCOME, "score": 0.4}), 201)
    return {"alice": alice, "aid": aid}


def _scored(statements: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(s for s in statements if s["verb"]["display"]["en-US"] == "scored"
                and s["result"]["extensions"][next(k for k in s["result"]["extensions"] if k.endswith("evidence-kind"))]
                == kind)


def test_statements_cover_evidence_with_url_home_pages_and_the_version_header(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    world = _world(lms)
    response = lms.get(f"people/{world['aid']}/xapi/statements", world["alice"])
    assert response.headers["x-experience-api-version"] == "1.0.3"
    statements = lms.ok(response)["statements"]
    assert len(statements) == 3 + 3  # the result's three progress statements, then rubric, quiz and interview
    for s in statements:
        home = urlsplit(s["actor"]["account"]["homePage"])
        assert home.scheme in ("http", "https") and home.netloc, s["actor"]
    rubric, quiz, talk = _scored(statements, "rubric"), _scored(statements, "quiz"), _scored(statements, "interview")
    assert rubric["verb"]["id"] == "http://adlnet.gov/expapi/verbs/scored"
    assert rubric["result"]["score"]["scaled"] == 0.8 and rubric["result"]["success"] is True
    assert rubric["context"]["instructor"]["account"]["name"] == "carol"
    assert rubric["object"]["id"].endswith(f"items/{WELCOME}")
    assert quiz["result"]["success"] is False and "instructor" not in quiz["context"]
    levels = next(v for k, v in talk["result"]["extensions"].items() if k.endswith("capability-levels"))
    assert levels["ml_engineering"] == 1.0 and talk["object"]["id"].endswith("evidence/interview")
    assert len({s["id"] for s in statements}) == 6
    # Pages across both sources put together are the whole list, in order.
    paged = [s for offset in range(0, 6, 4) for s in lms.ok(lms.get(
        f"people/{world['aid']}/xapi/statements", world["alice"], params={"limit": 4, "offset": offset}))["statements"]]
    assert [s["id"] for s in paged] == [s["id"] for s in statements]
    hr = lms.get("xapi/statements", lms.bearer(lms.token(Scope.HR_READ, organisation_id=1)))
    assert hr.headers["x-experience-api-version"] == "1.0.3" and len(hr.json()["statements"]) == 6


def test_the_lrs_sets_stored_and_authority_not_the_lms(db_url: str, hub: FakeHub) -> None:
    received: list[Any] = []
    with running_receiver() as lrs:
        lrs.handle = lambda headers, body: received.append(json.loads(body)) or 200  # type: ignore[method-assign]
        gen = make_lms(db_url, hub, lrs_url=lrs.url.rsplit("/", 2)[0] + "/xapi", public_hub_url="https://lab.example.org/hub")
        lms = next(gen)
        try:
            world = _world(lms)
            assert lms.ok(lms.post("xapi/send", lms.admin))["sent"] == 6
            local = lms.ok(lms.get(f"people/{world['aid']}/xapi/statements", lms.admin))["statements"]
        finally:
            gen.close()
    ((batch),) = received
    assert len(batch) == 6 and all("stored" not in s and "authority" not in s for s in batch)
    assert all(s["actor"]["account"]["homePage"] == "https://lab.example.org/hub/" for s in batch)
    assert all("stored" in s for s in local)  # as the LMS's own record shows them
