"""The slice viewer: Jupyter widgets wired to an :class:`AnnotationSession`.

Place a mark by choosing the slice (slider), the row and column (fields; a cross shows where) and
the diameter, then *Add mark*. Marks are listed (select one and *Remove*), drawn where they cut the
slice, and exported with *Export LUNA16 CSV* (or :meth:`AnnotationViewer.export_luna16_csv`).
Errors are shown under the buttons; nothing is lost when an action is refused.

With ``marks_file`` the reading survives the kernel: marks already in that file are loaded when the
viewer opens and the file is rewritten after every added or removed mark. nbgrader re-executes a
submitted notebook, so this is also how the marks reach the autograded run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from .render import png_bytes, render_slice
from .scans import Scan, load_scans
from .session import AnnotationError, AnnotationSession
from .windowing import WINDOW_PRESETS

DEFAULT_DIAMETER_MM = 6.0


class AnnotationViewer:
    """Widgets over scans and a session; ``display(viewer)`` (or leave it last in a cell) shows it."""

    def __init__(
        self,
        scans: Mapping[str, Scan],
        session: AnnotationSession | None = None,
        *,
        marks_file: str | Path | None = None,
        scale: int = 3,
    ) -> None:
        self.scans = dict(scans)
        self.session = session or AnnotationSession({uid: s.geometry for uid, s in self.scans.items()})
        self.marks_file = Path(marks_file) if marks_file is not None else None
        if self.marks_file is not None and self.marks_file.exists():
            self.session.load_luna16_csv(self.marks_file)
        self.scale = scale
        first = next(iter(self.scans.values()))
        n_slices, n_rows, n_cols = first.hu.shape
        self.scan = widgets.Dropdown(options=[(f"scan {n + 1}", uid) for n, uid in enumerate(self.scans)], description="Scan")
        self.slice = widgets.IntSlider(value=n_slices // 2, min=0, max=n_slices - 1, description="Slice", continuous_update=False)
        self.window = widgets.ToggleButtons(options=list(WINDOW_PRESETS), value="lung", description="Window")
        self.window_info = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.row = widgets.BoundedIntText(value=n_rows // 2, min=0, max=n_rows - 1, description="Row")
        self.column = widgets.BoundedIntText(value=n_cols // 2, min=0, max=n_cols - 1, description="Column")
        self.diameter = widgets.BoundedFloatText(value=DEFAULT_DIAMETER_MM, min=0.0, max=1000.0, step=0.5, description="Diam. mm")
        self.position = widgets.HTML()
        self.add = widgets.Button(description="Add mark", button_style="success")
        self.marks = widgets.Select(options=[], rows=6, description="Marks")
        self.remove = widgets.Button(description="Remove selected", button_style="warning")
        self.export_path = widgets.Text(value="annotations.csv", description="Export to")
        self.export = widgets.Button(description="Export LUNA16 CSV", button_style="primary")
        self.status = widgets.HTML()

        self.scan.observe(self._on_scan, names="value")
        for control in (self.slice, self.window, self.row, self.column, self.marks):
            control.observe(self._on_view, names="value")
        self.add.on_click(self._on_add)
        self.remove.on_click(self._on_remove)
        self.export.on_click(self._on_export)
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.scan, self.window]),
                self.window_info,
                self.slice,
                widgets.HBox(
                    [
                        self.image,
                        widgets.VBox([self.row, self.column, self.diameter, self.position, self.add, self.marks, self.remove,
                                      self.export_path, self.export, self.status]),
                    ]
                ),
            ]
        )
        self._refresh()

    @classmethod
    def for_practice(cls, data_dir: str | Path, *, marks_file: str | Path | None = None) -> AnnotationViewer:
        return cls(load_scans(data_dir), marks_file=marks_file)

    # --- what the notebook calls ---------------------------------------------------------

    def export_luna16_csv(self, path: str | Path) -> Path:
        return self.session.export_luna16_csv(path)

    def _repr_mimebundle_(self, **kwargs):  # Jupyter shows the widget
        return self.widget._repr_mimebundle_(**kwargs)

    # --- events --------------------------------------------------------------------------

    def _on_scan(self, _change) -> None:
        n_slices, n_rows, n_cols = self.scans[self.scan.value].hu.shape
        self.slice.max, self.row.max, self.column.max = n_slices - 1, n_rows - 1, n_cols - 1
        self.slice.value, self.row.value, self.column.value = n_slices // 2, n_rows // 2, n_cols // 2
        self._refresh()

    def _on_view(self, _change) -> None:
        self._refresh(lists=False)

    def _on_add(self, _button) -> None:
        try:
            mark = self.session.add_voxel_mark(self.scan.value, (self.slice.value, self.row.value, self.column.value), self.diameter.value)
        except AnnotationError as error:
            return self._say(str(error), error=True)
        self._say(f"added {mark.describe()}" + self._autosave())
        self._refresh()

    def _on_remove(self, _button) -> None:
        if self.marks.value is None:
            return self._say("select a mark in the list first", error=True)
        mark = self.session.remove(int(self.marks.value))
        self._say(f"removed {mark.describe()}" + self._autosave())
        self._refresh()

    def _on_export(self, _button) -> None:
        try:
            path = self.export_luna16_csv(self.export_path.value)
        except (AnnotationError, OSError) as error:
            return self._say(f"not exported: {error}", error=True)
        self._say(f"exported {len(self.session.marks)} marks to {path}")

    def _autosave(self) -> str:
        if self.marks_file is None:
            return ""
        try:
            self.session.export_luna16_csv(self.marks_file)
        except (AnnotationError, OSError) as error:
            return f" (not saved to {self.marks_file}: {error})"
        return f" (saved to {self.marks_file})"

    # --- drawing -------------------------------------------------------------------------

    def _refresh(self, *, lists: bool = True) -> None:
        scan = self.scans[self.scan.value]
        if lists:
            self.marks.options = [(f"{i}: scan {self.session.seriesuids.index(m.seriesuid) + 1}, {m.describe()}", i)
                                  for i, m in enumerate(self.session.marks)]
        preset = WINDOW_PRESETS[self.window.value]
        self.window_info.value = preset.describe()
        k, j, i = self.slice.value, self.row.value, self.column.value
        x, y, z = scan.geometry.voxel_to_world(np.asarray([k, j, i], dtype=np.float64))
        self.position.value = f"cross at ({x:.1f}, {y:.1f}, {z:.1f}) mm, {float(scan.hu[k, j, i]):.0f} HU"
        rgb = render_slice(
            scan.hu[k],
            preset,
            geometry=scan.geometry,
            slice_index=k,
            marks=self.session.marks_on(scan.seriesuid),
            selected=self.marks.value,
            cursor=(j, i),
            scale=self.scale,
        )
        self.image.value = png_bytes(rgb)

    def _say(self, text: str, *, error: bool = False) -> None:
        colour = "#b00020" if error else "#1b5e20"
        self.status.value = f'<span style="color:{colour}">{_escape(text)}</span>'


def open_practice_viewer(data_dir: str | Path, *, marks_file: str | Path | None = "annotations.csv") -> AnnotationViewer:
    """The viewer on the practice scans of the public CT dataset under ``data_dir``, keeping its marks
    in ``marks_file`` (loaded if present, rewritten after every change; None: in memory only)."""
    return AnnotationViewer.for_practice(data_dir, marks_file=marks_file)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
