"""The canary suite: every planted PHI class caught in both modes, no clinical term destroyed."""

import pytest

from practicum.datasets.ehr_deid import DeidMode
from practicum.datasets.ehr_deid.canaries import REQUIRED_CLASSES, canary_notes, score, survives
from practicum.datasets.ehr_deid.phi_zh import valid_resident_id
from practicum.datasets.ehr_deid.scrub import TextScrubber

NOTES = canary_notes(400, seed=11)


def _scrubbed(mode):
    scrubber = TextScrubber([], {})
    offset = 47 if mode is DeidMode.DATE_SHIFT else None
    return [scrubber.scrub(n.text, offset_days=offset, mode=mode) for n in NOTES]


@pytest.fixture(scope="module", params=list(DeidMode), ids=lambda m: m.value)
def result(request):
    return score(NOTES, _scrubbed(request.param))


@pytest.fixture(scope="module")
def untouched():
    return score(NOTES, [n.text for n in NOTES])


def test_the_suite_plants_every_required_class_in_both_languages(untouched):
    counts = untouched.per_class
    assert set(counts) == set(REQUIRED_CLASSES)
    assert all(c.planted >= 50 for c in counts.values())
    assert {c.split(".")[0] for c in REQUIRED_CLASSES} == {"en", "zh"}
    assert {"zh.name", "zh.mobile", "zh.landline", "zh.resident_id", "zh.date", "zh.address", "zh.hospital",
            "zh.record_number", "en.name_title", "en.name_relative", "en.date_no_year", "en.age_over_89",
            "en.record_number", "en.phone_international", "en.phone_7_digit", "en.email_spelled",
            "en.url_no_scheme", "en.plate", "en.serial"} <= set(REQUIRED_CLASSES)


def test_recall_is_complete_in_every_required_class(result):
    assert result.missed == ()
    assert {c: s.recall for c, s in result.per_class.items()} == dict.fromkeys(REQUIRED_CLASSES, 1.0)


def test_no_clinical_term_is_destroyed(result):
    assert result.clinical_planted == sum(len(n.clinical) for n in NOTES)
    assert result.destroyed == ()
    assert result.over_scrub_rate == 0.0


def test_the_scoring_sees_what_survives_and_what_is_destroyed(untouched):
    assert untouched.recall == 0.0 and untouched.over_scrub_rate == 0.0
    blanked = score(NOTES, ["" for _ in NOTES])
    assert blanked.recall == 1.0 and blanked.over_scrub_rate == 1.0
    assert survives("555-0199", "call 555 0199") and not survives("555-0199", "call [PHONE]")
    assert survives("Fenmar", "son FENMAR came") and not survives("Fenmar", "son Fenmarx came")
    assert survives("王芳", "患者王芳因") and not survives("王芳", "患者[NAME]因")
    assert not survives("age 90", "age 90+")


def test_the_planted_resident_ids_carry_a_valid_check_digit():
    ids = [needle for n in NOTES for p in n.planted if p.phi_class == "zh.resident_id" for needle in p.needles]
    assert ids and all(valid_resident_id(i) for i in ids)
    assert any(i.endswith("X") for i in ids)
