"""A grading service on a fresh database per test, over the session's small dataset build."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from grading_fixtures import LmsStandIn, age_risk_archive, running_lms_stand_in, settings_for
from sqlalchemy import create_engine, text

from practicum.grading.context import GradingContext

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"


@pytest.fixture(scope="session")
def model_archive(tmp_path_factory) -> bytes:
    return age_risk_archive(tmp_path_factory.mktemp("age_risk") / "model")


@pytest.fixture
def context(tmp_path, small_build) -> Iterator[GradingContext]:
    made = GradingContext(settings_for(tmp_path, small_build))
    yield made
    made.close()


@pytest.fixture
def lms() -> Iterator[LmsStandIn]:
    with running_lms_stand_in() as stand_in:
        yield stand_in


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'grading.sqlite'}"
        return
    name = f"grading_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES + "test", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - a machine without PostgreSQL skips this half
        pytest.skip(f"PostgreSQL is not available: {error}")
    yield POSTGRES + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
