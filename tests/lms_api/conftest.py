"""Fixtures for the LMS tests live in lms_fixtures.py (importable by tests without naming `conftest`)."""

from lms_fixtures import (  # noqa: F401
    db_url,
    empty_db_url,
    hub,
    lms,
    pg_template,
    sqlite_lms,
    sqlite_template,
)
