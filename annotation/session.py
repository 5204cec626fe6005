"""The marks a reader places (nodule centre and diameter per scan) and their LUNA16 export.

A mark is kept in world millimetres (what LUNA16's ``annotations.csv`` holds: ``seriesuid,
coordX, coordY, coordZ, diameter_mm``); it is placed in voxel positions of the slice viewer
and converted once, by the scan's :class:`VolumeGeometry`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .geometry import VolumeGeometry

ANNOTATION_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "diameter_mm")
# LUNA16 counts nodules of 3 mm and more; lesions over 30 mm are masses. A mark outside a wider
# range than that is a slip of the keyboard, refused before it can be exported.
MIN_DIAMETER_MM = 1.0
MAX_DIAMETER_MM = 60.0


class AnnotationError(ValueError):
    """A mark that cannot be placed or removed, or an export that cannot be written."""


@dataclass(frozen=True)
class Mark:
    seriesuid: str
    x: float
    y: float
    z: float
    diameter_mm: float

    @property
    def xyz(self) -> tuple[float, float, float]:
        return (self.x, self.y, self.z)

    def describe(self) -> str:
        return f"({self.x:.1f}, {self.y:.1f}, {self.z:.1f}) mm, {self.diameter_mm:g} mm"


class AnnotationSession:
    """Marks on a set of scans (seriesuid -> geometry), in the order they were placed."""

    def __init__(self, scans: Mapping[str, VolumeGeometry]) -> None:
        if not scans:
            raise AnnotationError("no scans to annotate")
        self._scans = dict(scans)
        self._marks: list[Mark] = []

    @property
    def seriesuids(self) -> tuple[str, ...]:
        return tuple(self._scans)

    @property
    def marks(self) -> tuple[Mark, ...]:
        return tuple(self._marks)

    def geometry(self, seriesuid: str) -> VolumeGeometry:
        if seriesuid not in self._scans:
            raise AnnotationError(f"series {seriesuid!r} is not one of the {len(self._scans)} scans of this session")
        return self._scans[seriesuid]

    def marks_on(self, seriesuid: str) -> list[tuple[int, Mark]]:
        """(index in :attr:`marks`, mark) of one scan."""
        return [(i, m) for i, m in enumerate(self._marks) if m.seriesuid == seriesuid]

    def add_voxel_mark(self, seriesuid: str, kji: tuple[float, float, float], diameter_mm: float) -> Mark:
        """A mark centred on voxel (slice, row, column) of a scan."""
        geometry = self.geometry(seriesuid)
        if not geometry.contains_voxel(kji):
            raise AnnotationError(f"voxel (slice, row, column) {tuple(kji)} lies outside the scan, whose shape is {geometry.shape}")
        x, y, z = (float(v) for v in geometry.voxel_to_world(np.asarray(kji, dtype=np.float64)))
        return self._add(Mark(seriesuid, x, y, z, _checked_diameter(diameter_mm)))

    def add_world_mark(self, seriesuid: str, xyz: tuple[float, float, float], diameter_mm: float) -> Mark:
        """A mark centred on a world point (x, y, z) mm, which must lie inside the scan."""
        geometry = self.geometry(seriesuid)
        if len(xyz) != 3 or not all(math.isfinite(float(v)) for v in xyz):
            raise AnnotationError(f"a world centre is three finite numbers (x, y, z) mm, not {xyz!r}")
        if not geometry.contains_voxel(geometry.world_to_voxel(np.asarray(xyz, dtype=np.float64))):
            raise AnnotationError(f"({', '.join(f'{float(v):g}' for v in xyz)}) mm lies outside the scan {seriesuid!r}")
        x, y, z = (float(v) for v in xyz)
        return self._add(Mark(seriesuid, x, y, z, _checked_diameter(diameter_mm)))

    def remove(self, index: int) -> Mark:
        if not 0 <= index < len(self._marks):
            raise AnnotationError(f"no mark {index}: there are {len(self._marks)} marks (numbered from 0)")
        return self._marks.pop(index)

    def clear(self) -> None:
        self._marks.clear()

    def to_csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(ANNOTATION_COLUMNS)
        for m in self._marks:
            writer.writerow([m.seriesuid, f"{m.x:.4f}", f"{m.y:.4f}", f"{m.z:.4f}", f"{m.diameter_mm:.4f}"])
        return buffer.getvalue()

    def export_luna16_csv(self, path: str | Path) -> Path:
        """Write the marks as a LUNA16 ``annotations.csv`` (world mm), replacing ``path`` atomically."""
        target = Path(path)
        if target.is_dir():
            raise AnnotationError(f"{target} is a folder; give a file name such as {target / 'annotations.csv'}")
        if not target.parent.is_dir():
            raise AnnotationError(f"folder {target.parent} does not exist; create it or export elsewhere")
        fd, tmp = tempfile.mkstemp(prefix=".annotations-", suffix=".csv", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(self.to_csv_text())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def load_luna16_csv(self, path: str | Path) -> int:
        """Add the marks of an exported file (a saved reading, resumed); each is checked as if placed
        again. All or nothing: on an error no mark of the file is kept. Returns how many were added."""
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise AnnotationError(f"{source}: cannot be read ({error})") from None
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [cell.strip() for cell in rows[0]] != list(ANNOTATION_COLUMNS):
            raise AnnotationError(f"{source}: the first line must be {','.join(ANNOTATION_COLUMNS)}")
        kept = list(self._marks)
        try:
            for number, row in enumerate(rows[1:], start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(ANNOTATION_COLUMNS):
                    raise AnnotationError(f"{source}, line {number}: {len(row)} fields, expected {len(ANNOTATION_COLUMNS)}")
                uid, *numbers = (cell.strip() for cell in row)
                try:
                    x, y, z, diameter = (float(v) for v in numbers)
                except ValueError:
                    raise AnnotationError(f"{source}, line {number}: coordinates and diameter must be numbers") from None
                try:
                    self.add_world_mark(uid, (x, y, z), diameter)
                except AnnotationError as error:
                    raise AnnotationError(f"{source}, line {number}: {error}") from None
        except AnnotationError:
            self._marks = kept
            raise
        return len(self._marks) - len(kept)

    def _add(self, mark: Mark) -> Mark:
        # Kept at the export's precision (0.1 micrometre), so a reloaded file gives the same marks.
        mark = Mark(mark.seriesuid, *(round(v, 4) for v in (mark.x, mark.y, mark.z, mark.diameter_mm)))
        self._marks.append(mark)
        return mark


def _checked_diameter(diameter_mm: float) -> float:
    try:
        value = float(diameter_mm)
    except (TypeError, ValueError):
        raise AnnotationError(f"the diameter is a number of mm, not {diameter_mm!r}") from None
    if not (math.isfinite(value) and MIN_DIAMETER_MM <= value <= MAX_DIAMETER_MM):
        raise AnnotationError(f"diameter {value:g} mm is outside {MIN_DIAMETER_MM:g}-{MAX_DIAMETER_MM:g} mm; measure the nodule's longest axis")
    return value
