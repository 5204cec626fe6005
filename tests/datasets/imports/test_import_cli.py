"""`practicum datasets import`: the report on success, the file named on failure, a help that lists the formats."""

from __future__ import annotations

import json

import pytest
from public_dataset_copies import write_ohiot1dm

from practicum.cli import main


def test_import_prints_the_report_and_names_a_bad_file(tmp_path, capsys):
    source = write_ohiot1dm(tmp_path / "ohio", days=1)
    code = main(["datasets", "import", "ohiot1dm", str(source), "--out", str(tmp_path / "build"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["dataset"] == "cgm" and report["counts"]["patients"] == 3
    (source / "559-ws-training.xml").write_text("<patient id='559'><glucose_level>")
    code = main(["datasets", "import", "ohiot1dm", str(source), "--out", str(tmp_path / "build")])
    err = capsys.readouterr().err
    assert code == 2 and "559-ws-training.xml: not well-formed XML" in " ".join(err.split())
    code = main(["datasets", "import", "mimic-iv-demo", str(tmp_path / "nowhere"), "--out", str(tmp_path / "build")])
    assert code == 2 and "nowhere: not a folder" in capsys.readouterr().err


def test_help_lists_each_format_and_what_it_becomes(capsys):
    with pytest.raises(SystemExit):
        main(["datasets", "import", "--help"])
    text = capsys.readouterr().out
    for words in ("luna16", "subset0/", "annotations.csv", "ohiot1dm", "-ws-training.xml", "mimic-iv-demo",
                  "hosp/patients.csv", "-> ct:", "-> cgm:", "-> ehr_risk:"):
        assert words in text
