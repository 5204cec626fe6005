"""Figures of an evaluation (FROC curve, Clarke error grid, calibration and ROC), for MLflow and the CLI."""

from __future__ import annotations

# Figures are made with matplotlib's object API (no pyplot): importing this module leaves the
# backend alone, so a notebook that imports it still shows its own figures inline.
from matplotlib.figure import Figure

from .metrics.glucose import clarke_zones
from .metrics.risk import roc_curve
from .protocols.complication_risk import RiskEvaluation
from .protocols.glucose_forecasting import GlucoseEvaluation
from .protocols.nodule_detection import FrocEvaluation

ZONE_COLOURS = {"A": "tab:green", "B": "tab:blue", "C": "tab:orange", "D": "tab:red", "E": "black"}


def froc_figure(evaluation: FrocEvaluation) -> Figure:
    figure = Figure(figsize=(6, 4.5))
    axes = figure.subplots()
    # The curve runs on to the plot's right edge at its last sensitivity; 0 FP/scan sits at the left edge.
    fps = [max(f, 1 / 16) for f in evaluation.curve_fps_per_scan] + [16.0]
    sensitivity = [*evaluation.curve_sensitivity, evaluation.curve_sensitivity[-1] if evaluation.curve_sensitivity else 0.0]
    axes.step(fps, sensitivity, where="post", label="FROC")
    axes.plot(evaluation.fp_rates, evaluation.sensitivities, "o", label="LUNA16 operating points")
    axes.set_xscale("log", base=2)
    axes.set_xlim(1 / 16, 16)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("false positives per scan")
    axes.set_ylabel("sensitivity")
    axes.set_title(
        f"CPM {evaluation.cpm:.3f} (95 % CI {evaluation.cpm_ci_lower:.3f}-{evaluation.cpm_ci_upper:.3f}), "
        f"{evaluation.n_scans} scans, {evaluation.n_nodules} nodules"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    return figure


def clarke_figure(evaluation: GlucoseEvaluation, horizon: int) -> Figure:
    reference, predicted = evaluation.points[horizon]
    zones = clarke_zones(reference, predicted)
    figure = Figure(figsize=(5.5, 5.5))
    axes = figure.subplots()
    for zone, colour in ZONE_COLOURS.items():
        chosen = zones == zone
        if chosen.any():
            axes.scatter(reference[chosen], predicted[chosen], s=3, alpha=0.4, color=colour, label=f"{zone}: {100 * chosen.mean():.1f} %")
    # Zone boundaries after Clarke et al. 1987.
    edge = 400
    lines = [
        ([0, 175 / 3], [70, 70]), ([175 / 3, edge / 1.2], [70, edge]), ([70, edge], [56, 0.8 * edge]),
        ([70, 70], [0, 56]), ([70, 70], [84, edge]), ([0, 70], [180, 180]), ([70, 290], [180, edge]),
        ([130, 180], [0, 70]), ([180, edge], [70, 70]), ([240, 240], [70, 180]), ([240, edge], [180, 180]),
    ]
    for xs, ys in lines:
        axes.plot(xs, ys, color="grey", linewidth=0.8)
    axes.plot([0, edge], [0, edge], ":", color="grey", linewidth=0.8)
    axes.set_xlim(0, edge)
    axes.set_ylim(0, edge)
    axes.set_xlabel("reference glucose (mg/dL)")
    axes.set_ylabel(f"{horizon}-minute forecast (mg/dL)")
    axes.set_title(f"Clarke error grid, {horizon} min ahead")
    axes.legend(loc="upper left", markerscale=4, fontsize=8)
    figure.tight_layout()
    return figure


def risk_figure(evaluation: RiskEvaluation) -> Figure:
    assert evaluation.points is not None
    outcome, probability = evaluation.points
    figure = Figure(figsize=(10, 4.5))
    roc_axes, calibration_axes = figure.subplots(1, 2)
    fpr, tpr, _ = roc_curve(outcome, probability)
    roc_axes.plot(fpr, tpr, label=f"AUROC {evaluation.auroc:.3f}")
    roc_axes.plot([0, 1], [0, 1], ":", color="grey")
    roc_axes.set_xlabel("1 - specificity")
    roc_axes.set_ylabel("sensitivity")
    roc_axes.set_title(f"ROC, {evaluation.label}")
    roc_axes.legend(loc="lower right")
    calibration = evaluation.calibration
    calibration_axes.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
    calibration_axes.plot(calibration["prob_pred"], calibration["prob_true"], "o-", label=f"Brier {evaluation.brier:.3f}, ECE {evaluation.ece:.3f}")
    calibration_axes.set_xlabel("mean predicted probability")
    calibration_axes.set_ylabel("observed frequency")
    calibration_axes.set_title("calibration (10 bins)")
    calibration_axes.legend(loc="upper left")
    figure.tight_layout()
    return figure


def figures_for(evaluation: object) -> dict[str, Figure]:
    """File name -> figure for any protocol's evaluation."""
    if isinstance(evaluation, FrocEvaluation):
        return {"froc.png": froc_figure(evaluation)}
    if isinstance(evaluation, GlucoseEvaluation):
        return {f"clarke_{h}min.png": clarke_figure(evaluation, h) for h in sorted(evaluation.points)}
    if isinstance(evaluation, RiskEvaluation) and evaluation.points is not None:
        return {"roc_calibration.png": risk_figure(evaluation)}
    return {}


def close(figures: dict[str, Figure]) -> None:
    """Free the figures' artists (pyplot never held them: there is nothing to unregister)."""
    for figure in figures.values():
        figure.clear()


