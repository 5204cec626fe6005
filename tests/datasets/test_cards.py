import json

from practicum.datasets.cards import ColumnDoc, DatasetCard, checksums, sha256_of, write_card


def test_card_lists_checksums_of_every_file_but_itself(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "a.csv").write_text("x\n")
    card = DatasetCard(
        name="ehr_small",
        version="1.0.0",
        summary="Synthetic EHR.",
        provenance="Generated.",
        deidentification="Safe Harbor.",
        splits={"train": 1, "val": 0, "test": 0},
        schema=[ColumnDoc("patient_id", "pseudonym")],
        checksums=checksums(tmp_path),
    )
    write_card(tmp_path, card)
    stored = json.loads((tmp_path / "card.json").read_text())
    assert stored["checksums"] == {"train/a.csv": sha256_of(tmp_path / "train" / "a.csv")}
    assert checksums(tmp_path) == stored["checksums"]  # the card files are not listed
    markdown = (tmp_path / "CARD.md").read_text()
    assert "# ehr_small (version 1.0.0)" in markdown and "`patient_id`" in markdown
