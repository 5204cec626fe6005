"""The PHI manifest: what was planted in raw exports, so outputs can be searched for it.

A build of synthetic hospital exports records every identifying value it wrote (names,
IDs, dates, free text, private-tag contents, ...) and every original UID. The manifest is
kept apart from de-identified outputs; verification searches the bytes of every output
file for each value in several spellings (:func:`needles`).

Each value has a ``kind``. Some kinds are legitimately kept by a de-identification
option, and are then not searched for in files that declare that option
(:data:`RETAINED_BY`): dates under "retain longitudinal temporal information with full
dates" (113106), times under either longitudinal option (113106, 113107, which keep
times as they are), device identifiers under 113109, institution under 113112, UIDs
under 113110. Birth dates (kind ``birth_date``) are never retained by any option.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("name", "id", "birth_date", "date", "time", "datetime", "text", "institution", "device", "uid", "private")
MIN_NEEDLE_BYTES = 4

RETAINED_BY: dict[str, frozenset[str]] = {
    "date": frozenset({"113106"}),
    "datetime": frozenset({"113106"}),
    "time": frozenset({"113106", "113107"}),
    "device": frozenset({"113109"}),
    "institution": frozenset({"113112"}),
    "uid": frozenset({"113110"}),
}


@dataclass(frozen=True)
class PhiValue:
    """One planted value: its text, kind and where it was written (for reports)."""

    value: str
    kind: str
    where: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown PHI kind {self.kind!r}")


@dataclass(frozen=True)
class PhiManifest:
    """Planted values and original UIDs of one build."""

    values: tuple[PhiValue, ...] = ()
    uids: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "format": "practicum-phi-manifest/1",
            "meta": self.meta,
            "values": [{"value": v.value, "kind": v.kind, "where": v.where} for v in self.values],
            "uids": list(self.uids),
        }

    @classmethod
    def from_json(cls, data: dict) -> PhiManifest:
        if data.get("format") != "practicum-phi-manifest/1":
            raise ValueError("not a practicum PHI manifest (format practicum-phi-manifest/1)")
        return cls(
            values=tuple(PhiValue(v["value"], v["kind"], v.get("where", "")) for v in data.get("values", [])),
            uids=tuple(data.get("uids", [])),
            meta=dict(data.get("meta", {})),
        )

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, then rename)."""
        write_text_atomic(Path(path), json.dumps(self.to_json(), indent=1, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> PhiManifest:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


class ManifestBuilder:
    """Collects planted values (deduplicated, in first-seen order) and original UIDs."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], PhiValue] = {}
        self._uids: dict[str, None] = {}

    def add(self, value: object, kind: str, where: str = "") -> None:
        text = str(value).strip()
        if len(text.encode("utf-8")) < MIN_NEEDLE_BYTES:
            return
        key = (text, kind)
        if key not in self._values:
            self._values[key] = PhiValue(text, kind, where)

    def add_uid(self, uid: str) -> None:
        self._uids.setdefault(str(uid), None)

    def merge(self, other: ManifestBuilder) -> None:
        """Add everything ``other`` collected (keeping first-seen order)."""
        for key, value in other._values.items():
            self._values.setdefault(key, value)
        for uid in other._uids:
            self._uids.setdefault(uid, None)

    def build(self, meta: dict | None = None) -> PhiManifest:
        return PhiManifest(values=tuple(self._values.values()), uids=tuple(self._uids), meta=dict(meta or {}))


def spellings(value: PhiValue) -> list[str]:
    """The ways a value may show up in a file: DICOM and plain forms of names, date formats."""
    v = value.value
    out = [v]
    if value.kind == "name" and "^" in v:
        parts = [p for p in v.split("^")]
        family, given = parts[0], parts[1] if len(parts) > 1 else ""
        out += [f"{family}^{given}", f"{given} {family}", f"{family}, {given}", f"{family} {given}"]
        out += [p for p in (family, given) if len(p) >= 5]
    elif value.kind in ("date", "birth_date") and len(v) == 8 and v.isdigit():
        y, m, d = v[:4], v[4:6], v[6:]
        out += [f"{y}-{m}-{d}", f"{m}/{d}/{y}", f"{d}/{m}/{y}", f"{d}.{m}.{y}"]
    elif value.kind == "time" and len(v) >= 6 and v[:6].isdigit():
        out += [f"{v[:2]}:{v[2:4]}:{v[4:6]}"]
    seen: dict[str, None] = {}
    for s in out:
        for form in (s, s.upper()):
            seen.setdefault(form, None)
    return list(seen)


def needles(value: PhiValue) -> list[bytes]:
    """Byte strings to search for (lower-cased; UTF-8 and, where different, Latin-1)."""
    found: dict[bytes, None] = {}
    for s in spellings(value):
        for enc in ("utf-8", "latin-1"):
            try:
                b = s.encode(enc).lower()
            except UnicodeEncodeError:
                continue
            if len(b) >= MIN_NEEDLE_BYTES:
                found.setdefault(b, None)
    return list(found)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
