"""Typed, versioned contracts between the rooms (see ARCHITECTURE.md, "Contracts").

Rooms that must not import each other (graders and lms_api) share these models
instead; nothing here imports a room.
"""
