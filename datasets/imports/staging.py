"""What every import shares: its error, its report, and the staged, all-or-nothing publication.

An import builds the whole dataset (public split folders with their card, hidden test labels)
in a temporary folder inside the build folder, then swaps ``public/<name>`` and
``hidden/<name>`` into place with ``atomic_folders.publish_folder``: a failed import leaves
every dataset already stored as it was, and other datasets of the build are never touched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..atomic_folders import publish_folder
from ..cards import ColumnDoc, DatasetCard, write_card
from ..pipeline import load_or_create_key
from ..splits import make_hidden_dir, make_public_readable

IMPORT_VERSION = "import-1"
IMPORT_KEY_NAME = "import.key"


class DatasetImportError(ValueError):
    """A source that is missing, malformed or not the dataset it claims to be; the message names the file."""


@dataclass(frozen=True)
class ImportReport:
    dataset: str  # the lab's dataset written (ct, cgm, ehr_risk)
    source_format: str  # luna16, ohiot1dm, mimic-iv-demo
    source: str
    public_dir: str
    hidden_dir: str
    splits: dict[str, int]
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


@dataclass(frozen=True)
class Staging:
    """Where an import writes: ``public``/``hidden`` roots (the dataset goes in ``<root>/<name>``) and scratch."""

    public: Path
    hidden: Path
    scratch: Path
    key: bytes


def staged_import(
    out_dir: Path, dataset: str, build: Callable[[Staging], ImportReport]
) -> ImportReport:
    """Run ``build`` in a temporary folder of ``out_dir``, then publish ``public/<dataset>`` and ``hidden/<dataset>``."""
    started = time.monotonic()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Real data gets a random key of its own (pseudonyms, UIDs, date shifts, splits): a synthetic build's
    # deid.key is derived from its size and seed, which anyone can recompute.
    key = load_or_create_key(out_dir / "secrets" / IMPORT_KEY_NAME)
    work = Path(tempfile.mkdtemp(prefix=f".import-{dataset}-", dir=out_dir))
    try:
        staging = Staging(work / "public", make_hidden_dir(work / "hidden"), work / "scratch", key)
        for folder in (staging.public, staging.scratch):
            folder.mkdir()
        report = build(staging)
        make_public_readable(staging.public / dataset)
        os.chmod(staging.hidden / dataset, 0o700)
        (out_dir / "public").mkdir(exist_ok=True)
        os.chmod(out_dir / "public", 0o755)
        make_hidden_dir(out_dir / "hidden")
        publish_folder(staging.public / dataset, out_dir / "public" / dataset)
        publish_folder(staging.hidden / dataset, out_dir / "hidden" / dataset)
        final = replace(
            report,
            public_dir=str(out_dir / "public" / dataset),
            hidden_dir=str(out_dir / "hidden" / dataset),
            seconds=round(time.monotonic() - started, 2),
        )
        reports = out_dir / "reports"
        reports.mkdir(exist_ok=True)
        (reports / f"import_{dataset}.json").write_text(final.to_json())
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def pseudonym(key: bytes, namespace: str, value: str) -> str:
    """A keyed pseudonym ``P`` + 16 lower-case letters (no digits: it never looks like a value)."""
    digest = hmac.new(key, f"{namespace}\x00{value}".encode(), hashlib.sha256).digest()
    return "P" + "".join(chr(ord("a") + b % 26) for b in digest[:16])


def restate_card(folder: Path, *, summary: str, provenance: str, deidentification: str, notes: list[str]) -> None:
    """Rewrite the card a publisher wrote, saying where the imported data came from."""
    data = json.loads((folder / "card.json").read_text())
    data["schema"] = [ColumnDoc(**c) for c in data["schema"]]
    card = DatasetCard(**data)
    write_card(folder, replace(card, summary=summary, provenance=provenance, deidentification=deidentification,
                               version=f"{card.version}+{IMPORT_VERSION}", notes=[*card.notes, *notes]))


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DatasetImportError(f"{path}: missing ({what})")
    return path


def source_files(source: Path, pattern: str, *, folder_hint: str, none_found: str) -> list[Path]:
    """The files under the folder ``source`` matching ``pattern``, sorted; a clear error if ``source`` is not
    a folder (``folder_hint``: which folder to give) or holds none (``none_found``: what was looked for)."""
    if not source.is_dir():
        raise DatasetImportError(f"{source}: not a folder (give {folder_hint})")
    found = sorted(p for p in source.rglob(pattern) if p.is_file())
    if not found:
        raise DatasetImportError(f"{source}: no {none_found} in it")
    return found
