"""Synthetic hospital exports (EHR tables, clinical notes, CGM) with planted PHI, for de-identification."""

from .build import SIZES, BuildSize, EHRBuildReport, build_ehr_exports
from .features import patient_features, read_tables
from .manifest import PHIManifest

__all__ = ["SIZES", "BuildSize", "EHRBuildReport", "PHIManifest", "build_ehr_exports", "patient_features", "read_tables"]
