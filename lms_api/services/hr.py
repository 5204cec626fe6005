"""What HR pulls: profile rows, progress rows and cohort summaries of one organisation."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select, union
from sqlalchemy.orm import Session

from practicum.contracts.capabilities import RoleTarget

from ..db.tables import CatalogItem, Enrollment, Person, ProfileValue, ProgressEvent, Result, Team
from ..framework import DIMENSIONS, ROLE_TARGETS
from ..schemas.hr import CohortRow, ProfileRow, ProgressRow
from .progress import person_progress


def _values(session: Session, person_ids: list[int]) -> tuple[dict[int, dict[str, float]], dict[int, datetime]]:
    values: dict[int, dict[str, float]] = defaultdict(dict)
    updated: dict[int, datetime] = {}
    if person_ids:
        for row in session.scalars(select(ProfileValue).where(ProfileValue.person_id.in_(person_ids))):
            values[row.person_id][row.dimension] = row.value
            if row.person_id not in updated or row.updated_at > updated[row.person_id]:
                updated[row.person_id] = row.updated_at
    return values, updated


def total_gap(values: dict[str, float], role_target: str | None) -> float | None:
    if not role_target:
        return None
    targets = ROLE_TARGETS[RoleTarget(role_target)]
    return round(sum(max(0.0, t - values.get(d.value, 0.0)) for d, t in targets.items()), 4)


def profile_rows(session: Session, people: list[Person]) -> list[ProfileRow]:
    values, updated = _values(session, [p.id for p in people])
    return [
        ProfileRow(
            person_id=p.id, person=p.name, display_name=p.display_name, team_id=p.team_id, role_target=p.role_target,
            values={d: values[p.id].get(d, 0.0) for d in DIMENSIONS}, total_gap=total_gap(values[p.id], p.role_target),
            updated_at=updated.get(p.id),
        )
        for p in people
    ]


def progress_rows(session: Session, people: list[Person], now: datetime) -> list[ProgressRow]:
    rows = []
    for person in people:
        for course in person_progress(session, person=person, now=now).courses:
            rows.append(ProgressRow(
                person_id=person.id, person=person.name, course_id=course.course_id, items_total=course.items_total,
                items_passed=course.items_passed, completion_rate=course.completion_rate, overdue=course.overdue,
                attempts=course.attempts, seconds_spent=course.seconds_spent, last_activity_at=course.last_activity_at,
            ))
    return rows


# Role target -> the dimensions it asks more than level 0 of, with the level. A person meets the
# target when every one of them is reached (values are stored to 4 decimals and targets are whole
# levels, so this is exactly `total_gap == 0`).
_NEEDED = {role.value: {d.value: t for d, t in targets.items() if t > 0} for role, targets in ROLE_TARGETS.items()}
assert all(_NEEDED.values()), "every role target asks for something"


def cohorts(
    session: Session, *, organisation_id: int, team_id: int | None, role_target: str | None, limit: int, offset: int,
) -> tuple[list[CohortRow], int]:
    """One row per team (people without a team last), paged in SQL, in a fixed number of statements
    whatever the number of people: each figure is aggregated by the database per team."""
    where = [Person.organisation_id == organisation_id]
    if team_id is not None:
        where.append(Person.team_id == team_id)
    if role_target is not None:
        where.append(Person.role_target == role_target)
    groups = (
        select(Person.team_id, Team.name, func.count(Person.id))
        .outerjoin(Team, Team.id == Person.team_id).where(*where).group_by(Person.team_id, Team.name)
    )
    total = session.scalar(select(func.count()).select_from(groups.subquery())) or 0
    page = session.execute(
        groups.order_by(Person.team_id.is_(None), Person.team_id).limit(limit).offset(offset)
    ).all()
    if not page:
        return [], total
    team_ids = [t for t, _, _ in page if t is not None]
    in_page = or_(Person.team_id.in_(team_ids), Person.team_id.is_(None) if len(team_ids) < len(page) else false())
    where.append(in_page)

    sums: dict[int | None, dict[str, float]] = defaultdict(dict)
    for team, dimension, total_value in session.execute(
        select(Person.team_id, ProfileValue.dimension, func.sum(ProfileValue.value))
        .join(ProfileValue, ProfileValue.person_id == Person.id).where(*where)
        .group_by(Person.team_id, ProfileValue.dimension)
    ):
        sums[team][dimension] = float(total_value)
    results = {team: (n, passed) for team, n, passed in session.execute(
        select(Person.team_id, func.count(Result.id), func.count(case((Result.passed.is_(True), 1))))
        .join(Result, Result.person_id == Person.id).where(*where).group_by(Person.team_id)
    )}
    reached = or_(*(
        and_(Person.role_target == role, ProfileValue.dimension == dimension, ProfileValue.value >= level)
        for role, needed in _NEEDED.items() for dimension, level in needed.items()
    ))
    needed_count = case({role: len(needed) for role, needed in _NEEDED.items()}, value=Person.role_target, else_=-1)
    meeting_people = (
        select(Person.team_id).join(ProfileValue, ProfileValue.person_id == Person.id).where(*where, reached)
        .group_by(Person.id, Person.team_id, Person.role_target).having(func.count() == needed_count).subquery()
    )
    meeting = dict(session.execute(
        select(meeting_people.c.team_id, func.count()).group_by(meeting_people.c.team_id)
    ).all())
    completion = _completion_sums(session, where)
    rows = []
    for team, name, headcount in page:
        rows.append(CohortRow(
            team_id=team, team=name if team is not None and name else "(no team)", headcount=headcount,
            mean_values={d: round(sums[team].get(d, 0.0) / headcount, 4) for d in DIMENSIONS},
            mean_completion_rate=round(completion.get(team, 0.0) / headcount, 4),
            results_total=results.get(team, (0, 0))[0], results_passed=results.get(team, (0, 0))[1],
            meeting_role_target=meeting.get(team, 0),
        ))
    return rows, total


def _completion_sums(session: Session, where: list[Any]) -> dict[int | None, float]:
    """team -> the sum over its people of their mean completion rate over the courses they take
    (enrolled as learners, or active in), as `progress.person_progress` computes it per person."""
    people = select(Person.id, Person.team_id).where(*where).subquery()
    taken = union(
        select(Enrollment.person_id, Enrollment.course_id).where(Enrollment.role == "learner"),
        select(ProgressEvent.person_id, CatalogItem.course_id).join(CatalogItem, CatalogItem.id == ProgressEvent.item_id),
    ).subquery()
    passed = union(
        select(Result.person_id, Result.item_id).where(Result.passed.is_(True)),
        select(ProgressEvent.person_id, ProgressEvent.item_id).where(ProgressEvent.kind.in_(("passed", "completed"))),
    ).subquery()
    passed_in_course = (
        select(passed.c.person_id, CatalogItem.course_id, func.count().label("n"))
        .join(CatalogItem, CatalogItem.id == passed.c.item_id).group_by(passed.c.person_id, CatalogItem.course_id)
        .subquery()
    )
    items = dict(session.execute(select(CatalogItem.course_id, func.count()).group_by(CatalogItem.course_id)).all())
    rates: dict[int, list[float]] = defaultdict(list)
    teams: dict[int, int | None] = {}
    for person_id, team, course_id, n_passed in session.execute(
        select(people.c.id, people.c.team_id, taken.c.course_id, func.coalesce(passed_in_course.c.n, 0))
        .join(taken, taken.c.person_id == people.c.id)
        .outerjoin(passed_in_course, and_(
            passed_in_course.c.person_id == people.c.id, passed_in_course.c.course_id == taken.c.course_id,
        ))
    ):
        teams[person_id] = team
        n_items = items.get(course_id, 0)
        rates[person_id].append(round(n_passed / n_items, 4) if n_items else 0.0)
    sums: dict[int | None, float] = defaultdict(float)
    for person_id, person_rates in rates.items():
        sums[teams[person_id]] += sum(person_rates) / len(person_rates)
    return sums
