"""What every part of the service works with: its settings, database, blob store and gradable items."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from .database import connect
from .items import GradableItem, load_items
from .settings import GradingSettings
from .store import BlobStore


@dataclass
class GradingContext:
    settings: GradingSettings

    @cached_property
    def engine(self) -> Engine:
        self.settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return connect(self.settings.database_url)

    @cached_property
    def store(self) -> BlobStore:
        return BlobStore(self.settings.store_dir)

    @cached_property
    def items(self) -> dict[str, GradableItem]:
        courses = {course_id: Path(str(course["root"])) for course_id, course in self.settings.courses.items()}
        return load_items(self.settings.projects_dir, courses)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
