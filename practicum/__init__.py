"""Practicum: a Jupyter-hosted training lab for engineers who build AI for medicine."""

__version__ = "0.1.0"
