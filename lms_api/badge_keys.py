"""The badge issuer's Ed25519 key: created once in the LMS state (a 0600 file), published as a JWK set."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(ValueError):
    """The key file is unusable (unreadable, readable by others, not an Ed25519 key): one line says why."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    """The OKP JWK (RFC 8037) with its RFC 7638 thumbprint as `kid`."""
    x = _b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    members = {"crv": "Ed25519", "kty": "OKP", "x": x}  # the thumbprint's required members, sorted
    thumbprint = _b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**members, "kid": thumbprint, "alg": "EdDSA", "use": "sig"}


def _read_private(path: Path) -> Ed25519PrivateKey:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{path} is not a regular file")
        if info.st_mode & 0o077:
            raise KeyFileError(f"{path} is readable by others (mode {info.st_mode & 0o777:o}); chmod 600 it")
        data = handle.read(16_384)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise KeyFileError(f"{path} holds no readable private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key at `path`, created (mode 0600, never overwritten) if there is none yet."""
    try:
        return _read_private(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # a link (never followed), a folder in the way, no permission
        raise KeyFileError(f"cannot read the badge issuer key {path}: {exc.strerror}") from exc
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_private(path)
    except OSError as exc:
        raise KeyFileError(
            f"cannot create the badge issuer key {path}: {exc.strerror}; set PRACTICUM_LMS_BADGE_KEY_FILE "
            "(at scale: a mounted secret) or PRACTICUM_LMS_STATE_DIR"
        ) from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def load_public_keys(path: Path) -> list[Ed25519PublicKey]:
    """Public keys from a PEM public key, a JWK, a JWK set, or (the issuer's own) PEM private key file."""
    try:
        data = path.read_bytes()[:1_000_000]
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from exc
    text = data.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KeyFileError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
        entries = document.get("keys", [document]) if isinstance(document, dict) else []
        keys = [jwk_public_key(entry) for entry in entries if isinstance(entry, dict)]
        if not keys:
            raise KeyFileError(f"{path} holds no Ed25519 JWK")
        return keys
    if "PRIVATE KEY" in text:
        return [_read_private(path).public_key()]
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise KeyFileError(f"{path} is neither a PEM public key nor a JWK set") from exc
    if not isinstance(public, Ed25519PublicKey):
        raise KeyFileError(f"{path} is not an Ed25519 public key")
    return [public]


def jwk_public_key(jwk: dict[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise KeyFileError("a key is not an Ed25519 OKP JWK")
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise KeyFileError("a JWK's x is not a 32-byte Ed25519 key") from exc
