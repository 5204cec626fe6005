"""Pieces of the lung_nodule_ct_detection reference, on small synthetic arrays (fast)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from practicum.datasets.ct import CTVolume
from practicum.projects.lung_nodule_ct_detection.candidates import CandidateParams, generate_candidates, merge_close
from practicum.projects.lung_nodule_ct_detection.data import inside, world_to_voxel
from practicum.projects.lung_nodule_ct_detection.detector import (
    DetectorConfig,
    NoduleDetector,
    build_network,
    suppress_neighbours,
)
from practicum.projects.lung_nodule_ct_detection.examples import Examples, label_candidates
from practicum.projects.lung_nodule_ct_detection.patches import extract_patches, normalise
from practicum.projects.lung_nodule_ct_detection.reference import augment, fit_classifier


def _volume(hu: np.ndarray, spacing=(2.5, 1.5, 1.5), origin=(-100.0, -120.0, -300.0), direction=None) -> CTVolume:
    return CTVolume(
        hu=hu.astype(np.float32),
        spacing=spacing,
        origin=origin,
        direction=np.eye(3) if direction is None else direction,
        series_uid="1.2.3",
        study_uid="1.2",
        sop_instance_uids=(),
    )


def _phantom(
    nodule_hu: float = 40.0,
) -> tuple[np.ndarray, tuple[float, float, float], list[tuple[float, float, float]]]:
    """Body (0 HU) with two air lungs (-850 HU), one nodule per lung; returns hu, spacing, nodule centres (k, j, i)."""
    spacing = (2.0, 2.0, 2.0)
    k, j, i = np.mgrid[0:40, 0:64, 0:64].astype(np.float64)
    hu = np.full(k.shape, -1000.0)
    body = ((j - 32) / 28) ** 2 + ((i - 32) / 30) ** 2 <= 1
    hu[body] = 0.0
    centres = [(20.0, 32.0, 18.0), (20.0, 32.0, 46.0)]
    for _, cj, ci in centres:
        lung = (((j - cj) / 16) ** 2 + ((i - ci) / 10) ** 2 <= 1) & (k > 3) & (k < 36)
        hu[lung] = -850.0
    for ck, cj, ci in centres:
        ball = ((k - ck) ** 2 + (j - cj - 3) ** 2 + (i - ci) ** 2) * 4.0 <= 3.5**2  # 7 mm diameter
        hu[ball] = nodule_hu
    return hu, spacing, [(ck, cj + 3, ci) for ck, cj, ci in centres]


def test_world_to_voxel_inverts_voxel_to_world_with_a_tilted_direction():
    angle = np.deg2rad(20.0)
    tilt = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    volume = _volume(np.zeros((10, 12, 14)), direction=tilt)
    kji = np.random.default_rng(0).uniform(0, 10, size=(50, 3))
    assert np.allclose(world_to_voxel(volume, volume.voxel_to_world(kji)), kji)
    assert world_to_voxel(volume, volume.origin).shape == (1, 3)
    assert inside(volume, [[0, 0, 0], [9, 11, 13], [9.01, 0, 0], [-0.1, 0, 0]]).tolist() == [True, True, False, False]


def test_patches_are_centred_on_sub_voxel_points_and_read_air_outside():
    image = np.zeros((30, 40, 50), dtype=np.float32)
    image[12, 20, 25] = 1.0
    spacing = (2.0, 1.0, 0.5)
    cube = extract_patches(image, np.array([[12.0, 20.0, 25.0]]), spacing, size=5, voxel_mm=1.0)[0]
    assert cube.shape == (5, 5, 5) and cube[2, 2, 2] == pytest.approx(1.0, abs=1e-4)
    # A quarter slice off (0.5 mm): samples every 1 mm = half a slice fall at 11.25, 11.75, 12.25, 12.75 slices.
    shifted = extract_patches(image, np.array([[11.75, 20.0, 25.0]]), spacing, size=5, voxel_mm=1.0)[0]
    assert shifted[:, 2, 2] == pytest.approx([0.0, 0.25, 0.75, 0.75, 0.25], abs=1e-4)
    # Against scipy's trilinear interpolation at random points.
    rng = np.random.default_rng(1)
    image = rng.random((20, 22, 24)).astype(np.float32)
    centres = rng.uniform(2, 18, size=(7, 3))
    ours = extract_patches(image, centres, spacing, size=4, voxel_mm=0.7)
    steps = (np.arange(4) - 1.5) * 0.7
    grid = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3) / np.asarray(spacing)
    theirs = np.stack(
        [
            ndimage.map_coordinates(image, (c + grid).T, order=1, mode="constant", cval=0.0).reshape(4, 4, 4)
            for c in centres
        ]
    )
    assert np.allclose(ours, theirs, atol=1e-5)
    far = extract_patches(image, np.array([[-50.0, -50.0, -50.0]]), spacing, size=3)
    assert not far.any()
    assert extract_patches(image, np.zeros((0, 3)), spacing, size=3).shape == (0, 3, 3, 3)


def test_normalise_clips_to_the_lung_window():
    assert normalise(np.array([-2000.0, -1000.0, -300.0, 400.0, 3000.0])).tolist() == pytest.approx([0, 0, 0.5, 1, 1])


def test_candidates_find_solid_and_faint_nodules_in_a_phantom():
    for nodule_hu in (40.0, -600.0):  # solid, ground glass (below the baseline's -550 HU threshold)
        hu, spacing, centres = _phantom(nodule_hu)
        found = generate_candidates(hu, spacing, CandidateParams())
        assert len(found) >= 2
        for centre in centres:
            distance = np.linalg.norm((found.kji - np.asarray(centre)) * np.asarray(spacing), axis=1)
            assert distance.min() < 3.5 / 2, (nodule_hu, centre, distance.min())


def test_merge_close_keeps_the_first_of_each_cluster():
    points = np.array([[0, 0, 0], [0, 0, 0.5], [0, 0, 5], [0, 0, 5.2]], dtype=float)
    assert merge_close(points, (1.0, 1.0, 1.0), 1.0).tolist() == [0, 2]
    assert merge_close(points, (1.0, 1.0, 1.0), 0.0).tolist() == [0, 1, 2, 3]


def test_labels_follow_the_luna16_hit_rule_with_excluded_findings():
    nodules = pd.DataFrame({"coordX": [0.0], "coordY": [0.0], "coordZ": [0.0], "diameter_mm": [6.0]})
    excluded = pd.DataFrame(
        {"coordX": [50.0, 0.0], "coordY": [0.0, 0.0], "coordZ": [0.0, 0.0], "diameter_mm": [-1.0, 20.0]}
    )
    xyz = np.array([[0.0, 0.0, 2.9], [0.0, 0.0, 3.0], [54.0, 0.0, 0.0], [56.0, 0.0, 0.0], [0.0, 0.0, 8.0]])
    hit, ignored = label_candidates(xyz, nodules, excluded)
    assert hit.tolist() == [True, False, False, False, False]
    assert ignored.tolist() == [False, True, True, False, True]


def test_suppression_keeps_the_most_probable_of_neighbours():
    xyz = np.array([[0, 0, 0], [0, 0, 3], [0, 0, 10], [0, 0, 4.5]], dtype=float)
    p = np.array([0.5, 0.9, 0.4, 0.3])
    assert suppress_neighbours(xyz, p, 4.0).tolist() == [1, 2]
    assert suppress_neighbours(xyz, p, 0.0).tolist() == [1, 0, 2, 3]


def test_augment_keeps_shape_and_content():
    rng = np.random.default_rng(0)
    batch = rng.random((6, 2, 5, 5, 5)).astype(np.float32)
    out = augment(batch, rng)
    assert out.shape == batch.shape and out.flags["C_CONTIGUOUS"]
    assert np.allclose(np.sort(out.reshape(6, -1), axis=1), np.sort(batch.reshape(6, -1), axis=1))


def _tiny_examples(config: DetectorConfig, n: int = 48) -> Examples:
    rng = np.random.default_rng(3)
    size, channels = config.patch_size, len(config.scales_mm)
    patches = rng.random((n, channels, size, size, size)).astype(np.float32) * 0.2
    labels = (np.arange(n) % 4 == 0).astype(np.float32)
    centre = slice(size // 2 - 2, size // 2 + 2)
    patches[labels == 1, :, centre, centre, centre] += 0.8  # positives: a bright blob in the middle
    return Examples(patches=patches, labels=labels, n_series=1, n_nodules=int(labels.sum()))


def test_training_is_deterministic_for_a_seed_and_the_model_pickles(tmp_path):
    import mlflow.pyfunc

    config = DetectorConfig(patch_size=12, channels=(4, 8), max_epochs=2, batch_size=16)
    examples = _tiny_examples(config)
    first, history = fit_classifier(examples, config, seed=5, device="cpu")
    second, _ = fit_classifier(examples, config, seed=5, device="cpu")
    other, _ = fit_classifier(examples, config, seed=6, device="cpu")
    assert len(history) == 2 and all(np.isfinite(h["loss"]) for h in history)
    assert set(first) == set(build_network(config).state_dict())
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert any(not np.array_equal(first[k], other[k]) for k in first if first[k].dtype.kind == "f")

    detector = NoduleDetector(config, first)
    scores = detector.score_patches(examples.patches[:8])
    assert scores.shape == (8,) and np.all((scores > 0) & (scores < 1))
    mlflow.pyfunc.save_model(str(tmp_path / "model"), python_model=detector)
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "model")).unwrap_python_model()
    assert np.allclose(loaded.score_patches(examples.patches[:8]), scores)
    empty = loaded.predict(None, pd.DataFrame({"seriesuid": [], "series_dir": []}))
    assert list(empty.columns) == ["seriesuid", "coordX", "coordY", "coordZ", "probability"] and len(empty) == 0


def test_training_refuses_examples_without_nodules():
    config = DetectorConfig(patch_size=12, channels=(4, 8), max_epochs=1)
    examples = dataclasses.replace(_tiny_examples(config), labels=np.zeros(48, dtype=np.float32))
    with pytest.raises(ValueError, match="no positive examples"):
        fit_classifier(examples, config, device="cpu")
