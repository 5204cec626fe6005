"""Webhook signatures: `X-Practicum-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.

The timestamp (Unix seconds, header `X-Practicum-Timestamp`) is signed with the body so a captured
request cannot be replayed later; receivers check it is recent and compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Practicum-Signature"
TIMESTAMP_HEADER = "X-Practicum-Timestamp"
EVENT_ID_HEADER = "X-Practicum-Event-Id"
EVENT_TYPE_HEADER = "X-Practicum-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float | None = None, tolerance_seconds: int = 300
) -> bool:
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
