"""What can be submitted for grading: the lab's projects (projects/<id>/project.yaml)."""

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
    spec: ProjectSpec


def load_items(projects_dir: Path) -> dict[str, GradableItem]:
    items: dict[str, GradableItem] = {}
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
        raise UnknownItem(f"there is no gradable item {item_id!r} (projects: {known})") from None
