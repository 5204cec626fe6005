"""In the running (shared) lab: `practicum course release` reaches a roster learner's Nbgrader list with
no hub restart; a learner enrols themselves through the LMS into a self-enrolment course; the formgrader
may be framed by its own JupyterLab (a real browser) and its root-relative links reach its server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import nbformat
import pytest
import yaml

from practicum.authoring.skeleton import first_notebook
from practicum.hub_client import HubClient
from practicum.lab.background import BackgroundLab
from practicum.lab.layout import REPO_ROOT
from practicum.lab.secrets import load_or_create_secrets

pytestmark = pytest.mark.lab

PRACTICUM = str(Path(sys.executable).parent / "practicum")
COURSE = "intro_medical_ai"
FORMGRADER = f"/services/formgrader-{COURSE}"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def lab(shared_lab) -> BackgroundLab:
    return shared_lab


@pytest.fixture(scope="module")
def hub(lab):
    with HubClient(lab.state.hub_api_url, lab.state.public_url, lab.token) as client:
        yield client


def login(lab: BackgroundLab, username: str) -> httpx.Client:
    password = load_or_create_secrets(lab.state_dir / "secrets.json").user_password
    browser = httpx.Client(base_url=lab.state.public_url, follow_redirects=True, timeout=60)
    page = browser.get("/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    browser.post("/hub/login", data={"username": username, "password": password, "_xsrf": xsrf})
    return browser


def test_a_new_question_reaches_a_roster_learner_without_a_hub_restart(lab, hub, tmp_path):
    courses = tmp_path / "courses"
    shutil.copytree(REPO_ROOT / "courses" / COURSE, courses / COURSE)
    shutil.copy(REPO_ROOT / "courses" / "catalog.yaml", courses / "catalog.yaml")
    (tmp_path / "projects").symlink_to(REPO_ROOT / "projects")
    spec = yaml.safe_load((courses / COURSE / "course.yaml").read_text())
    spec["roster"] = ["rosa"]
    spec["assignments"].append({"id": "first_question", "title": "Sensitivity", "level": 1, "hours": 1,
                                "weights": {"medical_statistics": 1.0}})
    (courses / COURSE / "course.yaml").write_text(yaml.safe_dump(spec))
    (courses / COURSE / "source" / "first_question").mkdir()
    nbformat.write(first_notebook(), str(courses / COURSE / "source" / "first_question" / "first_question.ipynb"))
    hub_started = hub._api("GET", "/").json()  # the hub's version answer; its process must not change
    pid_before = lab.process.pid

    result = subprocess.run(
        [PRACTICUM, "course", "release", COURSE, "first_question", "--courses-dir", str(courses),
         "--state-dir", str(lab.state_dir), "--json"], capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["released"] == ["first_question"] and report["learners"] == ["rosa"]
    released = lab.state_dir / "exchange" / COURSE / "outbound" / "first_question" / "first_question.ipynb"
    text = released.read_text()
    assert "return tp / (tp + fn)" not in text and "sensitivity(1, 3)" not in text
    assert f"nbgrader-{COURSE}" in hub.user("rosa")["groups"]
    assert lab.process.poll() is None and lab.process.pid == pid_before and hub._api("GET", "/").json() == hub_started

    hub.start_server("rosa")
    try:
        listing = hub.run_code("rosa", "import subprocess\nprint(subprocess.run(['nbgrader', 'list'], capture_output=True, "
                                       "text=True).stdout + subprocess.run(['nbgrader', 'list'], capture_output=True, text=True).stderr)",
                               timeout=120)
    finally:
        hub.stop_server("rosa")
    assert listing.ok, listing.error + listing.stderr
    assert re.search(rf"{COURSE}\s+first_question", listing.stdout), listing.stdout


def test_release_refuses_an_unknown_assignment_in_one_line(lab):
    result = subprocess.run([PRACTICUM, "course", "release", COURSE, "nope", "--state-dir", str(lab.state_dir)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == f"practicum: error: course {COURSE} has no assignment 'nope' (assignments: welcome)"


def test_a_learner_enrols_themselves_where_the_course_allows_it(lab, hub):
    hub.ensure_user("selma")
    token = hub._api("POST", "/users/selma/tokens", json={"note": "test"}).json()["token"]
    lms = httpx.Client(base_url=f"{lab.state.public_url}/services/lms/", headers={"Authorization": f"token {token}"}, timeout=30)
    assert lms.get("me").status_code == 200
    assert f"nbgrader-{COURSE}" not in hub.user("selma")["groups"]
    enrolled = lms.post(f"courses/{COURSE}/self-enrolment")
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["source"] == "hub" and enrolled.json()["role"] == "learner"
    assert f"nbgrader-{COURSE}" in hub.user("selma")["groups"]
    again = lms.post(f"courses/{COURSE}/self-enrolment")
    assert again.status_code == 201 and again.json()["id"] == enrolled.json()["id"]
    # The LMS's hub token may change this course's group only.
    other = httpx.post(f"{lab.state.hub_api_url}/groups/formgrade-{COURSE}/users", json={"users": ["selma"]},
                       headers={"Authorization": f"token {_lms_hub_token(lab)}"}, timeout=30)
    assert other.status_code in (403, 404)  # the hub hides what a token may not touch
    assert f"formgrade-{COURSE}" not in hub.user("selma")["groups"]


def _lms_hub_token(lab: BackgroundLab) -> str:
    environ = _service_environ(lab, "JUPYTERHUB_SERVICE_NAME=lms")
    return environ["JUPYTERHUB_API_TOKEN"]


def _service_environ(lab: BackgroundLab, marker: str) -> dict[str, str]:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            entries = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in entries and f"PRACTICUM_LAB_ID={lab.state.lab_id}".encode() in entries:
            return dict(e.decode().split("=", 1) for e in entries if b"=" in e)
    raise AssertionError(f"no process with {marker}")


def test_the_formgrader_may_be_framed_by_the_hubs_origin_only(lab):
    instructor = login(lab, "instructor")
    page = instructor.get(f"{FORMGRADER}/formgrader")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in policy
    assert policy == f"frame-ancestors 'self' {lab.state.public_url}"


def test_formgrader_links_from_the_origin_root_reach_its_server(lab):
    instructor = login(lab, "instructor")
    referer = f"{lab.state.public_url}{FORMGRADER}/formgrader/manage_assignments"
    folder = instructor.get("/tree/source/welcome", headers={"Referer": referer})
    assert folder.status_code == 200 and str(folder.url).startswith(f"{lab.state.public_url}{FORMGRADER}/tree/source/welcome")
    notebook = instructor.get("/notebooks/source/welcome/welcome.ipynb", headers={"Referer": referer})
    assert notebook.status_code == 200 and f"{FORMGRADER}/notebooks/source/welcome/welcome.ipynb" in str(notebook.url)
    # From anywhere else (or a formgrader the hub does not run) the hub still answers 404: no open redirect.
    assert instructor.get("/tree/source/welcome").status_code == 404
    assert instructor.get("/tree/x", headers={"Referer": "https://evil.example/services/formgrader-intro_medical_ai/"}).status_code == 404
    assert instructor.get("/tree/x", headers={"Referer": f"{lab.state.public_url}/services/formgrader-nope/"}).status_code == 404


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make install)")
def test_a_real_browser_shows_the_formgrader_in_its_jupyterlab_frame_and_not_on_another_site(lab):
    from playwright.sync_api import sync_playwright

    password = load_or_create_secrets(lab.state_dir / "secrets.json").user_password
    origin = lab.state.public_url
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    frame_probe = """async (src) => {
        const frame = document.createElement('iframe');
        frame.src = src;
        document.body.appendChild(frame);
        await new Promise(r => frame.onload = r);
        await new Promise(r => setTimeout(r, 300));
        try { return frame.contentDocument ? frame.contentDocument.title + '|' + frame.contentDocument.body.innerText.slice(0, 200) : 'blocked'; }
        catch (e) { return 'blocked'; }
    }"""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = context.new_page()
            page.goto(f"{origin}/hub/login")
            page.fill("input[name=username]", "instructor")
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(re.compile(r".*/hub/(home|spawn|spawn-pending).*|.*/user/instructor/.*"), timeout=60_000)
            page.goto(f"{origin}{FORMGRADER}/lab", wait_until="domcontentloaded")
            inside = page.evaluate(frame_probe, f"{origin}{FORMGRADER}/formgrader/manage_assignments")
            assert "Manage Assignments" in inside or "welcome" in inside, inside
            # Another origin (MLflow's port) may not frame it.
            page.goto(f"{lab.state.mlflow_url}/health", wait_until="domcontentloaded")
            outside = page.evaluate(frame_probe, f"{origin}{FORMGRADER}/formgrader/manage_assignments")
            assert "Manage Assignments" not in outside and "welcome" not in outside, outside
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def test_a_course_new_to_the_running_lab_is_refused_with_what_to_do(lab, tmp_path):
    courses = tmp_path / "courses"
    courses.mkdir()
    (tmp_path / "projects").symlink_to(REPO_ROOT / "projects")
    subprocess.run([PRACTICUM, "course", "new", "brand_new", "--courses-dir", str(courses)], check=True, capture_output=True, timeout=60)
    result = subprocess.run([PRACTICUM, "course", "release", "brand_new", "--courses-dir", str(courses), "--state-dir", str(lab.state_dir)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("practicum: error: course brand_new is new to the running lab (it started without it): restart the lab once")
    assert not (lab.state_dir / "exchange" / "brand_new").exists()
