"""What an authoring verb reports when a course is not right: one precise line per fault."""

from __future__ import annotations


class AuthoringError(Exception):
    """A course (file, folder or notebook) cannot be used as it is; the message says where and how to fix it."""
