"""Safe Harbor rules as pure functions, the note scrubber, k-anonymity, and the schema format."""

import datetime as dt
import json

import pytest

from practicum.datasets.ehr_deid import DEFAULT_SCHEMA, DeidSchema, Role, k_anonymity
from practicum.datasets.ehr_deid.restricted_zip3 import RESTRICTED_ZIP3, RESTRICTED_ZIP3_TABLE
from practicum.datasets.ehr_deid.rules import (
    date_offset_days,
    generalize_age,
    generalize_zip,
    pseudonym,
    shift_date_cell,
)
from practicum.datasets.ehr_deid.scrub import PatientIdentifiers, TextScrubber

SECRET = b"unit-test-secret-0123456789"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("0", "0"), ("45", "45"), ("89", "89"), ("89.9", "89"), ("90", "90+"), ("104", "90+"), ("90+", "90+"),
     ("", ""), ("  ", ""), ("93 years", "90+"), ("unknown", None), ("1e3", None)],
)
def test_ages_over_89_are_grouped(cell, expected):
    assert generalize_age(cell) == expected


def test_restricted_zip3_list_is_the_hhs_list():
    assert len(RESTRICTED_ZIP3_TABLE) == 17
    assert RESTRICTED_ZIP3 == {"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831",
                               "878", "879", "884", "890", "893"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("02139", "021"), ("02139-4307", "021"), ("021394307", "021"), ("10463", "104"), ("03601", "000"),
     ("89301", "000"), ("20301", "000"), ("1234", "000"), ("ABCDE", "000"), ("", "")],
)
def test_zip_codes_keep_three_digits_or_become_000(cell, expected):
    assert generalize_zip(cell) == expected


def test_every_restricted_prefix_becomes_000():
    for prefix in RESTRICTED_ZIP3:
        assert generalize_zip(prefix + "42") == "000"


def test_pseudonyms_are_keyed_stable_and_letters_only():
    a = pseudonym(SECRET, "patient", "PT000001", "P")
    assert a == pseudonym(SECRET, "patient", "PT000001", "P")
    assert a != pseudonym(b"another-secret-0123456789", "patient", "PT000001", "P")
    assert a != pseudonym(SECRET, "encounter_id", "PT000001", "P")
    assert a.startswith("P") and len(a) == 17 and a[1:].isalpha() and a[1:].islower()
    many = {pseudonym(SECRET, "patient", f"PT{i:06d}") for i in range(5000)}
    assert len(many) == 5000


def test_date_offsets_are_nonzero_bounded_and_keyed():
    offsets = [date_offset_days(SECRET, f"PT{i:06d}", 365) for i in range(3000)]
    assert 0 not in offsets
    assert min(offsets) >= -365 and max(offsets) <= 365
    assert len(set(offsets)) > 500  # spread over the range
    assert date_offset_days(SECRET, "PT000001") == date_offset_days(SECRET, "PT000001")
    other = [date_offset_days(b"another-secret-0123456789", f"PT{i:06d}") for i in range(100)]
    assert other != offsets[:100]


@pytest.mark.parametrize(
    ("cell", "offset", "expected"),
    [("2019-03-01", -1, "2019-02-28"), ("2020-02-28", 1, "2020-02-29"), ("2016-04-10 08:05:23", 30, "2016-05-10 08:05:23"),
     ("03/14/2021", 10, "03/24/2021"), ("2019-12-31T23:59", 1, "2020-01-01T23:59"), ("not a date", 3, None),
     ("2019-02-30", 1, None)],
)
def test_date_cells_shift_whole_days_keeping_style_and_time(cell, offset, expected):
    assert shift_date_cell(cell, offset) == expected


def test_intervals_survive_shifting():
    off = date_offset_days(SECRET, "PT000042")
    admit, discharge = dt.date(2018, 12, 28), dt.date(2019, 1, 3)
    a = dt.date.fromisoformat(shift_date_cell(admit.isoformat(), off))
    d = dt.date.fromisoformat(shift_date_cell(discharge.isoformat(), off))
    assert (d - a) == (discharge - admit) and a != admit


def _scrubber():
    return TextScrubber(["Imogen Vasquez-Reilly", "Obadiah Frankopan"], {"Marlow Falls": "[LOCATION]",
                                                                         "Halvorsen Tool and Die": "[ORGANIZATION]"})


def _patient():
    return PatientIdentifiers.build(
        ["Genoveva", "Abernathy", "Nathaniel Abernathy"],
        {"1721 Larkspur Terrace": "[ADDRESS]", "S10807170": "[ID]", "photos/genoveva_abernathy_3582.jpg": "[ID]"},
        ["(914) 555-1650", "972-12-3637", "76620523", "02154"],
    )


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("GENOVEVA ABERNATHY seen; genoveva called.", ["genoveva", "abernathy"], ["seen", "called"]),
        ("Signed: Imogen Vasquez-Reilly, MD", ["imogen", "vasquez", "reilly"], ["MD"]),
        ("Seen by Dr. Quigley and Mrs. O'Hanlon today.", ["quigley", "hanlon"], ["Dr.", "Mrs.", "today"]),
        ("Sandor Petofi, RN reviewed.", ["sandor", "petofi"], ["RN reviewed"]),
        ("Call 914.555.1650, +1 (914) 555-1650 or 9145551650.", ["1650", "914"], ["Call"]),
        ("MRN 76620523; MRN 7662-0523; account 4863167534.", ["76620523", "7662-0523", "4863167534"], ["MRN"]),
        ("SSN 972-12-3637 and 123 45 6789", ["3637", "6789"], ["SSN"]),
        ("Lives at 1721 Larkspur Terrace, Marlow Falls, MA 02154.", ["larkspur", "marlow", "02154"], ["Lives at", "MA"]),
        ("Moved to 55 Quenby Hollow Road Apt 4B and P.O. Box 7719.", ["quenby", "7719", "4b"], ["Moved"]),
        ("Mail x.y@example.com, see https://portal.example.org/p?id=9 or www.foo.org.", ["x.y@", "portal", "foo.org"],
         ["Mail"]),
        ("From 198.51.100.7 and fe80::1:2:3:4 and 2001:db8:0:0:0:0:2:1.", ["198.51", "fe80", "2001:db8"], ["From"]),
        ("Works at Halvorsen Tool and Die.", ["halvorsen"], ["Works at"]),
        ("Device PMP335080673, sensor SNJ45FQ32ZME, print FPT-CZ61682444, plate 7JZE545.",
         ["335080673", "snj45", "cz616", "7jze"], ["Device", "sensor"]),
        ("A 93-year-old, aged 95, (92 y/o); a 45-year-old.", ["93-year", "95", "92 y"], ["90+", "45-year-old"]),
        ("Photo photos/genoveva_abernathy_3582.jpg and licence S10807170.", ["3582", "s10807170"], ["Photo"]),
        ("BP 134/77 mmHg, HbA1c 7.2 %, LDL 121 mg/dL, E11.65.", [], ["134/77", "HbA1c 7.2 %", "LDL 121", "E11.65"]),
    ],
)
def test_scrubber_removes_identifiers_and_keeps_clinical_text(text, gone, kept):
    out = _scrubber().scrub(text, _patient(), offset_days=10)
    for g in gone:
        assert g.lower() not in out.lower(), (g, out)
    for k in kept:
        assert k in out, (k, out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on 2019-03-14.", "on 2019-03-24."),
        ("on 03/14/2019,", "on 2019-03-24,"),
        ("on 3/4/2019,", "on 2019-03-14,"),
        ("on March 14, 2019.", "on 2019-03-24."),
        ("on Mar 14 2019.", "on 2019-03-24."),
        ("on 14 March 2019.", "on 2019-03-24."),
        ("on 14-Mar-2019.", "on 2019-03-24."),
        ("in March 2019.", "in 2019-03."),
        ("seen 3/14 again", "seen [DATE] again"),
        ("in 2019 overall", "in 2019 overall"),
    ],
)
def test_dates_in_notes_move_with_the_patient(text, expected):
    assert _scrubber().scrub(text, _patient(), offset_days=10) == expected


def test_dates_of_unknown_patients_are_removed():
    assert _scrubber().scrub("on 2019-03-14 and March 3, 2018", offset_days=None) == "on [DATE] and [DATE]"


def test_k_anonymity_on_a_crafted_table():
    rows = [("F", "40", "021")] * 5 + [("M", "40", "021")] * 3 + [("M", "90+", "000")] + [("F", "41", "024")] * 6
    r = k_anonymity(rows, ("sex", "age", "zip"), k_threshold=5)
    assert (r.n_records, r.n_classes, r.min_k, r.classes_below_k, r.records_below_k) == (15, 4, 1, 2, 4)
    assert not r.satisfied
    assert k_anonymity(rows[:5], ("sex", "age", "zip"), 5).satisfied
    assert json.loads(r.to_json())["min_k"] == 1


def test_schema_round_trips_through_json():
    again = DeidSchema.from_dict(json.loads(DEFAULT_SCHEMA.to_json()))
    assert again == DEFAULT_SCHEMA
    with pytest.raises(ValueError, match="unknown role"):
        DeidSchema.from_dict({"tables": {"a.csv": {"columns": {"x": "secretive"}}}})
    with pytest.raises(ValueError, match="patient_id"):
        DeidSchema.from_dict({"tables": {"a.csv": {"columns": {"when": "date"}}}})
    roles = {r for t in DEFAULT_SCHEMA.tables.values() for r in t.columns.values()}
    assert {Role.NAME, Role.ADDRESS, Role.CITY, Role.PHONE, Role.EMAIL, Role.URL, Role.IP, Role.IDENTIFIER,
            Role.ORGANIZATION, Role.DATE, Role.BIRTH_DATE, Role.AGE, Role.ZIP, Role.TEXT} <= roles
