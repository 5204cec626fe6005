"""Grading records where the tracking store has no users (sqlite:///, a server without the auth app)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from practicum.graders import mlflow_records
from practicum.graders.mlflow_records import GradingRecordError, grading_experiment, record_evaluation


def record(uri: str, experiment: str, learner: str | None) -> str:
    return record_evaluation(
        tracking_uri=uri, experiment=experiment, run_name="attempt", metrics={"auroc": 0.8}, targets=(),
        params={"project": "p"}, tags={"practicum.learner": learner or ""}, evaluation=None, details={}, learner=learner,
    )


def test_grading_experiments_are_one_per_learner_and_project():
    assert grading_experiment("glucose_cgm_forecasting", "ada") == "grading/glucose_cgm_forecasting/ada"
    assert grading_experiment("glucose_cgm_forecasting", None) == "grading/glucose_cgm_forecasting"
    for bad in ("", "a/b", " ada"):
        with pytest.raises(ValueError):
            grading_experiment("p", bad)
    with pytest.raises(ValueError):
        grading_experiment("p/q", "ada")


def test_a_sqlite_store_records_the_run_and_skips_grants(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = record(uri, grading_experiment("p", "ada"), "ada")
    again = record(uri, grading_experiment("p", "ada"), "ada")
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("grading/p/ada")
    assert {client.get_run(r).info.experiment_id for r in (run_id, again)} == {experiment.experiment_id}
    assert client.get_run(run_id).data.metrics["auroc"] == 0.8
    assert mlflow_records.SEAL_TAG not in experiment.tags  # no users, nothing to seal against
    assert record(uri, grading_experiment("p", None), None)


def test_a_learner_is_recorded_only_in_their_own_grading_experiment(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(ValueError, match="grading experiment"):
        record(uri, grading_experiment("p", "ada"), "bob")
    with pytest.raises(ValueError, match="grading experiment"):
        record(uri, "learners/bob", "bob")


@contextmanager
def tracking_server(answer: tuple[int, dict[str, Any]]) -> Iterator[str]:
    """A stand-in tracking server that answers /api/2.0/mlflow/users/current only."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, payload = answer if self.path.endswith("/api/2.0/mlflow/users/current") else (404, {})
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/mlflow"
    finally:
        server.shutdown()
        server.server_close()


def test_the_auth_api_is_detected_by_asking_who_the_grader_is(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    assert mlflow_records._auth_api("sqlite:///x.db") is None
    assert mlflow_records._auth_api("file:///tmp/mlruns") is None
    with tracking_server((404, {})) as plain:  # `mlflow server` without --app-name basic-auth
        assert mlflow_records._auth_api(plain) is None
    with tracking_server((200, {"user": {"username": "practicum/admin", "is_admin": True}})) as auth:
        assert mlflow_records._auth_api(auth) is not None
    with tracking_server((200, {"user": {"username": "ada", "is_admin": False}})) as auth:
        with pytest.raises(GradingRecordError, match="not as its admin"):
            mlflow_records._auth_api(auth)
    with tracking_server((401, {})) as auth:
        with pytest.raises(GradingRecordError, match="MLFLOW_TRACKING_USERNAME"):
            mlflow_records._auth_api(auth)
