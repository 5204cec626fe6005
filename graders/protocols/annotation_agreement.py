"""Grading the annotation practice: a learner's LUNA16 ``annotations.csv`` against the hidden reference reader.

The learner marks nodules (centre in world mm and diameter) on the practice scans with the
notebook's annotation tool and exports ``seriesuid,coordX,coordY,coordZ,diameter_mm``. Their
marks are scored with the LUNA16 hit rule of ``graders.metrics.froc`` (Setio et al., Medical
Image Analysis 42, 2017) - the one implementation the nodule project is graded with: a mark hits
a reference nodule when its centre lies closer to the nodule's centre than the nodule's radius;
several marks on one nodule count once (the others are *duplicate marks*, neither right nor
wrong); a mark on an excluded finding only (under 3 mm, non-nodule) is ignored; every other mark
is a *false mark*.

Figures:

* **sensitivity** = reference nodules hit / reference nodules;
* **false marks per scan** = false marks / practice scans;
* **agreement with the reference reader: F1 over findings** = 2·matched / (2·matched + false
  marks + missed nodules), where *matched* counts matched pairs (reference nodules hit). Cohen's
  kappa is not used: in free-response marking there is no finite list of negatives (every place
  in the lung is a possible "no nodule"), so kappa's chance correction would depend on an
  arbitrary count of true negatives. F1 leaves true negatives out, is symmetric in the two
  readers, and is the proportion of *positive specific agreement* used for reader studies
  (Cicchetti & Feinstein, J Clin Epidemiol 43, 1990);
* **diameter bias** (Bland-Altman's mean difference, learner minus reference, mm) and mean absolute
  diameter error over matched pairs (each hit nodule paired with the hitting mark nearest its centre).

Where the reference lives: the practice scans are the series of the CT dataset's ``practice``
split - patients drawn apart from the projects' cohort - whose annotations the dataset build
writes only to the hidden folder (``hidden/ct/practice_annotations.csv``, mode 600 in a mode-700
folder, never mounted in a sandbox). No project is graded on these scans, so repeated practice
attempts are no oracle for the nodule project's hidden test split. The learner's notebook checks
the export's format; this module runs as the grader, outside the learner's sandbox, and returns
only the aggregate figures above - never a per-mark verdict, which would show where the hidden
nodules are.

The file is untrusted: opened without following links and bounded in size; every value must be a
finite number, every series a practice scan, every centre inside its scan's volume, every
diameter within ``0 < d <= MAX_DIAMETER_MM``, at most ``MAX_MARKS_PER_SCAN`` marks a scan. Anything
else is a ``TableError`` naming the line.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from practicum.datasets.ct import read_seriesuids
from practicum.sandbox.readback import UnsafeFile, read_bounded

from ..metrics.froc import MAX_CANDIDATES_PER_SCAN, CandidateSet, FindingSet, encode_scans, hit_matrix, match_candidates
from ..tables import TableError, read_table
from .nodule_detection import ANNOTATIONS, check_candidates, series_folders, volume_box

PRACTICE_SPLIT = "practice"
MARKS_FILE = "annotations.csv"  # where the practice notebook's viewer keeps the learner's marks
MAX_FILE_BYTES = 256 * 1024
MAX_MARKS_PER_SCAN = MAX_CANDIDATES_PER_SCAN
MAX_DIAMETER_MM = 100.0
TARGET_SENSITIVITY = 0.75
TARGET_FALSE_MARKS_PER_SCAN = 1.0


@dataclass(frozen=True)
class AnnotationAgreement:
    """Aggregate agreement of one learner's marks with the reference reader (no per-mark verdicts)."""

    n_scans: int
    n_reference_nodules: int
    n_marks: int
    n_matched: int
    n_missed: int
    n_false_marks: int
    n_duplicate_marks: int
    n_ignored_marks: int
    sensitivity: float
    false_marks_per_scan: float
    f1: float
    diameter_bias_mm: float
    diameter_abs_error_mm: float
    target_sensitivity: float = TARGET_SENSITIVITY
    target_false_marks_per_scan: float = TARGET_FALSE_MARKS_PER_SCAN

    @property
    def passed(self) -> bool:
        return self.sensitivity >= self.target_sensitivity and self.false_marks_per_scan <= self.target_false_marks_per_scan

    @property
    def metrics(self) -> dict[str, float]:
        names = ("sensitivity", "false_marks_per_scan", "f1", "diameter_bias_mm", "diameter_abs_error_mm")
        return {name: getattr(self, name) for name in names}

    def to_json(self) -> dict[str, Any]:
        out = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}
        return out | {"passed": self.passed}


def practice_series(public_dir: Path) -> list[str]:
    """The practice scans: the public practice split's series list, sorted."""
    listed = Path(public_dir) / "ct" / PRACTICE_SPLIT / "seriesuids.csv"
    if not listed.is_file():
        raise FileNotFoundError(f"{listed} is missing: this dataset build has no practice split; build the datasets again")
    return sorted(read_seriesuids(listed))


def score_annotations(
    marks: pd.DataFrame, reference: pd.DataFrame, *, seriesuids: Sequence[str], excluded: pd.DataFrame | None = None
) -> AnnotationAgreement:
    """Agreement of checked marks with checked reference tables (``seriesuid, coordX..Z, diameter_mm``)."""
    scans = list(dict.fromkeys(seriesuids))
    if not scans:
        raise ValueError("no scans to score: the practice series list is empty")
    reference = reference[reference["seriesuid"].isin(scans)]
    excluded = excluded[excluded["seriesuid"].isin(scans)] if excluded is not None else None
    nodules = _findings(reference, scans)
    ignored = _findings(excluded, scans) if excluded is not None and len(excluded) else None
    mark_scan = encode_scans(scans, marks["seriesuid"].tolist()) if len(marks) else np.zeros(0, dtype=np.int64)
    mark_xyz = _xyz(marks)
    found = CandidateSet.from_arrays(mark_scan, mark_xyz, np.ones(len(marks)))
    with np.errstate(over="ignore", invalid="ignore"):  # a mark 1e300 mm away is far, not an error
        m = match_candidates(found, nodules, ignored, n_scans=len(scans), max_candidates_per_scan=MAX_MARKS_PER_SCAN)
        bias, abs_error = _diameter_agreement(marks, mark_scan, mark_xyz, nodules)
    n_matched, n_false = m.n_detected, m.n_false_positives
    n_missed = m.n_nodules - n_matched
    denominator = 2 * n_matched + n_false + n_missed
    return AnnotationAgreement(
        n_scans=len(scans),
        n_reference_nodules=m.n_nodules,
        n_marks=len(marks),
        n_matched=n_matched,
        n_missed=n_missed,
        n_false_marks=n_false,
        n_duplicate_marks=m.n_duplicate_hits,
        n_ignored_marks=m.n_ignored_excluded,
        sensitivity=n_matched / m.n_nodules if m.n_nodules else math.nan,
        false_marks_per_scan=n_false / len(scans),
        f1=2 * n_matched / denominator if denominator else 1.0,
        diameter_bias_mm=bias,
        diameter_abs_error_mm=abs_error,
    )


def grade_annotation_file(path: Path, *, public_dir: Path, hidden_dir: Path) -> AnnotationAgreement:
    """Read a learner's export (untrusted), check it against the practice scans, score it against
    the hidden reference. Run as the grader, outside the learner's sandbox."""
    scans = practice_series(public_dir)
    marks = read_marks(path, seriesuids=scans, public_dir=public_dir)
    reference = read_table(Path(hidden_dir) / "ct" / f"{PRACTICE_SPLIT}_annotations.csv", ANNOTATIONS)
    excluded_path = Path(hidden_dir) / "ct" / f"{PRACTICE_SPLIT}_annotations_excluded.csv"
    excluded = read_table(excluded_path, ANNOTATIONS) if excluded_path.exists() else None
    return score_annotations(marks, reference, seriesuids=scans, excluded=excluded)


def grade_annotation_submission(submission_dir: Path, *, public_dir: Path, hidden_dir: Path) -> AnnotationAgreement:
    """The marks file of a submitted (or autograded) ``annotation_practice`` folder, graded."""
    return grade_annotation_file(Path(submission_dir) / MARKS_FILE, public_dir=public_dir, hidden_dir=hidden_dir)


def read_marks(path: Path, *, seriesuids: Sequence[str], public_dir: Path | None = None) -> pd.DataFrame:
    """A learner's LUNA16 annotations file, checked: regular file, bounded, well-formed, on the named
    scans (inside their volumes when ``public_dir`` is given), sane diameters, not too many marks."""
    source = str(path)
    if not os.path.lexists(path):
        raise TableError(source, "no such file; export the marks with the annotation tool first")
    try:
        data = read_bounded(path, MAX_FILE_BYTES)
    except UnsafeFile as error:
        raise TableError(source, f"{str(error).removeprefix(source).strip()}; export the marks with the annotation tool") from None
    with tempfile.TemporaryDirectory(prefix="annotation-grading-") as folder:
        copy = Path(folder) / "annotations.csv"
        copy.write_bytes(data)
        try:
            marks = read_table(copy, ANNOTATIONS)
        except TableError as error:
            raise TableError(source, error.message, line=error.line) from None
    diameters = marks["diameter_mm"].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~((diameters > 0) & (diameters <= MAX_DIAMETER_MM)))
    if bad.size:
        raise TableError(source, f"column diameter_mm: {diameters[bad[0]]:g} mm is not in (0, {MAX_DIAMETER_MM:g}] mm",
                         line=int(marks["_line"].iloc[bad[0]]))
    counts = marks["seriesuid"].value_counts()
    if len(counts) and int(counts.iloc[0]) > MAX_MARKS_PER_SCAN:
        raise TableError(source, f"{int(counts.iloc[0])} marks on series {counts.index[0]!r}; at most {MAX_MARKS_PER_SCAN} a scan")
    boxes = None
    if public_dir is not None:
        folders = series_folders(Path(public_dir) / "ct" / PRACTICE_SPLIT / "images")
        boxes = {uid: volume_box(folders[uid]) for uid in seriesuids if uid in folders}
    return check_candidates(marks, seriesuids=list(seriesuids), boxes=boxes, source=source, place="line")


def _findings(table: pd.DataFrame | None, scans: list[str]) -> FindingSet:
    if table is None or not len(table):
        return FindingSet.empty()
    return FindingSet.from_arrays(encode_scans(scans, table["seriesuid"].tolist()), _xyz(table), table["diameter_mm"].to_numpy(dtype=np.float64))


def _xyz(table: pd.DataFrame) -> np.ndarray:
    return table[["coordX", "coordY", "coordZ"]].to_numpy(dtype=np.float64).reshape(-1, 3)


def _diameter_agreement(
    marks: pd.DataFrame, mark_scan: np.ndarray, mark_xyz: np.ndarray, nodules: FindingSet
) -> tuple[float, float]:
    """Mean (learner - reference) diameter and mean absolute difference over matched pairs: each hit
    nodule with the hitting mark nearest its centre (hits by ``hit_matrix``, the LUNA16 rule)."""
    if not len(marks) or not len(nodules):
        return math.nan, math.nan
    differences = []
    mark_diameter = marks["diameter_mm"].to_numpy(dtype=np.float64)
    reference_diameter = nodules.diameter_mm
    for scan in np.unique(nodules.scan):
        on_scan = np.flatnonzero(mark_scan == scan)
        here = np.flatnonzero(nodules.scan == scan)
        if not on_scan.size:
            continue
        hits = hit_matrix(mark_xyz[on_scan], nodules.xyz[here], reference_diameter[here])  # (marks, nodules)
        distance = np.sum((mark_xyz[on_scan][:, None, :] - nodules.xyz[here][None, :, :]) ** 2, axis=2)
        distance = np.where(hits, distance, np.inf)
        for n in np.flatnonzero(hits.any(axis=0)):
            nearest = on_scan[int(np.argmin(distance[:, n]))]
            differences.append(mark_diameter[nearest] - reference_diameter[here[n]])
    if not differences:
        return math.nan, math.nan
    values = np.asarray(differences)
    return float(values.mean()), float(np.abs(values).mean())


__all__ = [
    "PRACTICE_SPLIT",
    "AnnotationAgreement",
    "grade_annotation_file",
    "grade_annotation_submission",
    "practice_series",
    "read_marks",
    "score_annotations",
]
