"""docs/lms.md: the CronJob it documents runs a real admin command, and the settings it names exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from practicum.lms_api.admin_cli import add_lms_commands
from practicum.lms_api.settings import _OPTIONAL, Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "lms.md"


def test_the_documented_cronjob_runs_the_scheduled_job_command() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    (job,) = [doc for doc in map(yaml.safe_load, blocks) if doc.get("kind") == "CronJob"]
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[:4] == ["python", "-m", "practicum.lms_api", "admin"]
    parser = argparse.ArgumentParser()
    add_lms_commands(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(args[4:])
    assert parsed.func.__qualname__.startswith("_database_command") and job["spec"]["concurrencyPolicy"] == "Forbid"


def test_every_setting_the_page_names_is_read_from_the_environment() -> None:
    named = set(re.findall(r"PRACTICUM_LMS_([A-Z_]+[A-Z])", DOC.read_text()))
    readable = {name.upper() for name in _OPTIONAL} | {"DATABASE_URL", "WEBHOOK_ALLOWED_HOSTS", "MLFLOW_URL",
                                                       "BROKER_URL", "BEAT_SECONDS"}
    assert named and named - readable == set()
    assert all(hasattr(Settings, name) for name in _OPTIONAL)
