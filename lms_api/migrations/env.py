"""Alembic environment: runs on the connection `upgrade_database` passes, or opens one from the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from practicum.lms_api.db.engine import WRITE_OPTION, make_engine
from practicum.lms_api.db.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run them against a database.")
run_migrations_online()
