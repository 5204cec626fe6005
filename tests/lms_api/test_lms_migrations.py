"""Migrations: an empty database to head, an older revision to head with its data, and head == the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from practicum.lms_api.db.engine import make_engine
from practicum.lms_api.db.migrate import alembic_config, current_revision, head_revision, upgrade_database
from practicum.lms_api.db.tables import Base

BACKENDS = pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)


@BACKENDS
def test_empty_database_to_head_matches_the_models(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None
    upgrade_database(empty_db_url)
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: chain the newest on the one before"
    assert current_revision(empty_db_url) == head_revision() == heads[0]
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
            assert differences == []
            assert set(inspect(connection).get_table_names()) >= {"people", "results", "outbox", "profile_changes"}
    finally:
        engine.dispose()
    upgrade_database(empty_db_url)  # a second run is a no-op


@BACKENDS
def test_upgrade_from_the_first_revision_keeps_data(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, "0001_initial")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organisations (slug, name, created_at) VALUES ('acme', 'Acme', '2026-01-01 00:00:00')"
            ))
            connection.execute(text(
                "INSERT INTO people (name, organisation_id, active, created_at) "
                "VALUES ('alice', 1, true, '2026-01-01 00:00:00')"
            ))
            assert "role_target" not in {c["name"] for c in inspect(connection).get_columns("people")}
        upgrade_database(empty_db_url)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT name, organisation_id, role_target FROM people")).one()
            assert tuple(row) == ("alice", 1, None)
            assert connection.execute(text("SELECT count(*) FROM profile_values")).scalar() == 0
    finally:
        engine.dispose()
    assert current_revision(empty_db_url) == head_revision()


def test_the_app_migrates_an_empty_database_at_startup(tmp_path: object, hub: object) -> None:
    url = f"sqlite:///{tmp_path}/new.sqlite"
    from fastapi.testclient import TestClient
    from lms_fake_hub import lms_settings_for

    from practicum.lms_api.app import create_app

    with TestClient(create_app(lms_settings_for(hub, database_url=url))) as client:  # type: ignore[arg-type]
        assert client.get("/services/lms/health").status_code == 200
    assert current_revision(url) == head_revision()
