"""The pages in a real browser (Debian's chromium driven by Playwright): the learner's, instructor's
and HR person's journeys from the hub's service link through the hub login, charts drawn, keyboard
use, and axe-core's accessibility check run in each page (no serious or critical violation).

One LMS server and one browser for the module. Requests to any other host are refused, so the
pages and the API docs are shown to work offline. PRACTICUM_LMS_SCREENSHOTS=DIR writes PNGs of the
three pages there (the README's screenshots: `docs/screenshots`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lms_fake_hub import FakeHub, lms_settings_for, running_fake_hub
from lms_server import serving
from pages_world import FEEDBACK_URL, PROJECTS, World, build_world
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from practicum.lms_api.db.engine import Database
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.tokens import Scope

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = os.environ.get("PRACTICUM_LMS_SCREENSHOTS")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make install)")


class HubLogin:
    """The hub's OAuth authorize step, for whoever `user` is: it issues a code for the PKCE challenge the
    LMS sent and redirects to the LMS's callback; the LMS exchanges it at the fake hub's token endpoint."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub, self.lms_origin = hub, ""
        self.user: str | None = None
        login = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if not urlsplit(self.path).path.endswith("/api/oauth2/authorize") or login.user is None:
                    self.send_response(403)
                    self.end_headers()
                    return
                code = secrets.token_urlsafe(12)
                login.hub.codes[code] = (query["code_challenge"], f"hub-token-{login.user}")
                self.send_response(302)
                self.send_header("Location", f"{login.lms_origin}{query['redirect_uri']}?code={code}&state={query['state']}")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Lab:
    def __init__(self, base: str, world: World, origin: str, login: HubLogin, admin: str = "") -> None:
        self.base, self.world, self.origin, self.login, self.admin = base, world, origin, login, admin


@pytest.fixture(scope="module")
def lab(sqlite_template: Path) -> Iterator[Lab]:
    folder = Path(tempfile.mkdtemp(prefix="lms-pages-"))
    shutil.copy(sqlite_template, folder / "lms.sqlite")
    url = f"sqlite:///{folder / 'lms.sqlite'}"
    db = Database(url)
    with db.write() as session:
        _, admin = create_token(session, name="admin", scopes=[Scope.ADMIN], organisation_id=None, created_by="test")
        _, grader = create_token(session, name="grader", scopes=[Scope.RESULTS_WRITE], organisation_id=None,
                                 created_by="test")
        session.commit()
    db.dispose()
    try:
        with running_fake_hub() as hub:
            login = HubLogin(hub)
            settings = lms_settings_for(hub, database_url=url, webhook_interval_seconds=0, migrate_on_startup=False,
                                        reminder_interval_seconds=0,
                                        mlflow_public_url="http://mlflow.lab.example.org",
                                        public_hub_url=f"{login.origin}/hub")
            try:
                with serving(settings) as base, httpx.Client() as http:
                    origin = base.split("/services/")[0]
                    login.lms_origin = origin
                    world = build_world(http, origin + "/services/lms/", hub, admin, grader)
                    yield Lab(base, world, origin, login, admin)
            finally:
                login.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser_context(lab: Lab) -> Iterator[BrowserContext]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900}, accept_downloads=True,
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context: BrowserContext, lab: Lab) -> Iterator[Page]:
    """A page of a signed-out browser that reaches nothing but the lab (the hub's login is played below)."""
    browser_context.clear_cookies()
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.errors = errors  # type: ignore[attr-defined]
    lab.login.user = None
    allowed = (lab.origin, lab.login.origin)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(allowed) else route.abort())
    yield page
    page.close()


def sign_in_through_the_hub(page: Page, lab: Lab, name: str) -> None:
    lab.login.user = name


def assert_accessible(page: Page) -> None:
    page.evaluate(AXE.read_text() + "\n;true")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


def assert_charts_drawn(page: Page, *ids: str) -> None:
    for chart_id in ids:
        expect(page.locator(f"#{chart_id}")).to_have_attribute("data-drawn", "true", timeout=15_000)
        assert page.locator(f"#{chart_id} svg.main-svg").count() >= 1


def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_a_learner_follows_the_service_link_to_their_results_profile_and_path(page: Page, lab: Lab) -> None:
    sign_in_through_the_hub(page, lab, "alice")
    page.goto(lab.base)  # the hub's Services > lms link
    page.wait_for_url("**/pages/people/*")
    assert page.url.endswith(f"/services/lms/pages/people/{lab.world.ids['alice']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("alice: your learning record")
    expect(page.get_by_role("link", name="Feedback and plots")).to_have_attribute("href", FEEDBACK_URL)
    # Graded MLflow runs are the instructor's (full precision across attempts would reveal hidden labels).
    expect(page.get_by_role("link", name="MLflow run")).to_have_count(0)
    expect(page.get_by_text("(overdue)")).to_be_visible()
    assert_charts_drawn(page, "radar", "history")
    # Keyboard: the skip link comes first and moves focus to the content; a dimension opens with Enter.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    summary = page.locator("summary", has_text="Medical imaging")
    summary.focus()
    page.keyboard.press("Enter")
    changes = page.get_by_role("table", name="Changes of Medical imaging, newest first")
    expect(changes).to_be_visible()
    expect(changes.get_by_text("passed: D = 3 x 0.92").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "learner")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_an_instructor_reads_the_cohort_and_grades_a_rubric(page: Page, lab: Lab) -> None:
    sign_in_through_the_hub(page, lab, "ines")
    page.goto(lab.base + f"pages/courses/{PROJECTS}")
    page.wait_for_url(f"**/pages/courses/{PROJECTS}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Scenario projects")
    expect(page.get_by_role("table", name="Best scores per item (learners enrolled in this course)")).to_be_visible()
    expect(page.get_by_role("heading", name="Who is stuck")).to_be_visible()
    assert_charts_drawn(page, "completion", "scores")
    assert_accessible(page)
    screenshot(page, "instructor")
    page.get_by_label("Learner (hub user name)").fill("amir")
    page.get_by_label("Item", exact=True).select_option("ehr_complication_risk")
    page.get_by_label("Score (0 to 1)").fill("0.75")
    page.get_by_label("Note for the learner").fill("well argued risk thresholds")
    page.get_by_role("button", name="Record rubric grade").click()
    expect(page.get_by_role("status")).to_contain_text("Rubric grade recorded for amir")
    page.get_by_role("link", name="amir").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("amir")
    page.locator("summary", has_text="Clinical data").click()
    changes = page.get_by_role("table", name="Changes of Clinical data (EHR, CGM, time series), newest first")
    expect(changes.get_by_text("rubric of ehr_complication_risk")).to_contain_text("well argued risk thresholds")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_hr_reads_its_organisation_by_role_target_and_downloads_csv(page: Page, lab: Lab) -> None:
    sign_in_through_the_hub(page, lab, "harriet")
    page.goto(lab.base + "pages/organisation")
    page.wait_for_url("**/pages/organisation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Hospital: cohort by role target")
    assert_charts_drawn(page, "heatmap")
    people = page.get_by_role("table", name="People with this role target, by id; each links to their explained profile")
    expect(people.get_by_role("link")).to_have_count(2)  # alice and amir; never bob of globex
    assert_accessible(page)
    screenshot(page, "hr")
    page.get_by_label("Role target", exact=True).select_option("clinician")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("0 people with the role target")).to_be_visible()
    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="teams").click()
    assert Path(download.value.path()).read_text().startswith("team_id,team,headcount")
    page.get_by_role("link", name="alice").click()
    expect(page.get_by_role("link", name="MLflow run").first).to_have_attribute(
        "href", "http://mlflow.lab.example.org/#/runs/0123456789abcdef0123456789abcdef")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_the_api_docs_work_offline_and_take_a_bearer_token(page: Page, lab: Lab) -> None:
    page.goto(lab.base + "docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Practicum LMS", timeout=15_000)
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.get_by_text("bearer (http, Bearer)")).to_be_visible()
    assert not [e for e in page.errors if "ERR_FAILED" in e], page.errors  # type: ignore[attr-defined]




def test_a_learner_reads_and_dismisses_their_reminders(page: Page, lab: Lab) -> None:
    round_ = httpx.post(lab.base + "reminders/run", headers={"Authorization": f"Bearer {lab.admin}"}, timeout=30)
    assert round_.status_code == 200 and round_.json()["reminders"]["notices"] >= 1, round_.text
    sign_in_through_the_hub(page, lab, "alice")
    page.goto(lab.base + f"pages/people/{lab.world.ids['alice']}")
    reminders = page.get_by_role("region", name="Reminders")
    expect(reminders).to_be_visible()
    expect(reminders.get_by_text("Overdue: ").first).to_be_visible()
    assert_accessible(page)
    reminders.get_by_role("button", name="Mark these reminders read").click()
    page.wait_for_url(f"**/pages/people/{lab.world.ids['alice']}")
    expect(page.get_by_role("region", name="Reminders")).to_have_count(0)
    assert not page.errors, page.errors  # type: ignore[attr-defined]
