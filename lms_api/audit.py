"""The audit log: who read or changed what.

Changes are written in the same transaction as the change itself. Reads are many and cheap,
so they go through an in-memory buffer that the app flushes every `audit_flush_seconds`
(and at shutdown); a crash can lose at most that interval of read records.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from .db.engine import Database
from .db.tables import AuditEntry
from .db.types import utcnow
from .principal import Principal


def change_entry(
    principal: Principal, action: str, resource: str, resource_id: object, detail: str = ""
) -> dict[str, Any]:
    """The audit row of a change (for Core inserts; `record_change` adds it to a Session)."""
    return {
        "at": utcnow(), "actor": principal.actor, "action": action, "resource": resource,
        "resource_id": str(resource_id)[:250], "detail": detail[:500],
    }


def record_change(
    session: Session, principal: Principal, action: str, resource: str, resource_id: object, detail: str = ""
) -> None:
    session.add(AuditEntry(**change_entry(principal, action, resource, resource_id, detail)))


class AuditBuffer:
    def __init__(self, max_pending: int = 5000) -> None:
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._max_pending = max_pending

    def read(self, principal: Principal, resource: str, resource_id: object, detail: str = "") -> None:
        entry = {
            "at": utcnow(), "actor": principal.actor, "action": "read", "resource": resource,
            "resource_id": str(resource_id)[:250], "detail": detail[:500],
        }
        with self._lock:
            self._pending.append(entry)
            if len(self._pending) > self._max_pending:
                # Never grow without bound if the database is unavailable for long.
                del self._pending[: len(self._pending) - self._max_pending]

    def flush(self, db: Database) -> int:
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        try:
            with db.write_engine.begin() as connection:  # Core executemany: no ORM unit of work
                connection.execute(insert(AuditEntry.__table__), pending)
        except Exception:
            with self._lock:
                self._pending[:0] = pending
            raise
        return len(pending)
