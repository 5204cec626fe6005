"""Small reads without a thread hop: SQLite on the event loop, PostgreSQL through psycopg's async driver.

Handing work to a worker thread (what FastAPI does for every sync route and dependency) costs
more CPU than the indexed reads of the hot routes: on the 2-core bench machine a hop measured
~150-400 µs under load, a token check or a profile query ~10-60 µs. So those reads use a
`LoopReader`:

* SQLite (a database file in WAL mode, as `Database` sets it): one query-only connection, used only
  by the event loop thread. WAL readers never wait for writers, so a read is a few indexed lookups
  in the page cache; a short busy timeout bounds the rare wait (another process recovering the WAL).
  A file not in WAL mode is read through worker threads instead.
* PostgreSQL via psycopg: an `AsyncConnectionPool` in autocommit mode; each statement is one
  snapshot, and the loop serves other requests while it waits.
* Anything else (another driver, an in-memory SQLite database): the engine's pool in a worker
  thread, as before.

Only use it for single-statement reads; anything that writes or needs a transaction goes through
`Database.write()` in a worker thread.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Protocol

from sqlalchemy import Engine, make_url
from sqlalchemy.engine import Dialect
from starlette.concurrency import run_in_threadpool

from .prepared import ReadQuery, Row

SQLITE_BUSY_TIMEOUT_MS = 2000
PG_POOL_MAX_SIZE = 8


class LoopReader(Protocol):
    dialect: Dialect

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def rows(self, query: ReadQuery, **params: Any) -> list[Row]: ...


class SqliteLoopReader:
    def __init__(self, path: str, engine: Engine) -> None:
        self.path = path
        self.dialect = engine.dialect
        self._engine = engine
        self._connection: sqlite3.Connection | None = None
        self._fallback: ThreadLoopReader | None = None

    def _connect(self) -> None:
        # isolation_level=None: no implicit transactions, so each SELECT is its own read snapshot.
        # check_same_thread=False only because tests may open it on one loop's thread and use it on
        # another's; the app touches it from the event loop thread alone.
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, cached_statements=128)
        for pragma in ("query_only=ON", f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() != "wal":
            # Without WAL a reader waits for every writer: that wait must not block the event loop.
            connection.close()
            self._fallback = ThreadLoopReader(self._engine)
            return
        self._connection = connection

    async def open(self) -> None:
        if self._connection is None and self._fallback is None:
            self._connect()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def rows(self, query: ReadQuery, **params: Any) -> list[Row]:
        if self._connection is None:
            if self._fallback is None:
                self._connect()
            if self._fallback is not None:
                return await self._fallback.rows(query, **params)
        assert self._connection is not None
        compiled = query.compiled(self.dialect)
        cursor = self._connection.execute(compiled.sql, compiled.parameters(params))
        try:
            return compiled.convert(cursor.fetchall(), cursor.description)
        finally:
            cursor.close()


class PsycopgLoopReader:
    def __init__(self, url: str, dialect: Dialect, max_size: int = PG_POOL_MAX_SIZE) -> None:
        from psycopg_pool import AsyncConnectionPool

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.dialect = dialect
        self._pool = AsyncConnectionPool(
            conninfo, min_size=1, max_size=max_size, open=False, kwargs={"autocommit": True},
            name="lms-loop-reads",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def rows(self, query: ReadQuery, **params: Any) -> list[Row]:
        compiled = query.compiled(self.dialect)
        async with self._pool.connection() as connection:
            cursor = await connection.execute(compiled.sql, compiled.parameters(params))
            return compiled.convert(await cursor.fetchall(), cursor.description)


class ThreadLoopReader:
    """Fallback: the engine's own pool, in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dialect = engine.dialect

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _rows(self, query: ReadQuery, params: dict[str, Any]) -> list[Row]:
        compiled = query.compiled(self.dialect)
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(compiled.sql, compiled.parameters(params))
            rows = compiled.convert(cursor.fetchall(), cursor.description)
            cursor.close()
            return rows
        finally:
            connection.close()

    async def rows(self, query: ReadQuery, **params: Any) -> list[Row]:
        return await run_in_threadpool(self._rows, query, params)


def loop_reader_for(engine: Engine) -> LoopReader:
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        return SqliteLoopReader(url.database, engine)
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
        return PsycopgLoopReader(url.render_as_string(hide_password=False), engine.dialect)
    return ThreadLoopReader(engine)
