"""What can be submitted for grading: the lab's projects (projects/<id>/project.yaml) and the released
assignments of its nbgrader courses (``<course>/<assignment>``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from practicum.contracts.grade_result import ItemKind
from practicum.contracts.project_spec import ProjectSpec, load_project_spec

from .attempts import AttemptLimit


class UnknownItem(LookupError):
    pass


@dataclass(frozen=True)
class GradableItem:
    item_id: str
    kind: ItemKind
    title: str
    default_limit: AttemptLimit
    spec: ProjectSpec | None  # None for an nbgrader assignment
    course_id: str | None = None
    course_root: Path | None = None

    @property
    def assignment(self) -> str:
        return self.item_id.split("/", 1)[1]


def load_items(projects_dir: Path, courses: dict[str, Path] | None = None) -> dict[str, GradableItem]:
    """Projects, and each course's released assignments (no attempt limit unless an instructor sets one)."""
    items: dict[str, GradableItem] = {}
    for course_id, root in sorted((courses or {}).items()):
        for released in sorted(p for p in (Path(root) / "release").glob("*") if p.is_dir()):
            item_id = f"{course_id}/{released.name}"
            items[item_id] = GradableItem(
                item_id=item_id, kind=ItemKind.ASSIGNMENT, title=item_id, default_limit=AttemptLimit(total=None, per_day=None),
                spec=None, course_id=course_id, course_root=Path(root),
            )
    for path in sorted(Path(projects_dir).glob("*/project.yaml")):
        spec = load_project_spec(path)
        items[spec.id] = GradableItem(
            item_id=spec.id,
            kind=ItemKind.PROJECT,
            title=spec.title,
            default_limit=AttemptLimit(total=spec.attempt_limit, per_day=spec.attempts_per_day),
            spec=spec,
        )
    return items


def item_named(items: dict[str, GradableItem], item_id: str) -> GradableItem:
    try:
        return items[item_id]
    except KeyError:
        known = ", ".join(sorted(items)) or "none"
        raise UnknownItem(f"there is no gradable item {item_id!r} (projects and released assignments: {known})") from None
