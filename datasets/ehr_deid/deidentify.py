"""De-identify a folder of EHR CSV exports, in the ``safe-harbor`` or the ``date-shift`` mode.

Two passes over the input, which is only ever read:

1. read and check every declared table (encoding, header, columns against the schema,
   record lengths) and collect each patient's identifiers from the structured columns -
   they are what the note scrubber looks for;
2. transform table by table into a staging folder beside the output: drop direct
   identifiers, pseudonymise ids with HMAC-SHA256, reduce dates to their year (safe-harbor)
   or shift them by the patient's keyed offset (date-shift), cap ages, cut ZIP codes, scrub
   free text; then measure k-anonymity on the
   declared quasi-identifiers, write ``deid_report.json`` and ``schema.json``, and swap the
   staging folder into place. On any error the staging folder is removed and an earlier
   output stays as it was.

A note on the modes (``modes.py``): HIPAA Safe Harbor (45 CFR 164.514(b)(2)) keeps only the
year of dates, which is what ``safe-harbor`` does. Shifting every date of a patient by one
secret offset (as MIMIC and most research releases do) keeps intervals and seasons usable and
removes the true dates, but it is not Safe Harbor: ``date-shift`` output is a limited data set
or needs an expert determination. The report names the mode. Pseudonyms are keyed hashes kept for linkage (164.514(c) re-identification
codes); the secret must never be released with the data.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from ..atomic_folders import publish_folder
from .csvio import DeidInputError, decode_utf8, iter_chunks, read_header, staging_folder, write_rows
from .kanon import KAnonymityReport, k_anonymity
from .modes import DeidMode
from .rules import (
    AGE_CAP,
    AGE_CAP_LABEL,
    age_in_years,
    date_offset_days,
    generalize_age,
    generalize_zip,
    parse_date_cell,
    pseudonym,
    shift_date_cell,
    year_of_date_cell,
)
from .schema import DEFAULT_SCHEMA, DROPPED, DeidSchema, Role, TableSchema
from .scrub import EMPTY_PATIENT, PatientIdentifiers, TextScrubber

REPORT_NAME = "deid_report.json"
SCHEMA_NAME = "schema.json"
MIN_SECRET_BYTES = 16

LITERAL_TAGS = {
    Role.NAME: "[NAME]", Role.ADDRESS: "[ADDRESS]", Role.CITY: "[LOCATION]", Role.PHONE: "[PHONE]",
    Role.EMAIL: "[EMAIL]", Role.URL: "[URL]", Role.IP: "[IP]", Role.IDENTIFIER: "[ID]",
    Role.ORGANIZATION: "[ORGANIZATION]", Role.PATIENT_ID: "[ID]", Role.PSEUDONYM: "[ID]",
}
DIGIT_ROLES = frozenset({Role.PHONE, Role.IDENTIFIER, Role.IP, Role.ZIP, Role.PATIENT_ID, Role.PSEUDONYM})


@dataclass(frozen=True)
class TableReport:
    rows: int
    columns_in: tuple[str, ...]
    columns_out: tuple[str, ...]
    dropped: tuple[str, ...]
    dates_shifted: int = 0
    dates_to_year: int = 0
    text_cells_scrubbed: int = 0
    ages_capped: int = 0
    ages_blanked: int = 0
    birth_dates_removed: int = 0
    zips_to_000: int = 0


@dataclass(frozen=True)
class EHRDeidReport:
    """What was done; holds counts only, never a value from the input."""

    input_dir: str
    output_dir: str
    n_patients: int
    tables: dict[str, TableReport]
    k_anonymity: dict[str, KAnonymityReport]
    max_shift_days: int
    schema_sha256: str
    secret_fingerprint: str
    seconds: float
    mode: str = DeidMode.DATE_SHIFT.value
    method: str = DeidMode.DATE_SHIFT.method
    format: str = "practicum-ehr-deid-report/2"

    def to_json(self) -> str:
        data = asdict(self)
        data["k_anonymity"] = {t: {**asdict(r), "satisfied": r.satisfied} for t, r in self.k_anonymity.items()}
        return json.dumps(data, indent=2)


@dataclass
class _Collected:
    """Identifiers found in the structured columns (pass 1)."""

    names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    literals: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    digits: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    global_names: set[str] = field(default_factory=set)
    global_literals: dict[str, str] = field(default_factory=dict)
    aged_90_plus: set[str] = field(default_factory=set)
    patients: set[str] = field(default_factory=set)


def _check_folders(input_dir: Path, output_dir: Path) -> None:
    if not input_dir.is_dir():
        raise DeidInputError(input_dir, "input folder does not exist or is not a folder")
    if output_dir == input_dir or output_dir.is_relative_to(input_dir) or input_dir.is_relative_to(output_dir):
        raise DeidInputError(output_dir, "output folder must be outside the input folder (and not contain it)")


def _declared_files(input_dir: Path, schema: DeidSchema) -> list[str]:
    names = []
    for entry in sorted(input_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_file():
            raise DeidInputError(entry, "unexpected sub-folder; only the CSV tables declared in the schema belong here")
        if entry.name not in schema.tables:
            raise DeidInputError(entry, "file has no entry in the de-identification schema (declare its columns)")
        names.append(entry.name)
    missing = [t for t, spec in schema.tables.items() if spec.required and t not in names]
    if missing:
        raise DeidInputError(input_dir, f"required tables are missing: {missing}")
    return names


def _check_header(path: Path, header: list[str], spec: TableSchema) -> None:
    undeclared = [c for c in header if c not in spec.columns]
    if undeclared:
        raise DeidInputError(path, f"columns without a role in the schema: {undeclared}", 1)
    missing = [c for c in spec.columns if c not in header]
    if missing:
        raise DeidInputError(path, f"missing columns declared in the schema: {missing}", 1)


def _collect(path: Path, header: list[str], spec: TableSchema, text: str, schema: DeidSchema, found: _Collected) -> None:
    roles = [spec.columns[c] for c in header]
    pid_idx = header.index(spec.patient_id_column) if spec.patient_id_column else None
    interesting = [i for i, r in enumerate(roles) if r in LITERAL_TAGS or r in (Role.ZIP, Role.AGE, Role.BIRTH_DATE)]
    date_idx = [i for i, r in enumerate(roles) if r == Role.DATE]
    age_idx = [i for i, r in enumerate(roles) if r == Role.AGE]
    seen: set[tuple[str, int, str]] = set()
    for chunk in iter_chunks(path, text, len(header), max_field_chars=schema.max_field_chars):
        for row in chunk.rows:
            pid = row[pid_idx].strip() if pid_idx is not None else ""
            if pid:
                found.patients.add(pid)
            for i in interesting:
                value = row[i].strip()
                if not value:
                    continue
                role = roles[i]
                if role != Role.BIRTH_DATE:
                    key = (pid, i, value)
                    if key in seen:
                        continue
                    seen.add(key)
                if role == Role.AGE:
                    capped = generalize_age(value)
                    if pid and capped == AGE_CAP_LABEL:
                        found.aged_90_plus.add(pid)
                    continue
                if role == Role.BIRTH_DATE:
                    if pid and not age_idx:
                        birth = parse_date_cell(value)
                        dates = [d[0] for d in (parse_date_cell(row[j]) for j in date_idx) if d]
                        if birth and dates and age_in_years(birth[0], max(dates)) >= AGE_CAP:
                            found.aged_90_plus.add(pid)
                    continue
                if role == Role.NAME:
                    found.global_names.add(value)
                if role in (Role.CITY, Role.ORGANIZATION):
                    found.global_literals[value] = LITERAL_TAGS[role]
                if role in LITERAL_TAGS:
                    if pid:
                        found.literals[pid][value] = LITERAL_TAGS[role]
                    elif role not in (Role.PATIENT_ID, Role.PSEUDONYM):
                        found.global_literals[value] = LITERAL_TAGS[role]
                if role == Role.NAME and pid:
                    found.names[pid].add(value)
                if role in DIGIT_ROLES and pid and sum(map(str.isdigit, value)) >= 5:
                    found.digits[pid].add(value)


class _Transformer:
    """Pass 2: the per-column transformations, with caches for pseudonyms and offsets."""

    def __init__(self, secret: bytes, schema: DeidSchema, found: _Collected, mode: DeidMode) -> None:
        self.secret = secret
        self.mode = mode
        self.schema = schema
        self.found = found
        self.scrubber = TextScrubber(found.global_names, found.global_literals)
        self._pseudonyms: dict[tuple[str, str], str] = {}
        self._offsets: dict[str, int] = {}
        self._patients: dict[str, PatientIdentifiers] = {}
        self._dates: dict[tuple[str, int], str] = {}
        self._time_ok: dict[str, bool] = {}

    def pseudonym(self, namespace: str, value: str, prefix: str) -> str:
        if not value:
            return ""
        key = (namespace, value)
        out = self._pseudonyms.get(key)
        if out is None:
            out = self._pseudonyms[key] = pseudonym(self.secret, namespace, value, prefix)
        return out

    def offset(self, pid: str) -> int:
        out = self._offsets.get(pid)
        if out is None:
            out = self._offsets[pid] = date_offset_days(self.secret, pid, self.schema.max_shift_days)
        return out

    def patient(self, pid: str) -> PatientIdentifiers:
        out = self._patients.get(pid)
        if out is None:
            f = self.found
            out = self._patients[pid] = PatientIdentifiers.build(f.names.get(pid, ()), f.literals.get(pid, {}),
                                                                 f.digits.get(pid, ()))
        return out

    def shift(self, value: str, pid: str) -> str | None:
        off = self.offset(pid)
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            key = (value[:10], off)
            head = self._dates.get(key)
            if head is None:
                moved = shift_date_cell(value[:10], off)
                if moved is None:
                    return None
                head = self._dates[key] = moved
            rest = value[10:]
            ok = self._time_ok.get(rest)
            if ok is None:
                ok = self._time_ok[rest] = not rest or parse_date_cell("2000-01-01" + rest) is not None
            if ok:
                return head + rest
        return shift_date_cell(value, off)


def _transform_table(path: Path, header: list[str], spec: TableSchema, text: str, tf: _Transformer, out_path: Path,
                     progress: bool) -> tuple[TableReport, KAnonymityReport | None]:
    roles = [spec.columns[c] for c in header]
    keep = [i for i, r in enumerate(roles) if r not in DROPPED]
    pid_idx = header.index(spec.patient_id_column) if spec.patient_id_column else None
    counts: dict[str, int] = defaultdict(int)
    quasi_idx = [keep.index(header.index(q)) for q in spec.quasi_identifiers]
    quasi_rows: list[tuple[str, ...]] = []
    aged = tf.found.aged_90_plus

    def cell_fn(i: int) -> Callable[[str, str, int], str]:
        role, column = roles[i], header[i]

        def fail(line: int, what: str) -> DeidInputError:
            return DeidInputError(path, f"column {column!r}: {what}", line)

        if role == Role.PATIENT_ID:
            return lambda v, pid, line: tf.pseudonym("patient", v.strip(), "P")
        if role == Role.PSEUDONYM:
            return lambda v, pid, line: tf.pseudonym(column, v.strip(), "X")
        if role in (Role.DATE, Role.BIRTH_DATE):

            def date(v: str, pid: str, line: int) -> str:
                v = v.strip()
                if not v:
                    return ""
                if not pid:
                    raise fail(line, "a date in a record without a patient id cannot be shifted")
                if role == Role.BIRTH_DATE and pid in aged:
                    counts["birth_dates_removed"] += 1
                    return ""
                out = year_of_date_cell(v) if tf.mode is DeidMode.SAFE_HARBOR else tf.shift(v, pid)
                if out is None:
                    raise fail(line, "not a date in a known format (YYYY-MM-DD[ hh:mm[:ss]] or MM/DD/YYYY)")
                if tf.mode is DeidMode.SAFE_HARBOR:
                    counts["dates_to_year"] += 1
                elif role == Role.BIRTH_DATE:
                    counts["dates_shifted"] += 1
                return out

            return date
        if role == Role.AGE:

            def age(v: str, pid: str, line: int) -> str:
                out = generalize_age(v)
                if out is None:
                    counts["ages_blanked"] += 1
                    return ""
                if out == AGE_CAP_LABEL:
                    counts["ages_capped"] += 1
                return out

            return age
        if role == Role.ZIP:

            def zip3(v: str, pid: str, line: int) -> str:
                out = generalize_zip(v)
                if out == "000":
                    counts["zips_to_000"] += 1
                return out

            return zip3
        if role == Role.TEXT:

            def text_cell(v: str, pid: str, line: int) -> str:
                if not v:
                    return v
                counts["text_cells_scrubbed"] += 1
                if pid:
                    return tf.scrubber.scrub(v, tf.patient(pid), tf.offset(pid), tf.mode)
                return tf.scrubber.scrub(v, EMPTY_PATIENT, None, tf.mode)

            return text_cell
        return lambda v, pid, line: v

    Column = Callable[[tuple[str, ...], list[str], list[int]], Sequence[str]]

    def column_fn(i: int) -> Column:
        """The transformation of a whole column of a chunk (fast paths for the bulky roles)."""
        role = roles[i]
        if role in (Role.QUASI, Role.KEEP):
            return lambda values, pids, lines: values
        if role == Role.PATIENT_ID:
            return lambda values, pids, lines: [tf.pseudonym("patient", p, "P") for p in pids]
        if role == Role.DATE and tf.mode is DeidMode.DATE_SHIFT:
            slow = cell_fn(i)

            def dates(values: tuple[str, ...], pids: list[str], lines: list[int]) -> list[str]:
                out = []
                heads, time_ok = tf._dates, tf._time_ok
                for v, pid, line in zip(values, pids, lines, strict=True):
                    if pid and len(v) >= 10 and v[4] == "-" and v[7] == "-" and time_ok.get(v[10:]):
                        head = heads.get((v[:10], tf.offset(pid)))
                        if head is not None:
                            out.append(head + v[10:])
                            continue
                    out.append(slow(v, pid, line))
                counts["dates_shifted"] += len(out) - out.count("")
                return out

            return dates
        cell = cell_fn(i)
        return lambda values, pids, lines: [cell(v, p, n) for v, p, n in zip(values, pids, lines, strict=True)]

    columns = [column_fn(i) for i in keep]
    n_rows = 0

    def rows_out() -> Iterator[list[tuple[str, ...]]]:
        nonlocal n_rows
        bar = tqdm(desc=path.name, unit="row", disable=not progress, leave=False)
        for chunk in iter_chunks(path, text, len(header), max_field_chars=tf.schema.max_field_chars):
            cols = list(zip(*chunk.rows, strict=True))
            pids = [v.strip() for v in cols[pid_idx]] if pid_idx is not None else [""] * len(chunk.rows)
            out_cols = [fn(cols[i], pids, chunk.lines) for fn, i in zip(columns, keep, strict=True)]
            if quasi_idx:
                quasi_rows.extend(zip(*(out_cols[q] for q in quasi_idx), strict=True))
            block = list(zip(*out_cols, strict=True))
            n_rows += len(block)
            bar.update(len(block))
            yield block
        bar.close()

    write_rows(out_path, [header[i] for i in keep], rows_out())
    report = TableReport(
        rows=n_rows,
        columns_in=tuple(header),
        columns_out=tuple(header[i] for i in keep),
        dropped=tuple(header[i] for i, r in enumerate(roles) if r in DROPPED),
        **counts,
    )
    kanon = k_anonymity(quasi_rows, spec.quasi_identifiers, tf.schema.k_threshold) if quasi_idx else None
    return report, kanon


def deidentify_ehr_folder(
    input_dir: Path,
    output_dir: Path,
    *,
    secret: bytes,
    schema: DeidSchema = DEFAULT_SCHEMA,
    mode: DeidMode | str = DeidMode.DATE_SHIFT,
    progress: bool = True,
) -> EHRDeidReport:
    """De-identify every table of ``input_dir`` into ``output_dir`` (replaced atomically).

    ``mode`` is ``safe-harbor`` (dates to their year) or ``date-shift`` (the dataset build's
    mode: its projects need exact intervals; see ``modes.py`` for what each is in law).
    """
    started = time.monotonic()
    try:
        mode = DeidMode(mode)
    except ValueError:
        raise ValueError(f"unknown mode {mode!r}; modes: {[m.value for m in DeidMode]}") from None
    if not isinstance(secret, bytes | bytearray) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} random bytes")
    secret = bytes(secret)
    input_dir, output_dir = Path(input_dir).resolve(), Path(output_dir).resolve()
    _check_folders(input_dir, output_dir)
    names = _declared_files(input_dir, schema)

    found = _Collected()
    headers: dict[str, list[str]] = {}
    for name in tqdm(names, desc="check tables", disable=not progress, leave=False):
        path = input_dir / name
        text = decode_utf8(path)
        header = read_header(path, text)
        _check_header(path, header, schema.tables[name])
        _collect(path, header, schema.tables[name], text, schema, found)
        headers[name] = header

    tf = _Transformer(secret, schema, found, mode)
    tmp = staging_folder(output_dir)
    try:
        tables: dict[str, TableReport] = {}
        kanon: dict[str, KAnonymityReport] = {}
        for name in tqdm(names, desc="de-identify", disable=not progress, leave=False):
            path = input_dir / name
            report, k = _transform_table(path, headers[name], schema.tables[name], decode_utf8(path), tf, tmp / name,
                                         progress)
            tables[name] = report
            if k is not None:
                kanon[name] = k
        schema_json = schema.to_json()
        result = EHRDeidReport(
            input_dir=str(input_dir),
            output_dir=str(output_dir),
            n_patients=len(found.patients),
            tables=tables,
            k_anonymity=kanon,
            max_shift_days=schema.max_shift_days,
            schema_sha256=hashlib.sha256(schema_json.encode()).hexdigest(),
            secret_fingerprint=pseudonym(secret, "fingerprint", "practicum", length=12),
            seconds=round(time.monotonic() - started, 2),
            mode=mode.value,
            method=mode.method,
        )
        (tmp / SCHEMA_NAME).write_text(schema_json, encoding="utf-8")
        (tmp / REPORT_NAME).write_text(result.to_json(), encoding="utf-8")
        publish_folder(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result
