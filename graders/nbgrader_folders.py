"""What must not lie in a folder nbgrader runs in as the grader.

nbgrader executes its folder's ``nbgrader_config.py`` (and reads ``nbgrader_config.json``), reads the
same from the course folder, and puts its working folder first on ``sys.path``, so any module there
(``csv.py``, a package, a compiled extension) would run with the grader's rights the next time nbgrader
imports that name. A course folder is its instructor's (their formgrader writes it): the grader rewrites
the nbgrader_config.py there itself and refuses to run nbgrader where anything else importable lies.
"""

from __future__ import annotations

from pathlib import Path

CONFIG = "nbgrader_config.py"
_CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".so", ".pyd", ".pth")


class CodeInCourseFolder(RuntimeError):
    """A folder nbgrader would run in holds files nbgrader would execute or import."""


def importable_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that nbgrader would execute or could import (its own config file aside)."""
    found = []
    for entry in sorted(Path(folder).iterdir()):
        name = entry.name
        if name == CONFIG:
            continue
        if name.endswith(_CODE_SUFFIXES) or name.startswith("nbgrader_config.") or name == "__pycache__":
            found.append(name)
        elif entry.is_dir() and not entry.is_symlink() and (entry / "__init__.py").exists():
            found.append(name + "/")
    return found


def refuse_code_in(folder: Path) -> None:
    if found := importable_entries(folder):
        raise CodeInCourseFolder(
            f"{folder} holds {', '.join(found)}: nbgrader would run or import it with the grader's rights "
            "(it reads its configuration from and imports from the folder it runs in); move it out of the course folder"
        )
