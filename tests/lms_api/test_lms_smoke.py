from __future__ import annotations

from lms_fixtures import Lms


def test_catalog_sync_and_read(lms: Lms) -> None:
    lms.seed_catalog()
    items = lms.ok(lms.get("items", lms.admin))
    assert {i["id"] for i in items} >= {"intro_medical_ai/welcome", "lung_nodule_ct_detection"}
    item = lms.ok(lms.get("items/intro_medical_ai/welcome", lms.admin))
    assert item["level"] == 1
