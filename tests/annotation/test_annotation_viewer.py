"""The annotation tool driven through its widgets (values set, buttons clicked), exported and graded."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from practicum.annotation import (
    WINDOW_PRESETS,
    AnnotationError,
    AnnotationSession,
    AnnotationViewer,
    VolumeGeometry,
    load_scans,
    practice_series,
)
from practicum.graders.protocols import annotation_agreement


@pytest.fixture(scope="module")
def scans(small_build):
    return load_scans(small_build / "public")


@pytest.fixture()
def viewer(scans):
    return AnnotationViewer(scans)


def _reference(small_build, uids):
    table = pd.read_csv(small_build / "hidden" / "ct" / "practice_annotations.csv", dtype={"seriesuid": str})
    return table[table["seriesuid"].isin(uids)].reset_index(drop=True)


def _place(viewer, uid, kji, diameter):
    viewer.scan.value = uid
    viewer.slice.value, viewer.row.value, viewer.column.value = (int(v) for v in kji)
    viewer.diameter.value = float(diameter)
    viewer.add.click()


def test_the_practice_scans_are_the_graders_and_have_no_public_reference(small_build, scans):
    uids = practice_series(small_build / "public")
    assert uids == annotation_agreement.practice_series(small_build / "public")
    assert list(scans) == uids
    public_ct = small_build / "public" / "ct"
    for table in public_ct.rglob("*annotations*.csv"):
        assert not set(uids) & set(pd.read_csv(table, dtype=str)["seriesuid"]), table
    hidden = small_build / "hidden" / "ct" / "practice_annotations.csv"
    assert hidden.stat().st_mode & 0o077 == 0 and hidden.parent.stat().st_mode & 0o077 == 0
    test_split = pd.read_csv(small_build / "hidden" / "ct" / "test_annotations.csv", dtype=str)
    assert not set(uids) & set(test_split["seriesuid"]), "never scored against the nodule project's hidden test split"


def test_widget_events_mark_the_reference_nodules_and_the_export_grades_perfect(small_build, viewer, tmp_path):
    reference = _reference(small_build, list(viewer.scans))
    assert len(reference) >= 3
    for row in reference.itertuples():
        geometry = viewer.scans[row.seriesuid].geometry
        kji = np.round(geometry.world_to_voxel([row.coordX, row.coordY, row.coordZ]))
        _place(viewer, row.seriesuid, kji, row.diameter_mm)
        assert "added" in viewer.status.value
    assert len(viewer.marks.options) == len(reference)
    # a stray mark, then removed through the list
    _place(viewer, reference.seriesuid[0], (2, 5, 5), 4.0)
    assert len(viewer.session.marks) == len(reference) + 1
    viewer.marks.value = len(reference)
    viewer.remove.click()
    assert "removed" in viewer.status.value and len(viewer.session.marks) == len(reference)

    viewer.export_path.value = str(tmp_path / "annotations.csv")
    viewer.export.click()
    assert f"exported {len(reference)} marks" in viewer.status.value
    with open(tmp_path / "annotations.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"] and len(rows) == len(reference) + 1

    result = annotation_agreement.grade_annotation_file(
        tmp_path / "annotations.csv", public_dir=small_build / "public", hidden_dir=small_build / "hidden"
    )
    assert result.n_matched == result.n_reference_nodules == len(reference)
    assert result.sensitivity == 1.0 and result.false_marks_per_scan == 0.0 and result.f1 == 1.0 and result.passed
    assert abs(result.diameter_bias_mm) < 1e-3


def test_a_reader_who_misses_half_and_marks_air_fails(small_build, viewer, tmp_path):
    reference = _reference(small_build, list(viewer.scans))
    for row in reference.iloc[: len(reference) // 2].itertuples():
        kji = np.round(viewer.scans[row.seriesuid].geometry.world_to_voxel([row.coordX, row.coordY, row.coordZ]))
        _place(viewer, row.seriesuid, kji, row.diameter_mm + 2)
    for uid in viewer.scans:
        _place(viewer, uid, (1, 1, 1), 5.0)  # a corner of the scan: air, no nodule
    path = viewer.export_luna16_csv(tmp_path / "marks.csv")
    result = annotation_agreement.grade_annotation_file(path, public_dir=small_build / "public", hidden_dir=small_build / "hidden")
    assert result.n_matched == len(reference) // 2 and result.n_false_marks == len(viewer.scans)
    assert result.false_marks_per_scan == 1.0
    assert result.sensitivity == pytest.approx((len(reference) // 2) / len(reference)) and not result.passed
    assert result.diameter_bias_mm == pytest.approx(2.0, abs=1e-3)


def test_window_presets_slider_and_scan_change_redraw(viewer, scans):
    before = viewer.image.value
    viewer.window.value = "bone"
    assert "level 400 HU, width 1800 HU" in viewer.window_info.value and viewer.image.value != before
    shown = viewer.image.value
    viewer.slice.value = viewer.slice.value + 3
    assert viewer.image.value != shown
    second = list(scans)[1]
    viewer.scan.value = second
    assert viewer.slice.max == scans[second].hu.shape[0] - 1 and viewer.row.max == scans[second].hu.shape[1] - 1
    # the cross's HU readout is the volume's value at that voxel
    viewer.slice.value, viewer.row.value, viewer.column.value = 10, 20, 30
    assert f"{float(scans[second].hu[10, 20, 30]):.0f} HU" in viewer.position.value


def test_refused_actions_say_why_and_lose_nothing(viewer, tmp_path):
    uid = next(iter(viewer.scans))
    _place(viewer, uid, (10, 10, 10), 6.0)
    viewer.diameter.value = 500.0
    viewer.add.click()
    assert "outside 1-60 mm" in viewer.status.value and len(viewer.session.marks) == 1
    viewer.marks.value = None
    viewer.remove.click()
    assert "select a mark" in viewer.status.value and len(viewer.session.marks) == 1
    viewer.export_path.value = str(tmp_path / "no" / "such" / "folder.csv")
    viewer.export.click()
    assert "not exported" in viewer.status.value and "does not exist" in viewer.status.value
    viewer.export_path.value = str(tmp_path)
    viewer.export.click()
    assert "is a folder" in viewer.status.value and len(viewer.session.marks) == 1


def test_voxel_world_round_trip_follows_the_dicom_header(scans):
    scan = next(iter(scans.values()))
    g = scan.geometry
    corner = g.voxel_to_world([0, 0, 0])
    assert np.allclose(corner, g.origin)
    dz, dy, dx = g.spacing
    assert np.allclose(g.voxel_to_world([1, 2, 3]) - corner, g.direction @ np.array([3 * dx, 2 * dy, dz]))
    points = np.array([[0.0, 0.0, 0.0], [5.5, 17.25, 80.0], [g.shape[0] - 1, g.shape[1] - 1, g.shape[2] - 1]])
    assert np.allclose(g.world_to_voxel(g.voxel_to_world(points)), points)


def test_an_oblique_geometry_converts_both_ways():
    angle = np.deg2rad(20)
    row_dir = np.array([np.cos(angle), np.sin(angle), 0.0])
    col_dir = np.array([-np.sin(angle), np.cos(angle), 0.0])
    g = VolumeGeometry((10, 20, 30), (2.5, 0.8, 0.7), (-100.0, 50.0, 10.0), np.stack([row_dir, col_dir, np.cross(row_dir, col_dir)], axis=1))
    kji = np.array([3.0, 4.0, 5.0])
    expected = np.array([-100.0, 50.0, 10.0]) + 5 * 0.7 * row_dir + 4 * 0.8 * col_dir + 3 * 2.5 * np.array([0, 0, 1.0])
    assert np.allclose(g.voxel_to_world(kji), expected)
    assert np.allclose(g.world_to_voxel(expected), kji)


def test_session_refuses_marks_outside_the_scan_and_unknown_series(scans):
    session = AnnotationSession({uid: s.geometry for uid, s in scans.items()})
    uid = next(iter(scans))
    with pytest.raises(AnnotationError, match="outside the scan"):
        session.add_voxel_mark(uid, (1000, 0, 0), 6.0)
    with pytest.raises(AnnotationError, match="outside the scan"):
        session.add_world_mark(uid, (1e6, 0.0, 0.0), 6.0)
    with pytest.raises(AnnotationError, match="finite"):
        session.add_world_mark(uid, (float("nan"), 0.0, 0.0), 6.0)
    with pytest.raises(AnnotationError, match="not one of"):
        session.add_voxel_mark("1.2.3", (0, 0, 0), 6.0)
    with pytest.raises(AnnotationError, match="no mark 0"):
        session.remove(0)
    assert session.marks == ()


def test_window_preset_maps_its_range_onto_grey_levels():
    lung = WINDOW_PRESETS["lung"]
    assert (lung.lower, lung.upper) == (-1350, 150)
    grey = lung.apply(np.array([-2000.0, -1350.0, -600.0, 150.0, 3000.0]))
    assert grey.tolist() == [0, 0, 128, 255, 255]


def test_marks_survive_the_kernel_through_the_marks_file(scans, tmp_path):
    """nbgrader re-executes a submission: the viewer reopened on the saved file has the same marks."""
    marks_file = tmp_path / "annotations.csv"
    first = AnnotationViewer(scans, marks_file=marks_file)
    uid = next(iter(scans))
    _place(first, uid, (20, 40, 50), 7.0)
    _place(first, uid, (30, 60, 70), 5.0)
    first.marks.value = 0
    first.remove.click()
    assert "saved to" in first.status.value
    again = AnnotationViewer(scans, marks_file=marks_file)
    assert again.session.marks == first.session.marks and len(again.marks.options) == 1


def test_a_damaged_marks_file_is_refused_whole(scans, tmp_path):
    uid = next(iter(scans))
    damaged = tmp_path / "annotations.csv"
    damaged.write_text("seriesuid,coordX,coordY,coordZ,diameter_mm\n" f"{uid},0,0,0,5\n" f"{uid},1e9,0,0,5\n")
    session = AnnotationSession({u: s.geometry for u, s in scans.items()})
    with pytest.raises(AnnotationError, match="line 2|line 3"):
        session.load_luna16_csv(damaged)
    assert session.marks == ()
    damaged.write_text("x,y\n")
    with pytest.raises(AnnotationError, match="first line must be"):
        session.load_luna16_csv(damaged)
