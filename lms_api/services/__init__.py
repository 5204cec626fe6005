"""Keyword-only functions over a Session: one verb each, shared by the API and the admin CLI."""
