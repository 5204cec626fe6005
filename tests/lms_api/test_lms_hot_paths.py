"""The fast paths of the hot routes (profile reads, result posts, token checks) answer exactly what
the model-based code would, keep every security property, and lose no concurrent update."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from lms_fixtures import Lms
from lms_payloads import grade_result, interview
from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, create_engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.loop_reader import SqliteLoopReader, ThreadLoopReader, loop_reader_for
from practicum.lms_api.db.prepared import DriverCursor, ReadQuery, WriteStatement
from practicum.lms_api.db.tables import ApiToken, Evidence, Person, Result
from practicum.lms_api.db.types import utcnow
from practicum.lms_api.schemas.profiles import ProfilePublic
from practicum.lms_api.schemas.results import ResultPublic
from practicum.lms_api.services.profile_reads import RenderedChanges
from practicum.lms_api.services.tokens import create_token, revoke_token
from practicum.lms_api.tokens import Scope, hash_token


def rendered_by_the_model(document: dict[str, object], model: type[ProfilePublic] | type[ResultPublic]) -> object:
    return json.loads(model.model_validate(document).model_dump_json())


def a_profile_with_every_kind_of_evidence(lms: Lms) -> tuple[int, int]:
    lms.seed_catalog()
    org_id = lms.org("acme")
    person_id = int(lms.ok(lms.post("profiles/import", lms.admin, interview("alice", ml_engineering="aware")), 201)[
        "person_id"])
    lms.ok(lms.post("results", lms.admin, grade_result("r-1", score=0.9)), 201)
    lms.ok(lms.post("results", lms.admin, grade_result("r-2", passed=False, score=0.2)), 201)
    lms.ok(lms.post("results", lms.admin, grade_result("r-3", score=1.0)), 201)
    quiz = {"kind": "quiz", "score": 0.8, "level": 2, "weights": {"medical_statistics": 1.0}, "note": "quiz 1"}
    lms.ok(lms.post(f"people/{person_id}/evidence", lms.admin, quiz), 201)
    return person_id, org_id


@pytest.mark.parametrize("changes", [0, 1, 3, 50])
def test_profile_is_what_the_model_renders_with_the_latest_changes_of_the_history(lms: Lms, changes: int) -> None:
    person_id, org_id = a_profile_with_every_kind_of_evidence(lms)
    hr = lms.bearer(lms.token(Scope.HR_READ, organisation_id=org_id))
    profile = lms.ok(lms.get(f"people/{person_id}/profile?changes={changes}", hr))
    assert profile == rendered_by_the_model(profile, ProfilePublic)

    history = lms.ok(lms.get(f"people/{person_id}/profile/history?limit=500", lms.admin))["items"]
    for dimension in profile["dimensions"]:
        of_dimension = [c for c in history if c["dimension"] == dimension["dimension"]]
        assert dimension["changes"] == of_dimension[::-1][:changes]
        assert dimension["value"] == (of_dimension[-1]["after"] if of_dimension else 0.0)
    linked = [c["evidence"]["links"] for d in profile["dimensions"] for c in d["changes"] if c["evidence"]["result_id"]]
    assert changes == 0 or all(links["mlflow_run"].endswith("0123456789abcdef0123456789abcdef") for links in linked)
    # A second read (changes now rendered from the cache) is the same document.
    assert lms.ok(lms.get(f"people/{person_id}/profile?changes={changes}", hr)) == profile


def test_a_person_without_evidence_has_an_empty_profile(lms: Lms) -> None:
    person_id = lms.person("nobody", role_target="clinician")
    profile = lms.ok(lms.get(f"people/{person_id}/profile", lms.admin))
    assert profile == rendered_by_the_model(profile, ProfilePublic)
    assert profile["updated_at"] is None and profile["role_target"] == "clinician"
    assert all(d["value"] == 0.0 and d["changes"] == [] and d["gap"] == d["target"] for d in profile["dimensions"])


def test_posted_result_answer_is_the_stored_result(lms: Lms) -> None:
    lms.seed_catalog()
    body = grade_result("tz-1", started_at="2026-01-05T12:00:00+02:00", finished_at="2026-01-05T12:05:00.250+02:00")
    posted = lms.ok(lms.post("results", lms.admin, body), 201)
    assert posted == rendered_by_the_model(posted, ResultPublic)
    assert posted == lms.ok(lms.get(f"results/{posted['id']}", lms.admin))
    assert posted["finished_at"] == "2026-01-05T10:05:00.250000Z"
    assert lms.ok(lms.post("results", lms.admin, body), 200) == posted


def test_a_token_revoked_elsewhere_is_refused_on_the_next_request(lms: Lms) -> None:
    """No token cache: a revocation by the CLI (another process, another connection) counts at once."""
    person_id = lms.person("alice")
    token = lms.token(Scope.ADMIN)
    lms.ok(lms.get(f"people/{person_id}/profile", lms.bearer(token)))
    other = Database(lms.db.url)
    try:
        with other.write() as session:
            token_id = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token)))
            assert token_id is not None
            revoke_token(session, token_id=token_id, now=utcnow())
            session.commit()
    finally:
        other.dispose()
    response = lms.get(f"people/{person_id}/profile", lms.bearer(token))
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_an_expired_token_is_refused(lms: Lms) -> None:
    person_id = lms.person("alice")
    with lms.db.write() as session:
        row, token = create_token(session, name="soon", scopes=[Scope.ADMIN], organisation_id=None, created_by="test",
                                  expires_at=utcnow() + timedelta(hours=1))
        session.commit()
        token_id = row.id
    lms.ok(lms.get(f"people/{person_id}/profile", lms.bearer(token)))
    with lms.db.write() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert lms.get(f"people/{person_id}/profile", lms.bearer(token)).status_code == 401


def test_concurrent_results_for_one_learner_lose_no_profile_update(lms: Lms) -> None:
    """Each change starts from the value the previous one left (PostgreSQL: the person's row lock), and
    the item's attempt limit (10) holds under the same lock: 16 concurrent attempts, 10 recorded."""
    lms.seed_catalog()
    person_id = lms.person("alice")
    grader = lms.bearer(lms.token(Scope.RESULTS_WRITE))
    bodies = [grade_result(f"c-{n}", score=0.5 + n / 40, passed=n % 3 != 0) for n in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda body: lms.post("results", grader, body).status_code, bodies))
    assert sorted(statuses) == [201] * 10 + [409] * 6
    attempts = sorted(r["attempt"] for r in lms.ok(lms.get(f"people/{person_id}/results?limit=50", lms.admin))["items"])
    assert attempts == list(range(1, 11))
    history = lms.ok(lms.get(f"people/{person_id}/profile/history?limit=500", lms.admin))["items"]
    profile = lms.ok(lms.get(f"people/{person_id}/profile", lms.admin))
    for dimension in profile["dimensions"]:
        chain = [c for c in history if c["dimension"] == dimension["dimension"]]
        for before, after in zip(chain, chain[1:], strict=False):
            assert after["before"] == before["after"]
        assert dimension["value"] == (chain[-1]["after"] if chain else 0.0)


def test_rendered_changes_are_bounded_and_checked_against_their_ids() -> None:
    cache = RenderedChanges(max_entries=2)
    cache.put(1, 10, 100, {"id": 1})
    cache.put(2, 10, 101, {"id": 2})
    assert cache.get(1, 10, 100) == {"id": 1}  # 1 is now the most recently used
    cache.put(3, 10, 102, {"id": 3})
    assert (cache.get(2, 10, 101), len(cache)) == (None, 2)
    assert cache.get(1, 11, 100) is None and cache.get(1, 10, 999) is None
    assert cache.get(3, 10, 102) == {"id": 3}


def test_loop_reads_give_the_values_sqlalchemy_gives(lms: Lms) -> None:
    a_profile_with_every_kind_of_evidence(lms)
    statement = select(Evidence.id, Evidence.weights, Evidence.passed, Evidence.score, Evidence.observed_at,
                       Evidence.recorded_at, Result.finished_at).outerjoin(Result, Result.id == Evidence.result_id)
    with lms.db.read() as session:
        expected = [tuple(row) for row in session.execute(statement.order_by(Evidence.id))]
    query = ReadQuery(statement.order_by(Evidence.id))

    async def read_all() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        readers = [loop_reader_for(lms.db.engine), ThreadLoopReader(lms.db.engine)]
        rows = []
        for reader in readers:
            await reader.open()
            try:
                rows.append(await reader.rows(query))
            finally:
                await reader.close()
        return rows[0], rows[1]

    on_loop, in_thread = asyncio.run(read_all())
    assert on_loop == expected and in_thread == expected
    assert all(row[4].tzinfo is not None for row in on_loop)


def test_the_token_is_checked_before_the_person_is_looked_up(lms: Lms) -> None:
    person_id = lms.person("alice")
    for path in (f"people/{person_id}/profile", "people/999999/profile"):
        response = lms.get(path, lms.bearer("lms_not-a-token"))
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    hr_elsewhere = lms.bearer(lms.token(Scope.HR_READ, organisation_id=lms.org("globex")))
    assert lms.get(f"people/{person_id}/profile", hr_elsewhere).status_code == 404
    assert lms.get("people/999999/profile", hr_elsewhere).status_code == 404


def test_a_sqlite_file_not_in_wal_mode_is_read_in_worker_threads(tmp_path: Path) -> None:
    path = tmp_path / "rollback-journal.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO things (name) VALUES ('one')")
    things = Table("things", MetaData(), Column("id", Integer, primary_key=True), Column("name", Text))
    engine = create_engine(f"sqlite:///{path}")
    reader = loop_reader_for(engine)
    assert isinstance(reader, SqliteLoopReader)

    async def read() -> list[tuple[object, ...]]:
        await reader.open()
        try:
            return await reader.rows(ReadQuery(select(things.c.id, things.c.name).where(things.c.id == bindparam("id"))),
                                     id=1)
        finally:
            await reader.close()

    assert asyncio.run(read()) == [(1, "one")]
    assert reader._fallback is not None  # the loop never waited on SQLite's locks
    engine.dispose()


def test_driver_cursor_writes_like_sqlalchemy_and_raises_its_errors(lms: Lms) -> None:
    people = Person.__table__
    add = WriteStatement(insert(people).returning(people.c.id), ["name", "organisation_id", "active", "created_at"])
    now = utcnow()
    with lms.db.write_engine.connect() as connection:
        connection.begin()
        cursor = DriverCursor(connection)
        row = cursor.write(add, {"name": "dana", "organisation_id": None, "active": True, "created_at": now})
        assert row is not None
        with pytest.raises(IntegrityError):
            cursor.write(add, {"name": "dana", "organisation_id": None, "active": True, "created_at": now})
        cursor.close()
        connection.rollback()
        connection.begin()
        DriverCursor(connection).write(add, {"name": "erin", "organisation_id": None, "active": False, "created_at": now})
        connection.commit()
    with lms.db.read() as session:
        erin = session.scalars(select(Person).where(Person.name == "erin")).one()
        assert (erin.active, erin.created_at) == (False, now)
    with pytest.raises(ValueError, match="created_at"):
        WriteStatement(insert(people), ["name"]).compiled(lms.db.engine.dialect)
