"""Evaluation protocols, one per project task (``ProjectSpec.task``): what the model is given, how it is scored.

Each module offers ``model_inputs(public_dir, hidden_dir, options)`` (named input frames the
sandboxed model predicts on) and ``score_predictions(outputs, inputs=, hidden_dir=, options=)``
(an evaluation with ``metrics`` and ``to_json()``), plus file-level verbs for the CLI.
"""

from __future__ import annotations

from types import ModuleType

from . import complication_risk, glucose_forecasting, nodule_detection

PROTOCOLS: dict[str, ModuleType] = {
    "nodule_detection": nodule_detection,
    "glucose_forecasting": glucose_forecasting,
    "complication_risk": complication_risk,
}


def protocol_for(task: str) -> ModuleType:
    try:
        return PROTOCOLS[task]
    except KeyError:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(PROTOCOLS)}") from None
