"""The isolation fixes behind the authorization table's rows, checked where a status code is not enough."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from lms_fixtures import Lms
from lms_payloads import grade_result, interview
from lms_receiver import running_receiver
from sqlalchemy import event

from practicum.lms_api.csv_export import _cell
from practicum.lms_api.db.tables import Enrollment, PersonRole, Webhook
from practicum.lms_api.db.types import utcnow
from practicum.lms_api.outbound import TargetRefused, check_target, is_public, pinned_request
from practicum.lms_api.schemas.common import is_safe_link
from practicum.lms_api.schemas.progress import duration_seconds
from practicum.lms_api.services.hr import cohorts
from practicum.lms_api.services.progress import person_progress
from practicum.lms_api.services.webhooks import deliver_due
from practicum.lms_api.tokens import Scope

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LMS_EXT = "urn:practicum:params:scim:schemas:extension:lms:1.0:User"


def test_hr_import_answers_alike_for_unknown_unplaced_and_foreign_people(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.org("acme"), lms.org("globex")
    lms.ok(lms.get("capabilities", lms.hub_user("dave")))  # a hub user in no organisation
    lms.ok(lms.post("profiles/import", lms.admin, interview("bob", "globex")), 201)
    hr = lms.bearer(lms.token(Scope.HR_WRITE, organisation_id=1))
    answers = {name: lms.post("profiles/import", hr, interview(name, None)) for name in ("dave", "bob", "nobody")}
    assert {(r.status_code, r.content) for r in answers.values()} == {(404, answers["dave"].content)}
    people = {p["name"]: p for p in lms.ok(lms.get("people", lms.admin))["items"]}
    assert set(people) == {"dave", "bob"} and people["dave"]["organisation_id"] is None  # nobody created or claimed
    assert lms.ok(lms.get(f"people/{people['dave']['id']}/profile", lms.admin))["updated_at"] is None


def test_hub_sync_removes_what_the_hub_removed_and_keeps_what_an_admin_made(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.seed_catalog()
    token = "hub-token-carol"
    lms.hub_user("carol", groups=["formgrade-intro_medical_ai", "nbgrader-clinical_ai_projects"], admin=True)
    lms.ok(lms.get("capabilities", {"Authorization": f"token {token}"}))
    carol_id = lms.ok(lms.get("people", lms.admin, params={"name": "carol"}))["items"][0]["id"]
    lms.ok(lms.post("courses/clinical_ai_projects/enrollments", lms.admin,
                    {"person_id": carol_id, "role": "instructor"}), 201)  # an admin's: kept
    with lms.db.write() as session:
        session.merge(PersonRole(person_id=carol_id, role="hr", source="admin"))
        session.commit()
    # The hub drops every group and the admin flag; a new token shows it.
    lms.hub.tokens["hub-token-carol-2"] = {**lms.hub.tokens[token], "groups": [], "admin": False}
    lms.ok(lms.get("capabilities", {"Authorization": "token hub-token-carol-2"}))
    with lms.db.read() as session:
        enrollments = {(e.course_id, e.role, e.source) for e in session.query(Enrollment).filter_by(person_id=carol_id)}
        roles = {(r.role, r.source) for r in session.query(PersonRole).filter_by(person_id=carol_id)}
    assert enrollments == {("clinical_ai_projects", "instructor", "api")}
    assert roles == {("learner", "admin"), ("hr", "admin")}  # the hub's admin and instructor roles are gone


def test_webhook_targets_are_checked_again_at_delivery_and_logs_echo_nothing(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.org("acme")
    calls: list[bytes] = []
    with running_receiver() as receiver:
        receiver.handle = lambda headers, body: calls.append(body) or 418  # type: ignore[method-assign]
        with lms.db.write() as session:  # registered while an admin allowed loopback
            session.add(Webhook(organisation_id=1, url=receiver.url, secret="s", events="profile.changed", active=True))
            session.commit()
        lms.ok(lms.post("profiles/import", lms.admin, interview("alice")), 201)
        with httpx.Client(timeout=5) as http, lms.db.write() as session:
            report = deliver_due(session, http, utcnow())  # the allow-list no longer names it
            assert report.failed == 1 and calls == []
            log = lms.ok(lms.get("webhooks/1/deliveries", lms.admin))["items"][0]["deliveries"]
            assert log[0]["status_code"] is None and log[0]["error"] == "not sent: address not allowed (internal or reserved)"
            # A public name that resolves to loopback when the delivery runs (DNS rebinding) is refused too.
            session.get(Webhook, 1).url = "http://hooks.example.org/x"  # type: ignore[union-attr]
            session.commit()
            later = utcnow().replace(year=utcnow().year + 1)
            rebinding = deliver_due(session, http, later, resolver=lambda host, port: ["127.0.0.1"])
            assert rebinding.failed == 1 and calls == []
            session.get(Webhook, 1).url = receiver.url  # type: ignore[union-attr]
            session.commit()
            deliver_due(session, http, later.replace(year=later.year + 1), allowed_hosts={"127.0.0.1"})
            assert len(calls) == 1  # allowed: sent; the receiver answered 418 with its own status line
        last = lms.ok(lms.get("webhooks/1/deliveries", lms.admin))["items"][0]["deliveries"][-1]
        assert (last["status_code"], last["error"]) == (400, "HTTP 4xx")


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.251", "240.0.0.1", "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "2002:a9fe:a9fe::1", "64:ff9b::7f00:1", "2001:db8::1",
])
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(TargetRefused):
        check_target(f"http://{'[' + address + ']' if ':' in address else address}:8080/x")


def test_public_targets_are_pinned_to_the_checked_address() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34")) and is_public(ipaddress.ip_address("2606:4700::1"))
    target = check_target("https://hr.example.org:8443/hook?x=1", resolver=lambda host, port: ["93.184.216.34"])
    url, headers, extensions = pinned_request(target)
    assert url == "https://93.184.216.34:8443/hook?x=1"
    assert headers == {"Host": "hr.example.org:8443"} and extensions == {"sni_hostname": "hr.example.org"}
    with pytest.raises(TargetRefused):  # one internal answer among public ones is enough to refuse
        check_target("http://hr.example.org/", resolver=lambda host, port: ["93.184.216.34", "10.0.0.1"])
    allowed = check_target("http://127.0.0.1:9/h", allowed_hosts={"127.0.0.1:9"})
    assert pinned_request(allowed) == ("http://127.0.0.1:9/h", {}, {})


@contextmanager
def counting_statements(lms: Lms) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(lms.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(lms.db.engine, "before_cursor_execute", count)


def _cohort_world(lms: Lms, people: int) -> None:
    lms.seed_catalog()
    lms.org("acme")
    for n in range(people):
        body = interview(f"p{n}", "acme", ml_engineering=n % 5, medical_imaging=(n * 3) % 5) | {
            "team": f"team{n % 3}" if n % 4 else None, "role_target": ("algorithm_engineer", "clinician", None)[n % 3],
        }
        lms.ok(lms.post("profiles/import", lms.admin, body), 201)
        if n % 2:
            lms.ok(lms.post("results", lms.admin, grade_result(f"r{n}", f"p{n}", passed=n % 3 != 1)), 201)
        if n % 3 == 0:
            lms.ok(lms.post("results", lms.admin, grade_result(
                f"w{n}", f"p{n}", item_id="intro_medical_ai/welcome", kind="assignment", score=1.0)), 201)


def test_cohorts_run_a_fixed_number_of_statements(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    _cohort_world(lms, 12)
    with lms.db.read() as session, counting_statements(lms) as small:
        cohorts(session, organisation_id=1, team_id=None, role_target=None, limit=100, offset=0)
    for n in range(12, 60):
        lms.ok(lms.post("profiles/import", lms.admin, interview(f"p{n}", "acme") | {"team": f"team{n % 3}"}), 201)
    with lms.db.read() as session, counting_statements(lms) as large:
        rows, total = cohorts(session, organisation_id=1, team_id=None, role_target=None, limit=100, offset=0)
    assert len(large) == len(small) <= 10 and sum(r.headcount for r in rows) == 60 and total == 4


def test_cohorts_agree_with_the_per_person_figures(lms: Lms) -> None:
    _cohort_world(lms, 15)
    hr = lms.bearer(lms.token(Scope.HR_READ, organisation_id=1))
    page = lms.ok(lms.get("hr/cohorts", hr, params={"limit": 2, "offset": 1}))
    assert page["total"] == 4 and len(page["items"]) == 2
    rows = lms.ok(lms.get("hr/cohorts", hr))["items"]
    assert [r["team"] for r in rows] == ["team1", "team2", "team0", "(no team)"]  # by team id, no team last
    assert page["items"] == rows[1:3]
    profiles = lms.ok(lms.get("hr/profiles", hr, params={"limit": 500}))["items"]
    with lms.db.read() as session:
        from practicum.lms_api.db.tables import Person

        for row in rows:
            members = [p for p in profiles if p["team_id"] == row["team_id"]]
            assert row["headcount"] == len(members)
            for dimension, mean in row["mean_values"].items():
                assert mean == pytest.approx(sum(p["values"][dimension] for p in members) / len(members), abs=1e-4)
            assert row["meeting_role_target"] == sum(1 for p in members if p["total_gap"] == 0.0)
            rates = []
            for p in members:
                courses = person_progress(session, person=session.get(Person, p["person_id"]), now=utcnow()).courses
                rates.append(sum(c.completion_rate for c in courses) / len(courses) if courses else 0.0)
            assert row["mean_completion_rate"] == pytest.approx(sum(rates) / len(rates), abs=1e-4)
    assert any(r["mean_completion_rate"] > 0 for r in rows) and any(r["results_total"] for r in rows)


def test_scim_provisioning_of_users_and_groups(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.org("acme"), lms.org("globex")
    scim = {**lms.bearer(lms.token(Scope.SCIM, organisation_id=1)), "Content-Type": SCIM}
    created = lms.post("scim/v2/Users", scim, {
        "schemas": [USER, LMS_EXT], "userName": "alice", "displayName": "Alice A", "externalId": "hr-17",
        "emails": [{"value": "alice@acme.example", "primary": True}], LMS_EXT: {"roleTarget": "clinician"},
    })
    assert created.status_code == 201 and created.headers["content-type"].startswith(SCIM)
    alice = created.json()
    assert created.headers["location"] == alice["meta"]["location"] and alice["userName"] == "alice"
    person = lms.ok(lms.get(f"people/{alice['id']}", lms.admin))
    assert (person["organisation_id"], person["role_target"], person["email"]) == (1, "clinician", "alice@acme.example")
    found = lms.ok(lms.get("scim/v2/Users", scim, params={"filter": 'userName eq "alice"'}))
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == alice["id"]
    assert lms.get("scim/v2/Users", scim, params={"filter": 'emails co "x"'}).json()["scimType"] == "invalidFilter"

    group = lms.ok(lms.post("scim/v2/Groups", scim, {"displayName": "imaging", "members": [{"value": alice["id"]}]}), 201)
    assert [m["value"] for m in group["members"]] == [alice["id"]]
    assert lms.ok(lms.get(f"scim/v2/Users/{alice['id']}", scim))["groups"][0]["display"] == "imaging"
    remove = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{alice["id"]}"]'}]}
    assert lms.ok(lms.client.patch(lms.url(f"scim/v2/Groups/{group['id']}"), headers=scim, json=remove))["members"] == []

    # The hub user signs in, then HR deactivates them (Azure AD sends the boolean as a string).
    hub = lms.hub_user("alice")
    lms.ok(lms.get("capabilities", hub))
    deactivate = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    assert lms.ok(lms.client.patch(lms.url(f"scim/v2/Users/{alice['id']}"), headers=scim, json=deactivate))["active"] is False
    lms.client.app.state.hub_people._entries.clear()  # type: ignore[attr-defined]  # (or wait identity_cache_seconds)
    refused = lms.get("capabilities", hub)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_inactive"

    replaced = lms.client.put(lms.url(f"scim/v2/Users/{alice['id']}"), headers=scim,
                              json={"schemas": [USER], "userName": "alice", "active": True})
    assert replaced.status_code == 200 and replaced.json()["active"] is True and "displayName" not in replaced.json()
    renamed = lms.client.put(lms.url(f"scim/v2/Users/{alice['id']}"), headers=scim, json={"userName": "mallory"})
    assert renamed.status_code == 400 and renamed.json()["scimType"] == "mutability"

    assert lms.client.delete(lms.url(f"scim/v2/Users/{alice['id']}"), headers=scim).status_code == 204
    assert lms.get(f"scim/v2/Users/{alice['id']}", scim).status_code == 404
    assert lms.ok(lms.get(f"people/{alice['id']}", lms.admin))["organisation_id"] is None  # the record stays hers
    assert lms.client.delete(lms.url(f"scim/v2/Groups/{group['id']}"), headers=scim).status_code == 204
    config = lms.ok(lms.get("scim/v2/ServiceProviderConfig", scim))
    assert config["patch"]["supported"] and not config["bulk"]["supported"]
    bad = lms.post("scim/v2/Users", scim, {"displayName": "no user name"})
    assert bad.status_code == 400 and bad.json()["status"] == "400" and bad.headers["content-type"].startswith(SCIM)


def test_links_durations_and_csv_cells() -> None:
    for url in ("https://lab.example.org/feedback/1", "http://x.example/a?b=c", "/services/lms/feedback/2"):
        assert is_safe_link(url), url
    for url in ("javascript:alert(1)", " javascript:x", "java\tscript:x", "data:text/html,x", "//evil.example",
                "/\\evil.example", "https://", "mailto:x@y", "https://a b.example/", "\x00/x", ""):
        assert not is_safe_link(url), url
    assert duration_seconds("PT1H30M") == 5400 and duration_seconds("PT45S") == 45 and duration_seconds("PT12H") == 43200
    for text in ("PT12H1S", "P1D", "PT", "1H", "PT-5M", "PT1.5H"):
        with pytest.raises(ValueError):
            duration_seconds(text)
    for cell in (" =1+1", "\x00=1", "\t=1", "\r=1", "\n=1", "  @SUM(A1)", "\u3000=1", "\uff1dcmd", " -2+3", "+1"):
        assert _cell(cell).startswith("'"), repr(cell)
    assert _cell("alice") == "alice" and _cell("a=b") == "a=b" and _cell(-1.5) == -1.5
