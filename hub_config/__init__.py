"""JupyterHub configuration shared by the embedded (local) lab and the Kubernetes deployment."""
