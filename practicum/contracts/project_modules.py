"""The modules of a project folder that the lab calls by name, besides project.yaml.

``projects/<id>/reference.py`` defines ``train_reference(public_dir, **options)``, the instructor
solution; ``projects/<id>/baseline.py`` defines ``build_baseline(public_dir)``. Both return an MLflow
pyfunc model. Learners must never reach the reference: every sandbox (the learners' servers and the
grading sandbox) binds ``MASKED_REFERENCE`` over each reference module.
"""

from __future__ import annotations

from pathlib import Path

REFERENCE = ("reference", "train_reference")  # (module, function)
BASELINE = ("baseline", "build_baseline")
MASKED_REFERENCE = Path(__file__).with_name("reference_unavailable.py")


def reference_modules(projects_dir: str | Path) -> tuple[str, ...]:
    """The reference module of every project in ``projects_dir`` (real paths, as bind targets)."""
    return tuple(sorted(str(p.resolve()) for p in Path(projects_dir).glob(f"*/{REFERENCE[0]}.py")))
