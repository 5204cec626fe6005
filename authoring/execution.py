"""Run a notebook top to bottom with the lab's kernel (nbclient), in a folder of its own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from practicum.lab.settings import LabSettings

# The kernel of learners' servers: the lab's Python (its venv), as installed by ipykernel.
LAB_KERNEL = "python3"
DATA_ENV = "PRACTICUM_DATA_DIR"


@dataclass(frozen=True)
class CellFailure:
    cell: int  # 1-based
    error: str  # "NameError: name 'x' is not defined"


def lab_data_dir() -> Path:
    """The public datasets a notebook reads: $PRACTICUM_DATA_DIR, else the lab's (the state folder's)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    return LabSettings.from_env().public_datasets_dir


def run_notebook(
    notebook: nbformat.NotebookNode, cwd: Path, *, data_dir: Path, timeout: int = 120, env: Mapping[str, str] | None = None
) -> tuple[nbformat.NotebookNode, list[CellFailure]]:
    """Execute every cell (errors do not stop the run); returns the executed notebook and the cells that
    raised, in order. A cell that outlives ``timeout`` or a dead kernel is a failure of that cell."""
    kernel_env = {
        **os.environ,
        DATA_ENV: str(data_dir),
        # What a notebook logs goes to a folder of this run, not to anyone's MLflow.
        "MLFLOW_TRACKING_URI": (cwd / "mlruns").as_uri(),
        **(env or {}),
    }
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name=LAB_KERNEL, allow_errors=True, resources={"metadata": {"path": str(cwd)}}
    )
    failures: list[CellFailure] = []
    try:
        client.execute(env=kernel_env)
    except (CellTimeoutError, DeadKernelError) as exc:
        ran = [i for i, c in enumerate(notebook.cells) if c.get("cell_type") == "code" and c.get("execution_count")]
        failures.append(CellFailure((ran[-1] + 2) if ran else 1, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"))
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                failures.append(CellFailure(index + 1, f"{output.get('ename', 'Error')}: {str(output.get('evalue', ''))[:200]}"))
                break
    failures.sort(key=lambda f: f.cell)
    return notebook, failures
