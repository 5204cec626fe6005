"""Sandboxes for learner code."""
