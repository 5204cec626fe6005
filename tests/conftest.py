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


@pytest.fixture(scope="session")
def shared_lab(tmp_path_factory):
    """One real lab for every test that needs one (JupyterHub, sandboxes, MLflow and its gateway, the LMS,
    formgraders): started on first use, stopped at the end of the session."""
    from practicum.lab.background import start_background_lab

    root = tmp_path_factory.mktemp("lab")
    datasets = root / "datasets"
    (datasets / "ct_small" / "train").mkdir(parents=True)
    (datasets / "ct_small" / "train" / "cases.csv").write_text("series,label\ns1,1\n")
    running = start_background_lab(root / "state", datasets)
    yield running
    running.down()
