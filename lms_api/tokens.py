"""LMS API tokens for machine clients: `lms_<random>`, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

TOKEN_PREFIX = "lms_"


class Scope(StrEnum):
    ADMIN = "admin"  # everything
    RESULTS_WRITE = "results:write"  # the grader: post results, progress events, evidence
    HR_READ = "hr:read"  # read people, profiles, results, progress of one organisation
    HR_WRITE = "hr:write"  # import interview profiles, manage webhooks of one organisation
    SCIM = "scim"  # an HR system's provisioning (SCIM 2.0): the people and teams of one organisation


ORGANISATION_SCOPES = frozenset({Scope.HR_READ, Scope.HR_WRITE, Scope.SCIM})


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # The token carries 256 random bits, so a fast hash is enough (as GitHub and PyPI do).
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_lms_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)
