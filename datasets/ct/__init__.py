"""Synthetic chest-CT "hospital exports" as DICOM, with LUNA16-style annotations.

Public API:

* :func:`build_ct_exports` - build ``<out>/raw/`` (DICOM, annotations, PHI manifest).
* :func:`detect_nodules` - the simple threshold-and-components detector (naive baseline).
* :func:`load_series` / :func:`series_files` - read a DICOM series back as a HU volume.
* :func:`generate_case` - one synthetic scan in memory (what a build writes, without the files).
"""

from .annotations import AnnotationRow, read_annotations, read_seriesuids, remap_series, write_annotations
from .build import CTBuildReport, build_ct_exports
from .phantom import CaseSpec, Difficulty, GeneratedCase, generate_case
from .plan import plan_build
from .series_io import CTVolume, load_series, series_files
from .simple_detector import Detections, DetectorParams, detect_nodules, lung_mask
from .sizes import SIZES, BuildSize, get_size

__all__ = [
    "SIZES",
    "AnnotationRow",
    "BuildSize",
    "CTBuildReport",
    "CTVolume",
    "CaseSpec",
    "Detections",
    "DetectorParams",
    "Difficulty",
    "GeneratedCase",
    "build_ct_exports",
    "detect_nodules",
    "generate_case",
    "get_size",
    "load_series",
    "lung_mask",
    "plan_build",
    "read_annotations",
    "read_seriesuids",
    "remap_series",
    "series_files",
    "write_annotations",
]
