"""Evaluate submissions: metrics, targets, sandboxed execution, autograding, MLflow records."""
