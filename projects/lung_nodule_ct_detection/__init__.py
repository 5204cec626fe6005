"""Scenario project: lung nodule detection on chest CT (LUNA16 protocol).

``baseline.build_baseline`` is the threshold detector; ``reference.train_reference`` the
instructor solution, which trains the classifier of ``detector.NoduleDetector`` (candidate
generation + 3D CNN false-positive reduction). Both are MLflow pyfunc models that the grader
calls with ``seriesuid, series_dir`` rows.
"""
