"""A fresh database per test (SQLite file, and PostgreSQL when it is reachable), and an LMS client."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from lms_fake_hub import FakeHub, lms_settings_for, running_fake_hub

from practicum.lms_api.app import create_app
from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.migrate import upgrade_database
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.tokens import Scope

PREFIX = "/services/lms/"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_ADMIN_DBS = ("postgres", "test")


def pg_admin() -> psycopg.Connection[Any] | None:
    for name in PG_ADMIN_DBS:
        try:
            return psycopg.connect(f"{PG_SERVER}/{name}", autocommit=True, connect_timeout=3)
        except psycopg.Error:
            continue
    return None


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "lms.sqlite"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    admin = pg_admin()
    if admin is None:
        yield None
        return
    name = f"lms_template_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade_database(pg_url(name))
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def fresh_pg_database(template: str | None) -> Iterator[str]:
    admin = pg_admin()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"lms_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield pg_url(name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A migrated, empty database of each backend, new for every test."""
    if request.param == "sqlite":
        path = tmp_path / "lms.sqlite"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        yield from fresh_pg_database(request.getfixturevalue("pg_template"))


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty (unmigrated) database; parametrized by the tests that use it."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
    else:
        yield from fresh_pg_database(None)


@dataclass
class Lms:
    client: TestClient
    hub: FakeHub
    db: Database
    admin_token: str
    _counter: list[int] = field(default_factory=lambda: [0])

    def url(self, path: str) -> str:
        return PREFIX + path.lstrip("/")

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.bearer(self.admin_token)

    def token(self, *scopes: Scope, organisation_id: int | None = None) -> str:
        with self.db.write() as session:
            _, token = create_token(
                session, name="test", scopes=list(scopes), organisation_id=organisation_id, created_by="test"
            )
            session.commit()
        return token

    def hub_user(self, name: str, groups: list[str] | None = None, admin: bool = False) -> dict[str, str]:
        """Headers of a hub user (the fake hub knows their token)."""
        token = f"hub-token-{name}"
        self.hub.tokens[token] = {
            "kind": "user", "name": name, "admin": admin, "groups": groups or [],
            "scopes": ["access:services!service=lms"],
        }
        return {"Authorization": f"token {token}"}

    def get(self, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        return self.client.get(self.url(path), headers=headers, **kwargs)

    def post(self, path: str, headers: dict[str, str], json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(self.url(path), headers=headers, json=json, **kwargs)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def seed_catalog(self) -> None:
        import yaml

        from practicum.lms_api.services.catalog import SEED_CATALOG

        self.ok(self.post("catalog/sync", self.admin, yaml.safe_load(SEED_CATALOG.read_text())))

    def org(self, slug: str) -> int:
        return int(self.ok(self.post("organisations", self.admin, {"slug": slug, "name": slug.title()}), 201)["id"])

    def person(self, name: str, **fields: Any) -> int:
        return int(self.ok(self.post("people", self.admin, {"name": name, **fields}), 201)["id"])


def make_lms(db_url: str, hub: FakeHub, **settings: Any) -> Iterator[Lms]:
    # The database is migrated already (copied from a migrated template); startup migration has its own test.
    values: dict[str, Any] = {
        "database_url": db_url, "webhook_interval_seconds": 0, "audit_flush_seconds": 0.2, "migrate_on_startup": False,
        "reminder_interval_seconds": 0,
    }
    made_state = "state_dir" not in settings
    if made_state:
        values["state_dir"] = tempfile.mkdtemp(prefix="lms-state-")
    values.update(settings)
    app = create_app(lms_settings_for(hub, **values))
    db = Database(db_url)
    with db.write() as session:
        _, admin_token = create_token(session, name="admin", scopes=[Scope.ADMIN], organisation_id=None, created_by="test")
        session.commit()
    try:
        with TestClient(app, base_url="https://lab.example.org", follow_redirects=False) as client:
            yield Lms(client=client, hub=hub, db=db, admin_token=admin_token)
    finally:
        db.dispose()
        if made_state:
            shutil.rmtree(values["state_dir"], ignore_errors=True)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with running_fake_hub() as fake_hub:
        yield fake_hub


@pytest.fixture
def lms(db_url: str, hub: FakeHub) -> Iterator[Lms]:
    yield from make_lms(db_url, hub)


@pytest.fixture
def sqlite_lms(tmp_path: Path, sqlite_template: Path, hub: FakeHub) -> Iterator[Lms]:
    """SQLite only: for tests whose subject is not the database."""
    path = tmp_path / "lms.sqlite"
    shutil.copy(sqlite_template, path)
    yield from make_lms(f"sqlite:///{path}", hub)
