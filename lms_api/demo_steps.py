"""The LMS part of `practicum demo`: after grading, the profile moves, the path updates, HR pulls,
and the signed webhook arrives at a receiver. Talks to a running LMS over HTTP only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from practicum.contracts.grade_result import GradeResult

from .db.engine import Database
from .db.migrate import upgrade_database
from .db.types import utcnow
from .schemas.organisations import OrganisationCreate
from .schemas.profiles import InterviewImport
from .services import catalog, organisations, tokens
from .services.evidence import import_interview
from .tokens import Scope
from .webhook_signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoTokens:
    admin_token: str
    hr_token: str
    organisation_id: int


@dataclass(frozen=True)
class LmsDemoSummary:
    learner: str
    person_id: int
    result_id: int
    profile_changes: list[dict[str, Any]]
    path_before: list[str]
    path_after: list[str]
    hr_profile: dict[str, float]
    webhook_events: list[str]
    webhook_signatures_ok: bool

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def bootstrap_demo(
    database_url: str, *, organisation: str = "demo-hospital", learner: str = "demo-learner"
) -> DemoTokens:
    """Directly on the database (as the admin CLI does): catalog, organisation, tokens, an interview profile."""
    upgrade_database(database_url)
    db = Database(database_url)
    try:
        with db.write() as session:
            catalog.sync_catalog(session, catalog=catalog.load_catalog_file(catalog.SEED_CATALOG))
            org = organisations.organisation_by_slug(session, slug=organisation) or organisations.create_organisation(
                session, data=OrganisationCreate(slug=organisation, name="Demo Hospital")
            )
            _, admin_token = tokens.create_token(
                session, name="demo-admin", scopes=[Scope.ADMIN], organisation_id=None, created_by="demo"
            )
            _, hr_token = tokens.create_token(
                session, name="demo-hr", scopes=[Scope.HR_READ, Scope.HR_WRITE], organisation_id=org.id,
                created_by="demo",
            )
            interview = InterviewImport(
                person=learner, organisation=organisation, role_target="algorithm_engineer",  # type: ignore[arg-type]
                assessed_at=utcnow(), assessor="demo-hr-lead",
                levels={"ml_engineering": 1, "medical_imaging": 0, "medical_statistics": 1,  # type: ignore[dict-item]
                        "data_privacy_compliance": 1},
            )
            import_interview(session, data=interview, allowed_organisation_id=None, actor="demo", now=utcnow())
            session.commit()
            return DemoTokens(admin_token, hr_token, org.id)
    finally:
        db.dispose()


@dataclass
class _Received:
    secret: str = ""
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures_ok: bool = True


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, _Received]]:
    """HR's endpoint, played by a local server: checks signatures, keeps each event id once."""
    received = _Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            good = verify(received.secret, body, self.headers.get(TIMESTAMP_HEADER, ""),
                          self.headers.get(SIGNATURE_HEADER, ""))
            received.signatures_ok &= good
            if good:
                received.events.setdefault(self.headers.get(IDEMPOTENCY_HEADER, ""), json.loads(body))
            self.send_response(204 if good else 401)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/practicum-webhook", received
    finally:
        server.shutdown()
        server.server_close()


def run_lms_demo(
    base_url: str, admin_token: str, hr_token: str, result: GradeResult, *,
    timeout: float = 30.0, say: Say = print,
) -> LmsDemoSummary:
    """`base_url`: the LMS as clients reach it, e.g. http://127.0.0.1:8000/services/lms/.
    `result`: what a grader produced for the learner (posted here as the grader would)."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    hr = {"Authorization": f"Bearer {hr_token}"}
    learner = result.learner
    with httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=15, trust_env=False) as http, \
            webhook_receiver() as (url, received):
        hook = _ok(http.post("webhooks", headers=hr, json={"url": url, "events": ["profile.changed"]}))
        received.secret = hook["secret"]
        say(f"HR subscribed {url} to profile changes (webhook {hook['id']})")
        found = _ok(http.get("people", headers=admin, params={"name": learner}))["items"]
        person_id = found[0]["id"] if found else None
        path_before = _path(http, admin, person_id) if person_id else []

        posted = _ok(http.post(
            "results", headers={**admin, "Content-Type": "application/json"}, content=result.to_json()
        ))
        person_id = posted["person_id"]
        say(f"posted result {posted['id']} for {learner}: {result.item_id} passed={result.passed} score={result.score}")
        profile = _ok(http.get(f"people/{person_id}/profile", headers=admin, params={"changes": 1}))
        changes = [
            {"dimension": d["dimension"], "before": c["before"], "after": c["after"], "rule": c["rule"]}
            for d in profile["dimensions"] for c in d["changes"] if c["evidence"]["result_id"] == posted["id"]
        ]
        say("profile changes: " + ", ".join(f"{c['dimension']} {c['before']:g} -> {c['after']:g}" for c in changes))
        path_after = _path(http, admin, person_id)
        say(f"learning path: {path_before} -> {path_after}")
        hr_view = _ok(http.get(f"people/{person_id}/profile", headers=hr, params={"changes": 0}))
        hr_profile = {d["dimension"]: d["value"] for d in hr_view["dimensions"]}
        say(f"HR pulled the profile: {hr_profile}")

        deadline = time.monotonic() + timeout
        wanted = {c["dimension"] for c in changes}
        events: list[str] = []
        while time.monotonic() < deadline:
            _ok(http.post("outbox/deliver", headers=admin))
            events = [
                event_id for event_id, event in received.events.items()
                if event["data"]["evidence"].get("result_id") == posted["id"]
            ]
            if events or not wanted:
                break
            time.sleep(0.2)
        say(f"webhook delivered {len(events)} signed event(s) for the result; signatures ok: {received.signatures_ok}")
    return LmsDemoSummary(
        learner=learner, person_id=person_id, result_id=posted["id"], profile_changes=changes,
        path_before=path_before, path_after=path_after, hr_profile=hr_profile, webhook_events=events,
        webhook_signatures_ok=received.signatures_ok,
    )


def _path(http: httpx.Client, headers: dict[str, str], person_id: int) -> list[str]:
    path = _ok(http.get(f"people/{person_id}/learning-path", headers=headers))
    return [r["item_id"] for r in path["recommendations"]]


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"LMS answered {response.status_code} to {response.request.url.path}: {response.text[:300]}")
    return response.json()
