"""De-identify a (reduced, seed-fixed) synthetic export: canaries, dates, pseudonyms, verification."""

import csv
import datetime as dt
import json
import re
import shutil
from collections import defaultdict

import pytest

from practicum.datasets.ehr import BuildSize, build_ehr_exports
from practicum.datasets.ehr.build import MANIFEST_NAME, RAW_SUBDIR
from practicum.datasets.ehr.manifest import PHIManifest
from practicum.datasets.ehr_deid import DEFAULT_SCHEMA, DeidMode, Role, deidentify_ehr_folder, verify_ehr_folder
from practicum.datasets.ehr_deid.rules import parse_date_cell
from practicum.datasets.ehr_deid.schema import DROPPED
from practicum.datasets.publish_ehr import publish_ehr_risk

SECRET_A = b"end-to-end-secret-A-0123456789"
SECRET_B = b"end-to-end-secret-B-0123456789"
REDUCED = BuildSize(n_patients=120, n_cgm_patients=4, cgm_days=2)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("ehr-reduced")
    build_ehr_exports(root, size=REDUCED, seed=3, progress=False)
    return root


@pytest.fixture(scope="module")
def deid_a(export, tmp_path_factory):
    out = tmp_path_factory.mktemp("deid") / "a"
    report = deidentify_ehr_folder(export / RAW_SUBDIR, out, secret=SECRET_A, progress=False)
    return out, report


def _read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _write(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def _letters(i):
    return "".join(chr(ord("a") + int(d)) for d in f"{i:03d}")


def _canary(role, i):
    """A unique value of the right shape for a column role."""
    tag = _letters(i)
    return {
        Role.NAME: f"Zq{tag}vorth",
        Role.ADDRESS: f"{4100 + i} Zq{tag}mere Boulevard",
        Role.CITY: f"Zq{tag}ville",
        Role.PHONE: f"(646) 555-{7000 + i:04d}",
        Role.EMAIL: f"zq{tag}@example.net",
        Role.URL: f"https://zq{tag}.example.org/chart/{i}",
        Role.IP: f"203.0.113.{100 + i}",
        Role.IDENTIFIER: f"ZQ{tag.upper()}{880000 + i}",
        Role.ORGANIZATION: f"Zq{tag} Holdings",
    }[role]


NOTE_ONLY_WORDS = ["Zqdoctorb", "Zqmissusb", "Zqsignb", "Zqnatureb", "zqmailb@example.net", "zqsiteb.example.org",
                   "Zqlaneb", "ZQ7731X4410", "March 3, 2017", "97-year-old"]
NOTE_ONLY_DIGITS = ["2125550199", "900551234", "2030113199", "7719", "4455667788"]
NOTE = (
    "Canary note. Dr. Zqdoctorb and Mrs. Zqmissusb saw the patient on March 3, 2017 (a 97-year-old). "
    "Call (212) 555-0199; SSN 900-55-1234; mail zqmailb@example.net; https://zqsiteb.example.org/x from 203.0.113.199. "
    "Mail to P.O. Box 7719 or 88 Zqlaneb Road. Ref ZQ7731X4410, account 4455667788.\n"
    "Zqsignb Zqnatureb, MD"
)


def _plant(src):
    """Put a canary in every identifier column of the first patient's rows, and in a note."""
    patients_header, patients = _read(src / "patients.csv")
    pid = patients[0][patients_header.index("patient_id")]
    words, digits, i = list(NOTE_ONLY_WORDS), list(NOTE_ONLY_DIGITS), 0
    mentions = []
    for table, spec in DEFAULT_SCHEMA.tables.items():
        header, rows = _read(src / table)
        p = header.index("patient_id")
        for col, role in spec.columns.items():
            if role not in DROPPED:
                continue
            value = _canary(role, i)
            i += 1
            for row in rows:
                if row[p] == pid:
                    row[header.index(col)] = value
            (digits if role == Role.PHONE else words).append(re.sub(r"\D", "", value) if role == Role.PHONE else value)
            if role == Role.IP:
                digits.append(re.sub(r"\D", "", value))
            mentions.append(value.upper() if role == Role.NAME else value)
        if table == "patients.csv":
            rows[0][header.index("zip")] = "03610"
            rows[0][header.index("age_at_index")] = "97"
        _write(src / table, header, rows)
    header, rows = _read(src / "notes.csv")
    first = next(r for r in rows if r[header.index("patient_id")] == pid)
    first[header.index("text")] = NOTE + "\nAlso: " + "; ".join(mentions)
    _write(src / "notes.csv", header, rows)
    return pid, words, digits


def _hits(folder, words, digits):
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        low = data.lower()
        found += [(path.name, w) for w in words if w.lower().encode() in low]
        for d in digits:
            pattern = rb"(?<!\d)" + rb"[\s.\-()/+]*".join(re.escape(ch.encode()) for ch in d) + rb"(?!\d)"
            if re.search(pattern, data):
                found.append((path.name, d))
    return found


def test_canaries_in_every_identifier_column_and_in_notes_are_removed(export, tmp_path):
    src = tmp_path / "in"
    shutil.copytree(export / RAW_SUBDIR, src)
    pid, words, digits = _plant(src)
    assert len(_hits(src, words, digits)) >= len(words) + len(digits)  # the canaries are there before
    report = deidentify_ehr_folder(src, tmp_path / "out", secret=SECRET_A, progress=False)
    assert _hits(tmp_path / "out", words, digits) == []
    assert pid.encode() not in b"".join(p.read_bytes() for p in (tmp_path / "out").iterdir())
    header, rows = _read(tmp_path / "out" / "patients.csv")
    first = dict(zip(header, rows[0], strict=True))
    assert (first["zip"], first["age_at_index"], first["date_of_birth"]) == ("000", "90+", "")
    assert report.tables["notes.csv"].text_cells_scrubbed == report.tables["notes.csv"].rows


def test_the_verifier_passes_a_clean_output(export, deid_a):
    out, report = deid_a
    verdict = verify_ehr_folder(out, export / MANIFEST_NAME)
    assert verdict.passed, verdict.to_json()[:3000]
    assert verdict.values_checked > 3000 and verdict.date_cells_checked > 1000
    assert verdict.k_anonymity is not None and verdict.k_anonymity.n_records == REDUCED.n_patients
    assert report.k_anonymity["patients.csv"].min_k == verdict.k_anonymity.min_k
    assert report.n_patients == REDUCED.n_patients


def test_the_verifier_catches_leaks(export, deid_a, tmp_path):
    manifest = PHIManifest.read(export / MANIFEST_NAME)
    raw = verify_ehr_folder(export / RAW_SUBDIR, manifest)  # the raw export, not de-identified
    assert not raw.passed
    leaked = {leak.kind for leak in raw.leaks}
    assert {"first_name", "last_name", "mrn", "ssn", "phone", "email", "street_address", "zip5", "url",
            "ip_address", "device_serial", "health_plan_id", "account_number", "vehicle_plate"} <= leaked
    assert raw.date_failures and raw.age_failures and raw.zip_failures and raw.pseudonym_failures
    report_text = raw.to_json()  # names kinds and hashes, never the values
    assert not any(v.value in report_text for v in manifest.all_values() if len(v.value) > 5)

    tampered = tmp_path / "tampered"
    shutil.copytree(deid_a[0], tampered)
    phone = next(v.value for v in manifest.patients[5].identifiers if v.kind == "phone")
    digits = re.sub(r"\D", "", phone)
    with (tampered / "notes.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"Xzz,Pzz,Xzz,2019-01-01,progress_note,call {digits[:3]}.{digits[3:6]}.{digits[6:]}\n")
    verdict = verify_ehr_folder(tampered, manifest)
    assert [leak.kind for leak in verdict.leaks] == ["phone"] and verdict.row_count_failures


def _by_patient_offsets(raw, out):
    """Per patient pseudonym: the set of (output - input) day offsets over every date cell."""
    offsets = defaultdict(set)
    times_kept = True
    for table, spec in DEFAULT_SCHEMA.tables.items():
        date_cols = [c for c, r in spec.columns.items() if r in (Role.DATE, Role.BIRTH_DATE)]
        h_in, rows_in = _read(raw / table)
        h_out, rows_out = _read(out / table)
        assert len(rows_in) == len(rows_out)
        for a, b in zip(rows_in, rows_out, strict=True):
            pseud = b[h_out.index("patient_id")]
            for col in date_cols:
                before, after = parse_date_cell(a[h_in.index(col)]), parse_date_cell(b[h_out.index(col)])
                if before and after:
                    offsets[pseud].add((after[0] - before[0]).days)
                    times_kept &= before[2] == after[2]
    return offsets, times_kept


def test_dates_shift_by_one_offset_per_patient_across_all_tables(export, deid_a):
    offsets, times_kept = _by_patient_offsets(export / RAW_SUBDIR, deid_a[0])
    assert len(offsets) == REDUCED.n_patients
    assert all(len(s) == 1 for s in offsets.values())
    assert all(0 < abs(next(iter(s))) <= 365 for s in offsets.values())
    assert times_kept
    # intervals: length of stay and time between visits are unchanged
    h_in, enc_in = _read(export / RAW_SUBDIR / "encounters.csv")
    h_out, enc_out = _read(deid_a[0] / "encounters.csv")

    def stay(h, r):
        return (dt.date.fromisoformat(r[h.index("discharge_date")]) - dt.date.fromisoformat(r[h.index("admit_date")])).days

    assert [stay(h_in, r) for r in enc_in] == [stay(h_out, r) for r in enc_out]


def test_pseudonyms_are_consistent_across_runs_and_differ_by_secret(export, deid_a, tmp_path):
    again = tmp_path / "again"
    deidentify_ehr_folder(export / RAW_SUBDIR, again, secret=SECRET_A, progress=False)
    for table in DEFAULT_SCHEMA.tables:
        assert (again / table).read_bytes() == (deid_a[0] / table).read_bytes(), table
    other = tmp_path / "other"
    deidentify_ehr_folder(export / RAW_SUBDIR, other, secret=SECRET_B, progress=False)
    _, rows_a = _read(deid_a[0] / "patients.csv")
    _, rows_b = _read(other / "patients.csv")
    ids_a, ids_b = {r[0] for r in rows_a}, {r[0] for r in rows_b}
    assert len(ids_a) == len(ids_b) == REDUCED.n_patients and not ids_a & ids_b
    off_a, _ = _by_patient_offsets(export / RAW_SUBDIR, deid_a[0])
    off_b, _ = _by_patient_offsets(export / RAW_SUBDIR, other)
    paired = [(next(iter(off_a[a[0]])), next(iter(off_b[b[0]]))) for a, b in zip(rows_a, rows_b, strict=True)]
    assert sum(x != y for x, y in paired) > 0.9 * len(paired)
    # the same patient keeps one pseudonym in every table
    h, labs = _read(deid_a[0] / "labs.csv")
    assert {r[h.index("patient_id")] for r in labs} <= ids_a


@pytest.fixture(scope="module")
def deid_safe_harbor(export, tmp_path_factory):
    out = tmp_path_factory.mktemp("deid") / "safe"
    report = deidentify_ehr_folder(export / RAW_SUBDIR, out, secret=SECRET_A, mode=DeidMode.SAFE_HARBOR, progress=False)
    return out, report


def test_safe_harbor_mode_keeps_the_year_alone_and_passes_the_verifier(export, deid_safe_harbor):
    out, report = deid_safe_harbor
    assert report.mode == "safe-harbor" and "164.514(b)(2)" in report.method
    assert json.loads((out / "deid_report.json").read_text())["mode"] == "safe-harbor"
    cells = 0
    for table, spec in DEFAULT_SCHEMA.tables.items():
        h_in, rows_in = _read(export / RAW_SUBDIR / table)
        h_out, rows_out = _read(out / table)
        for col in (c for c, r in spec.columns.items() if r in (Role.DATE, Role.BIRTH_DATE)):
            for a, b in zip(rows_in, rows_out, strict=True):
                before, after = a[h_in.index(col)], b[h_out.index(col)]
                if before:
                    cells += 1
                    assert after in ("", parse_date_cell(before)[0].strftime("%Y")), (table, col, after)
    assert cells > 1000
    assert sum(t.dates_to_year for t in report.tables.values()) > 1000
    assert sum(t.dates_shifted for t in report.tables.values()) == 0
    _, notes = _read(out / "notes.csv")
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}", row[-1]) for row in notes)
    verdict = verify_ehr_folder(out, export / MANIFEST_NAME)
    assert verdict.passed, verdict.to_json()[:3000]


def test_the_date_shift_report_says_it_is_not_safe_harbor(deid_a):
    _, report = deid_a
    assert report.mode == "date-shift" and "not Safe Harbor" in report.method


def test_the_card_names_the_mode_actually_used(deid_a, deid_safe_harbor, tmp_path):
    cards = {}
    for name, (out, _) in (("shift", deid_a), ("safe", deid_safe_harbor)):
        publish_ehr_risk(out, tmp_path / name / "public", tmp_path / name / "hidden", key=SECRET_A, version="test")
        cards[name] = (tmp_path / name / "public" / "ehr_risk" / "CARD.md").read_text()
    assert "date-shift mode, which is not HIPAA Safe Harbor" in cards["shift"]
    assert "safe-harbor mode (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)): dates reduced to their year" in cards["safe"]


def test_free_text_columns_are_scrubbed_not_kept(export, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for table in ("patients.csv", "encounters.csv", "diagnoses.csv"):  # the other tables are optional
        shutil.copy(export / RAW_SUBDIR / table, src / table)
    planted = {"encounters.csv": ("reason", "Hypoglycemia; seen by Dr. Zqvorthy, call 555-0143"),
               "diagnoses.csv": ("description", "Type 2 diabetes mellitus, per 患者王芳 (手机13920000000)")}
    for table, (col, value) in planted.items():
        header, rows = _read(src / table)
        rows[0][header.index(col)] = value
        _write(src / table, header, rows)
    out = tmp_path / "out"
    deidentify_ehr_folder(src, out, secret=SECRET_A, progress=False)
    for table, (col, _) in planted.items():
        header, rows = _read(out / table)
        cell = rows[0][header.index(col)]
        assert not any(v in cell for v in ("Zqvorthy", "0143", "王芳", "13920000000")), cell
    h, enc = _read(out / "encounters.csv")
    assert enc[0][h.index("reason")].startswith("Hypoglycemia; seen by Dr. [NAME]")
    h_in, raw = _read(export / RAW_SUBDIR / "diagnoses.csv")
    h_out, dx = _read(out / "diagnoses.csv")
    assert [r[h_in.index("description")] for r in raw[1:]] == [r[h_out.index("description")] for r in dx[1:]]
