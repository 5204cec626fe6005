"""Webhooks that push profile changes to HR: subscriptions, the delivery log, replay, delivery now."""

from __future__ import annotations

from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from ..audit import record_change
from ..auth import PrincipalDep
from ..db.tables import Webhook
from ..db.types import utcnow
from ..deps import DatabaseDep, ReadSession, SettingsDep, WriteSession
from ..errors import ApiError
from ..outbound import check_registration
from ..policy import not_found
from ..principal import Principal
from ..schemas.common import ERROR_RESPONSES, Page
from ..schemas.webhooks import (
    DeliveryReport,
    OutboxEventPublic,
    ReplayReport,
    ReplayRequest,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookUpdate,
)
from ..services import webhooks as svc
from ..tokens import Scope
from .params import Limit, ObjectId, Offset

router = APIRouter(tags=["webhooks"], responses=ERROR_RESPONSES)


def _hook_for(session: ReadSession, principal: Principal, webhook_id: int) -> Webhook:
    bound = principal.org_scope(Scope.HR_WRITE)
    hook = session.get(Webhook, webhook_id)
    if hook is None or (bound is not None and hook.organisation_id != bound):
        raise not_found("webhook", webhook_id)
    return hook


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
def create_webhook(
    data: WebhookCreate, principal: PrincipalDep, session: WriteSession, settings: SettingsDep
) -> WebhookCreated:
    """Subscribe a URL to an organisation's events; the answer holds the signing secret, once. The URL
    must reach a public address (checked now and at every delivery) unless an admin allows its host."""
    bound = principal.org_scope(Scope.HR_WRITE)
    organisation_id = bound if bound is not None else data.organisation_id
    if organisation_id is None:
        raise ApiError(422, "organisation_required", "Admins name the organisation_id.")
    if bound is not None and data.organisation_id not in (None, bound):
        raise ApiError(403, "other_organisation", "This token manages webhooks of its own organisation only.")
    from ..db.tables import Organisation

    if session.get(Organisation, organisation_id) is None:
        raise ApiError(422, "unknown_organisation", f"No organisation {organisation_id}.")
    check_registration(str(data.url), settings.webhook_allowed_hosts)
    hook, secret = svc.create_webhook(session, organisation_id=organisation_id, data=data)
    record_change(session, principal, "create", "webhook", hook.id)
    session.commit()
    return WebhookCreated(**svc.webhook_public(hook).model_dump(), secret=secret)


@router.get("/webhooks")
def list_webhooks(principal: PrincipalDep, session: ReadSession) -> list[WebhookPublic]:
    bound = principal.org_scope(Scope.HR_WRITE)
    return [svc.webhook_public(h) for h in svc.list_webhooks(session, organisation_id=bound)]


@router.get("/webhooks/{webhook_id}")
def read_webhook(webhook_id: ObjectId, principal: PrincipalDep, session: ReadSession) -> WebhookPublic:
    return svc.webhook_public(_hook_for(session, principal, webhook_id))


@router.patch("/webhooks/{webhook_id}")
def update_webhook(
    webhook_id: ObjectId, data: WebhookUpdate, principal: PrincipalDep, session: WriteSession
) -> WebhookPublic:
    hook = svc.update_webhook(session, hook=_hook_for(session, principal, webhook_id), data=data)
    record_change(session, principal, "update", "webhook", webhook_id)
    session.commit()
    return svc.webhook_public(hook)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: ObjectId, principal: PrincipalDep, session: WriteSession) -> Response:
    session.delete(_hook_for(session, principal, webhook_id))
    record_change(session, principal, "delete", "webhook", webhook_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries")
def read_delivery_log(
    webhook_id: ObjectId, principal: PrincipalDep, session: ReadSession,
    status_filter: Annotated[Literal["pending", "delivered", "dead"] | None, Query(alias="status")] = None,
    limit: Limit = 50, offset: Offset = 0,
) -> Page[OutboxEventPublic]:
    """The delivery log: each event with every attempt (time, HTTP status, error, duration)."""
    _hook_for(session, principal, webhook_id)
    rows, total = svc.delivery_log(session, webhook_id=webhook_id, status=status_filter, limit=limit, offset=offset)
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.post("/webhooks/{webhook_id}/replay")
def replay(webhook_id: ObjectId, data: ReplayRequest, principal: PrincipalDep, session: WriteSession) -> ReplayReport:
    """Send events again (by id, or all since a time), with their original event ids."""
    _hook_for(session, principal, webhook_id)
    requeued = svc.replay_events(
        session, webhook_id=webhook_id, event_ids=data.event_ids, since=data.since, now=utcnow()
    )
    record_change(session, principal, "update", "webhook", webhook_id, f"replay {len(requeued)} events")
    session.commit()
    return ReplayReport(requeued=requeued)


@router.post("/outbox/deliver")
async def deliver_now(request: Request, principal: PrincipalDep, db: DatabaseDep) -> DeliveryReport:
    """Run one delivery round now (admins), instead of waiting for the background deliverer."""
    principal.require_admin()
    http: httpx.Client = request.app.state.webhook_http
    policy: svc.RetryPolicy = request.app.state.retry_policy
    allowed: frozenset[str] = request.app.state.settings.webhook_allowed_hosts

    def run() -> DeliveryReport:
        with db.write() as session:
            return svc.deliver_due(session, http, utcnow(), policy, allowed_hosts=allowed)

    return await run_in_threadpool(run)
