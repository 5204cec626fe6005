"""What makes a course's formgrader usable from the browser: its page may be embedded by its own
JupyterLab (the Nbgrader panel), and its links to folders and notebooks reach its own server.

- JupyterHub's single-user servers send ``frame-ancestors 'none'``, so the Nbgrader panel of the
  formgrader's JupyterLab stays blank ("refused to connect"). The formgrader's server is given a CSP
  that lets pages of the hub's own origin frame it and no other site. (A path would be narrower, but
  browsers match frame-ancestors against the ancestor's origin only: Chromium then blocks the panel too.)
- Opened in a tab of its own, nbgrader's formgrader links a folder as ``/tree/<path>`` and a notebook
  as ``/notebooks/<path>`` from the origin's root (not its server's prefix): the hub answered 404. The
  hub redirects such a request, when it comes from a formgrader page, to that formgrader's server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from tornado import web

FORMGRADER_PAGE = re.compile(r"^/services/(formgrader-[A-Za-z][A-Za-z0-9_]*)/")
# nbgrader's formgrader (static/js/utils.js, linkTo) names these from the origin's root.
LINK_PREFIXES = ("tree", "notebooks", "edit")


def formgrader_server_config(public_url: str, service_name: str) -> dict[str, Any]:
    """The formgrader server's jupyter_server_config.json: framed by pages of the hub's origin only."""
    origin = urlparse(public_url)
    own = f"{origin.scheme}://{origin.netloc}"
    return {"ServerApp": {"tornado_settings": {"headers": {"Content-Security-Policy": f"frame-ancestors 'self' {own}"}}}}


def write_formgrader_server_config(config_dir: Path, public_url: str, service_name: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "jupyter_server_config.json"
    path.write_text(json.dumps(formgrader_server_config(public_url, service_name), indent=2))
    path.chmod(0o644)
    return path


def formgrader_link_target(referer: str, hub_host: str, kind: str, path: str, services: set[str]) -> str | None:
    """Where a formgrader's root-relative link (``/<kind>/<path>``) belongs: the same link under the
    formgrader that ``referer`` is a page of; None when the request did not come from a known formgrader
    of this hub."""
    page = urlparse(referer)
    if kind not in LINK_PREFIXES or (page.netloc and page.netloc != hub_host):
        return None
    match = FORMGRADER_PAGE.match(page.path)
    if match is None or match.group(1) not in services:
        return None
    clean = "/".join(part for part in path.split("/") if part not in ("", ".", ".."))
    return f"/services/{match.group(1)}/{kind}/{quote(clean)}"


class FormgraderLinkHandler(web.RequestHandler):
    """/hub/(tree|notebooks|edit)/<path> (the hub's prefix redirect of /tree/...): to the referring formgrader."""

    def initialize(self, services: list[str]) -> None:
        self._services = set(services)

    def get(self, kind: str, path: str) -> None:
        target = formgrader_link_target(self.request.headers.get("Referer", ""), self.request.host, kind, path, self._services)
        if target is None:
            raise web.HTTPError(404)
        self.redirect(target)


def configure_formgrader_links(c: Any, service_names: list[str]) -> None:
    handlers = [h for h in (c.JupyterHub.extra_handlers if "extra_handlers" in c.JupyterHub else []) if h[1] is not FormgraderLinkHandler]
    c.JupyterHub.extra_handlers = [*handlers, (r"/(tree|notebooks|edit)/(.*)", FormgraderLinkHandler, {"services": sorted(service_names)})]
