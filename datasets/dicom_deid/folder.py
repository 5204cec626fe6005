"""De-identify a folder of DICOM files into a new folder; report what was done and skipped.

Inputs are only ever read. Each output is written to a temporary file next to its final
place and renamed when complete, so a crash never leaves a partial file. Output paths
are built from the new UIDs only - ``<study>/<series>/<instance>.dcm`` - never from input
file or folder names (which often carry patient names). Files that cannot be
de-identified (see :mod:`.reader`) are skipped with their reason; so is a second file with
the same SOP Instance UID as one already written in this run (inputs are taken in sorted
path order, so which one is kept does not depend on the file system). Files whose pixels
may show PHI (:mod:`.pixel_risk`) are quarantined: not written, and listed with their
reason apart from the skipped ones.

The report names input files by their path relative to the input folder: keep it with
the operator, not with the de-identified data.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import pydicom
from tqdm import tqdm

from .dataset import deidentify_dataset
from .keys import Keyring
from .options import BASIC_PROFILE, DeidOptions
from .pixel_risk import Quarantined, pixel_phi_risk
from .profile import TABLE_NAME
from .reader import DEFAULT_LIMITS, ReadLimits, Rejected, read_dicom

PROFILE = f"DICOM {TABLE_NAME}: Basic Application Level Confidentiality Profile, fail closed"


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class DeidReport:
    """What :func:`deidentify_dicom_folder` wrote and skipped."""

    input_dir: str
    output_dir: str
    profile: str
    options: dict
    codes: tuple[str, ...]
    n_inputs: int
    processed: int
    skipped: tuple[SkippedFile, ...]
    quarantined: tuple[SkippedFile, ...]
    uid_map_size: int
    n_patients: int
    bytes_written: int
    seconds: float

    @property
    def files_per_second(self) -> float:
        return self.n_inputs / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        d["skipped"] = [asdict(s) for s in self.skipped]
        d["quarantined"] = [asdict(s) for s in self.quarantined]
        d["codes"] = list(self.codes)
        d["files_per_second"] = round(self.files_per_second, 1)
        return d


@dataclass(frozen=True)
class _Outcome:
    rel: str
    out_rel: str | None
    data: bytes | None
    reason: str | None
    new_uids: tuple[str, ...]
    pseudonym: str | None
    quarantined: bool = False


def _output_rel(ds) -> str:
    study = str(ds.get("StudyInstanceUID", "") or "unknown-study")
    series = str(ds.get("SeriesInstanceUID", "") or "unknown-series")
    return f"{study}/{series}/{ds.SOPInstanceUID}.dcm"


def deidentify_file(
    path: Path, keys: Keyring, options: DeidOptions, limits: ReadLimits = DEFAULT_LIMITS
) -> tuple[str, bytes, str]:
    """De-identified bytes of one file, its output path (relative) and the patient pseudonym.

    Raises :class:`Rejected` when the file cannot be de-identified and :class:`Quarantined`
    when its pixels may show PHI.
    """
    ds = read_dicom(path, limits)
    risk = pixel_phi_risk(ds, options)
    if risk is not None:
        raise Quarantined(risk)
    deidentify_dataset(ds, keys, options)
    buf = io.BytesIO()
    try:
        pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    except Exception as exc:  # noqa: BLE001 - an unwritable result is a skipped file
        raise Rejected(f"could not write the de-identified file ({type(exc).__name__}: {str(exc)[:200]})") from None
    return _output_rel(ds), buf.getvalue(), str(ds.PatientID)


def _work(args: tuple[Path, list[str], bytes, DeidOptions, ReadLimits]) -> list[_Outcome]:
    root, rels, secret, options, limits = args
    keys = Keyring(secret)
    out = []
    for rel in rels:
        try:
            out_rel, data, pseudonym = deidentify_file(root / rel, keys, options, limits)
            outcome = _Outcome(rel, out_rel, data, None, (), pseudonym)
        except Quarantined as exc:
            outcome = _Outcome(rel, None, None, exc.reason, (), None, quarantined=True)
        except Rejected as exc:
            outcome = _Outcome(rel, None, None, exc.reason, (), None)
        except Exception as exc:  # noqa: BLE001 - never let one file stop the run
            outcome = _Outcome(rel, None, None, f"unexpected error ({type(exc).__name__}: {str(exc)[:200]})", (), None)
        new = tuple(keys.drain_new())
        out.append(_Outcome(outcome.rel, outcome.out_rel, outcome.data, outcome.reason, new, outcome.pseudonym, outcome.quarantined))
    return out


def _inputs(root: Path) -> tuple[list[str], list[SkippedFile]]:
    files, skipped = [], []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            skipped.append(SkippedFile(rel, "symbolic link (not followed)"))
        elif p.is_file():
            files.append(rel)
    return files, skipped


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _outcomes(root: Path, rels: list[str], secret: bytes, options: DeidOptions, limits: ReadLimits, workers: int) -> Iterator[_Outcome]:
    if workers <= 1:
        for rel in rels:
            yield from _work((root, [rel], secret, options, limits))
        return
    chunk = 16
    jobs = [(root, rels[i : i + chunk], secret, options, limits) for i in range(0, len(rels), chunk)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for batch in pool.map(_work, jobs):
            yield from batch


def deidentify_dicom_folder(
    input_dir: Path,
    output_dir: Path,
    *,
    secret: bytes,
    options: DeidOptions = BASIC_PROFILE,
    progress: bool = True,
    workers: int = 1,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> DeidReport:
    """De-identify every DICOM file under ``input_dir`` into ``output_dir`` (see module docstring).

    ``secret`` keys the UID, date-offset and pseudonym hashes: the same secret gives the
    same outputs, so keep it to de-identify later additions consistently.
    """
    started = time.monotonic()
    root = Path(input_dir).resolve()
    out = Path(output_dir).resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"input folder {root} does not exist")
    if out == root or out.is_relative_to(root) or root.is_relative_to(out):
        raise ValueError("the output folder must lie outside the input folder (and not contain it)")
    Keyring(secret)  # validate the secret before doing any work
    rels, skipped = _inputs(root)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    quarantined: list[SkippedFile] = []
    uids: set[str] = set()
    patients: set[str] = set()
    n_bytes = 0
    bar = tqdm(total=len(rels), desc="De-identifying", unit="file", disable=not progress)
    try:
        for o in _outcomes(root, rels, bytes(secret), options, limits, workers):
            bar.update()
            uids.update(o.new_uids)
            if o.quarantined:
                quarantined.append(SkippedFile(o.rel, o.reason or "pixel PHI risk"))
                continue
            if o.reason is not None or o.out_rel is None or o.data is None:
                skipped.append(SkippedFile(o.rel, o.reason or "unknown"))
                continue
            instance = o.out_rel.rsplit("/", 1)[-1]
            if instance in written:
                skipped.append(SkippedFile(o.rel, f"duplicate SOP Instance UID (same instance as {written[instance]})"))
                continue
            _write_atomic(out / o.out_rel, o.data)
            written[instance] = o.rel
            n_bytes += len(o.data)
            if o.pseudonym:
                patients.add(o.pseudonym)
    finally:
        bar.close()
    return DeidReport(
        input_dir=str(root),
        output_dir=str(out),
        profile=PROFILE,
        options=options.to_json(),
        codes=tuple(options.codes()),
        n_inputs=len(rels) + sum(1 for s in skipped if s.reason.startswith("symbolic link")),
        processed=len(written),
        skipped=tuple(sorted(skipped, key=lambda s: s.path)),
        quarantined=tuple(sorted(quarantined, key=lambda s: s.path)),
        uid_map_size=len(uids),
        n_patients=len(patients),
        bytes_written=n_bytes,
        seconds=round(time.monotonic() - started, 3),
    )
