"""``python -m practicum.tracking``: the MLflow gateway as a JupyterHub service.

JupyterHub starts it (embedded lab) or it runs in its own pod (Kubernetes) with the environment a
hub service gets (``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_SERVICE_PREFIX``, ...), plus
``PRACTICUM_TRACKING_UPSTREAM`` (MLflow, for the admin), ``MLFLOW_TRACKING_USERNAME`` /
``MLFLOW_TRACKING_PASSWORD`` (MLflow's admin) and ``PRACTICUM_TRACKING_USERS_FILE``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal

from jupyterhub.services.auth import HubOAuth
from tornado import web
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer

from .accounts import MlflowAccounts, PasswordFile
from .proxy import CallbackHandler, Gateway, HealthHandler, ProxyHandler
from .settings import GatewaySettings

# Bodies of the gateway's own (non-streaming) handlers; proxied bodies stream under max_body_bytes.
_SMALL_BODY = 1024 * 1024


def make_app(settings: GatewaySettings, hub_auth: HubOAuth | None = None) -> web.Application:
    client = AsyncHTTPClient(force_instance=True, max_clients=200, max_body_size=settings.max_body_bytes)
    hub_auth = hub_auth or HubOAuth(
        # Tokens in URLs end up in logs and Referer headers; MLflow's client never sends one.
        allow_token_in_url=False,
        cache_max_age=60,
    )
    accounts = MlflowAccounts(settings, client, PasswordFile(settings.users_file))
    gateway = Gateway(settings, hub_auth, client, accounts)
    prefix = re.escape(settings.service_prefix)
    return web.Application(
        [
            (prefix + "oauth_callback", CallbackHandler, {"gateway": gateway}),
            (prefix + "health", HealthHandler, {"gateway": gateway}),
            (r".*", ProxyHandler, {"gateway": gateway}),
        ],
        # Signs the OAuth cookies; a restart only means one more (silent) hub OAuth round trip.
        cookie_secret=os.urandom(32),
        xsrf_cookies=False,  # HubOAuth checks cookie-authenticated writes itself (ProxyHandler.check_xsrf_cookie)
        log_function=_log_request,
    )


def _log_request(handler: web.RequestHandler) -> None:
    """Like tornado's access log, without query strings (a misplaced ?token= stays out of the log)."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    request = handler.request
    user = getattr(handler, "_user", "") or "-"
    logging.getLogger("tornado.access").log(
        level, "%d %s %s (%s) %.2fms", status, request.method, request.path, user, 1000.0 * request.request_time()
    )


async def serve(settings: GatewaySettings) -> None:
    app = make_app(settings)
    server = HTTPServer(app, max_body_size=_SMALL_BODY, idle_connection_timeout=3600)
    host, port = settings.listen
    server.listen(port, host)
    logging.getLogger("practicum.tracking").info(
        "MLflow gateway on %s:%d%s -> %s", host, port, settings.service_prefix, settings.upstream_url
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s")
    asyncio.run(serve(GatewaySettings.from_env()))
