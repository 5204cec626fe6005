"""Learning paths: from the gap to the role target, the next catalog items, prerequisites first.

Expected gain of an item for dimension d: what passing it with a perfect score would add by the
profile rule (LEARNING_RATE * w_d * (level - v_d), if level > v_d), capped at the remaining gap.
Items are ranked by the sum over dimensions (ties: catalog position, then id). An item whose
prerequisites are not passed yet is preceded by them (recursively), so the path can be taken in order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from practicum.contracts.capabilities import RoleTarget

from ..db.tables import CatalogItem, ItemPrerequisite, ItemWeight, Person
from ..framework import DIMENSION_TITLES, ROLE_TARGETS, ROLE_TITLES
from ..schemas.learning_paths import Contribution, GapPublic, LearningPath, Recommendation
from .profiles import LEARNING_RATE, profile_values
from .progress import passed_items


def learning_path(session: Session, *, person: Person, now: datetime, limit: int = 5) -> LearningPath:
    if not person.role_target:
        return LearningPath(
            person_id=person.id, role_target=None, generated_at=now, gaps=[], recommendations=[],
            note="No role target set for this person: set one (PATCH /people/{id} or the interview import).",
        )
    role = RoleTarget(person.role_target)
    values = profile_values(session, person.id)
    gaps = {d.value: max(0.0, round(t - values.get(d.value, 0.0), 4)) for d, t in ROLE_TARGETS[role].items()}
    gaps_public = [
        GapPublic(dimension=d.value, value=values.get(d.value, 0.0), target=t, gap=gaps[d.value])
        for d, t in ROLE_TARGETS[role].items()
    ]
    done = passed_items(session, person_id=person.id)
    items = {i.id: i for i in session.scalars(select(CatalogItem))}
    weights: dict[str, dict[str, float]] = defaultdict(dict)
    for w in session.scalars(select(ItemWeight)):
        weights[w.item_id][w.dimension] = w.weight
    requires: dict[str, list[str]] = defaultdict(list)
    for p in session.scalars(select(ItemPrerequisite).order_by(ItemPrerequisite.requires_item_id)):
        requires[p.item_id].append(p.requires_item_id)

    def contributions(item: CatalogItem) -> list[Contribution]:
        found = []
        for dimension, weight in sorted(weights[item.id].items()):
            value, gap = values.get(dimension, 0.0), gaps.get(dimension, 0.0)
            gain = min(gap, max(0.0, LEARNING_RATE * weight * (item.level - value)))
            if gain > 0:
                found.append(Contribution(dimension=dimension, gap=gap, expected_gain=round(gain, 4)))
        return found

    scored = []
    for item in items.values():
        if item.id in done:
            continue
        parts = contributions(item)
        total = round(sum(c.expected_gain for c in parts), 4)
        if total > 0:
            scored.append((-total, item.position, item.id, parts))
    scored.sort()

    path: list[Recommendation] = []
    placed: set[str] = set()

    def place(item_id: str, needed_by: str | None, stack: tuple[str, ...]) -> None:
        if item_id in done or item_id in stack or item_id not in items:
            return
        if item_id in placed:
            if needed_by:
                existing = next(r for r in path if r.item_id == item_id)
                if needed_by not in existing.prerequisite_for:
                    existing.prerequisite_for.append(needed_by)
            return
        for prerequisite in requires[item_id]:
            place(prerequisite, item_id, (*stack, item_id))
        item = items[item_id]
        parts = contributions(item)
        gain = round(sum(c.expected_gain for c in parts), 4)
        if parts:
            top = sorted(parts, key=lambda c: -c.expected_gain)[:3]
            reason = "Closes the gap to " + ROLE_TITLES[role].lower() + " in " + ", ".join(
                f"{DIMENSION_TITLES_BY_ID.get(c.dimension, c.dimension)} (gap {c.gap:g}, +{c.expected_gain:g})"
                for c in top
            )
        else:
            reason = "No direct gain for your target"
        if needed_by:
            reason += f"; prerequisite of {needed_by}"
        unmet = [r for r in requires[item_id] if r not in done]
        if unmet:
            reason += f"; after {', '.join(unmet)}"
        path.append(Recommendation(
            rank=len(path) + 1, item_id=item.id, kind=item.kind, course_id=item.course_id, title=item.title,
            level=item.level, expected_gain=gain, reason=reason + ".", addresses=parts,
            prerequisite_for=[needed_by] if needed_by else [],
        ))
        placed.add(item_id)

    for _, _, item_id, _ in scored:
        if len(path) >= limit:
            break
        place(item_id, None, ())
    note = "Ranked by expected gain toward the role target; prerequisites come first."
    if not scored:
        note = "No catalog item closes a remaining gap: the target is met, or the catalog has nothing for it."
    return LearningPath(
        person_id=person.id, role_target=role, generated_at=now, gaps=gaps_public, recommendations=path[:limit],
        note=note,
    )


DIMENSION_TITLES_BY_ID = {d.value: title for d, title in DIMENSION_TITLES.items()}

