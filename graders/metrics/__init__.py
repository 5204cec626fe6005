"""Evaluation metrics as pure functions over arrays."""
