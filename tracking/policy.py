"""What the gateway lets a learner ask MLflow: pure decisions over paths, names and headers.

MLflow's own permission checks decide who may read or write which experiment and run. The gateway
adds what MLflow cannot know: which MLflow features a learner may reach at all (an allow-list of
path families: no user or role administration, no AI gateway, webhooks, jobs or model registry,
which manage accounts or make the server call out), and which experiment names belong to whom.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from practicum.contracts.tracking import GRADING_EXPERIMENTS, LEARNER_EXPERIMENTS

# The largest experiments/create or experiments/update body the gateway reads to check the name.
MAX_INSPECTED_BODY = 64 * 1024

_API = r"(?:ajax-)?api/[23]\.0"
# MLflow REST families a learner's tracking code and the UI's experiment and run pages use.
_TRACKING_FAMILIES = (
    "experiments",
    "runs",
    "metrics",
    "artifacts",
    "logged-models",
    "traces",
    "datasets",
    "upload-artifact",
    "get-trace-artifact",
    "server-info",
)
_ALLOWED = re.compile(
    rf"^(?:"
    rf"|static-files/.+"
    rf"|favicon\.ico|version|get-artifact|graphql"
    rf"|{_API}/mlflow-artifacts/(?:artifacts|mpu)(?:/.*)?"
    rf"|{_API}/mlflow/(?:{'|'.join(map(re.escape, _TRACKING_FAMILIES))})(?:/.*)?"
    rf")$",
    re.DOTALL,
)
# Inside the allowed families, endpoints that make the server call out (a PromptLab run calls an LLM).
_REFUSED_INSIDE = re.compile(rf"^{_API}/mlflow/runs/create-promptlab-run$")
# Who the learner is to MLflow (the UI shows it); read-only.
_CURRENT_USER = re.compile(rf"^{_API}/mlflow/users/current(?:/permissions)?$")
# Endpoints whose JSON body names an experiment: checked against the name rules before forwarding.
_NAMES_AN_EXPERIMENT = re.compile(rf"^{_API}/mlflow/experiments/(?:create|update)$")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Kind = Literal["ui", "health", "callback", "proxy", "inspect", "refused"]


@dataclass(frozen=True)
class Route:
    """What to do with one request: serve, forward (after inspecting the body), or refuse."""

    kind: Kind
    status: int = 200
    message: str = ""


def refused(status: int, message: str) -> Route:
    return Route("refused", status, message)


def fully_unquoted(path: str, rounds: int = 5) -> str:
    """Percent-decode until nothing changes, so %252F cannot hide a '/' from the checks below."""
    for _ in range(rounds):
        decoded = unquote(path)
        if decoded == path:
            return path
        path = decoded
    return path


def route(method: str, raw_path: str, prefix: str) -> Route:
    """Decide on a request for ``raw_path`` (as sent, not decoded) under the service ``prefix``."""
    prefix = prefix.rstrip("/") + "/"
    path = fully_unquoted(raw_path)
    if path == prefix.rstrip("/"):
        return Route("ui")
    if not path.startswith(prefix):
        return refused(404, "not an MLflow path")
    rest = path[len(prefix) :]
    if any(ch in rest for ch in ("\\", "\x00")) or any(seg in (".", "..") for seg in rest.split("/")):
        return refused(400, "path segments '.' and '..' are not accepted")
    if rest == "oauth_callback":
        return Route("callback")
    if rest == "health":
        return Route("health")
    if rest == "":
        return Route("ui")
    if _CURRENT_USER.match(rest):
        return Route("proxy") if method in _SAFE_METHODS else refused(405, "read-only endpoint")
    if _NAMES_AN_EXPERIMENT.match(rest):
        return Route("inspect") if method == "POST" else refused(405, "POST only")
    if _REFUSED_INSIDE.match(rest) or not _ALLOWED.match(rest):
        return refused(403, f"{rest.split('?')[0]} is not available through the lab's MLflow gateway")
    return Route("proxy")


def experiment_name_refusal(name: str, learner: str) -> str | None:
    """Why ``learner`` may not give an experiment this name, or None if they may."""
    folded = name.strip().casefold()
    if folded.startswith(GRADING_EXPERIMENTS) or folded == GRADING_EXPERIMENTS.rstrip("/"):
        return f"experiment names starting with {GRADING_EXPERIMENTS!r} are reserved for the grader"
    if folded.startswith(LEARNER_EXPERIMENTS) or folded == LEARNER_EXPERIMENTS.rstrip("/"):
        own = f"{LEARNER_EXPERIMENTS}{learner}".casefold()
        if folded != own and not folded.startswith(own + "/"):
            return f"experiment names starting with {LEARNER_EXPERIMENTS!r} belong to their learner; yours is {own!r}"
    return None


def experiment_request_refusal(body: bytes, learner: str) -> str | None:
    """Check a create/update experiment body the way MLflow will read it (JSON, protobuf field names).

    MLflow's protobuf parser accepts both ``new_name`` and ``newName``; every key that normalizes
    to a name field is checked. A learner never chooses where an experiment's artifacts live.
    """
    try:
        message = json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return "the request body is not JSON"
    if not isinstance(message, dict):
        return "the request body is not a JSON object"
    for key, value in message.items():
        field = str(key).replace("_", "").casefold()
        if field in ("name", "newname"):
            if not isinstance(value, str):
                return f"{key} must be a string"
            refusal = experiment_name_refusal(value, learner)
            if refusal:
                return refusal
        elif field == "artifactlocation" and value not in (None, ""):
            return "learners' experiments keep their artifacts on the tracking server; artifact_location is not accepted"
    return None


# Request headers passed on to MLflow. Everything else is dropped: above all Authorization and
# Cookie (the gateway sends its own Basic credentials), and Origin/Sec-Fetch-* (the gateway has
# checked them; MLflow's CORS guard only knows loopback origins).
FORWARDED_REQUEST_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "content-type",
        "content-length",
        "if-modified-since",
        "if-none-match",
        "range",
        "user-agent",
    }
)
# Response headers never passed back: hop-by-hop ones, and what would let MLflow's own login
# (a Basic challenge, a Flask session cookie) reach the browser.
DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "www-authenticate",
        "set-cookie",
        "server",
        "date",
    }
)


def forwarded_request_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in headers if name.lower() in FORWARDED_REQUEST_HEADERS}


def passes_back(header: str) -> bool:
    return header.lower() not in DROPPED_RESPONSE_HEADERS


def relative_location(location: str, upstream_origin: str) -> str:
    """A redirect MLflow makes to its own address points back at the gateway (same path)."""
    return location[len(upstream_origin) :] or "/" if location.startswith(upstream_origin) else location


def is_navigation(method: str, headers: Mapping[str, str], route_kind: Kind) -> bool:
    """A browser opening a page (redirect it to the hub's login) rather than an API client (401)."""
    if method not in ("GET", "HEAD"):
        return False
    mode = headers.get("Sec-Fetch-Mode")
    return mode == "navigate" or (mode is None and route_kind == "ui")
