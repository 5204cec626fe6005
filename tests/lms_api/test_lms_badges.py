"""Open Badges 3.0: a passed project is a signed VC-JWT; verify refuses tampering and other keys; revocation."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lms_fixtures import Lms
from lms_payloads import grade_result

from practicum.lms_api.badge_credential import BadgeIssuer
from practicum.lms_api.badge_keys import KeyFileError, jwk_public_key, load_or_create_key, load_public_keys
from practicum.lms_api.badge_verify import verify_badge


def _badges(lms: Lms, name: str = "alice") -> list[dict]:
    person = lms.ok(lms.get("people", lms.admin, params={"name": name}))["items"][0]["id"]
    return lms.ok(lms.get(f"people/{person}/badges", lms.admin))


def _issuer_keys(lms: Lms) -> list:
    return [jwk_public_key(k) for k in lms.ok(lms.client.get(lms.url("badges/jwks.json")))["keys"]]


def _fetch(lms: Lms):  # the LMS's public revocation list, as `badge verify --online` fetches it
    return lambda url: lms.ok(lms.client.get(url))


def test_a_passed_project_gets_a_signed_open_badge_that_verifies(lms: Lms) -> None:
    lms.seed_catalog()
    lms.ok(lms.post("results", lms.admin, grade_result("fail-1", passed=False, score=0.4)), 201)
    assert _badges(lms) == []  # a fail earns nothing
    lms.ok(lms.post("results", lms.admin, grade_result("pass-1")), 201)
    lms.ok(lms.post("results", lms.admin, grade_result("pass-2")), 201)  # a second pass: still one badge
    lms.ok(lms.post("results", lms.admin, grade_result("quiz-1", item_id="intro_medical_ai/welcome",
                                                       kind="assignment")), 201)  # not a project: none
    (badge,) = _badges(lms)
    header = jwt.get_unverified_header(badge["credential"])
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt" and header["kid"] == badge["key_id"]
    verdict = verify_badge(badge["credential"], _issuer_keys(lms), fetch_status=_fetch(lms))
    assert verdict.valid and verdict.revoked is False, verdict.reason
    vc = verdict.claims
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert vc["credentialSubject"]["achievement"]["id"].endswith("items/lung_nodule_ct_detection")
    assert vc["credentialSubject"]["result"][0]["value"] == "0.81"
    evidence = vc["evidence"][0]
    assert evidence["result"]["mlflow_run_id"] == "0123456789abcdef0123456789abcdef"
    assert evidence["result"]["attempt"] == 2 and "froc = 0.81" in evidence["narrative"]
    assert vc["issuer"]["id"] == lms.ok(lms.client.get(lms.url("badges/issuer")))["id"] == vc["iss"]
    assert "passed 'Lung nodule" in verdict.proves() or "passed '" in verdict.proves()


def _tamper(token: str, change) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def test_tampered_foreign_and_downgraded_credentials_are_refused(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.seed_catalog()
    lms.ok(lms.post("results", lms.admin, grade_result("pass-1")), 201)
    token = _badges(lms)[0]["credential"]
    keys = _issuer_keys(lms)

    def better_score(claims: dict) -> None:
        claims["credentialSubject"]["result"][0]["value"] = "0.99"

    def someone_else(claims: dict) -> None:
        claims["credentialSubject"]["id"] = claims["sub"] = "urn:practicum:learner:mallory"

    for changed in (better_score, someone_else):
        verdict = verify_badge(_tamper(token, changed), keys)
        assert not verdict.valid and "signature" in verdict.reason
    # Signed by another Ed25519 key (the same claims, a forger's key id or the issuer's): refused.
    claims = jwt.decode(token, options={"verify_signature": False})
    forger = Ed25519PrivateKey.generate()
    for kid in ("forger", jwt.get_unverified_header(token)["kid"]):
        forged = jwt.encode(claims, forger, algorithm="EdDSA", headers={"kid": kid, "typ": "vc+jwt"})
        assert not verify_badge(forged, keys).valid
    # alg=none and HS256 keyed with the public key (algorithm confusion) are refused before any key use.
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    assert "algorithm" in verify_badge(unsigned, keys).reason
    hmac = jwt.encode(claims, "public-key-bytes", algorithm="HS256", headers={"kid": "x"})
    assert "algorithm" in verify_badge(hmac, keys).reason
    assert not verify_badge("not a jwt", keys).valid and not verify_badge("a.b.c", keys).valid


def test_a_revoked_badge_is_reported_by_verify_online(sqlite_lms: Lms) -> None:
    lms = sqlite_lms
    lms.seed_catalog()
    lms.ok(lms.post("results", lms.admin, grade_result("pass-1")), 201)
    badge = _badges(lms)[0]
    alice = lms.hub_user("alice")
    assert lms.post(f"badges/{badge['id']}/revoke", alice, {"reason": "mine"}).status_code == 403
    lms.ok(lms.post(f"badges/{badge['id']}/revoke", lms.admin, {"reason": "grading error"}))
    offline = verify_badge(badge["credential"], _issuer_keys(lms))
    assert offline.valid and offline.revoked is None  # offline: the signature still holds; status unknown
    online = verify_badge(badge["credential"], _issuer_keys(lms), fetch_status=_fetch(lms))
    assert online.valid and online.revoked is True and "REVOKED" in online.proves()
    assert online.to_json()["valid"] is False
    listed = lms.ok(lms.client.get(lms.url("badges/revocations")))["revokedCredentials"]
    assert listed[0]["id"] == f"urn:uuid:{badge['id']}" and listed[0]["revocationReason"] == "grading error"


def test_the_issuer_key_is_created_once_private_and_refused_when_exposed(tmp_path: Path) -> None:
    path = tmp_path / "state" / "issuer.pem"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_key(path)
    assert again.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key(path)
    os.chmod(path, 0o600)
    link = tmp_path / "link.pem"
    link.symlink_to(path)
    with pytest.raises(KeyFileError, match="cannot read"):
        load_or_create_key(link)  # never follows a link to someone else's key
    jwks = tmp_path / "jwks.json"
    issuer = BadgeIssuer(key=key, base="https://lab.example.org/services/lms/", name="Practicum")
    jwks.write_text(json.dumps({"keys": [issuer.jwk]}))
    assert load_public_keys(jwks)[0].public_bytes_raw() == key.public_key().public_bytes_raw()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(KeyFileError, match="not valid JSON"):
        load_public_keys(tmp_path / "bad.json")


def test_an_unwritable_state_folder_says_how_to_name_the_key(tmp_path: Path) -> None:
    (blocked := tmp_path / "a-file").write_text("not a folder")  # refused even to root, unlike a mode
    with pytest.raises(KeyFileError, match="cannot read"):
        load_or_create_key(blocked / "issuer.pem")
    with pytest.raises(KeyFileError, match="PRACTICUM_LMS_BADGE_KEY_FILE"):
        load_or_create_key(Path("/proc/self/no-such-dir/issuer.pem"))
