"""One head up close: its pattern with token labels on both axes, and a line view of the
attention from one query position (click a row of the pattern to choose it)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from .axes import TokenAxis
from .colors import VIRIDIS_LUT
from .colour_bar import ColourBar
from .elided_label import ElidedLabel
from .plots import plain_plot
from .token_text import elide, visible_token


def token_ticks(tokens: list[str], max_labels: int = 1024, max_chars: int = 12) -> list[tuple[float, str]]:
    """'pos token' tick labels with the token made visible and shortened; the axis thins
    them further to what fits its pixels (max_labels only bounds the work)."""
    stride = max(1, int(np.ceil(len(tokens) / max_labels)))
    return [(i, f"{i} {elide(visible_token(t), max_chars)}") for i, t in enumerate(tokens) if i % stride == 0]


class HeadDetail(QWidget):
    """set_head(name, pattern [S, S], tokens); emits query_selected(position)."""

    query_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pattern: np.ndarray | None = None
        self._tokens: list[str] = []
        self._query: int | None = None  # None: follow the last position
        self.title = ElidedLabel("Click a head in the grid to inspect it", bold=True)
        self.hover_label = ElidedLabel(" ")

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.key_axis, self.query_axis = TokenAxis("bottom"), TokenAxis("left")
        self.pattern_plot = plain_plot(
            self.view.addPlot(row=0, col=0, axisItems={"bottom": self.key_axis, "left": self.query_axis}), self)
        self.pattern_plot.invertY(True)
        # no aspect lock: the pattern fills the panel (cells may be oblong), labels stay legible
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(VIRIDIS_LUT)
        self.pattern_plot.addItem(self.image)
        self.colorbar = ColourBar(pg.colormap.get("viridis"), label="attention")
        self.colorbar.attach(self.image, self.pattern_plot, self)
        self.query_marker = QGraphicsRectItem()
        marker_pen = QPen(pg.mkColor(255, 120, 0))
        marker_pen.setCosmetic(True)
        marker_pen.setWidth(2)
        self.query_marker.setPen(marker_pen)
        self.pattern_plot.addItem(self.query_marker)

        self.line_plot = plain_plot(self.view.addPlot(row=1, col=0), self)
        self.line_plot.setLabel("bottom", "key position")
        self.line_plot.setYRange(0, 1)
        self.line_plot.setLabel("left", "attention")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=(68, 1, 84))
        self.line_plot.addItem(self.bars)
        self.view.ci.layout.setRowStretchFactor(0, 4)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_mouse_clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hover_label)
        self.setMinimumSize(320, 280)  # fits a 1400x950 window beside the graph; labels thin to fit

    def set_head(self, name: str, pattern: np.ndarray, tokens: list[str], subtitle: str = "") -> None:
        """Show one head's pattern [S, S]; keeps the chosen query position when it still exists."""
        same_tokens = list(tokens) == self._tokens
        self._pattern, self._tokens = np.asarray(pattern), list(tokens)
        self.title.setText(f"{name}   {subtitle}   (rows: query, columns: key)")
        self.image.setImage(self._pattern, levels=(0, 1), autoLevels=False)
        n = len(self._tokens)
        if not same_tokens:  # labels and ranges only when the prompt changed: live updates stay cheap
            self.image.setRect(QRectF(-0.5, -0.5, n, n))  # pixel (q, k) centred on integer coordinates
            ticks = token_ticks(self._tokens)
            self.query_axis.set_labels(ticks)
            self.key_axis.set_labels(ticks)
            self.pattern_plot.getViewBox().setRange(xRange=(-0.5, n - 0.5), yRange=(-0.5, n - 0.5), padding=0.0)
            self.line_plot.setXRange(-0.5, len(tokens) - 0.5, padding=0.0)
        self.set_query(len(tokens) - 1 if self._query is None else min(self._query, len(tokens) - 1))

    def set_query(self, position: int) -> None:
        """Show the attention from `position` to every key in the line view."""
        if self._pattern is None:
            return
        self._query = int(np.clip(position, 0, len(self._tokens) - 1))
        row = self._pattern[self._query]
        self.bars.setOpts(x=np.arange(len(row)), height=row, width=0.8)
        self.query_marker.setRect(QRectF(-0.5, self._query - 0.5, len(row), 1))
        token = elide(visible_token(self._tokens[self._query]), 16)
        self.line_plot.setTitle(f"attention from query {self._query} {token}", color="k", size="10pt")
        self.query_selected.emit(self._query)

    def figure_view(self) -> QWidget:
        """The plots alone (pattern, colour bar, query line): what a figure export renders."""
        return self.view

    @property
    def query(self) -> int:
        return self._query

    def _cell(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if self._pattern is None or not self.pattern_plot.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.pattern_plot.getViewBox().mapSceneToView(scene_pos)
        q, k = int(np.floor(p.y() + 0.5)), int(np.floor(p.x() + 0.5))
        n = len(self._tokens)
        return (q, k) if 0 <= q < n and 0 <= k < n else None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self._cell(scene_pos)
        if cell is not None:
            q, k = cell
            self.hover_label.setText(f"query {q} {visible_token(self._tokens[q])} → key {k} "
                                     f"{visible_token(self._tokens[k])}: {self._pattern[q, k]:.3f}")

    def _on_mouse_clicked(self, event) -> None:
        cell = self._cell(event.scenePos())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_query(cell[0])


def demo() -> HeadDetail:
    """One random causal pattern over an IOI-style prompt."""
    from .demo import causal_patterns

    tokens = "<bos> When Mary and John went to the store , John gave a drink to".split()
    detail = HeadDetail()
    detail.set_head("L1.H2", causal_patterns(1, 1, len(tokens))[0, 0], tokens, "induction 0.42")
    detail.resize(700, 800)
    return detail


if __name__ == "__main__":
    from .demo import run

    run(demo)
