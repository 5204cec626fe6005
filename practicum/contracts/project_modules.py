"""The modules of a project folder that the lab calls by name, besides project.yaml.

``projects/<id>/reference.py`` defines ``train_reference(public_dir, **options)``, the instructor
solution; ``projects/<id>/baseline.py`` defines ``build_baseline(public_dir)``. Both return an MLflow
pyfunc model. Learners must never reach the reference: every sandbox (the learners' servers and the
grading sandbox) binds ``MASKED_REFERENCE`` over each reference module and hides its bytecode cache.
"""

from __future__ import annotations

from pathlib import Path

REFERENCE = ("reference", "train_reference")  # (module, function)
BASELINE = ("baseline", "build_baseline")
MASKED_REFERENCE = Path(__file__).with_name("reference_unavailable.py")


def reference_caches(projects_dir: str | Path) -> tuple[str, ...]:
    """Each project's bytecode cache folder (made here when missing), which every sandbox sees empty:
    a ``reference.*.pyc`` a host import left there would otherwise load the instructor's code past
    the mask. Hiding the folder, not the files, also hides caches written after a sandbox started."""
    folders = []
    for project in sorted(p for p in Path(projects_dir).iterdir() if (p / f"{REFERENCE[0]}.py").is_file()):
        cache = project / "__pycache__"
        cache.mkdir(exist_ok=True)
        folders.append(str(cache.resolve()))
    return tuple(folders)


def reference_modules(projects_dir: str | Path) -> tuple[str, ...]:
    """The reference module of every project in ``projects_dir`` (real paths, as bind targets)."""
    return tuple(sorted(str(p.resolve()) for p in Path(projects_dir).glob(f"*/{REFERENCE[0]}.py")))
