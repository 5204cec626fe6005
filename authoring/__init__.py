"""Course authoring: the course file loader, the catalog, and the instructor's verbs (new, validate, release).

One verb = one function, shared by `practicum course ...` and notebooks.
"""

from .catalog import Catalog, ProjectsCourse, lms_catalog, load_catalog
from .course_file import AssignmentEntry, CourseFile, load_course_file
from .errors import AuthoringError

__all__ = [
    "AssignmentEntry",
    "AuthoringError",
    "Catalog",
    "CourseFile",
    "ProjectsCourse",
    "lms_catalog",
    "load_catalog",
    "load_course_file",
]
