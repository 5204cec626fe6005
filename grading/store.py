"""Submitted archives, stored by their SHA-256 (content-addressed): written and synced before the intake answers."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class TooLarge(ValueError):
    pass


class IncomingBlob:
    """A blob being received: written in chunks, hashed on the way, durable once committed."""

    def __init__(self, store: BlobStore, max_bytes: int) -> None:
        self._store = store
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self.size = 0
        store.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.partial = store.root / f".incoming-{uuid.uuid4().hex}"
        self._handle = open(os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise TooLarge(f"the submission is larger than {self._max_bytes // (1024 * 1024)} MiB")
        self._digest.update(chunk)
        self._handle.write(chunk)

    def commit(self) -> str:
        """Move the blob to its digest's place, synced to disk; returns the digest."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        digest = self._digest.hexdigest()
        target = self._store.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(self.partial, target)  # the same bytes may be there already: they are these bytes
        _fsync_folder(target.parent)
        return digest

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self.partial.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if not _SHA256.match(digest):
            raise ValueError(f"not a SHA-256 digest: {digest!r}")
        return self.root / digest[:2] / digest

    def incoming(self, max_bytes: int) -> IncomingBlob:
        return IncomingBlob(self, max_bytes)

    def put(self, data: bytes, max_bytes: int | None = None) -> str:
        blob = self.incoming(len(data) if max_bytes is None else max_bytes)
        try:
            blob.write(data)
            return blob.commit()
        except BaseException:
            blob.discard()
            raise

    def verified_path(self, digest: str) -> Path:
        """The blob's path, after checking its bytes still match its digest."""
        path = self.path(digest)
        digest_now = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest_now.update(chunk)
        if digest_now.hexdigest() != digest:
            raise ValueError(f"stored submission {digest} is damaged (its bytes no longer match its digest)")
        return path


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a crash
    finally:
        os.close(fd)
