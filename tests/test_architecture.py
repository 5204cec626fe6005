"""The rooms' import boundaries (.importlinter) hold, and no top-level `datasets` package exists."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import practicum

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--config", str(REPO / ".importlinter")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_every_room_imports_under_the_practicum_namespace():
    for room in ("hub_config", "datasets", "graders", "grading", "lms_api", "projects", "tracking", "authoring", "annotation"):
        spec = importlib.util.find_spec(f"practicum.{room}")
        assert spec is not None and Path(spec.origin).resolve() == (REPO / room / "__init__.py").resolve()


def test_the_install_adds_no_top_level_datasets_package():
    spec = importlib.util.find_spec("datasets")
    ours = REPO / "datasets"
    assert spec is None or not Path(spec.origin or "").resolve().is_relative_to(ours.resolve())
    assert Path(practicum.__file__).parent.name == "practicum"
