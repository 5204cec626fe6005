"""A capability profile as callers read it (`GET /people/{id}/profile`), built for HR's bulk pulls.

One small statement per request returns the person, every stored value and the ids of the latest
`changes` changes per dimension, in one snapshot; with an LMS token, the same statement checks the
token (so a revoked token is refused at once, without a second round trip). A change with its evidence (and MLflow run) never
changes once written (the LMS only appends changes, evidence and results), so each is rendered to
its JSON-ready form once and kept in a bounded in-process cache; a second statement fetches only
the changes not rendered yet. The document is serialised straight from plain dicts by pydantic-core
(the serialiser the models use: the same JSON for floats and datetimes); a test checks it against
the `ProfilePublic` model. Authorization is the rule of `policy`.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import aliased, outerjoin

from practicum.contracts.capabilities import Dimension, RoleTarget

from ..auth import TOKEN_COLUMNS, Credentials, invalid_token, principal_from_token_row
from ..db.loop_reader import LoopReader
from ..db.prepared import ReadQuery, Row
from ..db.tables import ApiToken, Evidence, Person, ProfileChange, ProfileValue, Result
from ..db.types import utcnow
from ..framework import DIMENSION_TITLES, DIMENSIONS, ROLE_TARGETS, level_of
from ..policy import may_read_person_on_loop, not_found
from ..principal import Principal
from .profiles import mlflow_run_url

# The id of the `changes`-th latest change of the value's dimension (`skip` = changes - 1): the join
# keeps the changes from there on. (A correlated `IN (... LIMIT n)` reads well on SQLite, but
# PostgreSQL evaluates it for every row of the table.)
_older = aliased(ProfileChange)
_oldest_shown = (
    select(_older.id)
    .where(_older.person_id == ProfileValue.person_id, _older.dimension == ProfileValue.dimension)
    .order_by(_older.id.desc())
    .limit(1)
    .offset(bindparam("skip"))
    .correlate(ProfileValue)
    .scalar_subquery()
)


def _profile_select(start: Any, *leading: Any) -> Select[Any]:
    """From `start` (people, or something joined to people): the `leading` columns, then the person
    (0-3), one row per stored value (4-6) and per latest change of its dimension (7-8)."""
    joined = outerjoin(
        outerjoin(start, ProfileValue, ProfileValue.person_id == Person.id),
        ProfileChange,
        and_(
            ProfileChange.person_id == ProfileValue.person_id, ProfileChange.dimension == ProfileValue.dimension,
            bindparam("changes") > 0, ProfileChange.id >= func.coalesce(_oldest_shown, 0),
        ),
    )
    return select(
        *leading, Person.id, Person.name, Person.organisation_id, Person.role_target,
        ProfileValue.dimension, ProfileValue.value, ProfileValue.updated_at, ProfileChange.id, ProfileChange.evidence_id,
    ).select_from(joined)


PROFILE_QUERY = ReadQuery(_profile_select(Person).where(Person.id == bindparam("person_id")))

# The caller's LMS token and the profile in one statement (one round trip): no row when the token is
# unknown; people columns all NULL when the person is.
TOKEN_AND_PROFILE_QUERY = ReadQuery(
    _profile_select(outerjoin(ApiToken, Person, Person.id == bindparam("person_id")), *TOKEN_COLUMNS)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


# The changes of one person with ids in [first, last], with their evidence and MLflow run.
CHANGE_DETAILS_QUERY = ReadQuery(
    select(
        ProfileChange.id, ProfileChange.dimension, ProfileChange.before, ProfileChange.after,  # 0-3
        ProfileChange.delta, ProfileChange.rule, ProfileChange.changed_at,  # 4-6
        Evidence.id, Evidence.kind, Evidence.item_id, Evidence.result_id, Evidence.score, Evidence.passed,  # 7-12
        Evidence.level, Evidence.weights, Evidence.note, Evidence.recorded_by, Evidence.observed_at,  # 13-17
        Result.mlflow_run_id,  # 18
    )
    .join(Evidence, Evidence.id == ProfileChange.evidence_id)
    .outerjoin(Result, Result.id == Evidence.result_id)
    .where(
        ProfileChange.person_id == bindparam("person_id"),
        ProfileChange.id.between(bindparam("first"), bindparam("last")),
    )
)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def render_change(row: Row, *, links_base: str, mlflow_url: str) -> dict[str, Any]:
    """A `ChangePublic` document from a row of `CHANGE_DETAILS_QUERY`."""
    result_id, run_id = row[10], row[18]
    links = {}
    if result_id is not None:
        links["result"] = f"{links_base}results/{result_id}"
        if run_id:
            links["mlflow_run"] = mlflow_run_url(mlflow_url, run_id)
    evidence = {
        "id": row[7], "kind": row[8], "item_id": row[9], "result_id": result_id, "score": _float(row[11]),
        "passed": row[12], "level": _float(row[13]), "weights": {k: float(v) for k, v in (row[14] or {}).items()},
        "note": row[15], "recorded_by": row[16], "observed_at": row[17], "links": links,
    }
    return {
        "id": row[0], "dimension": row[1], "before": float(row[2]), "after": float(row[3]), "delta": float(row[4]),
        "rule": row[5], "changed_at": row[6], "evidence": evidence,
    }


class RenderedChanges:
    """change id -> its rendered document, least recently used dropped first. Event-loop use only.

    Sound because changes, evidence and results are never updated; an entry is also checked against
    the person and evidence ids the database reports now, so a reused id would never match.
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[int, tuple[int, int, dict[str, Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, change_id: int, person_id: int, evidence_id: int) -> dict[str, Any] | None:
        entry = self._entries.get(change_id)
        if entry is None or entry[0] != person_id or entry[1] != evidence_id:
            return None
        self._entries.move_to_end(change_id)
        return entry[2]

    def put(self, change_id: int, person_id: int, evidence_id: int, document: dict[str, Any]) -> None:
        self._entries[change_id] = (person_id, evidence_id, document)
        self._entries.move_to_end(change_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def profile_document(rows: list[Row], changes: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The `ProfilePublic` document of the rows of `PROFILE_QUERY` (at least one: the person) and the
    rendered `changes` they name."""
    person_id, name, organisation_id, role_target = rows[0][:4]
    values: dict[str, float] = {}
    updated: list[datetime] = []
    latest: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        dimension = row[4]
        if dimension is None:
            continue  # a person without values: one row of people columns only
        if dimension not in values:
            values[dimension] = float(row[5])
            updated.append(row[6])
        if row[7] is not None:
            latest[dimension].append(row[7])
    role = RoleTarget(role_target) if role_target else None
    targets = {d.value: t for d, t in ROLE_TARGETS[role].items()} if role else {}
    dimensions = []
    for dimension in DIMENSIONS:
        value = values.get(dimension, 0.0)
        target = targets.get(dimension)
        dimensions.append({
            "dimension": dimension, "title": DIMENSION_TITLES[Dimension(dimension)], "value": value,
            "level": level_of(value).value, "target": target,
            "gap": None if target is None else max(0.0, round(target - value, 4)),
            "changes": [
                changes[change_id] for change_id in sorted(latest.get(dimension, ()), reverse=True) if change_id in changes
            ],
        })
    return {
        "person_id": person_id, "person": name, "organisation_id": organisation_id,
        "role_target": role.value if role else None, "updated_at": max(updated, default=None),
        "dimensions": dimensions,
    }


async def _changes_of(
    reader: LoopReader, rows: list[Row], cache: RenderedChanges, *, links_base: str, mlflow_url: str
) -> dict[int, dict[str, Any]]:
    person_id = rows[0][0]
    found: dict[int, dict[str, Any]] = {}
    missing: dict[int, int] = {}
    for row in rows:
        change_id, evidence_id = row[7], row[8]
        if change_id is None:
            continue
        document = cache.get(change_id, person_id, evidence_id)
        if document is None:
            missing[change_id] = evidence_id
        else:
            found[change_id] = document
    if missing:
        for detail in await reader.rows(
            CHANGE_DETAILS_QUERY, person_id=person_id, first=min(missing), last=max(missing)
        ):
            change_id, evidence_id = detail[0], detail[7]
            if missing.get(change_id) == evidence_id:
                document = render_change(detail, links_base=links_base, mlflow_url=mlflow_url)
                cache.put(change_id, person_id, evidence_id, document)
                found[change_id] = document
    return found


async def read_profile(
    reader: LoopReader, cache: RenderedChanges, *, credentials: Credentials, person_id: int,
    changes_per_dimension: int, links_base: str, mlflow_url: str,
) -> tuple[Principal, bytes]:
    """The caller and the profile as JSON; 401 for a token that may not act, 404 when the person does
    not exist or is not visible to the caller."""
    params = {"person_id": person_id, "changes": changes_per_dimension, "skip": max(0, changes_per_dimension - 1)}
    if credentials.token_hash is not None:
        with_token = await reader.rows(TOKEN_AND_PROFILE_QUERY, token_hash=credentials.token_hash, **params)
        principal = principal_from_token_row(with_token[0] if with_token else None, utcnow())
        if principal is None:
            raise invalid_token()
        rows = [row[len(TOKEN_COLUMNS):] for row in with_token if row[len(TOKEN_COLUMNS)] is not None]
    else:
        assert credentials.principal is not None
        principal = credentials.principal
        rows = await reader.rows(PROFILE_QUERY, **params)
    if not rows or not await may_read_person_on_loop(reader, principal, person_id, rows[0][2]):
        raise not_found("person", person_id)
    changes = await _changes_of(reader, rows, cache, links_base=links_base, mlflow_url=mlflow_url)
    return principal, to_json(profile_document(rows, changes))
