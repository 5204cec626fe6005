"""Engines and session factories for SQLite (WAL, the default) and PostgreSQL."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "lms_write"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=20, max_overflow=20, **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below): pysqlite's implicit BEGIN cannot be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front, so two writers queue on busy_timeout instead of
        # failing with "database is locked" when a read lock cannot be upgraded. Readers stay
        # DEFERRED and never wait (WAL).
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine; `read()` sessions for queries, `write()` sessions for anything that commits."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # For Core writers that do without a Session (the result path): `write_engine.connect()`.
        self.write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self.read: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self.write: sessionmaker[Session] = sessionmaker(self.write_engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing hot writers on a lock in this process is fair,
        # where SQLite's busy handler polls with growing sleeps (a long latency tail).
        self.write_lock: AbstractContextManager[object] = threading.Lock() if is_sqlite(url) else nullcontext()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
