"""Bound over every ``projects/<id>/reference.py`` in the lab's sandboxes (see project_modules.py)."""

raise ImportError(
    "The instructor reference solutions are not available in the lab's sandboxes: build your own "
    "model from the project's other modules (data, features, model, detector...) and the notebook."
)
