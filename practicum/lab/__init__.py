"""Start, watch and stop the embedded lab: MLflow, JupyterHub and its services."""
