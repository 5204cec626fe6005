"""Training cubes for the candidate classifier, labelled by the LUNA16 hit rule.

Every candidate of an annotated series gives a cube: positive when it lies within a nodule's radius,
left out when it lies only on an excluded finding, negative otherwise. Each nodule also gives
jittered cubes around its annotated centre, so that nodules the generator missed still teach the
network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from practicum.datasets.ct import CTVolume
from practicum.graders.metrics.froc import hit_matrix

from .candidates import generate_candidates
from .data import load_volume, read_annotations, series_table, world_to_voxel
from .detector import DetectorConfig, candidate_cubes

TRAIN_SPLITS = ("train", "val")


@dataclass
class Examples:
    """Training cubes (N, scales, S, S, S) in [0, 1] (float16) and their labels (1 nodule, 0 not)."""

    patches: np.ndarray
    labels: np.ndarray
    n_series: int = 0
    n_nodules: int = 0

    @property
    def n_positive(self) -> int:
        return int(self.labels.sum())


def label_candidates(xyz: np.ndarray, nodules: pd.DataFrame, excluded: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(is a nodule hit, is only an excluded finding hit) per candidate, by the LUNA16 hit rule."""
    hit = _within(xyz, nodules)
    ignored = _within(xyz, excluded) & ~hit
    return hit, ignored


def _within(xyz: np.ndarray, findings: pd.DataFrame) -> np.ndarray:
    if len(findings) == 0 or len(xyz) == 0:
        return np.zeros(len(xyz), dtype=bool)
    centres = findings[["coordX", "coordY", "coordZ"]].to_numpy(dtype=np.float64)
    return hit_matrix(xyz, centres, findings["diameter_mm"].to_numpy(dtype=np.float64)).any(axis=1)


def series_examples(
    volume: CTVolume,
    nodules: pd.DataFrame,
    excluded: pd.DataFrame,
    config: DetectorConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Cubes and labels of one annotated series: its candidates plus jittered nodule centres."""
    found = generate_candidates(volume.hu, volume.spacing, config.candidates)
    xyz = volume.voxel_to_world(found.kji)
    hit, ignored = label_candidates(xyz, nodules, excluded)
    kji, labels = found.kji[~ignored], hit[~ignored].astype(np.float32)
    if len(nodules) and config.jitter_per_nodule > 0:
        centres = nodules[["coordX", "coordY", "coordZ"]].to_numpy(dtype=np.float64)
        diameter = nodules["diameter_mm"].to_numpy(dtype=np.float64)
        jitter = (
            rng.normal(0.0, 1.0, size=(len(centres), config.jitter_per_nodule, 3)) * (diameter / 8.0)[:, None, None]
        )
        jitter[:, 0, :] = 0.0  # the centre itself, then jittered copies
        extra = world_to_voxel(volume, (centres[:, None, :] + jitter).reshape(-1, 3))
        kji = np.concatenate([kji, extra])
        labels = np.concatenate([labels, np.ones(len(extra), dtype=np.float32)])
    # float16 halves the memory of the training set; [0, 1] intensities keep 3 significant digits.
    return candidate_cubes(volume, kji, config).astype(np.float16), labels


def training_examples(
    public_dir: Path,
    config: DetectorConfig | None = None,
    *,
    splits: Sequence[str] = TRAIN_SPLITS,
    seed: int = 0,
    max_series: int | None = None,
    log: Callable[[str], None] | None = None,
) -> Examples:
    """Cubes and labels from the annotated public splits (at most ``max_series`` series in all)."""
    config = config or DetectorConfig()
    rng = np.random.default_rng([seed, 1])
    patches, labels, n_series, n_nodules = [], [], 0, 0
    for split in splits:
        table = series_table(public_dir, split)
        nodules = read_annotations(public_dir, split)
        excluded = read_annotations(public_dir, split, excluded=True)
        for uid, folder in zip(table["seriesuid"], table["series_dir"], strict=True):
            if max_series is not None and n_series >= max_series:
                break
            started = time.perf_counter()
            volume = load_volume(folder, uid)
            these = nodules[nodules["seriesuid"] == uid]
            p, y = series_examples(volume, these, excluded[excluded["seriesuid"] == uid], config, rng)
            patches.append(p)
            labels.append(y)
            n_series += 1
            n_nodules += len(these)
            if log:
                log(
                    f"{split} {uid[-12:]}: {len(y)} cubes, {int(y.sum())} positive ({time.perf_counter() - started:.1f} s)"
                )
    size, channels = config.patch_size, len(config.scales_mm)
    return Examples(
        patches=np.concatenate(patches) if patches else np.zeros((0, channels, size, size, size), np.float16),
        labels=np.concatenate(labels) if labels else np.zeros(0, np.float32),
        n_series=n_series,
        n_nodules=n_nodules,
    )
