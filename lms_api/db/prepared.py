"""Statements built with SQLAlchemy Core, compiled once per dialect, run straight on a DBAPI cursor.

The hot read routes (token check, profile) run a few small indexed queries per request. Through an
ORM `Session` each costs 100-250 µs of Python on a small machine; compiled once and run on the
driver's cursor it costs a few µs plus the database's own time. The statement is still written in
Core (no hand-written SQL per dialect); the column types' result processors still apply, so a row
holds the same Python values as a Core result would (aware UTC datetimes, parsed JSON, booleans),
and written values go through the columns' bind processors (`WriteStatement`, `DriverCursor`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

Row = tuple[Any, ...]
Processor = Callable[[Any], Any] | None


@dataclass
class CompiledQuery:
    """One statement for one dialect: its SQL text, how to pass parameters, how to convert rows."""

    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark dialects), None for named ones
    defaults: dict[str, Any]
    types: tuple[Any, ...]
    dialect: Dialect
    _processors: tuple[Processor, ...] | None = field(default=None, repr=False)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self.defaults, **values}
        if self.positional is None:
            return merged
        return [merged[name] for name in self.positional]

    def convert(self, rows: Sequence[Sequence[Any]], description: Sequence[Sequence[Any]] | None) -> list[Row]:
        processors = self._processors
        if processors is None:
            codes = [column[1] for column in description] if description else [None] * len(self.types)
            processors = tuple(
                type_._cached_result_processor(self.dialect, code) for type_, code in zip(self.types, codes, strict=True)
            )
            self._processors = processors
        if not any(processors):
            return [tuple(row) for row in rows]
        return [
            tuple(value if process is None or value is None else process(value)
                  for process, value in zip(processors, row, strict=True))
            for row in rows
        ]


class ReadQuery:
    """A Core SELECT with named `bindparam`s; `compiled(dialect)` is computed once per dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._lock = threading.Lock()
        self._compiled: dict[str, CompiledQuery] = {}

    def compiled(self, dialect: Dialect) -> CompiledQuery:
        key = f"{dialect.name}+{dialect.driver}"
        found = self._compiled.get(key)
        if found is not None:
            return found
        with self._lock:
            compiled = self.statement.compile(dialect=dialect)
            positional = tuple(compiled.positiontup or ()) if dialect.positional else None
            found = CompiledQuery(
                sql=compiled.string, positional=positional, defaults=dict(compiled.params),
                types=tuple(column.type for column in self.statement.selected_columns), dialect=dialect,
            )
            self._compiled[key] = found
        return found


@dataclass
class CompiledWrite:
    sql: str
    names: tuple[str, ...]  # bind names in order (qmark dialects)
    positional: bool
    processors: dict[str, Callable[[Any], Any]]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processed = {
            name: (process(values[name]) if (process := self.processors.get(name)) is not None else values[name])
            for name in self.names
        }
        return [processed[name] for name in self.names] if self.positional else processed


class WriteStatement:
    """An INSERT (or upsert) compiled once per dialect for a fixed set of columns; the values go
    through the columns' own bind processors, as SQLAlchemy would send them. Every column with a
    default must be given (no defaults are computed here)."""

    def __init__(self, statement: Any, keys: Sequence[str]) -> None:
        self.statement = statement
        self.keys = tuple(keys)
        self._lock = threading.Lock()
        self._compiled: dict[str, CompiledWrite] = {}

    def compiled(self, dialect: Dialect) -> CompiledWrite:
        key = f"{dialect.name}+{dialect.driver}"
        found = self._compiled.get(key)
        if found is not None:
            return found
        with self._lock:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(self.keys))
            names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(compiled.binds)
            missing = set(names) - set(self.keys)
            if missing:
                raise ValueError(f"give these columns explicitly: {sorted(missing)}")
            found = CompiledWrite(
                sql=compiled.string, names=names, positional=bool(dialect.positional),
                processors={name: p for name, p in compiled._bind_processors.items() if p is not None},
            )
            self._compiled[key] = found
        return found


class DriverCursor:
    """Prepared statements on the DBAPI connection of a SQLAlchemy `Connection`, inside its
    transaction (begin it first: on SQLite that emits the writer's BEGIN IMMEDIATE). Driver errors
    become SQLAlchemy's (IntegrityError, DataError, ...), as `Connection.execute` raises them."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect
        self._cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def _run(self, sql: str, parameters: Any, many: bool = False) -> None:
        try:
            if many:
                self._cursor.executemany(sql, parameters)
            else:
                self._cursor.execute(sql, parameters)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, parameters, exc, self.dialect.loaded_dbapi.Error) from exc

    def rows(self, query: ReadQuery, **params: Any) -> list[Row]:
        compiled = query.compiled(self.dialect)
        self._run(compiled.sql, compiled.parameters(params))
        return compiled.convert(self._cursor.fetchall(), self._cursor.description)

    def write(self, statement: WriteStatement, values: Mapping[str, Any]) -> Row | None:
        """Run one statement; its first row when it has RETURNING (None when none came back)."""
        compiled = statement.compiled(self.dialect)
        self._run(compiled.sql, compiled.parameters(values))
        if self._cursor.description is None:
            return None
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def write_many(self, statement: WriteStatement, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            compiled = statement.compiled(self.dialect)
            self._run(compiled.sql, [compiled.parameters(values) for values in rows], many=True)

    def close(self) -> None:
        self._cursor.close()
