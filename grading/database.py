"""The grading service's tables: submissions, their gradings (the queue), results and the LMS outbox.

SQLite (WAL) in the embedded lab, PostgreSQL at scale: the same statements. Every write transaction
takes the database's write lock at its start on SQLite (``BEGIN IMMEDIATE``) and a row lock or an
advisory lock on PostgreSQL, so that two intakes racing an attempt limit, or two workers racing for
one grading, are serialized.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores none and gives back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: the grading service stores UTC times only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

submissions = Table(
    "submissions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("learner", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # contracts.grade_result.ItemKind
    Column("item_id", String(200), nullable=False),
    Column("course_id", String(200)),
    Column("blob", String(64), nullable=False),  # SHA-256 of the stored archive (store.BlobStore)
    Column("size_bytes", BigInteger, nullable=False),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Index("ix_submissions_learner_item", "learner", "item_id", "submitted_at"),
)

# One row per grading asked for: the submission's own, then any regrade. Its id is the grade
# result's submission id (the LMS's idempotency key), so a regrade is a result of its own.
gradings = Table(
    "gradings",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("submission_id", String(64), ForeignKey("submissions.id"), nullable=False),
    Column("reason", String(20), nullable=False),  # submission | regrade | manual (the formgrader's grade)
    Column("state", String(20), nullable=False),  # queued | running | done
    Column("tries", Integer, nullable=False),
    Column("worker", String(200)),
    Column("lease_until", Float),  # epoch seconds; a running grading whose lease ran out is queued again
    Column("queued_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("error", String(500)),  # why the grader itself failed (never the learner's model: that is a result)
    Index("ix_gradings_state", "state", "queued_at"),
    Index("ix_gradings_submission", "submission_id"),
)

results = Table(
    "results",
    metadata,
    Column("grading_id", String(80), ForeignKey("gradings.id"), primary_key=True),
    Column("grade_result", Text, nullable=False),  # contracts.grade_result.GradeResult as JSON
    Column("feedback", Text, nullable=False),  # feedback.Feedback as JSON (what the learner sees)
    Column("recorded_at", UTCDateTime(), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("grading_id", String(80), ForeignKey("gradings.id"), primary_key=True),
    Column("tries", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("delivered_at", UTCDateTime()),
    Column("last_error", String(500)),
    # The LMS refused it (a 4xx): held, not retried, until an instructor redelivers it.
    Column("refused_at", UTCDateTime()),
    Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),
)

attempt_limits = Table(
    "attempt_limits",
    metadata,
    Column("item_id", String(200), primary_key=True),
    Column("total", Integer),
    Column("per_day", Integer),
    Column("set_by", String(200), nullable=False),
    Column("set_at", UTCDateTime(), nullable=False),
)


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def connect(url: str) -> Engine:
    """An engine with the tables made; SQLite in WAL mode with transactions that lock at BEGIN."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below issues BEGIN itself
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        engine = create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


# Columns added after a table was first released: a grading database made by an earlier version
# gets them (nullable, so every stored row stays as it was).
_ADDED_COLUMNS = (("outbox", "refused_at"),)


def _add_missing_columns(engine: Engine) -> None:
    inspector = inspect(engine)
    for table_name, column_name in _ADDED_COLUMNS:
        if column_name in {c["name"] for c in inspector.get_columns(table_name)}:
            continue
        column = metadata.tables[table_name].c[column_name]
        kind = column.type.compile(dialect=engine.dialect)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ALTER TABLE {table_name} ADD COLUMN {column_name} {kind}")


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        yield connection


def lock_key(connection: Connection, key: str) -> None:
    """Serialize transactions on ``key`` (e.g. one learner's attempts at one item) until this one ends.

    SQLite: the transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(key.encode())})
