"""Persistence: tables, engine/session factories, migrations."""
