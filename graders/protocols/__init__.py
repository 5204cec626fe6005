"""Evaluation protocols, one per project task (``ProjectSpec.task``): what the model is given, how it is scored.

Each module offers:

* ``model_inputs(public_dir, hidden_dir, options, *, rng)``: the named input frames the sandboxed
  model predicts on, each in a fresh process. ``rng`` (a ``random.Random``; the grader passes
  ``random.SystemRandom()``) draws the protocol's secrets for this grading (glucose cut times,
  input order); they are published nowhere and kept in no result.
* ``max_output_rows(name, model_input, options)``: the most rows an output for that input may
  have; the grader refuses a larger table from its metadata before loading it.
* ``score_predictions(outputs, inputs=, hidden_dir=, options=)``: an evaluation with ``metrics``
  and ``to_json()``; a malformed output is a ``TableError`` naming its row (leakage:
  ``glucose_forecasting.FutureLeakage``).

plus file-level verbs for the CLI. Each module's docstring says what a model could learn from
the order, ids and count of its inputs, and why it does not help.
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
