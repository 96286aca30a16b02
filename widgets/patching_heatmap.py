"""A labelled heatmap of one patching sweep: rows (layers, heads) x columns (heads, tokens).

Diverging blue-white-red map centred at 0 with symmetric levels, so "no effect" is white
whatever the range; hovering shows the cell's value, a click emits the cell. A small grid
(at most ANNOTATED_CELLS cells) also prints each cell's value in it. With `per_row` (rows in
different units: a logit difference beside a probability) each row is coloured on its own
symmetric scale (the colour bar, labelled "per row": -1 to 1 of the row's largest); the printed values
stay the real ones."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .axes import TokenAxis
from .plots import adopt_menus, bold_label, plain_plot

DIVERGING = pg.colormap.get("CET-D1")  # blue - white - red
ANNOTATED_CELLS = 48


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


def compact(value: float) -> str:
    """A cell's value in at most ~7 characters: +18.0, -0.52, +0.004, +0.000, 1.2e+03."""
    size = abs(value)
    if size >= 1000:
        return f"{value:.1e}"
    return f"{value:+.1f}" if size >= 10 else f"{value:+.2f}" if size >= 0.1 else f"{value:+.3f}"


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
        self.cell_texts: list[pg.TextItem] = []
        self.per_row = False
        self.plot.getViewBox().sigResized.connect(self._fit_texts)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hover_label)

    def set_result(self, values: np.ndarray, row_labels: tuple[str, ...], column_labels: tuple[str, ...],
                   title: str, raw: np.ndarray | None = None, unit: str = "", per_row: bool = False) -> None:
        self.values, self.raw = np.asarray(values, dtype=float), raw
        self.rows, self.columns, self.unit = tuple(row_labels), tuple(column_labels), unit
        self.title.setText(title)
        shown = self.values
        if per_row:  # each row on its own scale: the colour is the share of the row's largest |value|
            with np.errstate(invalid="ignore"):
                largest = np.nanmax(np.abs(np.where(np.isfinite(shown), shown, np.nan)), axis=1, keepdims=True)
            shown = shown / np.where(np.isfinite(largest) & (largest > 0), largest, 1.0)
        finite = shown[np.isfinite(shown)]
        bound = 1.0 if per_row else (float(np.abs(finite).max()) if finite.size else 1.0)
        bound = bound if bound > 0 else 1.0
        self.image.setImage(np.nan_to_num(shown), levels=(-bound, bound), autoLevels=False)
        self.colorbar.setLevels((-bound, bound))
        self.per_row = per_row
        self._annotate(shown / bound)
        n_rows, n_cols = self.values.shape
        self.image.setRect(QRectF(-0.5, -0.5, n_cols, n_rows))
        self.row_axis.set_labels(thinned(self.rows))
        self.column_axis.set_labels(thinned(self.columns))
        self.plot.getViewBox().setRange(xRange=(-0.5, n_cols - 0.5), yRange=(-0.5, n_rows - 0.5), padding=0.0)

    def clear(self, message: str = " ") -> None:
        self.values = None
        self.image.clear()
        self._annotate(None)
        self.title.setText(message)

    def _annotate(self, colour_share: np.ndarray | None) -> None:
        """Each cell's value printed in it (small grids only), white on strong colours."""
        for item in self.cell_texts:
            self.plot.removeItem(item)
        self.cell_texts = []
        if colour_share is None or self.values is None or self.values.size > ANNOTATED_CELLS:
            return
        for (r, c), value in np.ndenumerate(self.values):
            if not np.isfinite(value):
                continue
            dark = abs(colour_share[r, c]) > 0.6
            item = pg.TextItem(compact(value), color="w" if dark else (20, 20, 20), anchor=(0.5, 0.5))
            item.setPos(c, r)
            self.plot.addItem(item, ignoreBounds=True)
            self.cell_texts.append(item)
        self._fit_texts()

    def _fit_texts(self, *_args) -> None:
        """Printed values only while every one fits in its cell (a docked grid is narrow)."""
        if not self.cell_texts or self.values is None:
            return
        box = self.plot.getViewBox().sceneBoundingRect()
        n_rows, n_cols = self.values.shape
        cell_w, cell_h = box.width() / max(n_cols, 1), box.height() / max(n_rows, 1)
        widest = max(item.textItem.boundingRect().width() for item in self.cell_texts)
        tall = max(item.textItem.boundingRect().height() for item in self.cell_texts)
        fits = widest + 4 <= cell_w and tall * 0.8 <= cell_h
        for item in self.cell_texts:
            item.setVisible(fits)

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
