"""The grading service as a JupyterHub service (``/services/grading/``): the intake, the learner's
feedback, and the instructor's queue, regrades, redeliveries and attempt limits.

Who is asking comes from JupyterHub (``HubOAuth``): the learner's server token (``practicum submit``
in the sandbox sends ``$JUPYTERHUB_API_TOKEN``), or the service's OAuth cookie in a browser. A learner
sees only their own submissions; hub admins and the lab's own service (``admin_services``) see all.

    POST /submissions?item=ID       body: the archive (archives.py); for COURSE/ASSIGNMENT none (the
                                    learner's newest nbgrader submission)  -> 201 receipt | 400 | 404 | 413 | 429 | 503
    GET  /submissions               the caller's submissions and their gradings
    GET  /attempts/ID               the caller's attempts left at ID
    GET  /gradings/GID              feedback (HTML; JSON with Accept: application/json)
    GET  /queue                     (admin) gradings not done, failed ones, results the LMS refused
    POST /regrade                   (admin) {"submission_id": ...} or {"item_id": ...}
    POST /redeliver                 (admin) {"grading_ids": [...]} or {} (every refused result) -> 202 | 404
    PUT  /limits/ID                 (admin) {"total": n|null, "per_day": n|null}
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web

from practicum.contracts.grade_result import ItemKind

from . import instructor, views
from .archives import BadSubmission
from .attempts import AttemptLimit, AttemptLimitReached, attempts_left, effective_limit
from .context import GradingContext
from .database import transaction
from .intake import NotReady, precheck, submit, submit_assignment
from .items import UnknownItem, item_named
from .store import IncomingBlob, TooLarge

log = logging.getLogger("practicum.grading")


class Service:
    def __init__(self, context: GradingContext, hub_auth: HubOAuth, on_queued: Any = None) -> None:
        self.context = context
        self.hub_auth = hub_auth
        self.on_queued = on_queued or (lambda grading_id: None)


class _Base(HubOAuthenticated, web.RequestHandler):
    def initialize(self, service: Service) -> None:
        self.service = service
        self.context = service.context
        self.hub_auth = service.hub_auth

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "message", None) or getattr(exc, "log_message", None) or self._reason
        extra = getattr(exc, "extra", None) or {}
        self.set_header("Content-Type", "application/json")
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="jupyterhub"')
        self.finish(json.dumps({"error": {"status": status_code, "message": message, **extra}}))

    def _request_summary(self) -> str:
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    async def identify(self) -> dict[str, Any]:
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            raise web.HTTPError(401, "send your JupyterHub API token (Authorization: token ...), or sign in through the hub")
        return model

    def is_admin(self, model: dict[str, Any]) -> bool:
        if model.get("kind") == "service":
            return model.get("name") in self.context.settings.admin_services
        return bool(model.get("admin"))

    async def learner(self) -> str:
        model = await self.identify()
        if model.get("kind") == "service":
            raise web.HTTPError(403, "hub services do not submit: a learner does, with their own token")
        return str(model["name"])

    async def admin(self) -> str:
        model = await self.identify()
        if not self.is_admin(model):
            raise web.HTTPError(403, f"{model.get('name')} may not manage grading (hub admins only)")
        return f"{model.get('kind', 'user')}:{model.get('name')}"

    def json(self, status: int, payload: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, default=str))

    def body_json(self) -> dict[str, Any]:
        try:
            payload = json.loads(self.request.body or b"{}")
        except json.JSONDecodeError as error:
            raise web.HTTPError(400, f"the body is not JSON: {error}") from None
        if not isinstance(payload, dict):
            raise web.HTTPError(400, "the body must be a JSON object")
        return payload


class Refusal(web.HTTPError):
    """An answer with a message for the caller (``write_error`` shows it) and extra JSON fields."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status, "%s", message)
        self.message = message
        self.extra = extra


@web.stream_request_body
class SubmissionsHandler(_Base):
    upload: IncomingBlob | None = None
    refusal: Refusal | None = None

    async def prepare(self) -> None:
        self.upload = None
        self.refusal = None
        if self.request.method != "POST":
            return
        self.who = await self.learner()
        self.item_id = self.get_query_argument("item", "")
        try:
            await asyncio.to_thread(precheck, self.context, learner=self.who, item_id=self.item_id)
        except UnknownItem as error:
            raise Refusal(404, str(error)) from None
        except NotReady as error:
            raise Refusal(503, str(error)) from None
        except AttemptLimitReached as limit:
            raise Refusal(429, str(limit), attempts_left=limit.left.to_json()) from None
        item = item_named(self.context.items, self.item_id)
        if item.kind is ItemKind.ASSIGNMENT:
            return  # nothing to upload: the intake copies the learner's nbgrader submission
        declared = int(self.request.headers.get("Content-Length") or 0)
        if declared > self.context.settings.max_upload_bytes:
            self.set_header("Connection", "close")
            raise Refusal(413, f"the submission ({declared} bytes) is larger than the limit of {self.context.settings.max_upload_bytes} bytes")
        self.upload = self.context.store.incoming(self.context.settings.max_upload_bytes)

    def data_received(self, chunk: bytes) -> None:
        if self.upload is None or self.refusal is not None:
            return
        try:
            self.upload.write(chunk)
        except TooLarge as error:
            self.refusal = Refusal(413, str(error))
            self.upload.discard()

    def on_connection_close(self) -> None:
        if self.upload is not None:
            self.upload.discard()

    async def post(self) -> None:
        if self.refusal is not None:
            raise self.refusal
        try:
            if self.upload is None:
                receipt = await asyncio.to_thread(submit_assignment, self.context, learner=self.who, item_id=self.item_id)
            else:
                receipt = await asyncio.to_thread(submit, self.context, learner=self.who, item_id=self.item_id, upload=self.upload)
        except BadSubmission as error:
            raise Refusal(400, str(error)) from None
        except AttemptLimitReached as limit:
            raise Refusal(429, str(limit), attempts_left=limit.left.to_json()) from None
        self.service.on_queued(receipt.grading_id)
        log.info("submission %s by %s (%d bytes) queued", receipt.submission_id, self.who, receipt.size_bytes)
        self.json(201, receipt.to_json())

    async def get(self) -> None:
        who = await self.learner()
        self.json(200, {"submissions": await asyncio.to_thread(views.submissions_of, self.context, who)})


class AttemptsHandler(_Base):
    async def get(self, item_id: str) -> None:
        who = await self.learner()
        try:
            item = item_named(self.context.items, item_id)
        except UnknownItem as error:
            raise Refusal(404, str(error)) from None

        def left() -> dict[str, Any]:
            with transaction(self.context.engine) as connection:
                limit = effective_limit(connection, item_id, item.default_limit)
                return attempts_left(connection, who, item_id, limit, datetime.now(UTC)).to_json()

        self.json(200, {"item_id": item_id, "attempts_left": await asyncio.to_thread(left)})


class GradingHandler(_Base):
    async def get(self, grading_id: str) -> None:
        model = await self.identify()
        found = await asyncio.to_thread(views.grading_view, self.context, grading_id)
        # Someone else's grading answers exactly like a missing one.
        if found is None or (found.learner != model.get("name") and not self.is_admin(model)):
            raise Refusal(404, f"no grading {grading_id} of yours")
        if "application/json" in self.request.headers.get("Accept", ""):
            self.json(200, found.to_json())
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
            self.finish(views.feedback_page(found))


class QueueHandler(_Base):
    async def get(self) -> None:
        await self.admin()
        self.json(200, await asyncio.to_thread(instructor.queue_view, self.context))


class RegradeHandler(_Base):
    async def post(self) -> None:
        by = await self.admin()
        payload = self.body_json()
        try:
            queued = await asyncio.to_thread(
                instructor.regrade, self.context, submission_id=payload.get("submission_id"), item_id=payload.get("item_id"), by=by
            )
        except (LookupError, ValueError) as error:
            raise Refusal(404 if isinstance(error, LookupError) else 400, str(error)) from None
        for grading_id in queued:
            self.service.on_queued(grading_id)
        self.json(202, {"queued": queued})


class RedeliverHandler(_Base):
    async def post(self) -> None:
        await self.admin()
        named = self.body_json().get("grading_ids")
        if named is not None and (not isinstance(named, list) or not all(isinstance(g, str) for g in named)):
            raise Refusal(400, "grading_ids must be a list of grading ids (or omitted: every refused delivery)")
        try:
            chosen = await asyncio.to_thread(instructor.redeliver, self.context, named)
        except LookupError as error:
            raise Refusal(404, str(error)) from None
        self.json(202, {"redelivering": chosen})


class LimitsHandler(_Base):
    async def put(self, item_id: str) -> None:
        by = await self.admin()
        payload = self.body_json()
        try:
            limit = AttemptLimit(total=_limit_value(payload, "total"), per_day=_limit_value(payload, "per_day"))
            await asyncio.to_thread(instructor.set_attempt_limit, self.context, item_id, limit, by=by)
        except UnknownItem as error:
            raise Refusal(404, str(error)) from None
        self.json(200, {"item_id": item_id, "total": limit.total, "per_day": limit.per_day})


def _limit_value(payload: dict[str, Any], key: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Refusal(400, f"{key} must be a whole number of attempts (or null for no limit)")
    return value


class HealthHandler(web.RequestHandler):
    def initialize(self, service: Service) -> None:
        self.service = service

    async def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": "ok"}))


def make_app(service: Service) -> web.Application:
    prefix = re.escape(service.context.settings.service_prefix)
    args = {"service": service}
    return web.Application(
        [
            (prefix + "health", HealthHandler, args),
            (prefix + "oauth_callback", HubOAuthCallbackHandler),
            (prefix + "submissions", SubmissionsHandler, args),
            (prefix + r"attempts/([^/]+)", AttemptsHandler, args),
            (prefix + r"gradings/([^/]+)", GradingHandler, args),
            (prefix + "queue", QueueHandler, args),
            (prefix + "regrade", RegradeHandler, args),
            (prefix + "redeliver", RedeliverHandler, args),
            (prefix + r"limits/([^/]+)", LimitsHandler, args),
        ],
        hub_auth=service.hub_auth,
        cookie_secret=os.urandom(32),
    )
