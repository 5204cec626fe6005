"""Replace a whole output folder at once, so a failed run never leaves a half-written one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def publish_folder(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp``; an existing ``final`` is removed only after the swap succeeded."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
