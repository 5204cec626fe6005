"""Build, de-identify, verify, split and describe the lab's datasets."""
