"""`practicum datasets build`: raw exports -> de-identified -> verified -> published splits.

Layout of a build folder:

    sources/    the synthetic "hospital exports" with planted PHI (sources/ct/raw, sources/ehr/raw)
                and their PHI manifests
    deid/       their de-identified copies (deid/ct, deid/ehr)
    public/     what sandboxes mount read-only: one folder per dataset with its card
    hidden/     test labels, owner-only (mode 700); never mounted in a sandbox
    reports/    de-identification and verification reports (JSON)

Nothing is published when verification finds a leak.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .ct import build_ct_exports
from .dicom_deid import deidentify_dicom_folder, verify_dicom_folder
from .ehr import PHIManifest, build_ehr_exports
from .ehr_deid import deidentify_ehr_folder, verify_ehr_folder
from .ehr_deid.verify import scan_files
from .publish_ct import publish_ct
from .publish_ehr import PublishedDataset, publish_cgm, publish_ehr_risk
from .splits import make_hidden_dir, make_public_readable

DATASET_VERSION = "1.0.0"
WORKERS = min(2, os.cpu_count() or 1)


class LeakFound(RuntimeError):
    """Verification found planted PHI (or another rule broken) in a de-identified output."""


@dataclass(frozen=True)
class DatasetsBuildReport:
    out_dir: str
    size: str
    seed: int
    published: list[PublishedDataset] = field(default_factory=list)
    verified: dict[str, bool] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def synthetic_build_key(size: str, seed: int) -> bytes:
    """The key of a synthetic build, derived from its size and seed.

    The key also decides the patient-level train/val/test split, and the projects' targets are
    measured on one split: deriving it makes every machine's build grade on that same split.
    The identities it protects are synthetic; real exports (`practicum datasets deid`) get a
    random key.
    """
    return hashlib.sha256(f"practicum {size}_build seed {seed}".encode()).digest()


def load_or_create_key(path: Path, *, derived: bytes | None = None) -> bytes:
    """The keyed-hash secret of a build (pseudonyms, date shifts, UID maps, splits), mode 600:
    the stored one, else ``derived``, else a new random one."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = derived if derived is not None else secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def build_datasets(
    out_dir: Path, *, size: str = "small", seed: int = 0, progress: bool = True, random_key: bool = False
) -> DatasetsBuildReport:
    """Build every dataset into ``out_dir``. The de-identification key is derived from size and seed
    (the same split everywhere) unless ``random_key`` or a key already stored in the folder."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    derived = None if random_key else synthetic_build_key(size, seed)
    key = load_or_create_key(out_dir / "secrets" / "deid.key", derived=derived)
    reports = out_dir / "reports"
    reports.mkdir(exist_ok=True)
    seconds: dict[str, float] = {}

    started = time.monotonic()
    ct = build_ct_exports(out_dir / "sources" / "ct", size=size, seed=seed, progress=progress, overwrite=True,
                          workers=WORKERS)
    (reports / "ct_build.json").write_text(json.dumps(ct.to_json(), indent=2))
    seconds["ct_build"] = time.monotonic() - started

    started = time.monotonic()
    deid_ct = out_dir / "deid" / "ct"
    if deid_ct.exists():
        shutil.rmtree(deid_ct)
    ct_deid = deidentify_dicom_folder(Path(ct.dicom_dir), deid_ct, secret=key, progress=progress, workers=WORKERS)
    (reports / "ct_deid.json").write_text(json.dumps(ct_deid.to_json(), indent=2))
    seconds["ct_deid"] = time.monotonic() - started

    started = time.monotonic()
    ct_verify = verify_dicom_folder(deid_ct, Path(ct.manifest), progress=progress)
    (reports / "ct_verify.json").write_text(json.dumps(ct_verify.to_json(), indent=2))
    seconds["ct_verify"] = time.monotonic() - started
    if not ct_verify.ok:
        raise LeakFound(f"CT verification failed; nothing published (see {reports / 'ct_verify.json'})")

    started = time.monotonic()
    ehr = build_ehr_exports(out_dir / "sources" / "ehr", size=size, seed=seed, progress=progress)
    (reports / "ehr_build.json").write_text(ehr.to_json())
    seconds["ehr_build"] = time.monotonic() - started

    started = time.monotonic()
    deid_ehr = out_dir / "deid" / "ehr"
    deid_report = deidentify_ehr_folder(Path(ehr.raw_dir), deid_ehr, secret=key, progress=progress)
    (reports / "ehr_deid.json").write_text(deid_report.to_json())
    seconds["ehr_deid"] = time.monotonic() - started

    started = time.monotonic()
    verify = verify_ehr_folder(deid_ehr, Path(ehr.manifest))
    (reports / "ehr_verify.json").write_text(verify.to_json())
    seconds["ehr_verify"] = time.monotonic() - started
    if not verify.passed:
        raise LeakFound(f"EHR verification failed; nothing published (see {reports / 'ehr_verify.json'})")

    started = time.monotonic()
    public, hidden = out_dir / "public", make_hidden_dir(out_dir / "hidden")
    if public.exists():
        shutil.rmtree(public)
    published = [
        publish_ct(Path(ct.raw_dir), deid_ct, public, hidden, key=key, version=DATASET_VERSION),
        publish_ehr_risk(deid_ehr, public, hidden, key=key, version=DATASET_VERSION, population=ehr.population),
        publish_cgm(deid_ehr, public, hidden, version=DATASET_VERSION),
    ]
    ehr_manifest = PHIManifest.read(Path(ehr.manifest))
    leaks = [leak for name in ("ehr_risk", "cgm") for leak in scan_files(public / name, ehr_manifest)[0]]
    if leaks:
        shutil.rmtree(public)
        raise LeakFound(f"planted PHI found in the published files ({len(leaks)} hits); nothing published")
    make_public_readable(public)
    seconds["publish"] = time.monotonic() - started
    report = DatasetsBuildReport(str(out_dir), size, seed, published, {"ct": ct_verify.ok, "ehr": verify.passed}, seconds)
    (reports / "build.json").write_text(report.to_json())
    return report
