"""The course catalog: nbgrader courses whose assignments are course sources or project notebooks."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from practicum.lab.courses import load_catalog, prepare_course
from practicum.lab.errors import LabError
from practicum.lab.layout import REPO_ROOT


def test_the_lab_catalog_releases_every_project_notebook():
    courses = {c.course_id: c for c in load_catalog(REPO_ROOT / "courses")}
    projects = {p.name for p in (REPO_ROOT / "projects").iterdir() if (p / "project.yaml").exists()}
    released = {p for c in courses.values() for p in c.projects}
    assert projects and released == projects


def write_catalog(root: Path, text: str) -> Path:
    courses = root / "courses"
    courses.mkdir(parents=True)
    (courses / "catalog.yaml").write_text(text)
    return courses


PROJECTS_COURSE = "projects_course:\n  id: {id}\n  title: T\n  instructors: [i]\n  level: 3\n  hours: 5\n  projects:\n    - {{id: {project}, level: 3, hours: 5}}\n"


def test_the_lab_reads_courses_from_their_course_files():
    courses = {c.course_id: c for c in load_catalog(REPO_ROOT / "courses")}
    intro = courses["intro_medical_ai"]
    assert intro.assignments == ("welcome",) and intro.instructors == ("instructor",) and intro.self_enrolment


def test_a_project_without_a_spec_is_refused(tmp_path):
    courses = write_catalog(tmp_path, PROJECTS_COURSE.format(id="p", project="absent_project"))
    with pytest.raises(LabError, match="project 'absent_project' has no .*absent_project/project.yaml"):
        load_catalog(courses)


def test_a_course_folder_without_a_course_file_is_refused(tmp_path):
    courses = write_catalog(tmp_path, "")
    (courses / "half_made" / "source" / "a").mkdir(parents=True)
    with pytest.raises(LabError, match="half_made/course.yaml: no course file"):
        load_catalog(courses)


def test_project_notebooks_are_generated_and_released_with_nbgrader(tmp_path):
    courses = write_catalog(tmp_path, PROJECTS_COURSE.format(id="demo_projects", project="toy"))
    notebook = tmp_path / "projects" / "toy" / "notebook"
    notebook.mkdir(parents=True)
    spec = (REPO_ROOT / "projects" / "ehr_complication_risk" / "project.yaml").read_text()
    (notebook.parent / "project.yaml").write_text(spec.replace("id: ehr_complication_risk", "id: toy"))
    welcome = REPO_ROOT / "courses" / "intro_medical_ai" / "source" / "welcome" / "welcome.ipynb"
    shutil.copy(welcome, notebook / "toy.ipynb")
    (notebook / "model").mkdir()  # what a run of the notebook leaves behind is not released
    (notebook / "model" / "MLmodel").write_text("flavors: {}\n")
    (course,) = load_catalog(courses)
    assert course.released == ("toy",)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs alembic from PATH
    env = dict(os.environ, PRACTICUM_BIN=bin_dir, PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    prepare_course(course, courses, tmp_path / "course_root", exchange, tmp_path / "inbounds", env)
    config = (tmp_path / "course_root" / "nbgrader_config.py").read_text()
    assert "PrivateInboundCollect" in config and "c.Execute.kernel_name = 'practicum-sandboxed'" in config
    assert (tmp_path / "inbounds" / "demo_projects").is_dir()
    released = exchange / "demo_projects" / "outbound" / "toy"
    assert sorted(p.name for p in released.iterdir()) == ["toy.ipynb"]
    text = json.dumps(json.loads((released / "toy.ipynb").read_text()))
    assert "BEGIN HIDDEN TESTS" not in text and "tissue_class(-850)" not in text


def test_the_lab_start_syncs_the_generated_catalog_into_the_lms(tmp_path):
    from practicum.contracts.project_spec import load_project_spec
    from practicum.lab.catalog_sync import sync_catalog_into_lms
    from practicum.lms_api.db.engine import Database
    from practicum.lms_api.db.tables import CatalogItem, Course

    url = f"sqlite:///{tmp_path / 'lms.sqlite'}"
    sync_catalog_into_lms(url, REPO_ROOT / "courses")
    sync_catalog_into_lms(url, REPO_ROOT / "courses")  # every start: idempotent
    db = Database(url)
    try:
        with db.read() as session:
            titles = {i.id: i.title for i in session.query(CatalogItem)}
            enrolment = {c.id: c.enrolment for c in session.query(Course)}
    finally:
        db.dispose()
    spec = load_project_spec(REPO_ROOT / "projects" / "ehr_complication_risk" / "project.yaml")
    assert titles["ehr_complication_risk"] == spec.title
    assert titles["intro_medical_ai/welcome"].startswith("Welcome")
    assert {c.course_id for c in load_catalog(REPO_ROOT / "courses")} == set(enrolment)
