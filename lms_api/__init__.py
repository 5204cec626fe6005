"""The LMS: people, progress, results, capability profiles, learning paths, HR API."""
