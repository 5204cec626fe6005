"""Plotly figures (data and layout as plain JSON) for the pages; the browser draws them with plotly.js.

Each chart on a page also has its numbers in a table next to it (the text alternative).
"""

from __future__ import annotations

from typing import Any

from ..schemas.course_reports import SCORE_BINS

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
_FONT = {"family": "system-ui, sans-serif", "size": 13, "color": "#1a1a1a"}
BIN_LABELS = [f"{i * 100 // SCORE_BINS}-{(i + 1) * 100 // SCORE_BINS}%" for i in range(SCORE_BINS)]


def _layout(**extra: Any) -> dict[str, Any]:
    return {"font": _FONT, "margin": {"l": 48, "r": 24, "t": 24, "b": 48}, "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff", **extra}


def radar(dimensions: list[dict[str, Any]]) -> dict[str, Any]:
    """The profile's values against the role target, one spoke per dimension (levels 0-4)."""
    titles = [d["title"] for d in dimensions]
    closed = [*titles, titles[0]] if titles else []
    traces = [{
        "type": "scatterpolar", "name": "Profile", "r": [d["value"] for d in dimensions] + [dimensions[0]["value"]],
        "theta": closed, "fill": "toself", "line": {"color": COLOURS[0]},
    }] if dimensions else []
    if dimensions and all(d["target"] is not None for d in dimensions):
        traces.append({
            "type": "scatterpolar", "name": "Role target", "r": [d["target"] for d in dimensions] + [dimensions[0]["target"]],
            "theta": closed, "line": {"color": COLOURS[1], "dash": "dash"},
        })
    return {"data": traces, "layout": _layout(
        polar={"radialaxis": {"range": [0, 4], "dtick": 1}}, showlegend=True, height=420,
        legend={"orientation": "h"}, margin={"l": 110, "r": 110, "t": 32, "b": 32},
    )}


def history(changes: list[dict[str, Any]], titles: dict[str, str]) -> dict[str, Any]:
    """Each dimension's value after every change, over time (a step line per dimension)."""
    by_dimension: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        by_dimension.setdefault(change["dimension"], []).append(change)
    traces = []
    for index, (dimension, rows) in enumerate(sorted(by_dimension.items())):
        traces.append({
            "type": "scatter", "mode": "lines+markers", "line": {"shape": "hv", "color": COLOURS[index % len(COLOURS)]},
            "name": titles.get(dimension, dimension), "x": [r["changed_at"] for r in rows], "y": [r["after"] for r in rows],
        })
    return {"data": traces, "layout": _layout(
        yaxis={"range": [0, 4.1], "title": {"text": "level"}}, height=360, legend={"orientation": "h"},
    )}


def bars(labels: list[str], counts: list[int], *, x_title: str, y_title: str) -> dict[str, Any]:
    return {"data": [{"type": "bar", "x": labels, "y": counts, "marker": {"color": COLOURS[0]}}], "layout": _layout(
        xaxis={"title": {"text": x_title}}, yaxis={"title": {"text": y_title}}, height=300,
    )}


def score_bars(distributions: list[dict[str, Any]]) -> dict[str, Any]:
    """Learners per best-score bin, one bar group per item."""
    traces = [
        {"type": "bar", "name": d["title"], "x": BIN_LABELS, "y": d["best_score_bins"],
         "marker": {"color": COLOURS[index % len(COLOURS)]}}
        for index, d in enumerate(distributions) if d["learners_with_results"]
    ]
    return {"data": traces, "layout": _layout(
        barmode="group", xaxis={"title": {"text": "best score"}}, yaxis={"title": {"text": "learners"}}, height=340,
        legend={"orientation": "h"},
    )}


def gap_heatmap(teams: list[str], dimension_titles: list[str], gaps: list[list[float | None]]) -> dict[str, Any]:
    """Mean gap to the role target per team and dimension (0 = target met; darker = further)."""
    return {"data": [{
        "type": "heatmap", "x": dimension_titles, "y": teams, "z": gaps, "zmin": 0, "zmax": 4,
        "colorscale": [[0, "#f7fbff"], [0.25, "#9ecae1"], [0.5, "#4292c6"], [1, "#08306b"]],
        "colorbar": {"title": {"text": "gap"}}, "hovertemplate": "%{y}<br>%{x}: gap %{z:.2f}<extra></extra>",
        "texttemplate": "%{z:.1f}", "xgap": 2, "ygap": 2,
    }], "layout": _layout(
        height=max(320, 210 + 28 * len(teams)), margin={"l": 120, "r": 24, "t": 24, "b": 190},
        yaxis={"autorange": "reversed"},
    )}
