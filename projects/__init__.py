"""Scenario projects: specs, starter notebooks, reference solutions and baselines."""
