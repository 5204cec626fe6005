"""An assignment may name a grader step that scores it after autograde (``scored_by``): only known ones."""

from __future__ import annotations

import shutil

import pytest

from practicum.authoring import AuthoringError
from practicum.authoring.course_file import load_course_file
from practicum.lab.courses import load_catalog
from practicum.lab.layout import REPO_ROOT


def test_the_annotation_practice_is_scored_by_the_annotation_agreement():
    imaging = next(c for c in load_catalog(REPO_ROOT / "courses") if c.course_id == "medical_imaging_dicom")
    assert dict(imaging.scorers) == {"annotation_practice": "annotation_agreement"}


def test_an_unknown_scorer_is_refused_naming_the_field(tmp_path):
    course = tmp_path / "medical_imaging_dicom"
    shutil.copytree(REPO_ROOT / "courses" / "medical_imaging_dicom", course)
    text = (course / "course.yaml").read_text()
    (course / "course.yaml").write_text(text.replace("scored_by: annotation_agreement", "scored_by: run_anything"))
    with pytest.raises(AuthoringError, match="scored_by"):
        load_course_file(course)
