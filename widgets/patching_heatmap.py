"""A labelled heatmap of one patching sweep: rows (layers, heads) x columns (heads, tokens).

Diverging blue-white-red map centred at 0 with symmetric levels, so "no effect" is white
whatever the range; hovering shows the cell's value, a click emits the cell."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .axes import TokenAxis
from .plots import adopt_menus, bold_label, plain_plot

DIVERGING = pg.colormap.get("CET-D1")  # blue - white - red


def thinned(labels: tuple[str, ...], max_labels: int = 48, max_chars: int = 12) -> list[tuple[float, str]]:
    """Tick labels, at most max_labels of them; 'i:token' shown as 'i token', shortened."""
    stride = max(1, int(np.ceil(len(labels) / max_labels)))

    def short(t: str) -> str:
        index, sep, token = t.partition(":")
        if sep and index.isdigit():
            t = f"{index} {token.strip() or repr(token)}"
        t = t.replace("\n", "⏎")
        return t if len(t) <= max_chars else t[: max_chars - 1] + "…"
    return [(i, short(t)) for i, t in enumerate(labels) if i % stride == 0]


class PatchingHeatmap(QWidget):
    """set_result(values [R, C], row_labels, column_labels, title); emits cell_clicked(row, col)."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: np.ndarray | None = None
        self.raw: np.ndarray | None = None
        self.rows: tuple[str, ...] = ()
        self.columns: tuple[str, ...] = ()
        self.title = bold_label(" ")
        self.hover_label = QLabel(" ")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.setMinimumHeight(120)
        self.column_axis, self.row_axis = TokenAxis("bottom"), TokenAxis("left")
        self.plot = plain_plot(self.view.addPlot(axisItems={"bottom": self.column_axis, "left": self.row_axis}), self)
        self.plot.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=DIVERGING, interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        adopt_menus(self.colorbar, self)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hover_label)

    def set_result(self, values: np.ndarray, row_labels: tuple[str, ...], column_labels: tuple[str, ...],
                   title: str, raw: np.ndarray | None = None, unit: str = "") -> None:
        self.values, self.raw = np.asarray(values, dtype=float), raw
        self.rows, self.columns, self.unit = tuple(row_labels), tuple(column_labels), unit
        self.title.setText(title)
        finite = self.values[np.isfinite(self.values)]
        bound = float(np.abs(finite).max()) if finite.size else 1.0
        bound = bound if bound > 0 else 1.0
        self.image.setImage(np.nan_to_num(self.values), levels=(-bound, bound), autoLevels=False)
        self.colorbar.setLevels((-bound, bound))
        n_rows, n_cols = self.values.shape
        self.image.setRect(QRectF(-0.5, -0.5, n_cols, n_rows))
        self.row_axis.set_labels(thinned(self.rows))
        self.column_axis.set_labels(thinned(self.columns))
        self.plot.getViewBox().setRange(xRange=(-0.5, n_cols - 0.5), yRange=(-0.5, n_rows - 0.5), padding=0.0)

    def clear(self, message: str = " ") -> None:
        self.values = None
        self.image.clear()
        self.title.setText(message)

    def describe(self, row: int, col: int) -> str:
        text = f"{self.rows[row]} × {self.columns[col]}: {self.values[row, col]:+.3f}{self.unit}"
        if self.raw is not None:
            text += f"   (logit diff {self.raw[row, col]:+.3f})"
        return text

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if self.values is None or not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.getViewBox().mapSceneToView(scene_pos)
        row, col = int(np.floor(p.y() + 0.5)), int(np.floor(p.x() + 0.5))
        n_rows, n_cols = self.values.shape
        return (row, col) if 0 <= row < n_rows and 0 <= col < n_cols else None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            self.hover_label.setText(self.describe(*cell))
            self.view.setToolTip(self.describe(*cell))

    def _on_mouse_clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cell_clicked.emit(*cell)


def demo() -> PatchingHeatmap:
    """A made-up head sweep: two strong heads, one negative."""
    values = np.random.default_rng(0).normal(0, 0.05, (2, 8))
    values[0, 3], values[1, 4], values[1, 0] = 0.9, 0.6, -0.4
    heat = PatchingHeatmap()
    heat.set_result(values, ("L0", "L1"), tuple(f"H{h}" for h in range(8)), "Head output, all positions")
    heat.resize(600, 300)
    return heat


if __name__ == "__main__":
    from .demo import run

    run(demo)
