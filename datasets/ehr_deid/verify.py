"""Check a de-identified folder against the manifest of the PHI planted in its source.

1. Byte scan: every file under the output folder (tables, reports, anything else) is
   searched for every planted identifier - names, places, addresses, e-mails, URLs and ids
   as case-insensitive whole words; numbers (phones, fax, SSNs, MRNs, accounts, IPs) as
   their digit sequence with any punctuation or spaces between the digits (and phones also
   with a leading country code 1); ZIP codes as their five digits not inside a longer number.
2. Dates: in ``date-shift`` mode each sampled date cell must have moved by one non-zero whole
   number of days per patient, within the allowed maximum, with the time of day unchanged; in
   ``safe-harbor`` mode it must be its year alone; birth dates of patients aged 90 or over
   must be empty.
3. Ages ("90+" from 90 on), ZIP codes (three digits or "000"), pseudonyms (one per patient,
   shared by all their rows, different between patients, never the original id), row counts.
4. Notes: a patient's notes must not contain their original dates in the spellings used
   (unless equal to a correctly shifted date) nor an age of 90 or more.
5. k-anonymity of the patients table over its quasi-identifiers, reported.

The report names kinds, files, tables, rows and manifest positions - never a PHI value
(a leaked value is identified by the first characters of its SHA-256).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from ..ehr.manifest import DIGIT_KINDS, PHIManifest
from .kanon import KAnonymityReport, k_anonymity
from .modes import DeidMode
from .rules import AGE_CAP, AGE_CAP_LABEL, generalize_zip, parse_date_cell
from .scrub import trie_regex

DATE_SPELLINGS = ("%Y-%m-%d", "%m/%d/%Y", "{m}/{d}/%Y", "%B {d}, %Y", "%b {d}, %Y", "{d} %B %Y", "%d-%b-%Y")
_SEP = r"[\s.\-()/+]*"
AGE_IN_TEXT = re.compile(
    r"(?<!\d)(?:9\d|1[0-4]\d)(?=\s*-?\s*(?:years?|yrs?|y/o|yo)\b)|\bage[ds]?:?\s+(?:9\d|1[0-4]\d)(?![\d+])", re.IGNORECASE
)
CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class Leak:
    kind: str
    file: str
    count: int
    value_sha256: str  # first 12 hex characters


@dataclass(frozen=True)
class EHRVerifyReport:
    output_dir: str
    files_scanned: int
    bytes_scanned: int
    values_checked: int
    leaks: tuple[Leak, ...]
    date_cells_checked: int
    date_failures: tuple[str, ...]
    age_failures: tuple[str, ...]
    zip_failures: tuple[str, ...]
    pseudonym_failures: tuple[str, ...]
    note_failures: tuple[str, ...]
    row_count_failures: tuple[str, ...]
    k_anonymity: KAnonymityReport | None

    @property
    def passed(self) -> bool:
        return not (self.leaks or self.date_failures or self.age_failures or self.zip_failures
                    or self.pseudonym_failures or self.note_failures or self.row_count_failures)

    def to_json(self) -> str:
        data = asdict(self)
        data["passed"] = self.passed
        return json.dumps(data, indent=2)


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _digit_regex(digit_strings: list[str], joiner: str) -> re.Pattern[str] | None:
    if not digit_strings:
        return None
    return re.compile(r"(?<!\d)(?:" + trie_regex(digit_strings, joiner=joiner) + r")(?!\d)")


def _word_regex(words: list[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    body = trie_regex(words).replace(r"\ ", r"\s+")
    return re.compile(r"(?<![a-z0-9])(?:" + body + r")(?![a-z0-9])")


def _chunks(path: Path):
    with path.open("rb") as handle:
        rest = b""
        while True:
            block = handle.read(CHUNK_BYTES)
            if not block:
                if rest:
                    yield rest.decode("utf-8", errors="surrogateescape")
                return
            block = rest + block
            cut = block.rfind(b"\n")
            if cut < 0:
                rest = block
                continue
            rest = block[cut + 1:]
            yield block[: cut + 1].decode("utf-8", errors="surrogateescape")


def scan_files(output_dir: Path, manifest: PHIManifest) -> tuple[list[Leak], int, int, int]:
    """Byte-level search of every file for every planted identifier: (leaks, files, bytes, values)."""
    digits: dict[str, tuple[str, str]] = {}
    contiguous: set[str] = set()  # ZIP codes are written without inner punctuation
    words: dict[str, tuple[str, str]] = {}
    for v in manifest.all_values():
        value = v.value.strip()
        d = re.sub(r"\D", "", value)
        if v.kind in DIGIT_KINDS and len(d) >= 5:
            digits.setdefault(d, (v.kind, value))
            if v.kind == "zip5":
                contiguous.add(d)
            if v.kind in ("phone", "fax", "emergency_contact_phone") and len(d) == 10:
                digits.setdefault("1" + d, (v.kind, value))  # with the country code
        if v.kind not in DIGIT_KINDS or len(d) < 5:
            w = " ".join(value.lower().split())
            if len(w) >= 2:
                words.setdefault(w, (v.kind, value))
    digit_res = [
        r for r in (_digit_regex(sorted(set(digits) - contiguous), _SEP), _digit_regex(sorted(contiguous), ""))
        if r is not None
    ]
    word_re = _word_regex(sorted(words))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    files, total = 0, 0
    for path in sorted(p for p in Path(output_dir).rglob("*") if p.is_file()):
        files += 1
        total += path.stat().st_size
        rel = str(path.relative_to(output_dir))
        for text in _chunks(path):
            for digit_re in digit_res:
                for m in digit_re.finditer(text):
                    counts[(re.sub(r"\D", "", m.group(0)), rel)] += 1
            if word_re is not None:
                for m in word_re.finditer(text.lower()):
                    counts[(" ".join(m.group(0).split()), rel)] += 1
    leaks = []
    for (key, rel), n in sorted(counts.items()):
        kind, value = digits.get(key) or words[key]
        leaks.append(Leak(kind, rel, n, _sha(value)))
    return leaks, files, total, len(digits) + len(words)


def _check_table(
    path: Path, table: str, manifest: PHIManifest, wanted: set[int], failures: list[str]
) -> tuple[list[str], dict[int, list[str]], int]:
    """One pass over an output table: keep the wanted rows, check each patient's rows share one
    pseudonym that is neither empty nor the original id, nor another patient's. Returns
    (header, wanted rows by index, number of data rows)."""
    blocks = sorted((p.rows[table][0], p.rows[table][1], k) for k, p in enumerate(manifest.patients) if table in p.rows)
    starts = [b[0] for b in blocks]
    rows: dict[int, list[str]] = {}
    owners: dict[int, str] = {}
    n = 0
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        col = header.index(manifest.patient_id_column) if manifest.patient_id_column in header else None
        if col is None:
            failures.append(f"{table}: no {manifest.patient_id_column!r} column")
        for i, row in enumerate(reader):
            n += 1
            if i in wanted:
                rows[i] = row
            if col is None:
                continue
            j = bisect_right(starts, i) - 1
            if j < 0 or i >= blocks[j][1]:
                continue
            k = blocks[j][2]
            value = row[col]
            if k not in owners:
                owners[k] = value
                if value == manifest.patients[k].patient_id or not value:
                    failures.append(f"{table} row {i}: patient #{k} keeps its original or an empty id")
            elif owners[k] != value:
                failures.append(f"{table} row {i}: patient #{k} has more than one pseudonym")
    by_value: dict[str, int] = {}
    for k, value in owners.items():
        if value in by_value and by_value[value] != k:
            failures.append(f"{table}: patients #{by_value[value]} and #{k} share a pseudonym")
        by_value[value] = k
    return header, rows, n


def _contains_word(text: str, needle: str) -> bool:
    """``needle`` occurs in ``text`` not glued to letters, digits, '_' or '/'."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in "_/") and not (after.isalnum() or after in "_/"):
            return True
        start = text.find(needle, start + 1)
    return False


def _format(d: dt.date, style: str) -> str:
    return d.strftime(style.replace("{m}", str(d.month)).replace("{d}", str(d.day)))


def verify_ehr_folder(output_dir: Path, manifest: PHIManifest | Path) -> EHRVerifyReport:
    """Verify ``output_dir`` (a de-identified export) against the PHI ``manifest``."""
    output_dir = Path(output_dir)
    if not isinstance(manifest, PHIManifest):
        manifest = PHIManifest.read(Path(manifest))
    report_path = output_dir / "deid_report.json"
    deid = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    max_shift = int(deid.get("max_shift_days", 365))
    years_only = deid.get("mode") == DeidMode.SAFE_HARBOR.value

    leaks, n_files, n_bytes, n_values = scan_files(output_dir, manifest)

    # Which output cells to read, per table.
    wanted: dict[str, set[int]] = defaultdict(set)
    for p in manifest.patients:
        for ref in p.dates:
            wanted[ref.table].add(ref.row)
        wanted[p.age.table].add(p.age.row)
        wanted[p.zip.table].add(p.zip.row)
        if "notes.csv" in p.rows:
            wanted["notes.csv"].update(range(*p.rows["notes.csv"]))

    row_failures: list[str] = []
    pseudonym_failures: list[str] = []
    tables: dict[str, tuple[list[str], dict[int, list[str]]]] = {}
    for table, n_rows in manifest.tables.items():
        path = output_dir / table
        if not path.exists():
            row_failures.append(f"{table}: missing from the output")
            continue
        header, rows, n_seen = _check_table(path, table, manifest, wanted.get(table, set()), pseudonym_failures)
        tables[table] = (header, rows)
        if n_seen != n_rows:
            row_failures.append(f"{table}: {n_seen} rows, expected {n_rows}")

    def cell(table: str, row: int, column: str) -> str | None:
        if table not in tables:
            return None
        header, rows = tables[table]
        if column not in header or row not in rows:
            return None
        return rows[row][header.index(column)]

    date_failures: list[str] = []
    age_failures: list[str] = []
    zip_failures: list[str] = []
    note_failures: list[str] = []
    date_cells = 0
    for k, p in enumerate(manifest.patients):
        aged = p.age.value >= AGE_CAP
        out_age = cell(p.age.table, p.age.row, p.age.column)
        expected_age = AGE_CAP_LABEL if aged else str(p.age.value)
        if out_age is not None and out_age != expected_age:
            age_failures.append(f"patient #{k}: age cell is not {'90+' if aged else 'the age in years'}")
        out_zip = cell(p.zip.table, p.zip.row, p.zip.column)
        if out_zip is not None and out_zip != generalize_zip(p.zip.value):
            zip_failures.append(f"patient #{k}: ZIP is not generalised to its three-digit area")

        offsets: set[int] = set()
        for ref in p.dates:
            out = cell(ref.table, ref.row, ref.column)
            if out is None:
                continue  # column dropped entirely
            date_cells += 1
            where = f"patient #{k}: {ref.table} row {ref.row} {ref.column}"
            if ref.column == p.age.birth_date_column and ref.table == p.age.table and aged:
                if out:
                    date_failures.append(f"{where}: birth date kept for a patient aged 90 or over")
                continue
            if years_only:
                original = parse_date_cell(ref.value)
                if original is None or out != f"{original[0].year:04d}":
                    date_failures.append(f"{where}: not reduced to its year (safe-harbor mode)")
                continue
            before, after = parse_date_cell(ref.value), parse_date_cell(out)
            if before is None or after is None:
                date_failures.append(f"{where}: not a date after de-identification")
                continue
            if before[2] != after[2]:
                date_failures.append(f"{where}: time of day changed")
            offsets.add((after[0] - before[0]).days)
        if years_only:
            offsets = set()
        elif len(offsets) > 1:
            date_failures.append(f"patient #{k}: dates shifted by different offsets")
        if 0 in offsets:
            date_failures.append(f"patient #{k}: dates not shifted")
        if any(abs(o) > max_shift for o in offsets):
            date_failures.append(f"patient #{k}: shift larger than {max_shift} days")

        if "notes.csv" in p.rows and "notes.csv" in tables:
            header, rows = tables["notes.csv"]
            if "text" in header:
                col = header.index("text")
                text = "\n".join(rows[i][col] for i in range(*p.rows["notes.csv"]) if i in rows)
                low = text.lower()
                offset = next(iter(offsets)) if len(offsets) == 1 else None
                shifted = set()
                if offset is not None:
                    all_dates = [parse_date_cell(r.value) for r in p.dates] + [
                        (dt.date.fromisoformat(d), "", "") for d in p.note_dates]
                    shifted = {(d[0] + dt.timedelta(days=offset)).isoformat() for d in all_dates if d}
                for iso in p.note_dates:
                    d = dt.date.fromisoformat(iso)
                    for style in DATE_SPELLINGS:
                        spelled = _format(d, style)
                        if spelled in shifted:
                            continue
                        if _contains_word(low, spelled.lower()):
                            note_failures.append(f"patient #{k}: an original date is still in the notes")
                            break
                if any(a >= AGE_CAP for a in p.note_ages) and AGE_IN_TEXT.search(text):
                    note_failures.append(f"patient #{k}: an age of 90 or more is still in the notes")

    kanon = None
    quasi = (deid.get("k_anonymity", {}).get("patients.csv", {}) or {}).get("quasi_identifiers")
    patients_path = output_dir / "patients.csv"
    if patients_path.exists():
        quasi = tuple(quasi or ("sex", "age_at_index", "zip"))
        text = patients_path.read_text(encoding="utf-8")
        reader = csv.DictReader(io.StringIO(text))
        present = [q for q in quasi if q in (reader.fieldnames or [])]
        kanon = k_anonymity((tuple(r[q] for q in present) for r in reader), present,
                            int(deid.get("k_anonymity", {}).get("patients.csv", {}).get("k_threshold", 5)))

    return EHRVerifyReport(
        output_dir=str(output_dir),
        files_scanned=n_files,
        bytes_scanned=n_bytes,
        values_checked=n_values,
        leaks=tuple(leaks),
        date_cells_checked=date_cells,
        date_failures=tuple(date_failures),
        age_failures=tuple(age_failures),
        zip_failures=tuple(zip_failures),
        pseudonym_failures=tuple(pseudonym_failures),
        note_failures=tuple(note_failures),
        row_count_failures=tuple(row_failures),
        k_anonymity=kanon,
    )
