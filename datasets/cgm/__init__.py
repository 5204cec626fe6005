"""Synthetic continuous glucose monitoring of type-1 patients from a physiological model."""

from .forecast import persistence_errors, persistence_rmse
from .simulate import CGMSimulation, LoggedEvent, simulate_cohort

__all__ = ["CGMSimulation", "LoggedEvent", "persistence_errors", "persistence_rmse", "simulate_cohort"]
