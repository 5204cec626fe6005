"""A submission travels as one uncompressed tar: ``model/`` (an MLflow model folder) and, optionally,
``notebook.ipynb``. Packed by the learner's side; checked by the intake before it is queued; unpacked
by the worker with the sandbox's own safe extraction."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from practicum.sandbox.limits import MIB
from practicum.sandbox.readback import TreeLimits, UnsafeFile, extract_tar, read_bounded, walk_regular

MODEL_FOLDER = "model"
NOTEBOOK_FILE = "notebook.ipynb"
SUBMISSION_LIMITS = TreeLimits(max_files=20_000, max_bytes=1024 * MIB)
NOTEBOOK_BYTES = 32 * MIB


class BadSubmission(ValueError):
    """An archive the intake refuses, with the reason a learner can act on."""


@dataclass(frozen=True)
class ArchiveSummary:
    files: int
    bytes: int
    has_notebook: bool


def pack_submission(model_dir: Path, notebook: Path | None = None, limits: TreeLimits = SUBMISSION_LIMITS) -> bytes:
    """The archive of a project submission (regular files only; links and the like are refused)."""
    model_dir = Path(model_dir)
    if not (model_dir / "MLmodel").is_file():
        raise BadSubmission(f"{model_dir} is not an MLflow model folder (no MLmodel file): save it with mlflow.pyfunc.save_model")
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            for relative, size in walk_regular(model_dir, limits):
                _add(tar, f"{MODEL_FOLDER}/{relative}", read_bounded(model_dir / relative, size))
            if notebook is not None:
                _add(tar, NOTEBOOK_FILE, read_bounded(notebook, NOTEBOOK_BYTES))
    except UnsafeFile as error:
        raise BadSubmission(str(error)) from None
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def check_submission(archive: Path, limits: TreeLimits = SUBMISSION_LIMITS) -> ArchiveSummary:
    """Refuse anything but a bounded tar of regular files and folders under ``model/`` (with its MLmodel)
    and an optional ``notebook.ipynb``."""
    files, total, names = 0, 0, set()
    try:
        with tarfile.open(archive, mode="r:") as tar:
            for member in tar:
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts or not path.parts:
                    raise BadSubmission(f"{member.name!r} in the submission is outside its folder")
                if not (member.isdir() or member.isreg()):
                    raise BadSubmission(f"{member.name} in the submission is not a folder or a regular file")
                if path.parts[0] != MODEL_FOLDER and str(path) != NOTEBOOK_FILE:
                    raise BadSubmission(f"{member.name} in the submission is neither under {MODEL_FOLDER}/ nor {NOTEBOOK_FILE}")
                if str(path) == NOTEBOOK_FILE and member.size > NOTEBOOK_BYTES:
                    raise BadSubmission(f"the notebook is larger than {NOTEBOOK_BYTES // MIB} MiB")
                files += 1
                total += member.size
                if files > limits.max_files or total > limits.max_bytes:
                    raise BadSubmission(f"the submission holds more than {limits.max_files} files or {limits.max_bytes // MIB} MiB")
                names.add(str(path))
    except tarfile.TarError as error:
        raise BadSubmission(f"the submission is not a tar archive: {error}") from None
    if f"{MODEL_FOLDER}/MLmodel" not in names:
        raise BadSubmission(f"the submission has no {MODEL_FOLDER}/MLmodel: it must hold an MLflow model folder")
    return ArchiveSummary(files=files, bytes=total, has_notebook=NOTEBOOK_FILE in names)


def unpack_submission(archive: Path, destination: Path, limits: TreeLimits = SUBMISSION_LIMITS) -> Path:
    """Unpack into ``destination``; returns the model folder."""
    try:
        extract_tar(archive, destination, limits, what="the submission")
    except UnsafeFile as error:
        raise BadSubmission(str(error)) from None
    return destination / MODEL_FOLDER
