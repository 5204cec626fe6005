"""LUNA16-format annotation files: nodules, excluded findings and the list of scans.

``annotations.csv`` and ``annotations_excluded.csv`` have the columns
``seriesuid,coordX,coordY,coordZ,diameter_mm`` (world millimetres; -1 for the diameter
of an excluded non-nodule); ``seriesuids.csv`` lists every scan, one uid a line with no
header, as LUNA16's evaluation expects. Series uids are those of the DICOM files they
describe, so after de-identification they must be mapped like the files' uids
(:func:`remap_series`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..dicom_deid.manifest import write_text_atomic

COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "diameter_mm")


@dataclass(frozen=True)
class AnnotationRow:
    seriesuid: str
    x: float
    y: float
    z: float
    diameter_mm: float


def write_annotations(path: Path, rows: Iterable[AnnotationRow]) -> int:
    """Write a LUNA16 annotation CSV atomically; return the number of rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    n = 0
    for r in rows:
        w.writerow([r.seriesuid, f"{r.x:.4f}", f"{r.y:.4f}", f"{r.z:.4f}", f"{r.diameter_mm:.4f}"])
        n += 1
    write_text_atomic(Path(path), buf.getvalue())
    return n


def read_annotations(path: Path) -> list[AnnotationRow]:
    with Path(path).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return [
            AnnotationRow(r["seriesuid"], float(r["coordX"]), float(r["coordY"]), float(r["coordZ"]), float(r["diameter_mm"]))
            for r in reader
        ]


def write_seriesuids(path: Path, uids: Iterable[str]) -> None:
    write_text_atomic(Path(path), "".join(f"{u}\n" for u in uids))


def read_seriesuids(path: Path) -> list[str]:
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def remap_series(rows: Iterable[AnnotationRow], mapping: Callable[[str], str]) -> list[AnnotationRow]:
    """The same annotations with each series uid replaced by ``mapping(uid)``."""
    return [AnnotationRow(mapping(r.seriesuid), r.x, r.y, r.z, r.diameter_mm) for r in rows]
