import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from practicum.graders.autograde import AutogradeOutcome
from practicum.graders.delivery import DeliveryError, post_result
from practicum.graders.results import assignment_result


def outcome(score: float, max_score: float = 2.0) -> AutogradeOutcome:
    now = datetime.now(UTC)
    return AutogradeOutcome("intro", "welcome", "ada", score, max_score, "abc", now, now)


@pytest.mark.parametrize(("score", "passed", "margin"), [(2.0, True, 0.4), (1.2, True, 0.0), (1.0, False, -0.1)])
def test_assignment_result_passes_at_the_documented_fraction(score, passed, margin):
    result = assignment_result(outcome(score), submission_id="s1")
    assert result.passed is passed
    assert result.targets[0].margin == pytest.approx(margin)
    assert result.item_id == "intro/welcome" and result.learner == "ada"
    assert result.score == pytest.approx(score / 2)


class _Lms(BaseHTTPRequestHandler):
    answers: list[int] = []
    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        status = type(self).answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": 7} if status == 201 else {"error": {"code": "x"}}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def lms():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Lms)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/lms/", _Lms
    server.shutdown()


def test_delivery_retries_server_errors_with_the_same_submission(lms):
    url, handler = lms
    handler.answers[:] = [503, 500, 201]
    handler.bodies.clear()
    result = assignment_result(outcome(2.0), submission_id="s-42")
    assert post_result(url, "tok", result) == {"id": 7}
    assert [b["submission_id"] for b in handler.bodies] == ["s-42"] * 3


def test_delivery_stops_at_a_refusal(lms):
    url, handler = lms
    handler.answers[:] = [422]
    with pytest.raises(DeliveryError, match="refused the result: HTTP 422"):
        post_result(url, "tok", assignment_result(outcome(2.0)))
