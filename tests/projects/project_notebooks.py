"""What every project's notebook tests share: release as nbgrader does, grade cells, a short run."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions


def learners_version(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learners' version: solutions and hidden tests cleared by nbgrader's own preprocessors."""
    nb = nbformat.reads(nbformat.writes(source), as_version=4)
    resources = {"language": "python"}
    nb, resources = ClearSolutions().preprocess(nb, resources)
    nb, _ = ClearHiddenTests().preprocess(nb, resources)
    return nb


def graded_cells(source: nbformat.NotebookNode) -> tuple[list, list]:
    """(graded cells, hand-graded markdown answers), after checking unique grade ids and positive points."""
    ids = [c.metadata["nbgrader"]["grade_id"] for c in source.cells]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    graded = [c for c in source.cells if c.metadata["nbgrader"].get("grade")]
    assert all(c.metadata["nbgrader"].get("points", 0) > 0 for c in graded)
    manual = [c for c in graded if c.cell_type == "markdown" and c.metadata["nbgrader"].get("solution")]
    return graded, manual


def run_source_notebook(notebook: Path, work: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Execute a copy of the source notebook in ``work`` (its model lands there) and check no cell failed."""
    work.mkdir()
    shutil.copy(notebook, work / notebook.name)
    nb = nbformat.read(work / notebook.name, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]
    return nb
