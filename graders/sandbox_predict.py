"""Runs inside the grading sandbox: load a submitted MLflow pyfunc model and predict one input.

    python -m practicum.graders.sandbox_predict MODEL_DIR INPUT_PARQUET

Writes the prediction table as Parquet to the sandbox's result channel (its standard output, set
aside before the model is loaded; anything the model prints goes to the log). A failure of the
model's code is printed to the log and ends with status ``LEARNER_ERROR``. One process predicts
one input: the grader starts a fresh sandbox for each, so a model keeps no state between them.
It never sees labels: the grader scores the table after the sandbox has gone.
"""

from __future__ import annotations

import os
import sys
import traceback

LEARNER_ERROR = 3
# The tail of a learner's traceback is enough to find their bug; the whole one may be huge.
TRACEBACK_CHARS = 4000


def result_channel():
    """The original stdout as a binary file; fd 1 then points at the log, so prints cannot corrupt results."""
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def predict_one(model_dir: str, input_path: str, channel) -> None:
    import mlflow.pyfunc
    import pandas as pd

    model = mlflow.pyfunc.load_model(model_dir)
    predicted = model.predict(pd.read_parquet(input_path))
    if not isinstance(predicted, pd.DataFrame):
        raise TypeError(f"predict() returned {type(predicted).__name__}; the project expects a pandas DataFrame")
    predicted.reset_index(drop=True).to_parquet(channel, index=False)
    channel.flush()


def report(error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    sys.stderr.write(text[-TRACEBACK_CHARS:])
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    channel = result_channel()
    try:
        predict_one(args[0], args[1], channel)
    except BaseException as error:  # noqa: BLE001 - any failure of learner code is reported, not raised
        report(error)
        return LEARNER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
