"""Instructor reference: trains the classifier of the two-stage detector (:mod:`.detector`).

The two-stage design of most LUNA16 systems (Setio et al., Medical Image Analysis 2017;42:1-13):
candidates from :mod:`.candidates`, cubes labelled by :mod:`.examples`, and here the training of
the 3D CNN on the public train and val splits. Every epoch sees all positives and a fresh draw of
``negatives_per_positive`` negatives each, flipped, turned and transposed at random; AdamW with a
one-cycle learning-rate schedule.

Trains on a GPU when ``torch.cuda.is_available()``, otherwise on the CPU. Deterministic for a seed
on a device. Learners write their own training in the starter notebook; this module is the solution.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from monai.utils import set_determinism

from .detector import DetectorConfig, NoduleDetector, build_network, default_device
from .examples import TRAIN_SPLITS, Examples, training_examples


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flips along each axis per cube, an in-plane quarter turn and a transpose per batch
    (``batch`` is (N, channels, slice, row, column)); returns a new float32 array."""
    out = batch.astype(np.float32)
    for axis in (2, 3, 4):
        flip = rng.random(len(out)) < 0.5
        out[flip] = np.flip(out[flip], axis=axis)
    out = np.rot90(out, int(rng.integers(4)), axes=(3, 4))
    if rng.random() < 0.5:
        out = out.transpose(0, 1, 3, 2, 4) if rng.random() < 0.5 else out.transpose(0, 1, 4, 3, 2)
    return np.ascontiguousarray(out)


def fit_classifier(
    examples: Examples,
    config: DetectorConfig | None = None,
    *,
    seed: int = 0,
    device: torch.device | str | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Train the candidate classifier; returns its weights (numpy, CPU) and the loss per epoch."""
    config = config or DetectorConfig()
    if examples.n_positive == 0:
        raise ValueError("no positive examples: the training series hold no annotated nodules")
    set_determinism(seed=seed)
    rng = np.random.default_rng([seed, 2])
    device = torch.device(device) if device is not None else default_device()
    network = build_network(config).to(device)
    positives = np.flatnonzero(examples.labels == 1)
    negatives = np.flatnonzero(examples.labels == 0)
    n_negative = min(len(negatives), config.negatives_per_positive * len(positives))
    per_epoch = len(positives) + n_negative
    steps = max(1, -(-per_epoch // config.batch_size)) * max(1, config.max_epochs)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.learning_rate, total_steps=steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    history = []
    for epoch in range(config.max_epochs):
        started = time.perf_counter()
        network.train()
        order = np.concatenate([positives, rng.choice(negatives, n_negative, replace=False)])
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            index = np.sort(order[start : start + config.batch_size])
            x = torch.from_numpy(augment(examples.patches[index], rng)).to(device)
            y = torch.from_numpy(examples.labels[index]).to(device)
            loss = loss_fn(network(x)[:, 0], y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        history.append({"epoch": epoch + 1, "loss": total / len(order), "seconds": time.perf_counter() - started})
        if log:
            log(
                f"epoch {epoch + 1}/{config.max_epochs}: loss {total / len(order):.4f} ({history[-1]['seconds']:.1f} s)"
            )
    weights = {k: v.detach().cpu().numpy().copy() for k, v in network.state_dict().items()}
    return weights, history


def train_reference(
    public_dir: Path,
    *,
    max_epochs: int = 30,
    seed: int = 0,
    splits: Sequence[str] = TRAIN_SPLITS,
    max_series: int | None = None,
    device: torch.device | str | None = None,
    config: DetectorConfig | None = None,
    log: Callable[[str], None] | None = None,
) -> NoduleDetector:
    """Train the reference detector on the public ``splits`` (``public_dir`` holds ``ct/``)."""
    config = config or DetectorConfig()
    if max_epochs != config.max_epochs:
        config = replace(config, max_epochs=max_epochs)
    started = time.perf_counter()
    examples = training_examples(public_dir, config, splits=splits, seed=seed, max_series=max_series, log=log)
    prepared = time.perf_counter()
    weights, history = fit_classifier(examples, config, seed=seed, device=device, log=log)
    info = {
        "seed": seed,
        "splits": list(splits),
        "n_series": examples.n_series,
        "n_nodules": examples.n_nodules,
        "n_examples": len(examples.labels),
        "n_positive": examples.n_positive,
        "prepare_seconds": prepared - started,
        "fit_seconds": time.perf_counter() - prepared,
        "device": str(device or default_device()),
        "history": history,
    }
    return NoduleDetector(config, weights, info)
