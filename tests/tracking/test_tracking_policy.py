"""The gateway's decisions without servers: which paths a learner may reach, which names are whose."""

from __future__ import annotations

import json

import pytest

from practicum.tracking import policy
from practicum.tracking.settings import GatewaySettings

PREFIX = "/services/mlflow/"


def kind(method: str, path: str) -> str:
    return policy.route(method, PREFIX.rstrip("/") + path, PREFIX).kind


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/2.0/mlflow/experiments/get-by-name"),
        ("POST", "/api/2.0/mlflow/runs/log-batch"),
        ("POST", "/ajax-api/2.0/mlflow/runs/search"),
        ("GET", "/api/2.0/mlflow/metrics/get-history"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/0123/artifacts/model/MLmodel"),
        ("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts"),
        ("POST", "/api/2.0/mlflow/logged-models"),
        ("GET", "/api/3.0/mlflow/traces/tr-1"),
        ("GET", "/get-artifact"),
        ("POST", "/graphql"),
        ("GET", "/static-files/static/js/main.js"),
        ("GET", "/api/2.0/mlflow/users/current"),
        ("GET", "/ajax-api/3.0/mlflow/users/current/permissions"),
    ],
)
def test_what_tracking_code_and_the_ui_use_is_forwarded(method, path):
    assert kind(method, path) == "proxy"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/2.0/mlflow/users/list", 403),
        ("POST", "/api/2.0/mlflow/users/create", 403),
        ("PATCH", "/api/2.0/mlflow/users/update-password", 403),
        ("POST", "/api/3.0/mlflow/users/permissions/grant", 403),
        ("POST", "/api/3.0/mlflow/users%2Fpermissions%2Fgrant", 403),
        ("POST", "/api/3.0/mlflow/users%252Fpermissions/grant", 403),
        ("POST", "/api/3.0/mlflow/roles/create", 403),
        ("POST", "/api/2.0/mlflow/users/current", 405),
        ("GET", "/signup", 403),
        ("POST", "/api/2.0/mlflow/registered-models/create", 403),
        ("GET", "/model-versions/get-artifact", 403),
        ("POST", "/api/2.0/mlflow/webhooks", 403),
        ("POST", "/ajax-api/2.0/mlflow/gateway-proxy", 403),
        ("POST", "/ajax-api/3.0/mlflow/scorer/invoke", 403),
        ("POST", "/ajax-api/2.0/mlflow/runs/create-promptlab-run", 403),
        ("GET", "/gateway/chat/mlflow/invocations", 403),
        ("GET", "/api/2.0/mlflow/runs/../users/list", 400),
        ("GET", "/api/2.0/mlflow/runs/%2E%2E/users/list", 400),
        ("GET", "/api/2.0/mlflow/experiments/create", 405),
    ],
)
def test_administration_outbound_features_and_odd_paths_are_refused(method, path, status):
    decision = policy.route(method, PREFIX.rstrip("/") + path, PREFIX)
    assert (decision.kind, decision.status) == ("refused", status)


def test_paths_outside_the_prefix_and_the_bare_prefix():
    assert policy.route("GET", "/hub/api/users", PREFIX).status == 404
    assert policy.route("GET", "/services/mlflow-other/api/2.0/mlflow/runs/get", PREFIX).status == 404
    assert policy.route("GET", "/services/mlflow", PREFIX).kind == "ui"
    assert policy.route("GET", "/services/mlflow/", PREFIX).kind == "ui"


def test_experiment_bodies_are_inspected():
    assert kind("POST", "/api/2.0/mlflow/experiments/create") == "inspect"
    assert kind("POST", "/ajax-api/2.0/mlflow/experiments/update") == "inspect"


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("learners/ana", True),
        ("learners/ana/ablation", True),
        ("my-experiment", True),
        ("learners/anabel", False),  # another learner's, though it starts with "ana"
        ("learners/bo", False),
        ("LEARNERS/Bo/x", False),
        ("learners", False),
        ("grading/p/ana", False),
        ("  Grading/p/ana ", False),
        ("grading", False),
    ],
)
def test_experiment_names_belong_to_their_learner_or_to_the_grader(name, allowed):
    assert (policy.experiment_name_refusal(name, "ana") is None) is allowed


@pytest.mark.parametrize(
    "body",
    [
        {"name": "grading/p/ana"},
        {"experiment_id": "3", "new_name": "grading/p/ana"},
        {"experiment_id": "3", "newName": "learners/bo"},
        {"name": "learners/ana/x", "artifact_location": "file:///srv"},
        {"name": "learners/ana/x", "artifactLocation": "s3://elsewhere"},
        {"name": ["grading/p/ana"]},
        ["grading/p/ana"],
    ],
)
def test_create_and_update_requests_are_read_as_mlflow_reads_them(body):
    assert policy.experiment_request_refusal(json.dumps(body).encode(), "ana") is not None


def test_a_plain_create_passes_and_garbage_does_not():
    assert policy.experiment_request_refusal(b'{"name": "learners/ana/x", "tags": []}', "ana") is None
    assert policy.experiment_request_refusal(b"\xff\xfe{", "ana") is not None


def test_credentials_and_browser_headers_never_reach_mlflow():
    headers = [
        ("Authorization", "Basic cHJhY3RpY3VtL2FkbWluOng="),
        ("Cookie", "service-mlflow=..."),
        ("Origin", "https://evil.example"),
        ("X-MLflow-Workspace", "other"),
        ("Content-Type", "application/json"),
        ("Range", "bytes=0-99"),
    ]
    assert policy.forwarded_request_headers(headers) == {"Content-Type": "application/json", "Range": "bytes=0-99"}
    assert not policy.passes_back("WWW-Authenticate") and not policy.passes_back("Set-Cookie")
    assert policy.passes_back("Content-Length") and policy.passes_back("Content-Type")


def test_mlflows_own_redirects_point_back_at_the_gateway():
    origin = "http://127.0.0.1:5000"
    assert policy.relative_location(f"{origin}/services/mlflow/x", origin) == "/services/mlflow/x"
    assert policy.relative_location("https://elsewhere.example/", origin) == "https://elsewhere.example/"


def test_the_gateway_refuses_an_mlflow_without_the_services_prefix(tmp_path):
    ok = GatewaySettings(upstream_url="http://127.0.0.1:5000/services/mlflow", admin_password="x", users_file=tmp_path / "u")
    assert ok.upstream_origin == "http://127.0.0.1:5000"
    with pytest.raises(ValueError, match="static-prefix"):
        GatewaySettings(upstream_url="http://127.0.0.1:5000", admin_password="x", users_file=tmp_path / "u")
    with pytest.raises(ValueError, match="needs"):
        GatewaySettings.from_env({"PRACTICUM_TRACKING_UPSTREAM": "http://127.0.0.1:5000/services/mlflow"})
