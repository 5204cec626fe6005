"""Checking an Open Badges 3.0 VC-JWT: offline (signature, issuer, shape), then revocation when online."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .badge_credential import JWT_TYPE, REVOCATION_TYPE
from .badge_keys import public_jwk

MAX_CREDENTIAL_CHARS = 200_000
StatusFetcher = Callable[[str], Any]  # URL -> the revocation list document


@dataclass(frozen=True)
class BadgeVerdict:
    valid: bool
    reason: str
    revoked: bool | None = None  # None: revocation not checked (offline)
    claims: dict[str, Any] = field(default_factory=dict)

    def proves(self) -> str:
        """What a valid credential proves, in a few lines."""
        if not self.valid:
            return f"NOT VALID: {self.reason}"
        subject = self.claims["credentialSubject"]
        achievement = subject["achievement"]
        evidence = (self.claims.get("evidence") or [{}])[0]
        lines = [
            f"valid: signed by {self.claims['issuer'].get('name', '')} ({self.claims['iss']}), key {self.reason}",
            f"{subject['id']} passed {achievement['name']!r} ({achievement['id']}) on {self.claims['validFrom']}",
            f"evidence: {evidence.get('narrative', '-')} [{evidence.get('id', '-')}]",
            "revocation: " + {None: "not checked (offline; --online checks the issuer's list)", True: "REVOKED",
                              False: "not revoked"}[self.revoked],
        ]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid and not self.revoked, "signature_valid": self.valid, "reason": self.reason,
                "revoked": self.revoked, "credential": self.claims or None}


def _fail(reason: str) -> BadgeVerdict:
    return BadgeVerdict(valid=False, reason=reason)


def verify_badge(
    token: str, keys: list[Ed25519PublicKey], *, fetch_status: StatusFetcher | None = None, now: datetime | None = None
) -> BadgeVerdict:
    """Check `token` against the issuer's public `keys`; with `fetch_status`, also its revocation list."""
    token = token.strip()
    if len(token) > MAX_CREDENTIAL_CHARS or token.count(".") != 2:
        return _fail("not a compact JWT (three base64url parts separated by dots)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        return _fail(f"unreadable JWT header: {exc}")
    if header.get("alg") != "EdDSA":  # never "none", never an HMAC keyed with a public key
        return _fail(f"algorithm {header.get('alg')!r} refused; badges are signed with EdDSA")
    if header.get("typ") not in (JWT_TYPE, None):
        return _fail(f"JWT type {header.get('typ')!r} is not {JWT_TYPE}")
    by_kid = {public_jwk(k)["kid"]: k for k in keys}
    candidates = [by_kid[header["kid"]]] if header.get("kid") in by_kid else list(keys) if "kid" not in header else []
    if not candidates:
        return _fail(f"signed with key {str(header.get('kid'))[:80]!r}, not a key of this issuer")
    claims: dict[str, Any] | None = None
    for key in candidates:
        try:
            claims = jwt.decode(
                token, key, algorithms=["EdDSA"], options={"require": ["iss", "jti", "sub", "nbf"], "verify_aud": False},
                leeway=60,
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            return _fail(f"invalid JWT: {exc}")
    if claims is None:
        return _fail("the signature does not match (tampered, or signed by another key)")
    problem = _shape_problem(claims, now or datetime.now(UTC))
    if problem:
        return _fail(problem)
    verdict = BadgeVerdict(valid=True, reason=public_jwk(candidates[0])["kid"] if len(candidates) == 1 else "matched",
                           claims=claims)
    if fetch_status is None:
        return verdict
    return BadgeVerdict(valid=True, reason=verdict.reason, claims=claims, revoked=_revoked(claims, fetch_status))


def _shape_problem(claims: dict[str, Any], now: datetime) -> str:
    types = claims.get("type") or []
    if "VerifiableCredential" not in types or "OpenBadgeCredential" not in types:
        return "not an OpenBadgeCredential"
    issuer = claims.get("issuer")
    if not isinstance(issuer, dict) or issuer.get("id") != claims.get("iss"):
        return "issuer and iss disagree"
    if claims.get("id") != claims.get("jti"):
        return "id and jti disagree"
    subject = claims.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("id") != claims.get("sub") or "achievement" not in subject:
        return "credentialSubject is missing or disagrees with sub"
    try:
        valid_from = datetime.fromisoformat(str(claims.get("validFrom")))
        if "validUntil" in claims and datetime.fromisoformat(str(claims["validUntil"])) < now:
            return "expired (validUntil has passed)"
    except ValueError:
        return "validFrom/validUntil are not dates"
    if valid_from.tzinfo is None:
        return "validFrom has no time zone"
    return ""


def _revoked(claims: dict[str, Any], fetch_status: StatusFetcher) -> bool:
    status = claims.get("credentialStatus")
    if not isinstance(status, dict) or status.get("type") != REVOCATION_TYPE:
        return False  # the credential names no revocation method
    url = str(status.get("id", ""))
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"the revocation list URL {url[:200]!r} is not http(s)")
    document = fetch_status(url)
    if isinstance(document, bytes | str):
        document = json.loads(document)
    revoked = document.get("revokedCredentials", []) if isinstance(document, dict) else []
    return any(isinstance(entry, dict) and entry.get("id") == claims["id"] and entry.get("revoked", True)
               for entry in revoked)
