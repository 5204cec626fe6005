"""Fixtures shared across rooms: one small dataset build per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from practicum.datasets.pipeline import build_datasets


@pytest.fixture(scope="session")
def small_build(tmp_path_factory) -> Path:
    """A `practicum datasets build --size small --seed 0` folder (public/, hidden/, reports/); read-only by convention.

    $PRACTICUM_TEST_BUILD names an existing build to reuse while iterating locally.
    """
    reused = os.environ.get("PRACTICUM_TEST_BUILD")
    if reused:
        return Path(reused)
    out = tmp_path_factory.mktemp("small_build")
    build_datasets(out, size="small", seed=0, progress=False)
    return out
