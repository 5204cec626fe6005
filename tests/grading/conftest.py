"""A grading service on a fresh database per test, over the session's small dataset build."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from grading_fixtures import LmsStandIn, age_risk_archive, running_lms_stand_in, settings_for

from practicum.grading.context import GradingContext


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
