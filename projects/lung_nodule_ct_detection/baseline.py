"""The naive baseline: the threshold and connected-components detector, as it comes.

``practicum.datasets.ct.detect_nodules`` with its default parameters: lungs by an air
threshold, dense voxels above -550 HU inside them, connected components of a nodule's size
scored by size, compactness and density. It learns nothing. It misses faint (ground-glass)
nodules below its threshold and nodules merged with a vessel or the chest wall, and it
takes vessel fragments for nodules - what a learned detector has to do better.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from practicum.datasets.ct import DetectorParams, detect_nodules

from .data import OUTPUT_COLUMNS, load_volume

DEFAULT_PARAMS = DetectorParams()


class ThresholdBaseline(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc model: (seriesuid, series_dir) rows in, LUNA16 candidate rows out."""

    def __init__(self, params: DetectorParams = DEFAULT_PARAMS) -> None:
        self.params = params

    def detect(self, seriesuid: str, series_dir: str) -> pd.DataFrame:
        volume = load_volume(series_dir, seriesuid)
        found = detect_nodules(volume.hu, volume.spacing, volume.origin, volume.direction, self.params)
        return pd.DataFrame(found.rows(seriesuid), columns=OUTPUT_COLUMNS)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        parts = [
            self.detect(str(uid), str(folder))
            for uid, folder in zip(frame["seriesuid"], frame["series_dir"], strict=True)
        ]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=OUTPUT_COLUMNS)


def build_baseline(public_dir: Path | None = None) -> ThresholdBaseline:
    """The baseline needs no training data; ``public_dir`` is accepted for a uniform interface."""
    return ThresholdBaseline()
