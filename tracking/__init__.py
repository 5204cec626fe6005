"""The hub-authenticated MLflow gateway: learners reach MLflow only through it, and only as themselves."""
