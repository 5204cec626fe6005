"""HR's organisation page: teams by role target with a gap heatmap, people with their total gap
(each links to their explained profile), and the CSV exports of the HR API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from practicum.contracts.capabilities import Dimension, RoleTarget

from ..audit import AuditBuffer
from ..db.engine import Database
from ..db.tables import Organisation
from ..framework import DIMENSION_TITLES, DIMENSIONS, ROLE_TARGETS, ROLE_TITLES
from ..principal import Principal
from ..routers.hr import hr_cohorts, hr_profiles, organisation_for
from ..settings import Settings
from . import charts
from .navigation import navigation

PEOPLE_PER_PAGE = 50
MAX_TEAMS = 500


def cohort_context(
    db: Database, principal: Principal, organisation_id: int | None, role: RoleTarget, settings: Settings,
    audit: AuditBuffer, *, page: int,
) -> dict[str, Any]:
    with db.read() as session:
        org_id = organisation_for(principal, organisation_id)
        nav = navigation(session, principal)
        organisation = session.get(Organisation, org_id)
        cohorts = hr_cohorts(
            principal=principal, session=session, audit=audit, organisation_id=organisation_id, team_id=None,
            role_target=role, limit=MAX_TEAMS, offset=0, format="json",
        )
        people = hr_profiles(
            principal=principal, session=session, audit=audit, organisation_id=organisation_id, team_id=None,
            role_target=role, limit=PEOPLE_PER_PAGE, offset=(max(page, 1) - 1) * PEOPLE_PER_PAGE, format="json",
        )
    targets = {d.value: t for d, t in ROLE_TARGETS[role].items()}
    gaps = [[round(max(0.0, targets[d] - row.mean_values.get(d, 0.0)), 2) for d in DIMENSIONS] for row in cohorts.items]
    query = {"role_target": role.value, **({"organisation_id": org_id} if principal.is_admin else {})}
    pages = max(1, -(-people.total // PEOPLE_PER_PAGE))
    return {
        "title": f"{organisation.name if organisation else 'Organisation'}: cohort",
        "nav": nav,
        "organisation": organisation,
        "organisation_query": urlencode({"organisation_id": org_id}) if principal.is_admin else "",
        "role": role,
        "roles": [(r.value, ROLE_TITLES[r]) for r in RoleTarget],
        "role_title": ROLE_TITLES[role],
        "dimensions": [(d, DIMENSION_TITLES[Dimension(d)], targets[d]) for d in DIMENSIONS],
        "cohorts": list(zip(cohorts.items, gaps, strict=True)),
        "people": people.items,
        "people_total": people.total,
        "page": min(max(page, 1), pages),
        "pages": pages,
        "csv_cohorts": f"{settings.service_prefix}hr/cohorts?{urlencode({**query, 'format': 'csv'})}",
        "csv_profiles": f"{settings.service_prefix}hr/profiles?{urlencode({**query, 'format': 'csv', 'limit': 500})}",
        "csv_results": f"{settings.service_prefix}hr/results?{urlencode({**({'organisation_id': org_id} if principal.is_admin else {}), 'format': 'csv', 'limit': 500})}",
        "heatmap": charts.gap_heatmap(
            [row.team for row in cohorts.items], [DIMENSION_TITLES[Dimension(d)] for d in DIMENSIONS], gaps,
        ),
    }
