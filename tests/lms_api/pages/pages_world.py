"""A small lab, built through the LMS's own API, that the page tests look at: two organisations,
learners with results (one with feedback), an instructor, an HR person of one organisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml
from lms_fake_hub import FakeHub
from lms_payloads import grade_result

from practicum.lms_api.services.catalog import SEED_CATALOG

PROJECTS = "clinical_ai_projects"
INTRO = "intro_medical_ai"
OVERDUE_ITEM = "glucose_cgm_forecasting"
FEEDBACK_URL = "https://lab.example.org/services/grading/gradings/g-alice-2"
MLFLOW_RUN = "0123456789abcdef0123456789abcdef"
LEARNER_GROUPS = [f"nbgrader-{PROJECTS}", f"nbgrader-{INTRO}"]


@dataclass
class World:
    prefix: str
    hub: FakeHub
    ids: dict[str, int] = field(default_factory=dict)  # person name -> LMS id
    organisations: dict[str, int] = field(default_factory=dict)

    def token(self, name: str) -> str:
        return f"hub-token-{name}"

    def as_user(self, name: str) -> dict[str, str]:
        return {"Authorization": f"token {self.token(name)}"}

    def cookie(self, name: str) -> dict[str, str]:
        """A browser's request after the hub login (the LMS's OAuth cookie holds the hub token)."""
        return {"Cookie": f"service-lms={self.token(name)}", "Accept": "text/html"}


def add_hub_user(hub: FakeHub, name: str, groups: list[str], admin: bool = False) -> None:
    hub.tokens[f"hub-token-{name}"] = {
        "kind": "user", "name": name, "admin": admin, "groups": groups, "scopes": ["access:services!service=lms"],
    }


def build_world(http: httpx.Client, prefix: str, hub: FakeHub, admin_token: str, grader_token: str) -> World:
    world = World(prefix=prefix, hub=hub)
    admin = {"Authorization": f"Bearer {admin_token}"}
    grader = {"Authorization": f"Bearer {grader_token}"}

    def call(method: str, path: str, body: Any = None, headers: dict[str, str] = admin) -> Any:
        response = http.request(method, prefix + path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    catalog = yaml.safe_load(SEED_CATALOG.read_text())
    for course in catalog["courses"]:
        for item in course["items"]:
            if item["id"] == OVERDUE_ITEM:
                item["due_at"] = "2026-01-01T00:00:00Z"
    call("POST", "catalog/sync", catalog)
    for slug, name in (("acme", "Acme Hospital"), ("globex", "Globex Clinics")):
        world.organisations[slug] = call("POST", "organisations", {"slug": slug, "name": name})["id"]
    people = {
        "alice": (LEARNER_GROUPS, "acme", "algorithm_engineer", ["learner"]),
        "amir": (LEARNER_GROUPS, "acme", "algorithm_engineer", ["learner"]),
        "bob": (LEARNER_GROUPS, "globex", "algorithm_engineer", ["learner"]),
        "ines": ([f"formgrade-{PROJECTS}"], None, None, None),
        "harriet": ([], "acme", None, ["hr"]),
    }
    for name, (groups, org, role_target, roles) in people.items():
        # Provisioned by an admin first, then signed in through the hub (which adds the course groups).
        body: dict[str, Any] = {"name": name, "roles": roles or ["learner"]}
        if org:
            body["organisation_id"] = world.organisations[org]
        if role_target:
            body["role_target"] = role_target
        world.ids[name] = call("POST", "people", body)["id"]
        add_hub_user(hub, name, groups)
        call("GET", "capabilities", headers=world.as_user(name))
    call("POST", "results", grade_result("alice-1", "alice", score=0.55, passed=False), headers=grader)
    call("POST", "results", grade_result(
        "alice-2", "alice", score=0.92, feedback_url=FEEDBACK_URL, mlflow_run_id=MLFLOW_RUN,
        started_at="2026-01-06T10:00:00Z", finished_at="2026-01-06T10:05:00Z",
    ), headers=grader)
    call("POST", "results", grade_result("amir-1", "amir", score=0.4, passed=False), headers=grader)
    call("POST", "results", grade_result("bob-1", "bob", score=0.8), headers=grader)
    return world
