"""Retention: audit entries and finished webhook deliveries are kept a set number of days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db.tables import AuditEntry, OutboxEvent, WebhookDelivery


def apply_retention(session: Session, *, audit_days: int, delivery_days: int, now: datetime) -> dict[str, int]:
    """Delete audit entries older than `audit_days` and delivered or dead outbox events (with their
    delivery log) older than `delivery_days`; 0 keeps that kind forever. Pending events are never deleted."""
    removed = {"audit_entries": 0, "outbox_events": 0, "webhook_deliveries": 0}
    if audit_days > 0:
        result = session.execute(delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=audit_days)))
        removed["audit_entries"] = result.rowcount or 0  # type: ignore[attr-defined]
    if delivery_days > 0:
        old = select(OutboxEvent.id).where(
            OutboxEvent.status.in_(("delivered", "dead")), OutboxEvent.created_at < now - timedelta(days=delivery_days)
        )
        result = session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(old)))
        removed["webhook_deliveries"] = result.rowcount or 0  # type: ignore[attr-defined]
        result = session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(old)))
        removed["outbox_events"] = result.rowcount or 0  # type: ignore[attr-defined]
    return removed
