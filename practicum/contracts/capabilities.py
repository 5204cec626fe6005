"""Stable identifiers of the capability framework: dimensions, levels, role targets.

The LMS owns what each means and how evidence moves it; projects and graders only
name these identifiers (e.g. in project.yaml, weights per dimension).
"""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    ML_ENGINEERING = "ml_engineering"
    MEDICAL_IMAGING = "medical_imaging"
    CLINICAL_DATA = "clinical_data"
    MEDICAL_STATISTICS = "medical_statistics"
    CLINICAL_SCENARIO = "clinical_scenario"
    COMMUNICATION = "communication_teamwork"
    PRIVACY_COMPLIANCE = "data_privacy_compliance"


class Level(StrEnum):
    """Ordered from none to expert; the LMS maps them to numbers 0..4."""

    NONE = "none"
    AWARE = "aware"
    PRACTITIONER = "practitioner"
    PROFICIENT = "proficient"
    EXPERT = "expert"


class RoleTarget(StrEnum):
    ALGORITHM_ENGINEER = "algorithm_engineer"
    CLINICAL_AI_PRODUCT_MANAGER = "clinical_ai_product_manager"
    CLINICIAN = "clinician"
