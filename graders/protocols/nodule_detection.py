"""LUNA16 nodule-detection protocol: candidate files in, FROC / CPM with a bootstrap interval out.

Protocol (Setio et al., "Validation, comparison, and combination of algorithms for automatic
detection of pulmonary nodules in computed tomography images: the LUNA16 challenge",
Medical Image Analysis 42, 2017): a candidate is a hit when its centre lies within the
radius of a reference nodule; at most 100 candidates per scan count; candidates on excluded
findings are ignored; the CPM is the mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 false
positives per scan. The counting itself is ``graders.metrics.froc``.

What crosses to a graded model: one row per public test series (``seriesuid``, the folder of
its DICOM files), in an order shuffled per grading with the grader's ``rng``. The uids, the
folders and their count are public (the DICOM headers hold the same uids); the order of the
public list is not something the grader vouches for, and the scoring does not depend on it
(scans are scored in sorted order, so the bootstrap interval is the same for any order).

A model's output is bounded (``max_output_rows``: ``OUTPUT_ROWS_PER_SERIES`` times the scored
candidates per scan, per input series), refused before it is read when larger; a candidate
repeated at the same position of a series, exactly or within ``DUPLICATE_DISTANCE_MM``, is
refused with its row.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydicom
from scipy.spatial import cKDTree

from ..metrics.froc import (
    FP_RATES,
    MAX_CANDIDATES_PER_SCAN,
    CandidateSet,
    FindingSet,
    encode_scans,
    froc,
    froc_bootstrap,
)
from ..tables import Column, TableError, TableSpec, check_frame, check_table, read_table

POSITION = (Column("coordX", "number"), Column("coordY", "number"), Column("coordZ", "number"))
ANNOTATIONS = TableSpec((Column("seriesuid", "text"), *POSITION, Column("diameter_mm", "number")))
CANDIDATES = TableSpec(
    (Column("seriesuid", "text"), *POSITION, Column("probability", "number")),
    key=("seriesuid", "coordX", "coordY", "coordZ"),
)
SERIES = TableSpec((Column("seriesuid", "text"),), key=("seriesuid",))
BOX_COLUMNS = ("minX", "maxX", "minY", "maxY", "minZ", "maxZ")


def sensitivity_key(fp_rate: float) -> str:
    return f"sensitivity_at_{fp_rate:g}"


@dataclass(frozen=True)
class VolumeBox:
    """The world-axis-aligned box (mm) that holds a series' voxel centres."""

    lower: tuple[float, float, float]
    upper: tuple[float, float, float]

    def contains(self, xyz: np.ndarray, margin_mm: float) -> np.ndarray:
        return np.all((xyz >= np.asarray(self.lower) - margin_mm) & (xyz <= np.asarray(self.upper) + margin_mm), axis=1)


# A candidate may sit up to this far outside the outermost voxel centres (half a coarse voxel).
BOX_MARGIN_MM = 2.5
# Two candidates of a series closer than this are one candidate given twice.
DUPLICATE_DISTANCE_MM = 1e-6
# A model may return this many times the scored candidates per scan, per series (the rest is refused).
OUTPUT_ROWS_PER_SERIES = 10


@dataclass(frozen=True)
class FrocEvaluation:
    fp_rates: tuple[float, ...]
    sensitivities: tuple[float, ...]
    cpm: float
    cpm_ci_lower: float
    cpm_ci_upper: float
    confidence: float
    n_bootstrap: int
    n_scans: int
    n_nodules: int
    n_detected: int
    n_false_positives: int
    n_candidates_used: int
    n_dropped_over_limit: int
    n_ignored_excluded: int
    curve_fps_per_scan: tuple[float, ...]
    curve_sensitivity: tuple[float, ...]

    @property
    def metrics(self) -> dict[str, float]:
        out = {"cpm": self.cpm, "cpm_ci_lower": self.cpm_ci_lower, "cpm_ci_upper": self.cpm_ci_upper}
        out.update({sensitivity_key(r): s for r, s in zip(self.fp_rates, self.sensitivities, strict=True)})
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"metrics": self.metrics}


def evaluate_froc(
    annotations: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    seriesuids: Sequence[str],
    excluded: pd.DataFrame | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    max_candidates_per_scan: int = MAX_CANDIDATES_PER_SCAN,
) -> FrocEvaluation:
    """FROC and CPM of checked tables (``ANNOTATIONS``, ``CANDIDATES``) over the listed scans."""
    scans = list(dict.fromkeys(seriesuids))
    if not scans:
        raise ValueError("no scans to evaluate: the series list is empty")
    nodules = _findings(annotations, scans)
    excluded_set = _findings(excluded, scans) if excluded is not None and len(excluded) else None
    found = CandidateSet.from_arrays(
        encode_scans(scans, candidates["seriesuid"].tolist()) if len(candidates) else np.zeros(0),
        candidates[["coordX", "coordY", "coordZ"]].to_numpy(dtype=np.float64).reshape(-1, 3),
        candidates["probability"].to_numpy(dtype=np.float64),
    )
    options = {"excluded": excluded_set, "max_candidates_per_scan": max_candidates_per_scan}
    point = froc(found, nodules, len(scans), **options)
    lower = upper = point.cpm
    if n_bootstrap > 0:
        spread = froc_bootstrap(found, nodules, len(scans), n_bootstrap=n_bootstrap, seed=seed, **options)
        lower, upper = spread.cpm_lower, spread.cpm_upper
    return FrocEvaluation(
        fp_rates=point.fp_rates,
        sensitivities=point.sensitivities,
        cpm=point.cpm,
        cpm_ci_lower=lower,
        cpm_ci_upper=upper,
        confidence=0.95,
        n_bootstrap=n_bootstrap,
        n_scans=point.n_scans,
        n_nodules=point.n_nodules,
        n_detected=point.n_detected,
        n_false_positives=point.n_false_positives,
        n_candidates_used=point.n_candidates_used,
        n_dropped_over_limit=point.n_dropped_over_limit,
        n_ignored_excluded=point.n_ignored_excluded,
        curve_fps_per_scan=point.curve_fps_per_scan,
        curve_sensitivity=point.curve_sensitivity,
    )


def _findings(table: pd.DataFrame | None, scans: list[str]) -> FindingSet:
    if table is None or not len(table):
        return FindingSet.empty()
    return FindingSet.from_arrays(
        encode_scans(scans, table["seriesuid"].tolist()),
        table[["coordX", "coordY", "coordZ"]].to_numpy(dtype=np.float64),
        table["diameter_mm"].to_numpy(dtype=np.float64),
    )


# --- checks shared by files and model outputs ---------------------------------------------


def check_candidates(
    candidates: pd.DataFrame,
    *,
    seriesuids: Sequence[str],
    boxes: Mapping[str, VolumeBox] | None,
    source: str,
    place: str,
) -> pd.DataFrame:
    """Refuse candidates on unknown series, repeated at one position, or outside their series' volume (checked tables)."""
    known = set(seriesuids)
    for index, uid in enumerate(candidates["seriesuid"]):
        if uid not in known:
            raise TableError(source, f"series {uid!r} is not one of the {len(known)} evaluated series", line=_line(candidates, index), place=place)
    _refuse_repeated_positions(candidates, source=source, place=place)
    if boxes:
        xyz = candidates[["coordX", "coordY", "coordZ"]].to_numpy(dtype=np.float64)
        inside = np.ones(len(candidates), dtype=bool)
        for uid, rows in candidates.groupby("seriesuid").indices.items():
            if uid in boxes:
                inside[rows] = boxes[uid].contains(xyz[rows], BOX_MARGIN_MM)
        if not inside.all():
            index = int(np.flatnonzero(~inside)[0])
            uid, box = candidates["seriesuid"].iloc[index], boxes[candidates["seriesuid"].iloc[index]]
            x, y, z = xyz[index]
            raise TableError(
                source,
                f"({x:g}, {y:g}, {z:g}) mm lies outside series {uid!r}, whose volume spans "
                f"x {box.lower[0]:.1f}..{box.upper[0]:.1f}, y {box.lower[1]:.1f}..{box.upper[1]:.1f}, "
                f"z {box.lower[2]:.1f}..{box.upper[2]:.1f} mm (world coordinates, not voxel indices?)",
                line=_line(candidates, index),
                place=place,
            )
    return candidates


def _refuse_repeated_positions(candidates: pd.DataFrame, *, source: str, place: str) -> None:
    """Two candidates of one series within ``DUPLICATE_DISTANCE_MM`` of each other are refused.

    Nearest-neighbour queries (memory linear in the candidates, even when all share one point).
    """
    xyz = candidates[["coordX", "coordY", "coordZ"]].to_numpy(dtype=np.float64).reshape(-1, 3)
    found: list[tuple[int, int]] = []
    for _, rows in candidates.groupby("seriesuid").indices.items():
        if len(rows) < 2:
            continue
        distance, neighbour = cKDTree(xyz[rows]).query(xyz[rows], k=2, distance_upper_bound=DUPLICATE_DISTANCE_MM)
        close = np.flatnonzero(distance[:, 1] <= DUPLICATE_DISTANCE_MM)
        if close.size:
            first = int(close[0])
            other = int(neighbour[first, 0]) if int(neighbour[first, 0]) != first else int(neighbour[first, 1])
            pair = sorted((int(rows[first]), int(rows[other])))
            found.append((pair[1], pair[0]))
    if found:
        later, earlier = min(found)
        x, y, z = xyz[later]
        raise TableError(
            source,
            f"candidate ({x:g}, {y:g}, {z:g}) mm in series {candidates['seriesuid'].iloc[later]!r} repeats the one at "
            f"{place} {_line(candidates, earlier)} (within {DUPLICATE_DISTANCE_MM:g} mm): one candidate per position",
            line=_line(candidates, later),
            place=place,
        )


def check_annotations(annotations: pd.DataFrame, *, seriesuids: Sequence[str], source: str) -> pd.DataFrame:
    known = set(seriesuids)
    for index, uid in enumerate(annotations["seriesuid"]):
        if uid not in known:
            raise TableError(source, f"series {uid!r} is not in the series list", line=_line(annotations, index))
    return annotations


def _line(table: pd.DataFrame, index: int) -> int:
    return int(table["_line"].iloc[index]) if "_line" in table.columns else index + 1


# --- files in LUNA16's formats (the CLI) --------------------------------------------------


def evaluate_froc_files(
    *,
    annotations: Path,
    candidates: Path,
    excluded: Path | None = None,
    series: Path | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> FrocEvaluation:
    """Score LUNA16-format CSV files. Without ``series`` the scans are those named in the files."""
    found_annotations = read_table(annotations, ANNOTATIONS)
    found_excluded = read_table(excluded, ANNOTATIONS) if excluded is not None else None
    found_candidates = read_table(candidates, CANDIDATES)
    boxes: dict[str, VolumeBox] | None = None
    if series is not None:
        scans = read_series_list(series)
        boxes = _boxes_from_series_table(series) or None
        check_annotations(found_annotations, seriesuids=scans, source=str(annotations))
        if found_excluded is not None:
            check_annotations(found_excluded, seriesuids=scans, source=str(excluded))
    else:
        named = [found_annotations["seriesuid"], found_candidates["seriesuid"]]
        if found_excluded is not None:
            named.append(found_excluded["seriesuid"])
        scans = sorted(set(pd.concat(named)))
    check_candidates(found_candidates, seriesuids=scans, boxes=boxes, source=str(candidates), place="line")
    return evaluate_froc(
        found_annotations, found_candidates, seriesuids=scans, excluded=found_excluded, n_bootstrap=n_bootstrap, seed=seed
    )


def read_series_list(path: Path) -> list[str]:
    """The evaluated scans: a CSV with a ``seriesuid`` header, or one uid a line (LUNA16's lists)."""
    if not path.is_file():
        raise TableError(str(path), "no such file")
    first = path.read_text(encoding="utf-8", errors="replace").lstrip().split("\n", 1)[0]
    if first.split(",")[0].strip() == "seriesuid":
        return read_table(path, SERIES)["seriesuid"].tolist()
    listed = TableSpec((Column("seriesuid", "text"),), key=("seriesuid",))
    frame = pd.DataFrame({"seriesuid": [line.strip() for line in path.read_text().splitlines()]})
    keep = (frame["seriesuid"] != "").to_numpy()
    lines = [number for number, kept in enumerate(keep, start=1) if kept]
    return check_table(frame[keep], listed, source=str(path), locations=lines, place="line")["seriesuid"].tolist()


def _boxes_from_series_table(path: Path) -> dict[str, VolumeBox]:
    """Optional volume boxes in the series file: minX,maxX,minY,maxY,minZ,maxZ (world mm)."""
    first = path.read_text(encoding="utf-8", errors="replace").lstrip().split("\n", 1)[0]
    header = [cell.strip() for cell in first.split(",")]
    if not set(BOX_COLUMNS) <= set(header):
        return {}
    spec = TableSpec((Column("seriesuid", "text"), *(Column(c, "number") for c in BOX_COLUMNS)), key=("seriesuid",))
    table = read_table(path, spec)
    return {
        row.seriesuid: VolumeBox((row.minX, row.minY, row.minZ), (row.maxX, row.maxY, row.maxZ))
        for row in table.itertuples()
    }


# --- grading a model on the hidden test split -------------------------------------------


def series_folders(images_dir: Path) -> dict[str, Path]:
    """seriesuid -> the folder holding its DICOM files (each series in one folder)."""
    folders: dict[str, Path] = {}
    for path in sorted(images_dir.rglob("*.dcm")):
        if path.parent in folders.values():
            continue
        header = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
        folders.setdefault(str(header.SeriesInstanceUID), path.parent)
    return folders


def volume_box(series_dir: Path) -> VolumeBox:
    """The box of a series' voxel centres, from its headers only."""
    corners = []
    for path in sorted(series_dir.glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        origin = np.asarray(ds.ImagePositionPatient, dtype=np.float64)
        orientation = np.asarray(ds.ImageOrientationPatient, dtype=np.float64)
        row_step, col_step = (float(v) for v in ds.PixelSpacing)
        along_row = orientation[:3] * col_step * (int(ds.Columns) - 1)
        along_column = orientation[3:] * row_step * (int(ds.Rows) - 1)
        corners += [origin, origin + along_row, origin + along_column, origin + along_row + along_column]
    if not corners:
        raise ValueError(f"no DICOM files in {series_dir}")
    points = np.asarray(corners)
    return VolumeBox(tuple(points.min(axis=0)), tuple(points.max(axis=0)))


def model_inputs(
    public_dir: Path, hidden_dir: Path, options: Mapping[str, Any], *, rng: random.Random
) -> dict[str, pd.DataFrame]:
    """What the model gets: one row per test series with the folder of its DICOM files, in random order."""
    test_dir = public_dir / "ct" / "test"
    uids = read_series_list(test_dir / "seriesuids.csv")
    folders = series_folders(test_dir / "images")
    missing = [uid for uid in uids if uid not in folders]
    if missing:
        raise ValueError(f"{len(missing)} test series have no images, e.g. {missing[0]}")
    rng.shuffle(uids)
    return {"test": pd.DataFrame({"seriesuid": uids, "series_dir": [str(folders[uid]) for uid in uids]})}


def _max_candidates(options: Mapping[str, Any]) -> int:
    return int(options.get("max_candidates_per_scan", MAX_CANDIDATES_PER_SCAN))


def max_output_rows(name: str, model_input: pd.DataFrame, options: Mapping[str, Any]) -> int:
    """A generous bound: ``OUTPUT_ROWS_PER_SERIES`` times the scored candidates per scan, per series."""
    return OUTPUT_ROWS_PER_SERIES * _max_candidates(options) * len(model_input)


def score_predictions(
    outputs: Mapping[str, object], *, inputs: Mapping[str, pd.DataFrame], hidden_dir: Path, options: Mapping[str, Any]
) -> FrocEvaluation:
    """Check a model's candidates and score them against the hidden test annotations."""
    source = "the model's predictions"
    if "test" not in outputs:
        raise TableError(source, "no output for the input")
    tested = inputs["test"]
    checked = check_frame(outputs["test"], CANDIDATES, source=source, max_rows=max_output_rows("test", tested, options))
    scans = sorted(tested["seriesuid"].astype(str))
    boxes = {uid: volume_box(Path(folder)) for uid, folder in zip(tested["seriesuid"], tested["series_dir"], strict=True)}
    check_candidates(checked, seriesuids=scans, boxes=boxes, source=source, place="row")
    annotations = read_table(hidden_dir / "ct" / "test_annotations.csv", ANNOTATIONS)
    excluded_path = hidden_dir / "ct" / "test_annotations_excluded.csv"
    excluded = read_table(excluded_path, ANNOTATIONS) if excluded_path.exists() else None
    return evaluate_froc(
        annotations,
        checked,
        seriesuids=scans,
        excluded=excluded,
        n_bootstrap=int(options.get("n_bootstrap", 1000)),
        seed=int(options.get("seed", 0)),
        max_candidates_per_scan=_max_candidates(options),
    )


__all__ = [
    "ANNOTATIONS",
    "CANDIDATES",
    "FP_RATES",
    "FrocEvaluation",
    "VolumeBox",
    "evaluate_froc",
    "evaluate_froc_files",
    "max_output_rows",
    "model_inputs",
    "score_predictions",
]
