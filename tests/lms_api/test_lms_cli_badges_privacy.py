"""`practicum lms badge|person|reminders|retention ...` against a real LMS served by uvicorn."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lms_fake_hub import FakeHub, lms_settings_for
from lms_payloads import grade_result
from lms_server import free_port, serving

from practicum.lms_api.admin_cli import main as admin_main
from practicum.lms_api.db.engine import Database
from practicum.lms_api.services.catalog import SEED_CATALOG
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.tokens import Scope


def test_badge_verify_revoke_export_erase_and_the_scheduled_job_from_the_cli(
    tmp_path: Path, hub: FakeHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'lms.sqlite'}"
    port = free_port()
    settings = lms_settings_for(hub, database_url=url, service_url=f"http://127.0.0.1:{port}", state_dir=str(tmp_path),
                                webhook_interval_seconds=0, reminder_interval_seconds=0)
    monkeypatch.setenv("PRACTICUM_LMS_DATABASE_URL", url)
    monkeypatch.setenv("PRACTICUM_LMS_STATE_DIR", str(tmp_path))

    def cli(*args: str, rc: int = 0) -> str:
        code = admin_main(list(args))
        captured = capsys.readouterr()
        assert code == rc, captured.out + captured.err
        return captured.out + captured.err

    with serving(settings, port) as base:
        db = Database(url)
        with db.write() as session:
            _, admin = create_token(session, name="a", scopes=[Scope.ADMIN], organisation_id=None, created_by="t")
            session.commit()
        db.dispose()
        headers = {"Authorization": f"Bearer {admin}"}
        with httpx.Client(base_url=base, headers=headers, trust_env=False) as http:
            assert http.post("catalog/sync", json=yaml.safe_load(SEED_CATALOG.read_text())).status_code == 200
            assert http.post("results", json=grade_result("s1", "alice")).status_code == 201
            (jwks := tmp_path / "jwks.json").write_text(http.get("badges/jwks.json").text)
        listed = json.loads(cli("badge", "list", "alice"))["badges"]
        (credential := tmp_path / "alice.jwt").write_text(listed[0]["credential"])

        out = cli("badge", "verify", str(credential), "--public-key", str(jwks))
        assert out.startswith("valid: signed by Practicum") and "not checked" in out
        assert "valid:" in cli("badge", "verify", str(credential))  # the embedded issuer key (the state folder)
        # The revocation list is on loopback: refused as an internal address unless allowed.
        assert "internal" in cli("badge", "verify", str(credential), "--online", rc=2)
        assert "not revoked" in cli("badge", "verify", str(credential), "--online", "--allow-host", "127.0.0.1")
        cli("badge", "revoke", listed[0]["id"], "--reason", "copied work")
        out = cli("badge", "verify", str(credential), "--online", "--allow-host", "127.0.0.1", "--json", rc=1)
        assert json.loads(out)["revoked"] is True
        token = credential.read_text()
        (tampered := tmp_path / "tampered.jwt").write_text(token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:])
        assert "NOT VALID" in cli("badge", "verify", str(tampered), rc=1)
        (other := tmp_path / "other.pem").write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        assert "not a key of this issuer" in cli("badge", "verify", str(credential), "--public-key", str(other), rc=1)
        assert "cannot read" in cli("badge", "verify", str(credential), "--public-key", str(tmp_path / "none"), rc=2)

    report = json.loads(cli("reminders", "run", "--now", "2026-12-02T10:00:00+00:00"))
    assert set(report) == {"at", "reminders", "retention"}
    assert "invalid_time" in cli("reminders", "run", "--now", "yesterday", rc=1)
    assert json.loads(cli("retention", "apply"))["audit_entries"] == 0
    exported = json.loads(cli("person", "export", "alice", "--output", str(tmp_path / "alice.json")))
    assert exported["tables"]["results"] == 1 and exported["tables"]["badges"] == 1
    assert "confirmation_mismatch" in cli("person", "erase", "alice", "--confirm", "bob", rc=1)
    assert json.loads(cli("person", "erase", "alice", "--confirm", "alice"))["mode"] == "erased"
    assert "not_found" in cli("person", "export", "alice", rc=1)
