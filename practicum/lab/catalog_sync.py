"""The LMS catalog, from the course files and project specs, synced at every lab start."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from practicum.authoring import AuthoringError, lms_catalog
from practicum.authoring import load_catalog as load_authoring_catalog
from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.migrate import upgrade_database
from practicum.lms_api.schemas.catalog import CatalogFile
from practicum.lms_api.services.catalog import sync_catalog

from .errors import LabError


def sync_catalog_into_lms(database_url: str, courses_dir: Path) -> None:
    """Bring the LMS database to its schema and its catalog up to the course files and project specs
    (the lab does it at every start: results and learning paths name these items)."""
    try:
        catalog = CatalogFile.model_validate(lms_catalog(load_authoring_catalog(courses_dir)))
    except AuthoringError as exc:
        raise LabError(str(exc)) from None
    except ValidationError as exc:
        raise LabError(f"the catalog of {courses_dir} is not one the LMS takes: {str(exc).splitlines()[0]}") from None
    upgrade_database(database_url)
    db = Database(database_url)
    try:
        with db.write() as session:
            sync_catalog(session, catalog=catalog)
            session.commit()
    finally:
        db.dispose()
