"""The annotation tool of the imaging course: mark nodules on de-identified CT, export LUNA16 CSV.

The logic (geometry, windowing, the marks and their export) lives in plain classes
(:mod:`.geometry`, :mod:`.windowing`, :mod:`.session`, :mod:`.scans`); :mod:`.viewer` only wires
them to Jupyter widgets.
"""

from .geometry import VolumeGeometry
from .scans import PRACTICE_SPLIT, Scan, load_scans, practice_series
from .session import ANNOTATION_COLUMNS, AnnotationError, AnnotationSession, Mark
from .viewer import AnnotationViewer, open_practice_viewer
from .windowing import WINDOW_PRESETS, WindowPreset

__all__ = [
    "ANNOTATION_COLUMNS",
    "PRACTICE_SPLIT",
    "WINDOW_PRESETS",
    "AnnotationError",
    "AnnotationSession",
    "AnnotationViewer",
    "Mark",
    "Scan",
    "VolumeGeometry",
    "WindowPreset",
    "load_scans",
    "open_practice_viewer",
    "practice_series",
]
