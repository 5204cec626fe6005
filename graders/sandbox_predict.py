"""Runs inside the grading sandbox: load a submitted MLflow pyfunc model and predict.

    python -m practicum.graders.sandbox_predict MODEL_DIR WORK_DIR

Reads every ``WORK_DIR/inputs/<name>.parquet``, writes ``WORK_DIR/outputs/<name>.parquet``.
On failure writes the reason to ``WORK_DIR/error.txt`` and exits 1. It never sees labels:
the grader scores the outputs after the sandbox has gone.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

ERROR_FILE = "error.txt"
# The tail of a learner's traceback is enough to find their bug; the whole one may be huge.
TRACEBACK_CHARS = 4000


def predict_all(model_dir: Path, work_dir: Path) -> None:
    import mlflow.pyfunc
    import pandas as pd

    model = mlflow.pyfunc.load_model(str(model_dir))
    outputs = work_dir / "outputs"
    outputs.mkdir(exist_ok=True)
    for path in sorted((work_dir / "inputs").glob("*.parquet")):
        frame = pd.read_parquet(path)
        predicted = model.predict(frame)
        if not isinstance(predicted, pd.DataFrame):
            raise TypeError(f"predict() returned {type(predicted).__name__}; the project expects a pandas DataFrame")
        predicted.reset_index(drop=True).to_parquet(outputs / path.name, index=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    model_dir, work_dir = Path(args[0]), Path(args[1])
    try:
        predict_all(model_dir, work_dir)
    except BaseException as error:  # noqa: BLE001 - any failure of learner code is reported, not raised
        text = "".join(traceback.format_exception(error))
        (work_dir / ERROR_FILE).write_text(text[-TRACEBACK_CHARS:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
