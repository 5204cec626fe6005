"""Open Badges 3.0 credentials: an `OpenBadgeCredential` (W3C VC data model 2.0) signed as a VC-JWT (EdDSA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .badge_keys import load_or_create_key, public_jwk
from .settings import Settings

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWT_TYPE = "vc+jwt"
REVOCATION_TYPE = "1EdTechRevocationList"


def lms_base(settings: Settings) -> str:
    """The LMS's public URL with its prefix ("https://lab.example.org/services/lms/")."""
    origin = (settings.public_url or settings.service_url).rstrip("/")
    return origin + settings.service_prefix


@dataclass(frozen=True)
class BadgeIssuer:
    key: Ed25519PrivateKey
    base: str
    name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> BadgeIssuer:
        return cls(key=load_or_create_key(settings.badge_key_path), base=lms_base(settings), name=settings.badge_issuer_name)

    @property
    def jwk(self) -> dict[str, str]:
        return public_jwk(self.key.public_key())

    @property
    def key_id(self) -> str:
        return self.jwk["kid"]

    @property
    def issuer_id(self) -> str:
        return f"{self.base}badges/issuer"

    def profile(self) -> dict[str, Any]:
        """The issuer's OB 3.0 Profile (what `issuer` in every credential names)."""
        return {
            "@context": [VC_CONTEXT, OB_CONTEXT], "id": self.issuer_id, "type": ["Profile"], "name": self.name,
            "url": self.base, "publicKey": f"{self.base}badges/jwks.json",
        }

    def sign(self, credential: dict[str, Any]) -> str:
        """The VC-JWT: the credential is the claim set; iss/sub/jti/nbf/iat repeat it for JWT tooling."""
        issued = datetime.fromisoformat(credential["validFrom"])
        claims = {
            **credential, "iss": self.issuer_id, "jti": credential["id"], "sub": credential["credentialSubject"]["id"],
            "nbf": int(issued.timestamp()), "iat": int(issued.timestamp()),
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.key_id, "typ": JWT_TYPE})


@dataclass(frozen=True)
class PassedProject:
    """What a badge says: who passed which project, with which result and MLflow run."""

    badge_id: str
    learner: str
    item_id: str
    title: str
    description: str
    result_id: int
    attempt: int
    score: float
    targets: list[dict[str, Any]]
    mlflow_run_id: str | None
    mlflow_run_url: str | None
    dataset_version: str | None
    issued_at: datetime


def badge_credential(issuer: BadgeIssuer, passed: PassedProject) -> dict[str, Any]:
    base = issuer.base
    achievement_id = f"{base}items/{passed.item_id}"
    descriptions = [
        {"id": f"{achievement_id}#target-{t['metric']}", "type": ["ResultDescription"], "name": t["metric"],
         "resultType": "ext:RealNumber", "requiredValue": str(t["threshold"]),
         "valueDirection": t.get("direction", "")}
        for t in passed.targets
    ]
    results = [
        {"type": ["Result"], "resultDescription": f"{achievement_id}#target-{t['metric']}", "value": str(t.get("value")),
         "status": "Completed" if t.get("met") else "InProgress"}
        for t in passed.targets
    ]
    evidence = {
        "id": passed.mlflow_run_url or f"{base}results/{passed.result_id}",
        "type": ["Evidence"], "name": f"Graded attempt {passed.attempt} of {passed.title}",
        "genre": "MLflow run" if passed.mlflow_run_url else "Graded result",
        "narrative": (
            f"Scored {passed.score:.4f} on hidden test data"
            + (f" (dataset {passed.dataset_version})" if passed.dataset_version else "")
            + "; every target met. " + "; ".join(f"{t['metric']} = {t.get('value')}" for t in passed.targets)
        ),
        "result": {"id": f"{base}results/{passed.result_id}", "score": passed.score, "attempt": passed.attempt,
                   "mlflow_run_id": passed.mlflow_run_id},
    }
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{passed.badge_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Passed: {passed.title}",
        "issuer": {"id": issuer.issuer_id, "type": ["Profile"], "name": issuer.name},
        "validFrom": passed.issued_at.isoformat(),
        "credentialSubject": {
            "id": f"urn:practicum:learner:{passed.learner}", "type": ["AchievementSubject"],
            "achievement": {
                "id": achievement_id, "type": ["Achievement"], "achievementType": "Assessment", "name": passed.title,
                "description": passed.description or passed.title,
                "criteria": {"narrative": "Pass every accuracy target of the project on data the learner never sees."},
                "resultDescription": descriptions,
            },
            "result": results,
        },
        "evidence": [evidence],
        "credentialStatus": {"id": f"{base}badges/revocations", "type": REVOCATION_TYPE},
    }
