"""Bad input gets a clear error naming the file and line; inputs and earlier outputs are never harmed."""

import hashlib
import json

import pytest

from practicum.cli import main
from practicum.datasets.ehr_deid import DeidInputError, DeidSchema, deidentify_ehr_folder

SECRET = b"hostile-input-secret-0123456789"

SCHEMA = DeidSchema.from_dict({
    "tables": {
        "patients.csv": {
            "columns": {"patient_id": "patient_id", "name": "name", "dob": "birth_date", "age": "age", "zip": "zip",
                        "sex": "quasi"},
            "required": True,
            "quasi_identifiers": ["sex", "age", "zip"],
        },
        "notes.csv": {"columns": {"patient_id": "patient_id", "note_date": "date", "text": "text"}},
    },
    "max_field_chars": 100_000,
})

PATIENTS = (
    "patient_id,name,dob,age,zip,sex\n"
    "A1,Wilhelmina Quenby,1950-02-03,69,02139,F\n"
    "A2,Thaddeus Orlov,1925-07-08,94,03601,M\n"
)
NOTES = (
    "patient_id,note_date,text\n"
    'A1,2019-05-06,"Wilhelmina Quenby seen on 05/06/2019.\nSecond line, still the same note."\n'
    'A2,2019-05-07,"Mr. Orlov, a 94-year-old, called from (617) 555-0101."\n'
)


def _folder(tmp_path, patients=PATIENTS, notes=NOTES, extra=None):
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    for name, content in (("patients.csv", patients), ("notes.csv", notes), *(extra or {}).items()):
        if content is None:
            continue
        (src / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return src


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _expect_error(tmp_path, src, match, file, line=None, schema=SCHEMA):
    before = _digest(src)
    out = tmp_path / "out"
    with pytest.raises(DeidInputError, match=match) as info:
        deidentify_ehr_folder(src, out, secret=SECRET, schema=schema, progress=False)
    err = info.value
    assert err.file.endswith(file)
    assert err.line == line
    assert (f"{file}:{line}" if line is not None else file) in str(err)
    assert _digest(src) == before, "input changed"
    assert not out.exists(), "output written despite the error"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "staging folder left behind"
    return err


def test_a_good_folder_is_deidentified(tmp_path):
    src = _folder(tmp_path)
    report = deidentify_ehr_folder(src, tmp_path / "out", secret=SECRET, schema=SCHEMA, progress=False)
    patients = (tmp_path / "out" / "patients.csv").read_text()
    assert patients.splitlines()[0] == "patient_id,dob,age,zip,sex"
    assert ",90+,000,M" in patients and "1925" not in patients and ",021,F" in patients
    notes = (tmp_path / "out" / "notes.csv").read_text()
    for gone in ("Wilhelmina", "Quenby", "Orlov", "555-0101", "94-year", "05/06/2019"):
        assert gone not in notes
    assert report.tables["patients.csv"].ages_capped == 1 and report.tables["patients.csv"].birth_dates_removed == 1
    assert report.k_anonymity["patients.csv"].min_k == 1
    assert json.loads((tmp_path / "out" / "deid_report.json").read_text())["n_patients"] == 2


def test_broken_encoding_names_the_line(tmp_path):
    bad = PATIENTS.encode() + b"A3,Ren\xe9e Dupont,1960-01-01,59,02139,F\n"
    err = _expect_error(tmp_path, _folder(tmp_path, patients=bad), "not valid UTF-8", "patients.csv", 4)
    assert "Dupont" not in str(err)  # errors never echo cell values


def test_missing_required_column(tmp_path):
    notes = NOTES.replace("patient_id,note_date,text", "patient_id,note_date").replace(',"', ',"x",', 0)
    src = _folder(tmp_path, notes="patient_id,note_date\nA1,2019-05-06\n")
    _expect_error(tmp_path, src, r"missing columns declared in the schema: \['text'\]", "notes.csv", 1)
    assert notes


def test_undeclared_column(tmp_path):
    src = _folder(tmp_path, patients=PATIENTS.replace("sex\n", "sex,ssn\n", 1).replace(",F\n", ",F,900-00-0001\n")
                  .replace(",M\n", ",M,900-00-0002\n"))
    _expect_error(tmp_path, src, r"columns without a role in the schema: \['ssn'\]", "patients.csv", 1)


@pytest.mark.parametrize(
    ("row", "line"),
    [("A3,2019-05-08,too,many,fields\n", 5), ("A3\n", 5)],
)
def test_ragged_rows_name_the_record_line(tmp_path, row, line):
    # the first note spans two physical lines, so the ragged record starts on line 5
    _expect_error(tmp_path, _folder(tmp_path, notes=NOTES + row), "fields, the header has 3", "notes.csv", line)


def test_huge_field(tmp_path):
    huge = NOTES + 'A1,2019-05-09,"' + "x" * 150_000 + '"\n'
    _expect_error(tmp_path, _folder(tmp_path, notes=huge), "larger than the limit of 100000", "notes.csv", 5)


def test_nul_bytes(tmp_path):
    _expect_error(tmp_path, _folder(tmp_path, notes=NOTES + "A1,2019-05-09,ab\x00cd\n"), "NUL", "notes.csv", 5)


def test_empty_file_and_duplicate_header(tmp_path):
    _expect_error(tmp_path, _folder(tmp_path, notes=""), "empty file", "notes.csv", 1)
    _expect_error(tmp_path, _folder(tmp_path, notes="patient_id,text,text\n"), "repeats column", "notes.csv", 1)


def test_unparseable_date_names_the_line_without_the_value(tmp_path):
    notes = NOTES + "A1,the fifth of May,plain\n"
    err = _expect_error(tmp_path, _folder(tmp_path, notes=notes), "'note_date': not a date", "notes.csv", 5)
    assert "fifth" not in str(err)


def test_unknown_files_folders_and_missing_tables(tmp_path):
    _expect_error(tmp_path, _folder(tmp_path, extra={"README.txt": "hello"}), "no entry in the de-identification",
                  "README.txt")
    (tmp_path / "in" / "README.txt").unlink()
    (tmp_path / "in" / "images").mkdir()
    _expect_error(tmp_path, tmp_path / "in", "unexpected sub-folder", "images")
    (tmp_path / "in" / "images").rmdir()
    (tmp_path / "in" / "patients.csv").unlink()
    _expect_error(tmp_path, tmp_path / "in", r"required tables are missing: \['patients.csv'\]", "in")


def test_an_earlier_output_survives_a_failed_run(tmp_path):
    src = _folder(tmp_path)
    out = tmp_path / "out"
    deidentify_ehr_folder(src, out, secret=SECRET, schema=SCHEMA, progress=False)
    before = _digest(out)
    (src / "notes.csv").write_text(NOTES + "A3,2019-05-08,too,many\n")
    with pytest.raises(DeidInputError):
        deidentify_ehr_folder(src, out, secret=SECRET, schema=SCHEMA, progress=False)
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_output_must_be_outside_the_input_and_the_secret_long_enough(tmp_path):
    src = _folder(tmp_path)
    with pytest.raises(DeidInputError, match="outside the input"):
        deidentify_ehr_folder(src, src / "deid", secret=SECRET, schema=SCHEMA, progress=False)
    with pytest.raises(ValueError, match="at least 16"):
        deidentify_ehr_folder(src, tmp_path / "out", secret=b"short", schema=SCHEMA, progress=False)
    with pytest.raises(ValueError, match="at least 16"):
        deidentify_ehr_folder(src, tmp_path / "out", secret="a-str-is-not-bytes-0123", schema=SCHEMA, progress=False)
    assert not (tmp_path / "out").exists()


def test_schema_from_a_json_file(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(SCHEMA.to_json())
    assert DeidSchema.read(path) == SCHEMA


def test_safe_harbor_mode_keeps_years_only(tmp_path):
    src = _folder(tmp_path)
    report = deidentify_ehr_folder(src, tmp_path / "out", secret=SECRET, schema=SCHEMA, mode="safe-harbor",
                                   progress=False)
    patients = (tmp_path / "out" / "patients.csv").read_text().splitlines()
    assert patients[1].split(",")[1:3] == ["1950", "69"] and patients[2].split(",")[1:3] == ["", "90+"]
    notes = (tmp_path / "out" / "notes.csv").read_text()
    assert ",2019," in notes and "seen on 2019." in notes and "05" not in notes
    assert report.mode == "safe-harbor" and report.tables["notes.csv"].dates_to_year == 2


def test_an_unknown_mode_is_refused_and_an_earlier_output_kept(tmp_path):
    src = _folder(tmp_path)
    out = tmp_path / "out"
    deidentify_ehr_folder(src, out, secret=SECRET, schema=SCHEMA, progress=False)
    before = _digest(out)
    with pytest.raises(ValueError, match="unknown mode 'harbour'; modes: \\['safe-harbor', 'date-shift'\\]"):
        deidentify_ehr_folder(src, out, secret=SECRET, schema=SCHEMA, mode="harbour", progress=False)
    assert _digest(out) == before


def test_the_cli_takes_the_mode_and_defaults_to_safe_harbor(tmp_path, capsys):
    src = _folder(tmp_path)
    schema = tmp_path / "schema.json"
    schema.write_text(SCHEMA.to_json())
    common = ["datasets", "deid", str(src), "--schema", str(schema), "--key-file", str(tmp_path / "k"), "--quiet"]
    assert main([*common, "--out", str(tmp_path / "safe")]) == 0
    assert main([*common, "--out", str(tmp_path / "shift"), "--mode", "date-shift"]) == 0
    modes = {name: json.loads((tmp_path / name / "deid_report.json").read_text())["mode"] for name in ("safe", "shift")}
    assert modes == {"safe": "safe-harbor", "shift": "date-shift"}
    assert "1950," in (tmp_path / "safe" / "patients.csv").read_text()
    assert "1950," not in (tmp_path / "shift" / "patients.csv").read_text()
    with pytest.raises(SystemExit):
        main([*common, "--out", str(tmp_path / "x"), "--mode", "harbour"])
    capsys.readouterr()
    (src / "notes.csv").write_text(NOTES + "A3,2019-05-08,too,many\n")
    before = _digest(tmp_path / "safe")
    assert main([*common, "--out", str(tmp_path / "safe")]) == 2
    assert "notes.csv:5: record has 4 fields, the header has 3" in capsys.readouterr().err
    assert _digest(tmp_path / "safe") == before
