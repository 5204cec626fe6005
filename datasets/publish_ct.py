"""Publish the de-identified chest CT series as the nodule project's dataset `ct`.

Series are split by (de-identified) patient into train / val / test. Train and val
carry their LUNA16-format annotations; the test split has the images and the list
of series only, and its annotations go to the hidden folder. The build's practice patients
(``raw/practice_seriesuids.csv``) form the split ``practice``, published the same way as the test
split: the imaging course's annotation practice is graded on it, so that no learner's marks are
ever scored against the nodule project's hidden test split.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pydicom

from .cards import ColumnDoc, DatasetCard, checksums, write_card
from .ct.annotations import read_annotations, read_seriesuids, remap_series, write_annotations, write_seriesuids
from .dicom_deid import Keyring
from .publish_ehr import PublishedDataset
from .splits import SplitFractions, assign_splits, make_hidden_dir

ANNOTATION_FILES = ("annotations.csv", "annotations_excluded.csv")
# A larger hidden test share than the EHR datasets': a CT series holds only about three
# nodules, and the FROC/CPM of a handful of scans swings too much to grade by (LUNA16
# scored 888 scans by cross-validation; a lab build has a few dozen).
SPLIT_FRACTIONS = SplitFractions(train=0.45, val=0.15, test=0.40)
PRACTICE = "practice"
HIDDEN_SPLITS = ("test", PRACTICE)  # their annotations are the grader's only


def publish_ct(raw_dir: Path, deid_dir: Path, public_root: Path, hidden_root: Path, *, key: bytes, version: str) -> PublishedDataset:
    public, hidden = public_root / "ct", make_hidden_dir(hidden_root / "ct")
    series = _series_of(deid_dir)  # series uid -> (patient id, folder)
    keyring = Keyring(key)
    listed = raw_dir / "practice_seriesuids.csv"
    practice = {keyring.uid(uid) for uid in read_seriesuids(listed)} if listed.is_file() else set()
    split_of = assign_splits({patient for uid, (patient, _) in series.items() if uid not in practice}, key=key, fractions=SPLIT_FRACTIONS)
    assignment = {uid: PRACTICE if uid in practice else split_of[patient] for uid, (patient, _) in series.items()}
    annotations = {name: remap_series(read_annotations(raw_dir / name), keyring.uid) for name in ANNOTATION_FILES}
    counts = {"train": 0, "val": 0, "test": 0, **({PRACTICE: 0} if practice else {})}
    for split in counts:
        members = sorted(uid for uid in series if assignment[uid] == split)
        counts[split] = len(members)
        folder = public / split
        for uid in members:
            source = series[uid][1]
            _link_tree(source, folder / "images" / source.relative_to(deid_dir))
        write_seriesuids(folder / "seriesuids.csv", members)
        for name, rows in annotations.items():
            part = [row for row in rows if row.seriesuid in set(members)]
            target = hidden / f"{split}_{name}" if split in HIDDEN_SPLITS else folder / name
            write_annotations(target, part)
            if split in HIDDEN_SPLITS:
                os.chmod(target, 0o600)
    card = DatasetCard(
        name="ct",
        version=version,
        summary="De-identified chest CT series (DICOM CT Image Storage, one file per slice, HU via rescale) "
        "with solid and ground-glass nodules of 3-30 mm, vessel-like decoys and LUNA16-style excluded findings.",
        provenance="Synthetic hospital exports made by practicum.datasets.ct (anatomy, nodules and PHI generated "
        "from a seed), de-identified and verified by this pipeline.",
        deidentification="DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (Table E.1-1), "
        "private tags removed, UIDs remapped consistently with a keyed hash, dates shifted per patient; verified "
        "by a byte-level scan for every planted value and every original UID.",
        splits=counts,
        split_unit="series",
        schema=[
            ColumnDoc("images/<study>/<series>/<sop>.dcm", "one DICOM file per slice"),
            ColumnDoc("annotations.csv", "seriesuid,coordX,coordY,coordZ,diameter_mm (world mm, LUNA16 format)"),
            ColumnDoc("annotations_excluded.csv", "findings ignored by the evaluation (diameter -1: non-nodule)"),
            ColumnDoc("seriesuids.csv", "every series of the split, one uid a line"),
        ],
        checksums=checksums(public),
        notes=["Patients are split by a keyed hash: a patient (with all their studies and series) is in one split only.",
               "The test split's annotations are held by the grader, outside every sandbox.",
               "The practice split (patients drawn apart from the cohort) is the imaging course's annotation practice; "
               "its annotations are the grader's too, and no project is graded on it."],
    )
    write_card(public, card)
    return PublishedDataset("ct", str(public), str(hidden), counts)


def _series_of(deid_dir: Path) -> dict[str, tuple[str, Path]]:
    series: dict[str, tuple[str, Path]] = {}
    for folder in sorted({path.parent for path in deid_dir.rglob("*.dcm")}):
        header = pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True)
        series[str(header.SeriesInstanceUID)] = (str(header.PatientID), folder)
    return series


def _link_tree(source: Path, target: Path) -> None:
    """Hard links where possible: the public copy costs no extra disk."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)
