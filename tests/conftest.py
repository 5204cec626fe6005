"""Fixtures shared across rooms: one small dataset build per test session."""

from __future__ import annotations

import os
import shutil
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
def shared_lab(tmp_path_factory, small_build):
    """One real lab for every test that needs one (JupyterHub, sandboxes, MLflow and its gateway, the LMS,
    formgraders, the grading service): started on first use, stopped at the end of the session.

    Its build holds a toy CT folder and the small build's EHR project data with its hidden split (what
    the grading service grades on); the LMS may send webhooks to this machine's receivers."""
    from practicum.lab.background import start_background_lab

    root = tmp_path_factory.mktemp("lab")
    datasets = root / "build" / "public"
    (datasets / "ct_small" / "train").mkdir(parents=True)
    (datasets / "ct_small" / "train" / "cases.csv").write_text("series,label\ns1,1\n")
    shutil.copytree(small_build / "public" / "ehr_risk", datasets / "ehr_risk")
    shutil.copytree(small_build / "hidden" / "ehr_risk", root / "build" / "hidden" / "ehr_risk")
    (root / "build" / "hidden").chmod(0o700)
    running = start_background_lab(root / "state", datasets, env={"PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"})
    yield running
    running.down()
