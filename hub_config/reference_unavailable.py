"""Bound over every ``projects/<id>/reference.py`` inside the lab's sandboxes (see sandbox.py)."""

raise ImportError(
    "The instructor reference solutions are not available in the lab's sandboxes: build your own "
    "model from the project's other modules (data, features, model, detector...) and the notebook."
)
