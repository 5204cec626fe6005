"""Build synthetic chest-CT hospital exports: DICOM files, LUNA16 annotations, PHI manifest.

Layout of a build under ``out_dir``::

    raw/
      dicom/<FAMILY_GIVEN_MRN>/<YYYYMMDD>_<ACCESSION>/SE<nn>_<KERNEL>/IM0001.dcm ...
      annotations.csv            LUNA16: seriesuid,coordX,coordY,coordZ,diameter_mm
      annotations_excluded.csv   findings an evaluation ignores (diameter -1: non-nodule)
      seriesuids.csv             every scan, one series uid a line
      practice_seriesuids.csv    the scans of the annotation practice (published as a split of their own)
      phi_manifest.json          planted values and original UIDs (never copy it to outputs)
      build_report.json          this build's CTBuildReport

Everything under ``raw/`` identifies (synthetic) patients: folder names, headers and the
manifest. The tree is written to a temporary sibling folder and renamed into place at the
end, so an interrupted build leaves no partial ``raw/``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from ..dicom_deid.manifest import ManifestBuilder, write_text_atomic
from .annotations import AnnotationRow, write_annotations, write_seriesuids
from .dicom_export import write_series
from .phantom import DEFAULT_DIFFICULTY, Difficulty, generate_case
from .plan import SeriesPlan, StudyPlan, plan_build
from .sizes import BuildSize, get_size

BUILD_FORMAT = "practicum-ct-build/1"


@dataclass(frozen=True)
class CTBuildReport:
    """What a build wrote and where (paths are absolute)."""

    format: str
    size: str
    seed: int
    out_dir: str
    raw_dir: str
    dicom_dir: str
    annotations_csv: str
    annotations_excluded_csv: str
    seriesuids_csv: str
    manifest: str
    n_patients: int
    n_studies: int
    n_series: int
    n_files: int
    n_nodules: int
    n_excluded: int
    n_phi_values: int
    n_original_uids: int
    bytes_written: int
    seconds: float
    n_practice_series: int = 0

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _SeriesJob:
    study: StudyPlan
    series: SeriesPlan
    folder: Path


@dataclass(frozen=True)
class _SeriesResult:
    series_uid: str
    n_files: int
    n_bytes: int
    nodules: tuple[AnnotationRow, ...]
    excluded: tuple[AnnotationRow, ...]
    manifest: ManifestBuilder


def _folder_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def _series_folder(dicom_dir: Path, study: StudyPlan, series: SeriesPlan) -> Path:
    pt = study.patient
    return (
        dicom_dir
        / _folder_name(f"{pt.name.ascii_folder}_{pt.mrn}")
        / _folder_name(f"{study.date:%Y%m%d}_{study.accession}")
        / _folder_name(f"SE{series.series_number:02d}_{series.kernel}")
    )


def _run_job(job: _SeriesJob) -> _SeriesResult:
    case = generate_case(job.series.case)
    mb = ManifestBuilder()
    siblings = tuple(s for s in job.study.series if s.series_uid != job.series.series_uid)
    paths = write_series(job.study, job.series, case, job.folder, mb, siblings=siblings)
    uid = job.series.series_uid
    rows = [AnnotationRow(uid, *f.center, f.annotation_diameter) for f in case.findings if f.included]
    excl = [AnnotationRow(uid, *f.center, f.annotation_diameter) for f in case.findings if not f.included]
    return _SeriesResult(uid, len(paths), sum(p.stat().st_size for p in paths), tuple(rows), tuple(excl), mb)


def build_ct_exports(
    out_dir: Path,
    size: str | BuildSize = "small",
    seed: int = 0,
    progress: bool = True,
    *,
    overwrite: bool = False,
    workers: int = 1,
    difficulty: Difficulty = DEFAULT_DIFFICULTY,
) -> CTBuildReport:
    """Build synthetic raw CT exports into ``out_dir/raw`` (see the module docstring).

    ``size`` is ``"small"`` (about 27 series of 128-192 px x 64-96 slices; a minute or
    two on two cores), ``"full"`` (larger grids for GPU sandboxes) or a :class:`BuildSize`.
    Deterministic in ``seed`` (file contents do not depend on ``workers``). Raises
    FileExistsError when ``out_dir/raw`` exists and ``overwrite`` is false.
    """
    started = time.monotonic()
    spec = size if isinstance(size, BuildSize) else get_size(size)
    out_dir = Path(out_dir).resolve()
    raw = out_dir / "raw"
    if raw.exists() and not overwrite:
        raise FileExistsError(f"{raw} exists; pass overwrite=True to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".raw.building-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    dicom_dir = tmp / "dicom"
    plan = plan_build(spec, seed, difficulty)
    jobs = [_SeriesJob(st, se, _series_folder(dicom_dir, st, se)) for st in plan for se in st.series]
    try:
        results = _run_all(jobs, progress=progress, workers=workers)
        manifest = ManifestBuilder()
        for r in results:
            manifest.merge(r.manifest)
        nodules = [row for r in results for row in r.nodules]
        excluded = [row for r in results for row in r.excluded]
        write_annotations(tmp / "annotations.csv", nodules)
        write_annotations(tmp / "annotations_excluded.csv", excluded)
        write_seriesuids(tmp / "seriesuids.csv", [r.series_uid for r in results])
        practice = [job.series.series_uid for job in jobs if job.study.practice]
        write_seriesuids(tmp / "practice_seriesuids.csv", practice)
        built = manifest.build({"size": spec.name, "seed": seed, "format": BUILD_FORMAT})
        built.save(tmp / "phi_manifest.json")
        report = CTBuildReport(
            format=BUILD_FORMAT,
            size=spec.name,
            seed=seed,
            out_dir=str(out_dir),
            raw_dir=str(raw),
            dicom_dir=str(raw / "dicom"),
            annotations_csv=str(raw / "annotations.csv"),
            annotations_excluded_csv=str(raw / "annotations_excluded.csv"),
            seriesuids_csv=str(raw / "seriesuids.csv"),
            manifest=str(raw / "phi_manifest.json"),
            n_patients=len({st.patient.key for st in plan}),
            n_studies=len(plan),
            n_series=len(results),
            n_files=sum(r.n_files for r in results),
            n_nodules=len(nodules),
            n_excluded=len(excluded),
            n_phi_values=len(built.values),
            n_original_uids=len(built.uids),
            bytes_written=sum(r.n_bytes for r in results),
            seconds=round(time.monotonic() - started, 2),
            n_practice_series=len(practice),
        )
        write_text_atomic(tmp / "build_report.json", json.dumps(report.to_json(), indent=2))
        _swap_into_place(tmp, raw)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _run_all(jobs: list[_SeriesJob], *, progress: bool, workers: int) -> list[_SeriesResult]:
    bar = tqdm(total=len(jobs), desc="CT series", unit="series", disable=not progress)
    try:
        if workers <= 1:
            results = []
            for job in jobs:
                results.append(_run_job(job))
                bar.update()
            return results
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = []
            for r in pool.map(_run_job, jobs):
                results.append(r)
                bar.update()
            return results
    finally:
        bar.close()


def _swap_into_place(tmp: Path, raw: Path) -> None:
    old = None
    if raw.exists():
        old = raw.with_name(f".raw.old-{os.getpid()}")
        os.replace(raw, old)
    os.replace(tmp, raw)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
