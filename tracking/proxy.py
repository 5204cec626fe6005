"""The reverse proxy: identify the hub user, then forward to MLflow as that user, streaming both ways.

A request is identified by JupyterHub (``HubOAuth``): a hub API token in ``Authorization: token|Bearer``
(MLflow's client sends ``Bearer $MLFLOW_TRACKING_TOKEN``), or the gateway's own OAuth cookie for a
browser. Whatever credentials the request carried are dropped; MLflow gets the Basic credentials of
the user's MLflow account, so MLflow's permission checks decide what the user may read and write.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated, UserNotAllowed
from tornado import httputil, web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse

from . import policy
from .accounts import MlflowAccounts, TrackingUnavailable
from .settings import GatewaySettings

log = logging.getLogger("practicum.tracking")

_END = b""  # marks the end of a streamed request body
_QUEUED_CHUNKS = 8  # request chunks (64 KiB each) held between the learner and MLflow


class Gateway:
    """What every request handler shares."""

    def __init__(self, settings: GatewaySettings, hub_auth: HubOAuth, client: AsyncHTTPClient, accounts: MlflowAccounts):
        self.settings = settings
        self.hub_auth = hub_auth
        self.client = client
        self.accounts = accounts


def _error_body(status: int, message: str) -> str:
    # MLflow's error shape, so the MLflow client prints the message.
    codes = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "ENDPOINT_NOT_FOUND", 413: "REQUEST_LIMIT_EXCEEDED"}
    return json.dumps({"error_code": codes.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST"), "message": message})


class _JSONErrors(web.RequestHandler):
    def _request_summary(self) -> str:
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"  # no query string: no tokens

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="jupyterhub"')
        self.finish(_error_body(status_code, message))


class CallbackHandler(HubOAuthCallbackHandler):
    """Completes the hub's OAuth login for browsers (``<prefix>oauth_callback``)."""

    def initialize(self, gateway: Gateway) -> None:
        self.hub_auth = gateway.hub_auth


class HealthHandler(_JSONErrors):
    """``<prefix>health``: the gateway answers and MLflow's own (unprotected) health check passes."""

    def initialize(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def get(self) -> None:
        s = self.gateway.settings
        response = await self.gateway.client.fetch(
            s.upstream_url.rstrip("/") + "/health", raise_error=False, request_timeout=5, connect_timeout=2
        )
        if response.code != 200:
            raise web.HTTPError(503, f"MLflow health check answered {response.code}")
        self.set_header("Content-Type", "text/plain")
        self.finish("OK")


@web.stream_request_body
class ProxyHandler(HubOAuthenticated, _JSONErrors):
    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.hub_auth = gateway.hub_auth
        self._route: policy.Route | None = None
        self._user = ""
        self._authorization = ""
        self._inspected: bytearray | None = None
        self._inspected_too_big = False
        self._queue: asyncio.Queue[bytes] | None = None
        self._upstream: asyncio.Future[HTTPResponse] | None = None
        self._upstream_status: httputil.ResponseStartLine | None = None
        self._upstream_headers = httputil.HTTPHeaders()
        self._started = False
        # A refusal (or login redirect) decided before the body: answered once the body is read,
        # so the connection stays usable (tornado closes it if a handler answers mid-request).
        self._refusal: web.HTTPError | None = None
        self._redirect_to = ""

    # --- who is asking ---------------------------------------------------------------

    def check_xsrf_cookie(self) -> None:
        """Cookie-authenticated writes must come from this origin.

        The MLflow UI sends no XSRF token, so a browser's own fetch metadata decides
        (``Sec-Fetch-Site: same-origin``, or an ``Origin`` naming this host where browsers send no
        fetch metadata); anything else needs JupyterHub's XSRF token, as for any hub service.
        Token-authenticated requests (the MLflow client) never get here.
        """
        site = self.request.headers.get("Sec-Fetch-Site")
        if site == "same-origin":
            return
        origin = self.request.headers.get("Origin")
        if site is None and origin and urlsplit(origin).netloc == self.request.host:
            return
        super().check_xsrf_cookie()

    async def _identify(self) -> dict[str, Any] | None:
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            return None
        try:
            return self.check_hub_user(model)
        except UserNotAllowed:
            raise web.HTTPError(403, f"{model.get('kind', 'user')} {model.get('name')} may not use MLflow") from None

    async def prepare(self) -> None:
        try:
            await self._admit()
        except web.HTTPError as refusal:
            if self._declared_length() > policy.MAX_INSPECTED_BODY:
                # Not worth reading a big body to refuse it: answer now and close the connection.
                self.set_header("Connection", "close")
                raise
            self._refusal = refusal

    def _declared_length(self) -> int:
        headers = self.request.headers
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            return 1 << 62
        length = headers.get("Content-Length", "0")
        return int(length) if length.isdigit() else 1 << 62

    async def _admit(self) -> None:
        s = self.gateway.settings
        self.request.connection.set_max_body_size(s.max_body_bytes)  # type: ignore[union-attr]
        route = policy.route(self.request.method or "GET", self.request.path, s.service_prefix)
        self._route = route
        model = await self._identify()
        if model is None:
            if policy.is_navigation(self.request.method or "GET", self.request.headers, route.kind):
                self._redirect_to = self.get_login_url()
                return
            raise web.HTTPError(401, "sign in through JupyterHub: send a hub API token (MLFLOW_TRACKING_TOKEN)")
        self.current_user = model
        name = str(model.get("name", ""))
        if model.get("kind", "user") != "user":
            raise web.HTTPError(403, "only hub users have an MLflow identity here")
        if not name or ":" in name or name == s.admin_username:
            raise web.HTTPError(403, f"user name {name!r} cannot be an MLflow user")
        self._user = name
        if route.kind == "refused":
            raise web.HTTPError(route.status, route.message)
        if route.kind == "ui" and not self.request.path.endswith("/"):
            self._redirect_to = s.service_prefix
            return
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > s.max_body_bytes:
            raise web.HTTPError(413, f"request bodies are limited to {s.max_body_bytes} bytes")
        try:
            self._authorization = await self.gateway.accounts.authorization_for(name)
        except TrackingUnavailable as exc:
            log.error("%s", exc)
            raise web.HTTPError(502, "the tracking server is not available; try again shortly") from None
        if route.kind == "inspect":
            self._inspected = bytearray()
        elif self._has_body():
            self._queue = asyncio.Queue(_QUEUED_CHUNKS)
            self._upstream = asyncio.ensure_future(self._fetch(body_producer=self._produce_body))
        else:
            self._upstream = asyncio.ensure_future(self._fetch(body=self._empty_body()))

    def _has_body(self) -> bool:
        return self._declared_length() > 0

    def _empty_body(self) -> bytes | None:
        return b"" if self.request.method in ("POST", "PUT", "PATCH") else None

    # --- the request body, learner -> MLflow ----------------------------------------------

    async def data_received(self, chunk: bytes) -> None:
        if self._inspected is not None:
            if len(self._inspected) + len(chunk) > policy.MAX_INSPECTED_BODY:
                self._inspected_too_big = True
            else:
                self._inspected += chunk
        elif self._queue is not None and chunk:
            await self._enqueue(chunk)

    async def _enqueue(self, chunk: bytes) -> None:
        """Hand a chunk to the upstream request, waiting while MLflow is slower than the learner.

        Once MLflow has answered (it may refuse before reading the whole body) or failed, the rest
        of the body is dropped rather than waited on forever.
        """
        assert self._queue is not None and self._upstream is not None
        if self._upstream.done():
            return
        put = asyncio.ensure_future(self._queue.put(chunk))
        await asyncio.wait({put, self._upstream}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()

    async def _produce_body(self, write: Any) -> None:
        assert self._queue is not None
        while (chunk := await self._queue.get()) != _END:
            await write(chunk)

    def on_connection_close(self) -> None:
        if self._queue is not None:
            # The learner went away mid-upload: end the body so the upstream request fails fast.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(_END)

    # --- the response, MLflow -> learner --------------------------------------------------

    def _fetch(self, **body: Any) -> asyncio.Future[HTTPResponse]:
        s = self.gateway.settings
        headers = policy.forwarded_request_headers(self.request.headers.get_all())
        headers["Authorization"] = self._authorization
        request = HTTPRequest(
            s.upstream_origin + self.request.uri,
            method=self.request.method,
            headers=headers,
            follow_redirects=False,
            decompress_response=False,
            allow_nonstandard_methods=True,
            connect_timeout=s.connect_timeout_seconds,
            request_timeout=s.request_timeout_seconds,
            header_callback=self._on_header,
            streaming_callback=self._on_chunk,
            **body,
        )
        return self.gateway.client.fetch(request, raise_error=False)

    def _on_header(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if self._upstream_status is None:
            self._upstream_status = httputil.parse_response_start_line(line)
        elif line:
            self._upstream_headers.parse_line(line)

    async def _on_chunk(self, chunk: bytes) -> None:
        if self._upstream_status is not None and self._upstream_status.code == 401:
            return  # answered below: MLflow refused the gateway's credentials for this user
        if not self._started:
            self._start_response()
        self.write(chunk)
        await self.flush()  # waits while the learner is slower than MLflow

    def _start_response(self) -> None:
        assert self._upstream_status is not None
        self._started = True
        self.set_status(self._upstream_status.code, self._upstream_status.reason or None)
        self.clear_header("Content-Type")
        for name, value in self._upstream_headers.get_all():
            if not policy.passes_back(name):
                continue
            if name.lower() == "location":
                value = policy.relative_location(value, self.gateway.settings.upstream_origin)
            self.add_header(name, value)

    def compute_etag(self) -> str | None:
        return None  # MLflow's validators pass through as they are

    async def _complete(self) -> None:
        if self._refusal is not None:
            raise self._refusal
        if self._redirect_to:
            self.redirect(self._redirect_to)
            return
        if self._inspected is not None:
            if self._inspected_too_big:
                raise web.HTTPError(413, f"experiment requests are limited to {policy.MAX_INSPECTED_BODY} bytes")
            refusal = policy.experiment_request_refusal(bytes(self._inspected), self._user)
            if refusal:
                raise web.HTTPError(403, refusal)
            self._upstream = asyncio.ensure_future(self._fetch(body=bytes(self._inspected)))
        elif self._queue is not None:
            await self._enqueue(_END)
        if self._upstream is None:
            return
        response = await self._upstream
        if response.code == 599 or self._upstream_status is None:
            log.warning("MLflow request %s %s failed: %s", self.request.method, self.request.path, response.error)
            if self._started:
                self.request.connection.close()  # type: ignore[union-attr]
                return
            raise web.HTTPError(502, "the tracking server did not answer")
        if self._upstream_status is not None and self._upstream_status.code == 401:
            self.gateway.accounts.forget(self._user)
            raise web.HTTPError(503, "the tracking server refused the gateway's credentials for you; try again")
        if not self._started:
            self._start_response()
        self.finish()

    async def get(self) -> None:
        await self._complete()

    head = post = put = patch = delete = options = get
