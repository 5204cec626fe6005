"""The capability framework: what each dimension, level and role target means (ids from practicum.contracts)."""

from __future__ import annotations

from dataclasses import dataclass

from practicum.contracts.capabilities import Dimension, Level, RoleTarget

LEVEL_VALUES: dict[Level, int] = {
    Level.NONE: 0, Level.AWARE: 1, Level.PRACTITIONER: 2, Level.PROFICIENT: 3, Level.EXPERT: 4,
}
MAX_LEVEL = 4

LEVEL_DESCRIPTIONS: dict[Level, str] = {
    Level.NONE: "No evidence of the capability.",
    Level.AWARE: "Knows the concepts and vocabulary; needs guidance to apply them.",
    Level.PRACTITIONER: "Applies the capability to routine tasks with light review.",
    Level.PROFICIENT: "Delivers independently on realistic clinical AI problems.",
    Level.EXPERT: "Sets practice for others; handles novel and high-risk cases.",
}

DIMENSION_TITLES: dict[Dimension, str] = {
    Dimension.ML_ENGINEERING: "ML engineering",
    Dimension.MEDICAL_IMAGING: "Medical imaging",
    Dimension.CLINICAL_DATA: "Clinical data (EHR, CGM, time series)",
    Dimension.MEDICAL_STATISTICS: "Medical statistics and evaluation",
    Dimension.CLINICAL_SCENARIO: "Clinical-scenario understanding",
    Dimension.COMMUNICATION: "Communication and teamwork",
    Dimension.PRIVACY_COMPLIANCE: "Data privacy and compliance",
}

# Target level per dimension for each role (what "ready for the role" means).
ROLE_TARGETS: dict[RoleTarget, dict[Dimension, int]] = {
    RoleTarget.ALGORITHM_ENGINEER: {
        Dimension.ML_ENGINEERING: 3, Dimension.MEDICAL_IMAGING: 3, Dimension.CLINICAL_DATA: 2,
        Dimension.MEDICAL_STATISTICS: 3, Dimension.CLINICAL_SCENARIO: 2, Dimension.COMMUNICATION: 2,
        Dimension.PRIVACY_COMPLIANCE: 2,
    },
    RoleTarget.CLINICAL_AI_PRODUCT_MANAGER: {
        Dimension.ML_ENGINEERING: 2, Dimension.MEDICAL_IMAGING: 1, Dimension.CLINICAL_DATA: 2,
        Dimension.MEDICAL_STATISTICS: 2, Dimension.CLINICAL_SCENARIO: 3, Dimension.COMMUNICATION: 3,
        Dimension.PRIVACY_COMPLIANCE: 3,
    },
    RoleTarget.CLINICIAN: {
        Dimension.ML_ENGINEERING: 1, Dimension.MEDICAL_IMAGING: 2, Dimension.CLINICAL_DATA: 2,
        Dimension.MEDICAL_STATISTICS: 2, Dimension.CLINICAL_SCENARIO: 4, Dimension.COMMUNICATION: 3,
        Dimension.PRIVACY_COMPLIANCE: 2,
    },
}

ROLE_TITLES: dict[RoleTarget, str] = {
    RoleTarget.ALGORITHM_ENGINEER: "Algorithm engineer",
    RoleTarget.CLINICAL_AI_PRODUCT_MANAGER: "Clinical AI product manager",
    RoleTarget.CLINICIAN: "Clinician",
}

DIMENSIONS: tuple[str, ...] = tuple(d.value for d in Dimension)


def level_of(value: float) -> Level:
    """The level a profile value has reached (values are in [0, 4]; 2.9 is still 'practitioner')."""
    reached = min(MAX_LEVEL, max(0, int(value + 1e-9)))
    return next(level for level, number in LEVEL_VALUES.items() if number == reached)


@dataclass(frozen=True)
class Gap:
    dimension: str
    value: float
    target: int

    @property
    def missing(self) -> float:
        return max(0.0, round(self.target - self.value, 4))


def gaps(values: dict[str, float], role: RoleTarget) -> list[Gap]:
    return [Gap(d.value, values.get(d.value, 0.0), t) for d, t in ROLE_TARGETS[role].items()]
