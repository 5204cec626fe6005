"""Keyed, deterministic replacements: UIDs, per-patient date offsets and pseudonyms.

Everything derives from HMAC-SHA256 under a secret key, so re-running with the same key
gives the same replacements (files de-identified on different days still link up), while
without the key they cannot be reversed or recomputed.

* UID: ``2.25.<decimal of the first 128 bits of HMAC(key, "uid" | old)>`` - a UUID-derived
  UID (PS3.5 B.2), at most 44 characters.
* Date offset: a whole number of days in [-3652, -366] (one to ten years back), from
  HMAC(key, "date-offset" | patient key).
* Pseudonym: ``PSN-`` and ten capital letters (no digits, so it can never be mistaken for
  a number) from HMAC(key, "pseudonym" | patient key).
"""

from __future__ import annotations

import hashlib
import hmac

MIN_SECRET_BYTES = 16
OFFSET_MIN_DAYS, OFFSET_MAX_DAYS = 366, 3652
UID_ROOT = "2.25."


def _mac(secret: bytes, purpose: str, value: str) -> bytes:
    return hmac.new(secret, purpose.encode() + b"\x00" + value.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


class Keyring:
    """Replacement values under one secret; caches UIDs and counts the distinct ones."""

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes | bytearray) or len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the de-identification secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = bytes(secret)
        self._uids: dict[str, str] = {}
        self._fresh: list[str] = []

    def uid(self, old: str) -> str:
        old = old.strip().rstrip("\x00")
        new = self._uids.get(old)
        if new is None:
            new = UID_ROOT + str(int.from_bytes(_mac(self._secret, "uid", old)[:16], "big"))
            self._uids[old] = new
            self._fresh.append(old)
        return new

    def drain_new(self) -> list[str]:
        """Original UIDs first mapped since the last call."""
        fresh, self._fresh = self._fresh, []
        return fresh

    @property
    def n_uids(self) -> int:
        return len(self._uids)

    def uid_map(self) -> dict[str, str]:
        return dict(self._uids)

    def date_offset_days(self, patient_key: str) -> int:
        """A negative offset in days, the same for every file of the patient."""
        span = OFFSET_MAX_DAYS - OFFSET_MIN_DAYS + 1
        n = int.from_bytes(_mac(self._secret, "date-offset", patient_key)[:8], "big")
        return -(OFFSET_MIN_DAYS + n % span)

    def pseudonym(self, patient_key: str) -> str:
        digest = _mac(self._secret, "pseudonym", patient_key)
        return "PSN-" + "".join(chr(ord("A") + b % 26) for b in digest[:10])
