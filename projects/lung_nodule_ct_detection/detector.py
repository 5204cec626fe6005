"""The two-stage nodule detector as a submitted model: candidates, then a 3D CNN scores them.

Shared by the reference solution and the starter notebook (learners train their own weights):

1. :mod:`.candidates` proposes nearly every nodule at the price of several hundred candidates per scan.
2. A small 3D convolutional classifier (MONAI's ``Classifier``: strided convolutions with instance
   norm and PReLU, then a linear layer) gives each candidate a nodule probability from two cubes
   around it, resampled to fixed grids (:func:`candidate_cubes`: 20 voxels of 2 mm for context and
   of 1 mm for detail, as two channels).
3. The probabilities of the cube and four flipped or transposed copies are averaged, candidates
   closer than ``nms_mm`` to a more probable one are dropped, and the ``max_per_series`` most
   probable remain.

The weights are kept as numpy arrays, so a model trained on a GPU predicts anywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch
from monai.networks.nets import Classifier

from practicum.datasets.ct import CTVolume

from .candidates import CandidateParams, generate_candidates, keep_apart
from .data import OUTPUT_COLUMNS, load_volume
from .patches import extract_patches, normalise


@dataclass(frozen=True)
class DetectorConfig:
    """Everything that fixes a detector besides its training data, seed and weights."""

    patch_size: int = 20
    scales_mm: tuple[float, ...] = (2.0, 1.0)
    channels: tuple[int, ...] = (16, 32, 64)
    dropout: float = 0.1
    max_epochs: int = 30
    negatives_per_positive: int = 3
    jitter_per_nodule: int = 8
    batch_size: int = 64
    learning_rate: float = 4e-3
    weight_decay: float = 1e-4
    nms_mm: float = 5.0
    max_per_series: int = 100
    test_time_flips: bool = True
    candidates: CandidateParams = field(default_factory=CandidateParams)

    def to_json(self) -> dict:
        return asdict(self)


def build_network(config: DetectorConfig) -> torch.nn.Module:
    size = config.patch_size
    return Classifier(
        in_shape=(len(config.scales_mm), size, size, size),
        classes=1,
        channels=tuple(config.channels),
        strides=(2,) * len(config.channels),
        num_res_units=0,
        dropout=config.dropout,
    )


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def candidate_cubes(volume: CTVolume, kji: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """(N, scales, S, S, S) cubes around voxel positions ``kji``: one channel per scale in ``scales_mm``."""
    image = normalise(volume.hu)
    return np.stack(
        [extract_patches(image, kji, volume.spacing, size=config.patch_size, voxel_mm=mm) for mm in config.scales_mm],
        axis=1,
    )


class NoduleDetector(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc model: (seriesuid, series_dir) rows in; seriesuid, coordX, coordY, coordZ,
    probability rows out (world mm, at most ``config.max_per_series`` per series)."""

    def __init__(self, config: DetectorConfig, weights: dict[str, np.ndarray], info: dict | None = None) -> None:
        self.config = config
        self.weights = weights
        self.info = info or {}
        self._network: torch.nn.Module | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_network"] = None
        return state

    def network(self) -> torch.nn.Module:
        if self._network is None:
            network = build_network(self.config)
            network.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.weights.items()})
            self._network = network.to(default_device()).eval()
        return self._network

    def score_patches(self, patches: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Nodule probability of each (channels, S, S, S) cube (mean over flipped copies when ``test_time_flips``)."""
        if len(patches) == 0:
            return np.zeros(0)
        network = self.network()
        device = next(network.parameters()).device
        views = [patches]
        if self.config.test_time_flips:
            views += [np.flip(patches, axis=a) for a in (2, 3, 4)] + [patches.transpose(0, 1, 2, 4, 3)]
        scores = []
        with torch.no_grad():
            for view in views:
                view = np.ascontiguousarray(view)
                parts = [
                    torch.sigmoid(network(torch.from_numpy(view[i : i + batch_size]).to(device))[:, 0]).cpu().numpy()
                    for i in range(0, len(view), batch_size)
                ]
                scores.append(np.concatenate(parts).astype(np.float64))
        return np.mean(scores, axis=0)

    def detect(self, volume: CTVolume) -> tuple[np.ndarray, np.ndarray]:
        """World centres (N, 3) and probabilities (N,) of the kept candidates, most probable first."""
        config = self.config
        found = generate_candidates(volume.hu, volume.spacing, config.candidates)
        if len(found) == 0:
            return np.zeros((0, 3)), np.zeros(0)
        probability = self.score_patches(candidate_cubes(volume, found.kji, config))
        xyz = volume.voxel_to_world(found.kji)
        keep = suppress_neighbours(xyz, probability, config.nms_mm)[: config.max_per_series]
        return xyz[keep], probability[keep]

    def predict_series(self, seriesuid: str, series_dir: str) -> pd.DataFrame:
        xyz, probability = self.detect(load_volume(series_dir, seriesuid))
        return pd.DataFrame(
            {
                "seriesuid": [seriesuid] * len(probability),
                "coordX": xyz[:, 0],
                "coordY": xyz[:, 1],
                "coordZ": xyz[:, 2],
                "probability": probability,
            },
            columns=OUTPUT_COLUMNS,
        )

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        parts = [
            self.predict_series(str(u), str(d)) for u, d in zip(frame["seriesuid"], frame["series_dir"], strict=True)
        ]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="float64") for c in OUTPUT_COLUMNS}).astype({"seriesuid": str})
        return pd.concat(parts, ignore_index=True)


def suppress_neighbours(xyz: np.ndarray, probability: np.ndarray, radius_mm: float) -> np.ndarray:
    """Indices, most probable first, of candidates with no more probable kept one within ``radius_mm``."""
    return keep_apart(xyz, np.argsort(-probability, kind="stable"), radius_mm)
