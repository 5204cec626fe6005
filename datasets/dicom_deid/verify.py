"""Check a de-identified DICOM folder: every rule, and the bytes of every file for planted PHI.

For each file (any file under the folder counts):

* it reads as DICOM and declares Patient Identity Removed = YES, a De-identification
  Method, a De-identification Method Code Sequence with 113100 (Basic Profile), and a
  Longitudinal Temporal Information Modified value matching the options it declares;
* its preamble is zeros, and no curve or overlay group, unknown public element, or
  private element remains (under Retain Safe Private, only the safe ones of
  :mod:`.private`);
* its pixels are not declared to show PHI (Burned In Annotation / Recognizable Visual
  Features YES) unless it declares the option that says they were cleaned;
* every attribute conforms to its action under the options the file itself declares -
  Table E.1-1's, the keep list's (K), or removal for everything else (fail closed): X absent; Z empty (or the
  patient pseudonym for Patient's Name / ID); D a dummy (or, with modified dates, a
  date); U a keyed UID (``2.25.``) that is not one of the manifest's original UIDs; C
  text made only of clean-vocabulary words;
* with a manifest: no planted value appears anywhere in the file's bytes or in its path,
  in any of its spellings (:func:`.manifest.needles`); values of a kind that an option
  the file declares legitimately keeps are not searched for (see :data:`.manifest.RETAINED_BY`).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_has_tag
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from tqdm import tqdm

from .actions import WELL_KNOWN_UID_ROOT, resolve
from .bytescan import NeedleIndex
from .clean import clean_text
from .dataset import PATIENT_ID, PATIENT_NAME, PIXEL_TAGS, rule_of
from .dates import DUMMY
from .keys import UID_ROOT
from .manifest import RETAINED_BY, PhiManifest, needles
from .options import CODE_MEANINGS, DeidOptions
from .private import safe_private_tags

PSEUDONYM = re.compile(r"^PSN-[A-Z]{10}$")
DUMMY_TEXT = "ANONYMIZED"


@dataclass(frozen=True)
class Issue:
    file: str
    rule: str
    detail: str


@dataclass(frozen=True)
class Leak:
    file: str
    value: str
    kind: str
    where: str
    offset: int


@dataclass(frozen=True)
class DicomVerifyReport:
    """Result of :func:`verify_dicom_folder`: rule issues and PHI leaks, per file."""

    output_dir: str
    n_files: int
    n_files_clean: int
    n_phi_values: int
    n_original_uids: int
    issues: tuple[Issue, ...]
    leaks: tuple[Leak, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.issues and not self.leaks and self.n_files > 0

    def to_json(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        d["issues"] = [asdict(i) for i in self.issues]
        d["leaks"] = [asdict(x) for x in self.leaks]
        return d

    def summary(self, limit: int = 20) -> str:
        """A human-readable account: verdict, counts, and the first ``limit`` problems."""
        verdict = "PASS" if self.ok else "FAIL"
        lines = [
            f"DICOM de-identification check: {verdict}",
            f"  folder        {self.output_dir}",
            f"  files         {self.n_files} checked, {self.n_files_clean} without findings",
            f"  PHI searched  {self.n_phi_values} planted values, {self.n_original_uids} original UIDs"
            if self.n_phi_values or self.n_original_uids
            else "  PHI searched  none (no manifest given)",
            f"  rule issues   {len(self.issues)}",
            f"  PHI leaks     {len(self.leaks)}",
        ]
        if self.n_files == 0:
            lines.append("  no files found")
        if self.issues:
            by_rule: dict[str, int] = defaultdict(int)
            for i in self.issues:
                by_rule[i.rule] += 1
            lines.append("  issues by rule:")
            lines += [f"    {n:6d}  {rule}" for rule, n in sorted(by_rule.items(), key=lambda kv: -kv[1])]
            lines += [f"    {i.file}: {i.rule}: {i.detail}" for i in self.issues[:limit]]
        if self.leaks:
            lines.append("  leaks (file: kind value @offset):")
            lines += [f"    {x.file}: {x.kind} {x.value!r} @{x.offset} ({x.where})" for x in self.leaks[:limit]]
        return "\n".join(lines)


def _declared_options(ds: Dataset) -> tuple[DeidOptions | None, frozenset[str]]:
    codes = frozenset(
        str(item.get("CodeValue", ""))
        for item in ds.get("DeidentificationMethodCodeSequence", [])
        if str(item.get("CodingSchemeDesignator", "")) == "DCM"
    )
    try:
        return DeidOptions.from_codes(codes), codes
    except ValueError:
        return None, codes


def _check_flags(ds: Dataset, rel: str, options: DeidOptions | None, codes: frozenset[str], issues: list[Issue]) -> None:
    if str(ds.get("PatientIdentityRemoved", "")) != "YES":
        issues.append(Issue(rel, "flag", "Patient Identity Removed (0012,0062) is not YES"))
    if not ds.get("DeidentificationMethod"):
        issues.append(Issue(rel, "flag", "De-identification Method (0012,0063) missing"))
    if "113100" not in codes:
        issues.append(Issue(rel, "flag", "De-identification Method Code Sequence lacks 113100 (Basic Profile)"))
    unknown = sorted(c for c in codes if c not in CODE_MEANINGS)
    if unknown:
        issues.append(Issue(rel, "flag", f"unknown de-identification codes {unknown}"))
    if options is None:
        issues.append(Issue(rel, "flag", "contradictory longitudinal options declared"))
        return
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES" and not options.pixels_cleaned:
        issues.append(Issue(rel, "pixel PHI", "Burned In Annotation is YES and Clean Pixel Data (113101) is not declared"))
    if str(ds.get("RecognizableVisualFeatures", "")).upper() == "YES" and not options.recognizable_features_cleaned:
        issues.append(Issue(rel, "pixel PHI", "Recognizable Visual Features is YES and 113102 is not declared"))
    status = str(ds.get("LongitudinalTemporalInformationModified", ""))
    if status != options.longitudinal_status():
        issues.append(
            Issue(rel, "flag", f"Longitudinal Temporal Information Modified is {status!r}, expected {options.longitudinal_status()!r}")
        )


def _text(v) -> str:
    return "" if v is None else str(v)


def _values(elem) -> list:
    v = elem.value
    if v is None or v == "":
        return []
    return list(v) if isinstance(v, MultiValue | list | tuple) else [v]


def _check_element(ds: Dataset, tag: int, rel: str, path: str, options: DeidOptions, sop: str, uids: frozenset[str], issues: list[Issue]) -> None:
    elem = ds[tag]
    where = f"{path}({tag >> 16:04X},{tag & 0xFFFF:04X})"
    rule = rule_of(tag)
    action = resolve(rule, options, sop, tag)
    vals = [] if elem.VR == "SQ" else _values(elem)
    if action == "X":
        issues.append(Issue(rel, "X must be removed", f"{where} {rule.name}"))
    elif action == "Z":
        if elem.VR == "SQ":
            if len(elem.value):
                issues.append(Issue(rel, "Z must be empty", f"{where} {rule.name}: {len(elem.value)} item(s)"))
        elif tag in (PATIENT_NAME, PATIENT_ID) and path == "":
            if vals and not PSEUDONYM.match(_text(vals[0])):
                issues.append(Issue(rel, "Z must be empty or a pseudonym", f"{where} {rule.name}"))
        elif vals:
            issues.append(Issue(rel, "Z must be empty", f"{where} {rule.name}"))
    elif action == "D":
        if elem.VR in ("DA", "DT", "TM"):
            if not options.retain_longitudinal_modified_dates and any(_text(v) != DUMMY[elem.VR] for v in vals):
                issues.append(Issue(rel, "D must be a dummy", f"{where} {rule.name}"))
        elif elem.VR == "UI":
            _check_uids(vals, rel, where, rule.name, uids, issues)
        elif elem.VR in ("LO", "SH", "ST", "LT", "UT", "UC", "PN", "CS", "AE"):
            if any(_text(v) != DUMMY_TEXT[: len(_text(v))] or not _text(v) for v in vals):
                issues.append(Issue(rel, "D must be a dummy", f"{where} {rule.name}"))
    elif action in ("U", "U*"):
        if elem.VR == "UI":
            _check_uids(vals, rel, where, rule.name, uids, issues)
    elif action == "C":
        if elem.VR in ("LO", "SH", "ST", "LT", "UT", "UC", "CS", "AE") and any(clean_text(_text(v)) != _text(v) for v in vals):
            issues.append(Issue(rel, "C must be clean", f"{where} {rule.name}"))
        if elem.VR == "PN" and vals:
            issues.append(Issue(rel, "C must be clean", f"{where} {rule.name}: person name kept"))


def _check_uids(vals: list, rel: str, where: str, name: str, uids: frozenset[str], issues: list[Issue]) -> None:
    for v in vals:
        s = _text(v).strip()
        if s in uids:
            issues.append(Issue(rel, "U must be replaced", f"{where} {name}: original UID kept"))
        elif s and not s.startswith(UID_ROOT) and not s.startswith(WELL_KNOWN_UID_ROOT):
            issues.append(Issue(rel, "U must be replaced", f"{where} {name}: {s[:24]}... is not a replacement UID"))


def _walk(ds: Dataset, rel: str, path: str, options: DeidOptions, sop: str, uids: frozenset[str], issues: list[Issue]) -> None:
    safe = safe_private_tags(ds) if options.retain_safe_private else frozenset()
    for tag in list(ds.keys()):
        t = int(tag)
        group = t >> 16
        where = f"{path}({group:04X},{t & 0xFFFF:04X})"
        if group % 2 == 1:
            if t not in safe:
                issues.append(Issue(rel, "private element", where))
            continue
        if 0x5000 <= group <= 0x501E or 0x6000 <= group <= 0x601E:
            issues.append(Issue(rel, "curve/overlay group", where))
            continue
        if t in PIXEL_TAGS:
            continue
        elem = ds[tag]
        if elem.VR == "UN" and not dictionary_has_tag(t):
            issues.append(Issue(rel, "unknown public element", where))
            continue
        if t == 0x00120064 and path == "":
            continue  # De-identification Method Code Sequence: checked as a flag
        _check_element(ds, t, rel, path, options, sop, uids, issues)
        if elem.VR == "SQ" and tag in ds:
            for i, item in enumerate(elem.value):
                _walk(item, rel, f"{where}[{i}]>", options, sop, uids, issues)


def _needle_index(manifest: PhiManifest) -> NeedleIndex:
    entries = []
    for value in manifest.values:
        for n in needles(value):
            entries.append((n, (value.value, value.kind, value.where)))
    for uid in manifest.uids:
        if len(uid) >= 4:
            entries.append((uid.encode(), (uid, "uid", "original UID")))
    return NeedleIndex(entries)


def verify_dicom_folder(output_dir: Path, manifest: PhiManifest | Path | None = None, *, progress: bool = True) -> DicomVerifyReport:
    """Verify every file under ``output_dir`` (see the module docstring)."""
    started = time.monotonic()
    root = Path(output_dir).resolve()
    if isinstance(manifest, str | Path):
        manifest = PhiManifest.load(Path(manifest))
    index = _needle_index(manifest) if manifest is not None else None
    original_uids = frozenset(manifest.uids) if manifest is not None else frozenset()
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    issues: list[Issue] = []
    leaks: list[Leak] = []
    dirty: set[str] = set()
    for path in tqdm(files, desc="Verifying", unit="file", disable=not progress):
        rel = path.relative_to(root).as_posix()
        n_before = len(issues) + len(leaks)
        data = path.read_bytes()
        codes: frozenset[str] = frozenset()
        if data[:128].strip(b"\x00") or data[128:132] != b"DICM":
            issues.append(Issue(rel, "preamble", "not a Part 10 file with a zeroed 128-byte preamble"))
        try:
            ds = pydicom.dcmread(path)
            options, codes = _declared_options(ds)
            _check_flags(ds, rel, options, codes, issues)
            meta = getattr(ds, "file_meta", None)
            if options is not None:
                sop = str(ds.get("SOPClassUID", ""))
                _walk(ds, rel, "", options, sop, original_uids, issues)
                if meta is not None:
                    _walk(meta, rel, "meta:", options, sop, original_uids, issues)
        except Exception as exc:  # noqa: BLE001 - an unreadable output is a finding, not a crash
            issues.append(Issue(rel, "unreadable", f"{type(exc).__name__}: {str(exc)[:200]}"))
        if index is not None:
            skip = {kind for kind, retaining in RETAINED_BY.items() if codes & retaining}
            for haystack, offset_base in ((data, 0), (rel.encode("utf-8"), -1)):
                for (value, kind, where), offset in index.find(haystack):
                    if kind not in skip:
                        leaks.append(Leak(rel, value, kind, where if offset_base == 0 else "file path", offset))
        if len(issues) + len(leaks) > n_before:
            dirty.add(rel)
    return DicomVerifyReport(
        output_dir=str(root),
        n_files=len(files),
        n_files_clean=len(files) - len(dirty),
        n_phi_values=len(manifest.values) if manifest is not None else 0,
        n_original_uids=len(original_uids),
        issues=tuple(issues),
        leaks=tuple(leaks),
        seconds=round(time.monotonic() - started, 3),
    )
