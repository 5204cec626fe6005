"""Property-based fuzzing of every operation in the OpenAPI document (schemathesis): no 5xx, and
answers match the documented schemas, status codes and content types."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from lms_fixtures import PREFIX, Lms
from lms_payloads import grade_result, interview
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from practicum.lms_api.app import create_app
from practicum.lms_api.settings import Settings

MAX_EXAMPLES = {"sqlite": 20, "postgresql": 10}
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
SKIP = {"GET /services/lms/oauth_callback"}


def operation_labels() -> list[str]:
    spec = create_app(Settings(service_prefix=PREFIX, database_url="sqlite://")).openapi()
    return [
        f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item
        if f"{method.upper()} {path}" not in SKIP
    ]


def seed(lms: Lms) -> None:
    """Objects with small ids, so generated ids often hit something real."""
    lms.seed_catalog()
    lms.org("acme")
    lms.ok(lms.post("profiles/import", lms.admin, interview("alice")), 201)
    lms.ok(lms.post("results", lms.admin, grade_result("s1")), 201)
    lms.ok(lms.post("webhooks", lms.admin, {"url": "http://93.184.216.34/h", "organisation_id": 1}), 201)


def test_no_operation_answers_5xx(lms: Lms, request: pytest.FixtureRequest) -> None:
    """One database per backend; every operation gets its own bounded Hypothesis run in it."""
    seed(lms)
    schema = schemathesis.openapi.from_asgi(f"{PREFIX}openapi.json", lms.client.app)
    backend = request.node.callspec.params["db_url"]
    headers = lms.admin
    failures = []
    for label in operation_labels():
        method, path = label.split(" ", 1)
        operation = schema[path][method]

        @settings(
            max_examples=MAX_EXAMPLES[backend], deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # collect all operations' failures, then fail once
            failures.append(f"{label}: {exc}")
    assert not failures, "\n\n".join(failures)
