"""Reading nbgrader source notebooks: cells, their nbgrader roles, and the text learners must never see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .errors import AuthoringError

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
# Secret lines shorter than this (`pass`, `else:`, `)`) are too common to mean a leak.
MIN_SECRET_CHARS = 8


@dataclass(frozen=True)
class Secret:
    """One line of a solution or hidden-test block of a source notebook."""

    kind: str  # "solution" | "hidden test"
    cell: int  # 1-based
    grade_id: str
    line: str


def read_notebook(path: Path, shown: str) -> nbformat.NotebookNode:
    """The notebook at ``path`` (``shown`` names it in messages); AuthoringError when it is not a notebook."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthoringError(f"{shown}: cannot be read: {exc}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise AuthoringError(f"{shown}: broken notebook JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except (nbformat.ValidationError, nbformat.reader.NotJSONError, AttributeError, TypeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AuthoringError(f"{shown}: not a valid notebook (nbformat): {first}") from None
    return notebook


def nbgrader_meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def cell_label(index: int, cell: Any) -> str:
    grade_id = nbgrader_meta(cell).get("grade_id")
    return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


def is_autograded_test(cell: Any) -> bool:
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def blocks(source: str, begin: str, end: str) -> tuple[list[str], list[str], str | None]:
    """(lines inside ``begin``/``end`` blocks, lines outside them, a fault when the markers do not pair)."""
    inside: list[str] = []
    outside: list[str] = []
    depth = 0
    for number, line in enumerate(source.splitlines(), start=1):
        if begin in line:
            if depth:
                return inside, outside, f"line {number}: '{begin}' inside another block"
            depth = 1
        elif end in line:
            if not depth:
                return inside, outside, f"line {number}: '{end}' without '{begin}'"
            depth = 0
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    if depth:
        return inside, outside, f"'{begin}' is never closed by '{end}'"
    return inside, outside, None


def secrets(notebook: nbformat.NotebookNode) -> list[Secret]:
    """Every distinctive line of the notebook's solution and hidden-test blocks (and of solution cells
    without markers, which nbgrader replaces whole)."""
    found: list[Secret] = []
    for index, cell in enumerate(notebook.cells):
        meta = nbgrader_meta(cell)
        grade_id = str(meta.get("grade_id", ""))
        source = cell.get("source", "")
        solution, _, _ = blocks(source, BEGIN_SOLUTION, END_SOLUTION)
        if meta.get("solution") and cell.get("cell_type") == "code" and BEGIN_SOLUTION not in source:
            solution = source.splitlines()
        hidden, _, _ = blocks(source, BEGIN_HIDDEN, END_HIDDEN)
        for kind, lines in (("solution", solution), ("hidden test", hidden)):
            for line in lines:
                if len(line.strip()) >= MIN_SECRET_CHARS:
                    found.append(Secret(kind, index + 1, grade_id, line.strip()))
    return found


def public_text(notebook: nbformat.NotebookNode) -> str:
    """What the source shows outside every solution and hidden-test block (task text, visible tests, setup):
    a secret line written there too (a hint) is published by the instructor, not leaked by the release."""
    shown: list[str] = []
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        source = cell.get("source", "")
        if meta.get("solution") and cell.get("cell_type") == "code" and BEGIN_SOLUTION not in source:
            continue
        _, outside, _ = blocks(source, BEGIN_SOLUTION, END_SOLUTION)
        _, visible, _ = blocks("\n".join(outside), BEGIN_HIDDEN, END_HIDDEN)
        shown.extend(visible)
    return "\n".join(shown)


def encodings(text: str) -> list[bytes]:
    """How ``text`` can appear in a file's bytes: raw UTF-8, and as a JSON string body (a notebook)."""
    return list(dict.fromkeys([text.encode(), json.dumps(text)[1:-1].encode(), json.dumps(text, ensure_ascii=False)[1:-1].encode()]))
