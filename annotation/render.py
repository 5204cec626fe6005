"""A slice as an RGB picture: windowed grey levels, the cursor and the marks that cut the slice."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from matplotlib import image as mpimage
from numpy.typing import NDArray

from .geometry import VolumeGeometry
from .session import Mark
from .windowing import WindowPreset

MARK_COLOUR = (255, 200, 0)
SELECTED_COLOUR = (255, 60, 60)
CURSOR_COLOUR = (0, 200, 255)


def render_slice(
    hu_slice: NDArray[np.floating],
    window: WindowPreset,
    *,
    geometry: VolumeGeometry,
    slice_index: int,
    marks: Sequence[tuple[int, Mark]] = (),
    selected: int | None = None,
    cursor: tuple[int, int] | None = None,
    scale: int = 3,
) -> NDArray[np.uint8]:
    """(rows*scale, columns*scale, 3) uint8: the windowed slice, each mark drawn as the circle where
    its sphere cuts this slice, the cursor (row, column) as a cross."""
    grey = window.apply(hu_slice)
    rgb = np.repeat(np.repeat(np.stack([grey] * 3, axis=-1), scale, axis=0), scale, axis=1)
    rows, cols = grey.shape
    dz, dy, dx = geometry.spacing
    for index, mark in marks:
        k, j, i = geometry.world_to_voxel(np.asarray(mark.xyz))
        half = mark.diameter_mm / 2
        offset = abs(slice_index - k) * dz
        if offset >= half:
            continue
        radius_mm = math.sqrt(half * half - offset * offset)
        colour = SELECTED_COLOUR if index == selected else MARK_COLOUR
        _ring(rgb, (j + 0.5) * scale, (i + 0.5) * scale, radius_mm / dy * scale, radius_mm / dx * scale, colour)
    if cursor is not None:
        r, c = cursor
        if 0 <= r < rows and 0 <= c < cols:
            centre_r, centre_c, arm = int((r + 0.5) * scale), int((c + 0.5) * scale), 3 * scale
            rgb[max(centre_r - arm, 0) : centre_r + arm + 1, centre_c] = CURSOR_COLOUR
            rgb[centre_r, max(centre_c - arm, 0) : centre_c + arm + 1] = CURSOR_COLOUR
    return rgb


def png_bytes(rgb: NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    mpimage.imsave(buffer, rgb, format="png")
    return buffer.getvalue()


def _ring(rgb: NDArray[np.uint8], cr: float, cc: float, radius_r: float, radius_c: float, colour: tuple[int, int, int]) -> None:
    radius_r, radius_c = max(radius_r, 1.5), max(radius_c, 1.5)
    angles = np.linspace(0, 2 * np.pi, max(int(8 * max(radius_r, radius_c)), 16), endpoint=False)
    r = np.round(cr + radius_r * np.sin(angles)).astype(int)
    c = np.round(cc + radius_c * np.cos(angles)).astype(int)
    inside = (r >= 0) & (r < rgb.shape[0]) & (c >= 0) & (c < rgb.shape[1])
    rgb[r[inside], c[inside]] = colour
