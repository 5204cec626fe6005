"""Errors that the CLI reports as one clear line (no traceback)."""


class LabError(RuntimeError):
    """Something the user can fix: a port in use, a missing tool, an unreadable folder."""
