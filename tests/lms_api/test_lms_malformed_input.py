"""Malformed input gets a 4xx with the error body, never a 5xx, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lms_fixtures import Lms
from lms_payloads import grade_result, interview
from sqlalchemy import func, select

from practicum.lms_api.db.tables import AuditEntry, Evidence, Organisation, Person, Result

INJECTION = "x'); DROP TABLE people; --"
SHOUTY = "Ünïcødé 名前 🙂"

RESULT_CASES: list[tuple[str, Any]] = [
    ("score is a string", {**grade_result("m1"), "score": "high"}),
    ("score is NaN", '{"score": NaN}'),
    ("score is Infinity", None),
    ("metric is -Infinity", None),
    ("unknown field (mass assignment)", {**grade_result("m1"), "person_id": 1}),
    ("learner is a list", {**grade_result("m1"), "learner": ["a"]}),
    ("missing submission id", {k: v for k, v in grade_result("m1").items() if k != "submission_id"}),
    ("NUL in learner", {**grade_result("m1"), "learner": "al\x00ice"}),
    ("lone surrogate", None),
    ("finished before started", {**grade_result("m1"), "finished_at": "2020-01-01T00:00:00Z"}),
    ("year 1 with +14:00 offset", {**grade_result("m1"), "started_at": "0001-01-01T00:00:00+14:00"}),
    ("not JSON", "{this is not json"),
    ("JSON but not an object", "[1, 2, 3]"),
    ("SQL injection as item id", {**grade_result("m1"), "item_id": INJECTION}),
]


def raw_result_body(case: str, body: Any) -> str:
    if case == "score is Infinity":
        return json.dumps(grade_result("m1")).replace('"score": 0.9', '"score": Infinity')
    if case == "metric is -Infinity":
        return json.dumps(grade_result("m1")).replace('"froc": 0.81', '"froc": -Infinity')
    if case == "lone surrogate":
        return json.dumps(grade_result("m1")).replace('"alice"', '"al\\ud800ice"')
    if case == "score is NaN":
        return json.dumps(grade_result("m1")).replace('"score": 0.9', '"score": NaN')
    return body if isinstance(body, str) else json.dumps(body)


def stored(lms: Lms) -> tuple[int, ...]:
    with lms.db.read() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(t)) or 0) for t in (Result, Person, Evidence, Organisation)
        )


def test_malformed_results_are_refused_and_not_stored(lms: Lms) -> None:
    lms.seed_catalog()
    before = stored(lms)
    for case, body in RESULT_CASES:
        response = lms.client.post(
            lms.url("results"), content=raw_result_body(case, body),
            headers={**lms.admin, "Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
        assert set(response.json()["error"]) == {"code", "message"}
        assert stored(lms) == before, case


def test_huge_bodies_are_refused_before_parsing(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    huge = json.dumps({**grade_result("big"), "metrics": {f"m{i}": 0.5 for i in range(100_000)}})
    response = lms.client.post(lms.url("results"), content=huge, headers={**lms.admin, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"

    def chunks() -> Any:
        for _ in range(2000):
            yield b" " * 1024

    streamed = lms.client.post(lms.url("results"), content=chunks(), headers={**lms.admin, "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert stored(lms) == (0, 0, 0, 0)


@pytest.mark.parametrize("value", [INJECTION, SHOUTY, "a" * 201, "", "\x00", "Robert'); --"])
def test_strings_in_people_and_organisations(sqlite_lms: Lms, value: str) -> None:
    lms = sqlite_lms
    person = lms.post("people", lms.admin, {"name": value})
    organisation = lms.post("organisations", lms.admin, {"slug": value, "name": value})
    for response in (person, organisation):
        assert response.status_code in (201, 409, 422), response.text
    if value in (INJECTION, SHOUTY, "Robert'); --"):
        assert person.status_code == 201 and person.json()["name"] == value  # stored as given, not executed
        assert organisation.status_code == 422  # slugs are [a-z0-9_.-]
        found = lms.ok(lms.get("people", lms.admin, params={"name": value}))
        assert found["total"] == 1
    else:
        assert person.status_code == 422


BAD_PATHS = [
        "people/0", "people/-1", "people/99999999999999999999", "people/abc", "people/1%00",
        "results/9223372036854775808", "items/..%2F..%2Fetc%2Fpasswd", "courses/" + "x" * 300,
        "people?limit=0", "people?limit=100000", "people?offset=-5", "people?name=%00",
        "hr/results?since=0001-01-01T00:00:00%2B14:00&organisation_id=1", "people?role_target=wizard",
]


def test_bad_paths_and_queries_get_4xx(lms: Lms) -> None:
    for path in BAD_PATHS:
        response = lms.client.get(lms.url(path), headers=lms.admin)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        assert "error" in response.json()


def test_unknown_fields_are_refused_everywhere(lms: Lms) -> None:
    lms.org("acme")
    cases = [
        ("people", {"name": "eve", "is_admin": True}),
        ("people", {"name": "eve", "roles": ["superuser"]}),
        ("organisations", {"slug": "x", "name": "x", "id": 5}),
        ("tokens", {"name": "t", "scopes": ["admin"], "token_hash": "00"}),
        ("profiles/import", {**interview("eve"), "value": 4}),
        ("webhooks", {"url": "http://127.0.0.1:1/", "organisation_id": 1, "secret": "mine"}),
    ]
    for path, body in cases:
        response = lms.post(path, lms.admin, body)
        assert response.status_code == 422, (path, response.text)
    assert lms.ok(lms.get("people", lms.admin, params={"name": "eve"}))["total"] == 0


def test_wrong_levels_and_weights_are_refused(lms: Lms) -> None:
    lms.org("acme")
    for levels in ({"ml_engineering": 5}, {"ml_engineering": "guru"}, {"astrology": 1}, {}):
        assert lms.post("profiles/import", lms.admin, interview("eve", **levels) | {"levels": levels}).status_code == 422
    item = {"id": "p1", "course_id": "nope", "kind": "project", "title": "t", "level": 2,
            "weights": {"ml_engineering": float("nan")}}
    response = lms.client.post(lms.url("items"), headers={**lms.admin, "Content-Type": "application/json"},
                               content=json.dumps(item))
    assert response.status_code == 422


def test_audit_log_records_reads_and_changes(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    person_id = lms.person("alice")
    lms.ok(lms.get(f"people/{person_id}/profile", lms.admin))
    entries = lms.ok(lms.get("audit", lms.admin, params={"resource": "profile"}))["items"]
    assert [(e["action"], e["resource_id"]) for e in entries] == [("read", str(person_id))]
    created = lms.ok(lms.get("audit", lms.admin, params={"resource": "person"}))["items"]
    assert created[0]["action"] == "create" and created[0]["actor"].startswith("token:")
    with lms.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry))


def _my_routes() -> list[tuple[str, str]]:
    """(method, path) of the reminder, badge and privacy routes that take a body, for alice (id 1)."""
    return [("PUT", "people/1/reminder-preferences"), ("POST", "people/1/notices/read"),
            ("POST", "people/1/erasure"), ("POST", "badges/00000000-0000-4000-8000-000000000000/revoke")]


BODY_CASES = [
    "{this is not json", "[1, 2, 3]", '"a string"', "null", '{"opt_out": NaN}', '{"confirm": "al\\ud800ice"}',
    '{"confirm": "al\\u0000ice"}', '{"reason": ' + '"x"' * 2 + "}", '{"ids": [1, "two"]}', '{"timezone": 7}',
    '{"ids": [' + ",".join(["99999999999"] * 3) + "]}",
]


def test_reminder_badge_and_erasure_routes_refuse_malformed_and_huge_bodies(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.seed_catalog()
    lms.ok(lms.post("results", lms.admin, grade_result("ok-1", "alice")), 201)
    before = stored(lms)
    huge = json.dumps({"ids": list(range(1, 300_000))})
    for method, path in _my_routes():
        for body in BODY_CASES:
            response = lms.client.request(method, lms.url(path), content=body,
                                          headers={**lms.admin, "Content-Type": "application/json"})
            assert 400 <= response.status_code < 500, (path, body, response.status_code, response.text)
            assert set(response.json()["error"]) == {"code", "message"}, (path, body)
        response = lms.client.request(method, lms.url(path), content=huge,
                                      headers={**lms.admin, "Content-Type": "application/json"})
        assert response.status_code == 413, (path, response.status_code)
    assert stored(lms) == before
    assert lms.ok(lms.get("people/1/badges", lms.admin))[0]["revoked_at"] is None
