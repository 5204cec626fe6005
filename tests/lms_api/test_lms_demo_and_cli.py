"""The demo steps against a real uvicorn server, and the admin CLI."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lms_fake_hub import FakeHub, lms_settings_for
from lms_payloads import grade_result
from lms_server import serving

from practicum.contracts.grade_result import GradeResult
from practicum.lms_api.admin_cli import add_lms_commands
from practicum.lms_api.admin_cli import main as admin_main
from practicum.lms_api.demo_steps import bootstrap_demo, run_lms_demo


def test_demo_steps_show_profile_path_hr_and_webhook(db_url: str, hub: FakeHub) -> None:
    tokens = bootstrap_demo(db_url)
    # The demo's HR receiver listens on loopback: the admin's allow-list names it.
    settings = lms_settings_for(hub, database_url=db_url, webhook_interval_seconds=0,
                                webhook_allowed_hosts=frozenset({"127.0.0.1"}))
    lines: list[str] = []
    with serving(settings) as base_url:
        result = GradeResult.model_validate(grade_result(
            "demo-1", learner="demo-learner", item_id="intro_medical_ai/welcome", kind="assignment",
            course_id="intro_medical_ai", score=0.95,
        ))
        summary = run_lms_demo(base_url, tokens.admin_token, tokens.hr_token, result, say=lines.append)
    assert summary.profile_changes and summary.webhook_events and summary.webhook_signatures_ok
    assert "intro_medical_ai/welcome" in summary.path_before
    assert "intro_medical_ai/welcome" not in summary.path_after
    assert summary.hr_profile["clinical_data"] == 0.1425  # 0 + 0.5 x 0.3 x (1 x 0.95)
    assert json.loads(summary.to_json())["result_id"] == summary.result_id
    assert any("webhook delivered" in line for line in lines)


def test_admin_cli_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"

    def run_cli(*args: str) -> dict:
        assert admin_main([*args, "--database-url", db]) == 0
        return json.loads(capsys.readouterr().out)

    assert run_cli("org", "create", "acme", "--name", "Acme")["slug"] == "acme"
    assert run_cli("catalog", "sync")["courses_created"]
    person = run_cli("person", "create", "alice", "--organisation", "acme", "--role-target", "clinician")
    assert person["organisation_id"] == 1 and person["roles"] == ["learner"]
    # A hub user who signed in before being provisioned joins an organisation only through an admin.
    assert run_cli("person", "create", "bob")["organisation_id"] is None
    bob = run_cli("person", "update", "bob", "--organisation", "acme", "--team", "imaging", "--role-target", "clinician")
    assert (bob["organisation_id"], bob["role_target"]) == (1, "clinician") and bob["team_id"]
    bob = run_cli("person", "update", "bob", "--no-team", "--inactive", "--role-target", "none")
    assert (bob["team_id"], bob["active"], bob["role_target"]) == (None, False, None)
    assert run_cli("person", "update", "bob", "--no-organisation", "--active")["organisation_id"] is None
    assert admin_main(["person", "update", "nobody", "--database-url", db]) == 1
    assert "not_found" in capsys.readouterr().err
    token = run_cli("token", "create", "hr", "--scope", "hr:read", "--organisation", "acme")
    assert token["token"].startswith("lms_")
    assert run_cli("token", "revoke", str(token["id"]))["revoked_at"]
    interview = tmp_path / "alice.json"
    interview.write_text(json.dumps({"person": "alice", "organisation": "acme", "assessed_at": "2026-01-01T00:00:00Z",
                                     "assessor": "hr", "levels": {"clinical_scenario": "proficient"}}))
    imported = run_cli("profile", "import", str(interview))
    assert imported["changes"] == [{"dimension": "clinical_scenario", "before": 0.0, "after": 3.0}]
    assert admin_main(["webhook", "add", "acme", "http://127.0.0.1:9/hook", "--database-url", db]) == 1
    assert "webhook_url_not_allowed" in capsys.readouterr().err  # loopback: only with the allow-list
    monkeypatch.setenv("PRACTICUM_LMS_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    hook = run_cli("webhook", "add", "acme", "http://127.0.0.1:9/hook")
    assert hook["secret"].startswith("whsec_")
    assert run_cli("outbox", "deliver")["attempted"] == 0  # events before the subscription are not sent


def test_admin_cli_runs_as_a_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "practicum.lms_api", "admin", "org", "create", "acme",
         "--database-url", f"sqlite:///{tmp_path / 'cli.sqlite'}"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["slug"] == "acme"


def test_admin_commands_plug_into_another_parser() -> None:
    parser = argparse.ArgumentParser(prog="practicum lms")
    add_lms_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["token", "create", "grader", "--scope", "results:write"])
    assert args.scope == ["results:write"] and callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["token", "create", "x", "--scope", "root"])
