"""Webhooks to HR: an outbox written with the change, delivered with retries, backoff and a log."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ..db.tables import OutboxEvent, Webhook, WebhookDelivery
from ..errors import ApiError
from ..outbound import Resolver, TargetRefused, check_target, pinned_request, system_resolver
from ..schemas.webhooks import (
    DeliveryPublic,
    DeliveryReport,
    OutboxEventPublic,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
)
from ..webhook_signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 12
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 120.0
    batch: int = 100

    def delay(self, attempts: int) -> timedelta:
        """Exponential: backoff, 2x, 4x, ... capped; `attempts` counts failures so far (>= 1)."""
        return timedelta(seconds=min(self.backoff_seconds * 2 ** (attempts - 1), self.backoff_max_seconds))


def webhook_public(hook: Webhook) -> WebhookPublic:
    return WebhookPublic(
        id=hook.id, organisation_id=hook.organisation_id, url=hook.url, events=hook.events.split(),
        active=hook.active, description=hook.description, created_at=hook.created_at,
    )


def create_webhook(session: Session, *, organisation_id: int, data: WebhookCreate) -> tuple[Webhook, str]:
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(
        organisation_id=organisation_id, url=str(data.url), secret=secret,
        events=" ".join(sorted({e.value for e in data.events})), active=True, description=data.description,
    )
    session.add(hook)
    session.flush()
    return hook, secret


def update_webhook(session: Session, *, hook: Webhook, data: WebhookUpdate) -> Webhook:
    if data.active is not None:
        hook.active = data.active
    if data.description is not None:
        hook.description = data.description
    session.flush()
    return hook


def list_webhooks(session: Session, *, organisation_id: int | None) -> list[Webhook]:
    query = select(Webhook).order_by(Webhook.id)
    if organisation_id is not None:
        query = query.where(Webhook.organisation_id == organisation_id)
    return list(session.scalars(query))


def outbox_rows(
    hooks: list[tuple[int, str]], *, organisation_id: int, event_type: str, data: dict[str, Any], now: datetime
) -> list[dict[str, Any]]:
    """The outbox rows of one event: one per webhook (id, space-separated event types) subscribed to it."""
    rows = []
    for hook_id, events in hooks:
        if event_type not in events.split():
            continue
        event_id = str(uuid.uuid4())
        envelope = {
            "id": event_id, "type": event_type, "created_at": now.isoformat(),
            "organisation_id": organisation_id, "data": data,
        }
        rows.append({
            "id": event_id, "webhook_id": hook_id, "event_type": event_type,
            "payload": json.dumps(envelope, sort_keys=True, separators=(",", ":")),
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
        })
    return rows


ACTIVE_HOOKS = select(Webhook.id, Webhook.events).where(
    Webhook.organisation_id == bindparam("organisation_id"), Webhook.active.is_(True)
)


def active_hooks(session: Session | Connection, organisation_id: int) -> list[tuple[int, str]]:
    """(id, event types) of the organisation's active webhooks."""
    rows = session.execute(ACTIVE_HOOKS, {"organisation_id": organisation_id})
    return [(hook_id, events) for hook_id, events in rows]


def enqueue_event(
    session: Session, *, organisation_id: int | None, event_type: str, data: dict[str, Any], now: datetime
) -> list[str]:
    """Add one outbox row per subscribed webhook, in the caller's transaction."""
    if organisation_id is None:
        return []
    rows = outbox_rows(
        active_hooks(session, organisation_id), organisation_id=organisation_id, event_type=event_type, data=data,
        now=now,
    )
    session.add_all(OutboxEvent(**row) for row in rows)
    return [row["id"] for row in rows]


@dataclass(frozen=True)
class _Claimed:
    event_id: str
    event_type: str
    payload: str
    url: str
    secret: str


def deliver_due(
    session: Session, http: httpx.Client, now: datetime, policy: RetryPolicy | None = None, *,
    allowed_hosts: Iterable[str] = (), resolver: Resolver = system_resolver,
) -> DeliveryReport:
    """Send every due outbox event once. Commits: claims first (a lease), then the outcomes.

    Delivery is at least once; the event id travels as `Idempotency-Key`, so a receiver that
    remembers ids handles each event exactly once. Each URL is checked again (after DNS resolution)
    and called at the checked address; `allowed_hosts` is the admin's allow-list (`outbound`).
    """
    policy = policy or RetryPolicy()
    query = (
        select(OutboxEvent, Webhook)
        .join(Webhook, Webhook.id == OutboxEvent.webhook_id)
        .where(
            OutboxEvent.status == "pending", OutboxEvent.next_attempt_at <= now, Webhook.active.is_(True),
            or_(OutboxEvent.locked_until.is_(None), OutboxEvent.locked_until <= now),
        )
        .order_by(OutboxEvent.created_at, OutboxEvent.id)
        .limit(policy.batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=OutboxEvent, skip_locked=True)
    claimed = []
    for event, hook in session.execute(query):
        event.locked_until = now + timedelta(seconds=policy.lease_seconds)
        claimed.append(_Claimed(event.id, event.event_type, event.payload, hook.url, hook.secret))
    session.commit()

    report = DeliveryReport()
    allowed = frozenset(allowed_hosts)
    outcomes = [(item, *_post(http, item, now, allowed, resolver)) for item in claimed]
    for item, status_code, error, duration_ms in outcomes:
        event = session.get(OutboxEvent, item.event_id)
        if event is None:
            continue
        previous = session.scalar(select(func.count()).where(WebhookDelivery.event_id == event.id)) or 0
        session.add(WebhookDelivery(
            event_id=event.id, attempt=previous + 1, attempted_at=now, status_code=status_code,
            error=error, duration_ms=duration_ms,
        ))
        event.attempts += 1
        event.locked_until = None
        report.attempted += 1
        if error is None:
            event.status, event.delivered_at, event.last_error = "delivered", now, None
            report.delivered += 1
        elif event.attempts >= policy.max_attempts:
            event.status, event.last_error = "dead", error
            report.dead += 1
        else:
            event.next_attempt_at, event.last_error = now + policy.delay(event.attempts), error
            report.failed += 1
    session.commit()
    return report


def _post(
    http: httpx.Client, item: _Claimed, now: datetime, allowed_hosts: frozenset[str], resolver: Resolver
) -> tuple[int | None, str | None, float]:
    """(status class, generic reason, duration): the log never holds what answered (body, error text,
    exact status), so it cannot serve as a scanner of what listens where."""
    started = time.perf_counter()
    try:
        target = check_target(item.url, allowed_hosts, resolver)
    except TargetRefused as exc:
        return None, f"not sent: {exc.reason}", (time.perf_counter() - started) * 1000
    body = item.payload.encode()
    timestamp = str(int(now.timestamp()))
    url, pinned_headers, extensions = pinned_request(target)
    headers = {
        "Content-Type": "application/json", "User-Agent": "practicum-lms-webhooks/1",
        IDEMPOTENCY_HEADER: item.event_id, EVENT_ID_HEADER: item.event_id, EVENT_TYPE_HEADER: item.event_type,
        TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(item.secret, timestamp, body), **pinned_headers,
    }
    try:
        # Streamed and closed unread: only the status line matters, whatever (and however much) follows.
        with http.stream("POST", url, content=body, headers=headers, extensions=extensions) as response:
            status_code = response.status_code
    except httpx.TimeoutException:
        return None, "timed out", (time.perf_counter() - started) * 1000
    except httpx.HTTPError:
        return None, "connection failed", (time.perf_counter() - started) * 1000
    duration_ms = (time.perf_counter() - started) * 1000
    status_class = status_code // 100 * 100
    if status_class == 200:
        return status_class, None, duration_ms
    return status_class, f"HTTP {status_class // 100}xx", duration_ms


def delivery_log(
    session: Session, *, webhook_id: int, status: str | None, limit: int, offset: int
) -> tuple[list[OutboxEventPublic], int]:
    query = select(OutboxEvent).where(OutboxEvent.webhook_id == webhook_id)
    if status is not None:
        query = query.where(OutboxEvent.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = list(session.scalars(query.order_by(OutboxEvent.created_at, OutboxEvent.id).limit(limit).offset(offset)))
    deliveries: dict[str, list[DeliveryPublic]] = {e.id: [] for e in events}
    if events:
        for d in session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_id.in_(deliveries)).order_by(WebhookDelivery.id)
        ):
            deliveries[d.event_id].append(DeliveryPublic(
                attempt=d.attempt, attempted_at=d.attempted_at, status_code=d.status_code, error=d.error,
                duration_ms=round(d.duration_ms, 3),
            ))
    return [
        OutboxEventPublic(
            id=e.id, event_type=e.event_type, status=e.status, attempts=e.attempts, next_attempt_at=e.next_attempt_at,
            created_at=e.created_at, delivered_at=e.delivered_at, last_error=e.last_error, deliveries=deliveries[e.id],
        )
        for e in events
    ], total


def replay_events(
    session: Session, *, webhook_id: int, event_ids: list[str] | None, since: datetime | None, now: datetime
) -> list[str]:
    """Queue events again (delivered or dead): same event id, so receivers see a duplicate, not a new event."""
    if event_ids is None and since is None:
        raise ApiError(422, "replay_needs_selection", "Name 'event_ids' or 'since'.")
    query = select(OutboxEvent).where(OutboxEvent.webhook_id == webhook_id)
    if event_ids is not None:
        query = query.where(OutboxEvent.id.in_(event_ids))
    if since is not None:
        query = query.where(OutboxEvent.created_at >= since)
    requeued = []
    for event in session.scalars(query.order_by(OutboxEvent.created_at)):
        event.status, event.attempts, event.next_attempt_at, event.locked_until = "pending", 0, now, None
        requeued.append(event.id)
    session.flush()
    return requeued
