"""What HR pulls: profile rows, progress rows and cohort summaries of one organisation."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from practicum.contracts.capabilities import RoleTarget

from ..db.tables import Person, ProfileValue, Result, Team
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


def cohorts(session: Session, *, people: list[Person], now: datetime) -> list[CohortRow]:
    teams = dict(session.execute(select(Team.id, Team.name).where(
        Team.id.in_({p.team_id for p in people if p.team_id is not None})
    )).all()) if people else {}
    values, _ = _values(session, [p.id for p in people])
    counts = {
        pid: (total, passed) for pid, total, passed in session.execute(
            select(Result.person_id, func.count(), func.count().filter(Result.passed.is_(True)))
            .where(Result.person_id.in_([p.id for p in people])).group_by(Result.person_id)
        ).all()
    } if people else {}
    groups: dict[int | None, list[Person]] = defaultdict(list)
    for person in people:
        groups[person.team_id].append(person)
    rows = []
    for team_id in sorted(groups, key=lambda t: (t is None, t or 0)):
        members = groups[team_id]
        completion = []
        for person in members:
            courses = person_progress(session, person=person, now=now).courses
            completion.append(sum(c.completion_rate for c in courses) / len(courses) if courses else 0.0)
        rows.append(CohortRow(
            team_id=team_id, team=teams.get(team_id, "(no team)") if team_id else "(no team)", headcount=len(members),
            mean_values={d: round(sum(values[p.id].get(d, 0.0) for p in members) / len(members), 4) for d in DIMENSIONS},
            mean_completion_rate=round(sum(completion) / len(members), 4),
            results_total=sum(counts.get(p.id, (0, 0))[0] for p in members),
            results_passed=sum(counts.get(p.id, (0, 0))[1] for p in members),
            meeting_role_target=sum(1 for p in members if total_gap(values[p.id], p.role_target) == 0.0),
        ))
    return rows
