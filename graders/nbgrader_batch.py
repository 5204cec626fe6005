"""Generate and release several assignments of one course in one nbgrader process.

``nbgrader generate_assignment`` and ``nbgrader release_assignment`` are one process each, and an nbgrader
process spends about two seconds starting; a lab start releases every assignment of every course (16 today),
which took most of a minute. This runs both verbs for each assignment through nbgrader's own API
(``NbGraderAPI``, what the formgrader calls) in one process per course. It is started with ``python -I``, so
the course folder (its instructor writes it) is not on ``sys.path``; the caller has rewritten the course's
nbgrader_config.py and refused a folder holding other code (``nbgrader_folders``).

    python -I -m practicum.graders.nbgrader_batch COURSE_ROOT ASSIGNMENT [ASSIGNMENT ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

CONFIG = "nbgrader_config.py"


def release_all(course_root: Path, assignments: list[str]) -> list[str]:
    """Generate and release each assignment (replacing an earlier release); returns the errors, empty when all went."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG, path=str(course_root)).load_config()
    config.merge(Config({"ExchangeReleaseAssignment": {"force": True}, "CourseDirectory": {"root": str(course_root)}}))
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    errors = []
    for assignment in assignments:
        for verb, run in (("generate_assignment", api.generate_assignment), ("release_assignment", api.release_assignment)):
            outcome = run(assignment)
            if not outcome["success"]:
                detail = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()[-3:]
                errors.append(f"nbgrader {verb} {assignment} failed: {' | '.join(detail)}")
                break
            print(f"{verb} {assignment}: done", flush=True)
    return errors


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    errors = release_all(Path(argv[0]), argv[1:])
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
