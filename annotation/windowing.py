"""Display windows: which HU range is spread over the grey levels.

A window of level L and width W shows HU from L - W/2 (black) to L + W/2 (white), linearly
(the usual simplification of DICOM PS3.3 C.11.2.1.2.1). The presets are the common
radiology choices for chest CT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class WindowPreset:
    name: str
    level: float
    width: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.level) and np.isfinite(self.width) and self.width > 0):
            raise ValueError(f"window {self.name!r}: level must be finite and width a positive number of HU")

    @property
    def lower(self) -> float:
        return self.level - self.width / 2

    @property
    def upper(self) -> float:
        return self.level + self.width / 2

    def apply(self, hu: NDArray[np.floating]) -> NDArray[np.uint8]:
        """Grey levels 0..255 of HU values under this window."""
        scaled = (np.asarray(hu, dtype=np.float32) - self.lower) / self.width
        return np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)

    def describe(self) -> str:
        return f"{self.name}: level {self.level:g} HU, width {self.width:g} HU ({self.lower:g} to {self.upper:g} HU)"


WINDOW_PRESETS: dict[str, WindowPreset] = {
    preset.name: preset
    for preset in (
        WindowPreset("lung", level=-600, width=1500),
        WindowPreset("mediastinum", level=40, width=400),
        WindowPreset("bone", level=400, width=1800),
    )
}
