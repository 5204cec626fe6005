"""LUNA16 MetaImage volumes -> the lab's ct dataset (DICOM series), read by the nodule project and its grader."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pandas as pd
import pytest
from public_dataset_copies import LUNA_PREFIX, write_luna16

from practicum.datasets.imports import DatasetImportError, MetaImageError, import_dataset, read_metaimage
from practicum.graders.protocols import nodule_detection
from practicum.projects.lung_nodule_ct_detection.baseline import build_baseline
from practicum.projects.lung_nodule_ct_detection.data import load_volume, read_annotations, series_table, world_to_voxel

# A stored key fixes the split (the import otherwise draws a random one), so the test split holds nodules.
FIXED_KEY = "5e" * 32


def test_volumes_become_dicom_series_with_their_geometry_and_annotations(tmp_path):
    source = write_luna16(tmp_path / "luna")
    (tmp_path / "build" / "secrets").mkdir(parents=True)
    (tmp_path / "build" / "secrets" / "import.key").write_text(FIXED_KEY)
    report = import_dataset("luna16", source, tmp_path / "build")
    public, hidden = tmp_path / "build" / "public", tmp_path / "build" / "hidden"
    assert report.counts == {"scans": 5, "slices": 60, "nodules": 4, "excluded_findings": 0, "annotated_scans_missing": 0}
    assert sum(report.splits.values()) == 5
    nodules = pd.concat([read_annotations(public, "train"), read_annotations(public, "val"),
                         pd.read_csv(hidden / "ct" / "test_annotations.csv", dtype={"seriesuid": str})])
    assert len(nodules) == 4 and not nodules["seriesuid"].str.startswith(LUNA_PREFIX).any()
    for split in ("train", "val", "test"):
        for uid, folder in series_table(public, split).itertuples(index=False):
            volume = load_volume(folder)
            assert volume.hu.shape == (12, 40, 40) and volume.spacing == pytest.approx((2.5, 0.7, 0.7))
            for row in nodules[nodules["seriesuid"] == uid].itertuples():
                k, j, i = np.rint(world_to_voxel(volume, [row.coordX, row.coordY, row.coordZ])[0]).astype(int)
                assert volume.hu[k, j, i] == 300  # the annotation still points at the ball
            assert (volume.hu == -1000).any() and (volume.hu == 40).any()
    inputs = nodule_detection.model_inputs(public, hidden, {}, rng=random.Random(0))
    assert len(inputs["test"]) == report.splits["test"]
    build_baseline(public).predict(None, inputs["test"])  # the project's baseline reads the imported series
    hidden_nodules = pd.read_csv(hidden / "ct" / "test_annotations.csv", dtype={"seriesuid": str})
    oracle = hidden_nodules[["seriesuid", "coordX", "coordY", "coordZ"]].assign(probability=1.0)
    evaluation = nodule_detection.score_predictions({"test": oracle}, inputs=inputs, hidden_dir=hidden, options={})
    assert evaluation.n_nodules == len(hidden_nodules) > 0 and evaluation.cpm == pytest.approx(1.0)
    everything = b"".join(p.read_bytes() for p in (tmp_path / "build").rglob("*") if p.is_file())
    assert LUNA_PREFIX.encode() not in everything
    assert "LUNA16" in (public / "ct" / "CARD.md").read_text()


def test_annotations_of_scans_not_given_are_left_out_and_counted(tmp_path):
    source = write_luna16(tmp_path / "luna")
    extra = pd.read_csv(source / "annotations.csv")
    extra.loc[len(extra)] = [f"{LUNA_PREFIX}999", 1.0, 2.0, 3.0, 5.0]
    extra.to_csv(source / "annotations.csv", index=False)
    report = import_dataset("luna16", source, tmp_path / "build")
    assert report.counts["annotated_scans_missing"] == 1 and report.counts["nodules"] == 4


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda mhd: mhd.write_text(mhd.read_text().replace("NDims = 3", "NDims = 2")), "NDims '2'"),
        (lambda mhd: mhd.write_text(mhd.read_text().replace("ElementType = MET_SHORT", "ElementType = MET_HALF")), "ElementType"),
        (lambda mhd: mhd.write_text("\n".join(mhd.read_text().splitlines()[:-1])), "no ElementDataFile"),
        (lambda mhd: mhd.with_suffix(".raw").write_bytes(b"\0" * 100), "bytes, but DimSize"),
        (lambda mhd: mhd.with_suffix(".raw").unlink(), "is missing beside it"),
    ],
)
def test_a_bad_volume_is_named_and_the_stored_dataset_kept(tmp_path, damage, message):
    build = tmp_path / "build"
    import_dataset("luna16", write_luna16(tmp_path / "good", n_scans=3), build)
    before = (build / "public" / "ct" / "card.json").read_bytes()
    bad = write_luna16(tmp_path / "bad", n_scans=3)
    victim = sorted(bad.rglob("*.mhd"))[1]
    damage(victim)
    with pytest.raises(DatasetImportError, match=message) as error:
        import_dataset("luna16", bad, build)
    assert victim.stem in str(error.value)
    assert (build / "public" / "ct" / "card.json").read_bytes() == before


def test_a_wrong_annotations_header_is_refused(tmp_path):
    source = write_luna16(tmp_path / "luna", n_scans=2)
    (source / "annotations.csv").write_text("seriesuid,x,y,z,d\n")
    with pytest.raises(DatasetImportError, match="annotations.csv: wrong header"):
        import_dataset("luna16", source, tmp_path / "build")
    (source / "annotations.csv").unlink()
    with pytest.raises(DatasetImportError, match="annotations.csv: missing"):
        import_dataset("luna16", source, tmp_path / "build")


def test_the_reader_handles_big_endian_compressed_and_rotated_headers(tmp_path):
    voxels = np.arange(2 * 3 * 4, dtype=">i2").reshape(2, 3, 4)
    (tmp_path / "v.zraw").write_bytes(zlib.compress(voxels.tobytes()))
    (tmp_path / "v.mhd").write_text("ObjectType = Image\nNDims = 3\nBinaryDataByteOrderMSB = True\nCompressedData = True\n"
                                    "TransformMatrix = 0 1 0 -1 0 0 0 0 1\nPosition = 1 2 3\nElementSpacing = 0.5 0.6 2\n"
                                    "DimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = v.zraw\n")
    image = read_metaimage(tmp_path / "v.mhd")
    np.testing.assert_array_equal(image.voxels, voxels)
    assert image.offset == (1, 2, 3) and image.spacing == (0.5, 0.6, 2)
    np.testing.assert_array_equal(image.axes[1], [-1, 0, 0])
    (tmp_path / "v.mhd").write_text("ObjectType = Image\nNDims = 3\nTransformMatrix = 1 1 0 0 1 0 0 0 1\n"
                                    "DimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = v.zraw\n")
    with pytest.raises(MetaImageError, match="not a rotation"):
        read_metaimage(tmp_path / "v.mhd")
