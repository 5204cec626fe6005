"""The formgrader's CSP (framed by its own pages only) and the hub's redirect of its root-relative links."""

from __future__ import annotations

from traitlets.config import Config

from practicum.hub_config import services
from practicum.hub_config.formgrader_links import (
    FormgraderLinkHandler,
    configure_formgrader_links,
    formgrader_link_target,
    formgrader_server_config,
)
from practicum.hub_config.settings import CourseService

HOST = "127.0.0.1:8000"
KNOWN = {"formgrader-stats"}


def test_the_formgrader_is_framed_by_the_hubs_origin_not_by_none():
    headers = formgrader_server_config("http://127.0.0.1:8000/", "formgrader-stats")["ServerApp"]["tornado_settings"]["headers"]
    assert headers == {"Content-Security-Policy": "frame-ancestors 'self' http://127.0.0.1:8000"}


def test_links_from_a_formgrader_page_go_to_that_formgrader():
    referer = "http://127.0.0.1:8000/services/formgrader-stats/formgrader/manage_assignments"
    assert formgrader_link_target(referer, HOST, "tree", "./source/week1", KNOWN) == "/services/formgrader-stats/tree/source/week1"
    assert formgrader_link_target(referer, HOST, "notebooks", "source/a b.ipynb", KNOWN) == "/services/formgrader-stats/notebooks/source/a%20b.ipynb"


def test_links_from_elsewhere_are_not_redirected():
    assert formgrader_link_target("", HOST, "tree", "x", KNOWN) is None
    assert formgrader_link_target("http://127.0.0.1:8000/user/mallory/files/x.html", HOST, "tree", "x", KNOWN) is None
    assert formgrader_link_target("https://evil.example/services/formgrader-stats/", HOST, "tree", "x", KNOWN) is None
    assert formgrader_link_target("http://127.0.0.1:8000/services/formgrader-other/", HOST, "tree", "x", KNOWN) is None
    assert formgrader_link_target("http://127.0.0.1:8000/services/formgrader-stats/", HOST, "files", "x", KNOWN) is None
    # No way out of the formgrader's prefix through the path.
    target = formgrader_link_target("http://127.0.0.1:8000/services/formgrader-stats/", HOST, "tree", "../../../hub/admin", KNOWN)
    assert target == "/services/formgrader-stats/tree/hub/admin"


def test_the_hub_config_registers_the_handler_once_with_the_courses_formgraders():
    c = Config()
    configure_formgrader_links(c, ["formgrader-b", "formgrader-a"])
    configure_formgrader_links(c, ["formgrader-a"])
    (entry,) = c.JupyterHub.extra_handlers
    assert entry[1] is FormgraderLinkHandler and entry[2] == {"services": ["formgrader-a"]}


def test_roster_and_self_enrolment_reach_the_hub_groups_and_the_lms_role():
    c = Config()
    course = CourseService("stats", "/srv/c", 9000, instructors=("ines",), roster=("rosa", "ron"), self_enrolment=True)
    services.configure_formgrader(c, course, singleuser="jupyterhub-singleuser")
    assert c.JupyterHub.load_groups["nbgrader-stats"] == {"users": ["ron", "rosa"]}
    assert c.JupyterHub.load_groups["formgrade-stats"] == {"users": ["ines"]}
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "lms-enrol-stats")
    assert role == {"name": "lms-enrol-stats", "services": ["lms"], "scopes": ["groups!group=nbgrader-stats"]}

    closed = Config()
    services.configure_formgrader(closed, CourseService("closed", "/srv/d", 9001), singleuser="jupyterhub-singleuser")
    assert not [r for r in closed.JupyterHub.load_roles if r["name"].startswith("lms-enrol-")]
