"""Logit lens as a heatmap: layers (rows, embed at the bottom, the final layer on top, next
to the output as in a transformer diagram) x prompt positions (columns), coloured by the
top-1 probability or the target's probability or rank. A table shows three of a real
model's 31 rows; a heatmap shows all of them and zooms to read the tokens. Beside it,
sharing the layer axis, the target's probability (or rank) at the focused position.

Docked at the bottom of the window the panel is often ~250 px tall, so the heatmap gets the
height: no plot titles (the combo and the colour bar's name say the quantity; the side
plot's axis label says the position), flat one-line token labels below a short view
(rotated ones would take half of it), and a colour bar that thins its ticks to fit."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPen, QResizeEvent
from PySide6.QtWidgets import QComboBox, QGraphicsRectItem, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from .axes import GAP, PlacedLabel, TokenAxis, place_flat
from .colors import HIGHLIGHT, text_color_for
from .colour_bar import ColourBar
from .elided_label import ElidedLabel
from .lens_data import LensData, synthetic_lens
from .plots import plain_plot
from .token_text import elide, visible_token

__all__ = ["LensData", "LogitLensHeatmap", "demo"]

CAPTION = "Logit lens: what each layer's residual stream predicts next (wheel: zoom, drag: pan, click: focus a position)"
STALE_CAPTION = "Logit lens: paused while you drag (it updates when the knob rests)"
UPDATING_CAPTION = "Logit lens: ⟳ updating… (these rows are the previous run's)"
QUANTITIES = {"top1": "top-1 probability", "target_prob": "target probability", "target_rank": "target rank"}
MIN_CELL_WIDTH = 28  # pixels a cell needs before its top-1 token is written in it
CELL_PAD = 4
COMPACT_VIEW_HEIGHT = 320  # below this many pixels of plot, token labels lie flat (one line)
ROTATED_SHARE = 0.25  # rotated token labels take at most this share of the plot's height
MIN_FLAT_LABEL = "extr…"  # a flat label gets at least this much room (every k-th label drawn)
VIRIDIS = pg.colormap.get("viridis")
VIRIDIS_REVERSED = pg.ColorMap(VIRIDIS.getStops()[0], VIRIDIS.getStops()[1][::-1])  # rank 1 bright, as p = 1


def _text_colours(cmap: pg.ColorMap) -> list[QColor]:
    return [text_color_for(QColor(*map(int, rgb[:3]))) for rgb in cmap.getLookupTable(0.0, 1.0, 256)]


_TEXT = {"prob": _text_colours(VIRIDIS), "rank": _text_colours(VIRIDIS_REVERSED)}


class CellText(pg.GraphicsObject):
    """Paints the owner's cell_labels() in screen pixels (not scaled with the view)."""

    def __init__(self, owner: "LogitLensHeatmap") -> None:
        super().__init__()
        self.owner = owner
        self._rect = QRectF()

    def set_extent(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = rect

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self._rect

    def paint(self, p, *args) -> None:
        labels = self.owner.cell_labels()
        if not labels:
            return
        transform = p.transform()
        view = self.owner.plot.getViewBox().viewRect()
        p.save()
        p.resetTransform()
        p.setClipRect(transform.mapRect(view))  # never over the axes, even for a cell half in view
        p.setFont(self.owner.cell_font)
        for row, col, text, colour in labels:
            p.setPen(colour)
            p.drawText(transform.mapRect(QRectF(col - 0.5, row - 0.5, 1, 1)), int(Qt.AlignmentFlag.AlignCenter), text)
        p.restore()


class ColumnAxis(TokenAxis):
    """The positions' token axis: rotated labels (capped to a share of the plot's height)
    when the plot is tall, flat one-line labels when it is short. Flat labels that do not
    fit their column are thinned (every k-th, counted from the last) and elided to k columns."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.compact = False
        self._full_longest = 10

    def set_labels(self, ticks: list[tuple[float, str]]) -> None:
        super().set_labels(ticks)
        self._full_longest = self._longest
        self._fit_height()

    def set_room(self, compact: bool, rotated_extent: int) -> None:
        """Flat labels (compact) or rotated ones at most `rotated_extent` pixels long."""
        longest = max(QFontMetrics(self.tick_font()).height(), min(self._full_longest, rotated_extent - 12))
        if (compact, longest) != (self.compact, self._longest):
            self.compact, self._longest = compact, longest
            self._fit_height()
            self.picture = None
            self.update()

    def _flat(self, metrics: QFontMetrics) -> bool:
        return self.compact or super()._flat(metrics)

    def label_layout(self) -> list[PlacedLabel]:
        """Flat labels when compact (see the class); otherwise TokenAxis's layout."""
        if not self.compact:
            return super().label_layout()
        metrics = QFontMetrics(self.tick_font())
        pixels = self._pixels()
        if not pixels:
            return []
        spacing = self._spacing()
        widest = max(metrics.horizontalAdvance(text) for _, text in self._labels)
        need = min(widest, metrics.horizontalAdvance(MIN_FLAT_LABEL)) + GAP
        stride = 1 if spacing == math.inf else max(1, math.ceil(need / max(spacing, 1e-9)))
        room = int(stride * spacing - GAP) if spacing != math.inf else int(self.boundingRect().width())
        low, high = 0.0, float(self.size().width())  # the heatmap's extent: the row labels sit left of it
        last = len(self._labels) - 1
        spans = []
        for i, ((value, text), along) in enumerate(zip(self._labels, pixels)):
            if (last - i) % stride or not low - 0.5 <= along <= high + 0.5:
                continue
            spans.append((value, along, metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)))
        return place_flat(spans, metrics, low, high)


class LogitLensHeatmap(QWidget):
    """set_lens(LensData, focus); set_focus(position); set_stale(bool); emits position_clicked(position)."""

    position_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: LensData | None = None
        self.values: np.ndarray | None = None  # [R, P] what the image shows now
        self.levels = (0.0, 1.0)
        self.focus: int | None = None
        self.quantity = "top1"
        self.cell_font = QFont(self.font())

        self.caption = ElidedLabel(CAPTION)
        self.quantity_box = QComboBox()
        self.quantity_box.setToolTip("What the colour shows")
        self.quantity_box.currentIndexChanged.connect(self._on_quantity)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show every layer and position")
        self.fit_button.clicked.connect(self.fit)
        self.hover_label = ElidedLabel(" ")

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.row_axis, self.column_axis = TokenAxis("left"), ColumnAxis()
        line = QFontMetrics(self.font()).height()
        self.column_axis.min_height = 2 * line + 12  # room for the side plot's ticks and label (same height)
        self.view.ci.setContentsMargins(2, line // 2 + 2, 2, 2)  # the top row's labels are not cut
        self.plot = plain_plot(self.view.addPlot(row=0, col=0, axisItems={"left": self.row_axis,
                                                                          "bottom": self.column_axis}), self)
        self.plot.setMouseEnabled(True, True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.cell_text = CellText(self)
        self.plot.addItem(self.cell_text)
        self.focus_marker = QGraphicsRectItem()
        pen = QPen(HIGHLIGHT)
        pen.setCosmetic(True)
        pen.setWidth(2)
        self.focus_marker.setPen(pen)
        self.plot.addItem(self.focus_marker)
        self.colorbar = ColourBar(VIRIDIS)
        self.colorbar.attach(self.image, self.plot, self)
        self.view.ci.layout.setColumnSpacing(0, 16)  # the colour bar's values are not the side plot's

        self.side = plain_plot(self.view.addPlot(row=0, col=1), self)
        self.side.setYLink(self.plot)
        self.side.hideAxis("left")
        self.side.showGrid(x=True, y=False, alpha=0.3)
        self.side.setMinimumWidth(110)
        self.side.setMaximumWidth(170)
        self.side_curve = self.side.plot([], [], pen=pg.mkPen(HIGHLIGHT, width=2), symbol="o", symbolSize=5,
                                         symbolBrush=HIGHLIGHT, symbolPen=None)
        self.plot.getViewBox().sigResized.connect(self._align_side)
        self.plot.getViewBox().sigRangeChanged.connect(lambda *_: self.cell_text.update())
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_mouse_clicked)

        controls = QHBoxLayout()  # the hovered cell beside the caption: no line of its own
        controls.addWidget(self.caption, 3)
        controls.addWidget(self.hover_label, 2)
        controls.addWidget(self.quantity_box)
        controls.addWidget(self.fit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(controls)
        layout.addWidget(self.view, 1)
        self.setMinimumSize(360, 200)  # leaves room for the other docks in a 1400x950 window
        self._fill_quantities(False)

    # -- public -------------------------------------------------------------------------
    def figure_view(self) -> QWidget:
        """The plots alone (heatmap, colour bar, side plot): what a figure export renders."""
        return self.view

    def set_lens(self, data: LensData, focus: int | None = None) -> None:
        """New numbers; focus = the prompt position the side plot reads (None: keep it).
        Labels, limits and the zoom change only when the rows or columns do, so a live
        update repaints in place and keeps what the user zoomed into."""
        old = self.data
        same = (old is not None and old.layer_labels == data.layer_labels and old.positions == data.positions
                and old.prompt_tokens == data.prompt_tokens)
        if focus is None:
            focus = self.focus
        self.data = data
        self._fill_quantities(data.target_probs is not None)
        n_rows, n_cols = len(data.layer_labels), len(data.positions)
        self._render()  # the image first: setRect scales by the image's size
        if not same:
            self.image.setRect(QRectF(-0.5, -0.5, n_cols, n_rows))  # cell (r, c) centred on (c, r)
            self.cell_text.set_extent(QRectF(-0.5, -0.5, n_cols, n_rows))
            self.row_axis.set_labels([(r, label) for r, label in enumerate(data.layer_labels)])
            self.column_axis.set_labels([(c, elide(visible_token(data.prompt_tokens[p]), 12))
                                         for c, p in enumerate(data.positions)])
            self.plot.getViewBox().setLimits(xMin=-0.5, xMax=n_cols - 0.5, yMin=-0.5, yMax=n_rows - 0.5,
                                             minXRange=min(n_cols, 2), minYRange=min(n_rows, 2))
        if not same:
            self.fit()
        self.set_focus(focus if focus in data.positions else data.positions[-1])
        self._align_side()

    def set_focus(self, position: int) -> None:
        """Highlight the column of a prompt position and show its profile beside."""
        if self.data is None or position not in self.data.positions:
            return
        self.focus = position
        col = self.data.positions.index(position)
        self.focus_marker.setRect(QRectF(col - 0.5, -0.5, 1, len(self.data.layer_labels)))
        self._render_side()

    def set_stale(self, stale: bool, updating: bool = False) -> None:
        """Dim what no longer matches the state: while a live drag runs without the lens (it
        refreshes when the drag rests), or (`updating`) while the new lens is computed."""
        self.caption.setText((UPDATING_CAPTION if updating else STALE_CAPTION) if stale else CAPTION)
        for item in (self.image, self.cell_text):
            item.setOpacity(0.35 if stale else 1.0)

    def fit(self) -> None:
        """Every layer and position in view."""
        if self.data is not None:
            self.plot.getViewBox().setRange(xRange=(-0.5, len(self.data.positions) - 0.5),
                                            yRange=(-0.5, len(self.data.layer_labels) - 0.5), padding=0.0)

    def set_quantity(self, key: str) -> None:
        """'top1', 'target_prob' or 'target_rank' (the latter two only with a target)."""
        index = self.quantity_box.findData(key)
        if index >= 0:
            self.quantity_box.setCurrentIndex(index)

    def describe(self, row: int, col: int) -> str:
        """The tooltip of a cell: layer, position, input token, top-k, target."""
        d = self.data
        position = d.positions[col]
        lines = [f"{d.layer_labels[row]}, position {position} {visible_token(d.prompt_tokens[position])}  → next:"]
        lines += [f"  {visible_token(str(t))}  {p:.3f}" for t, p in zip(d.top_tokens[row, col], d.top_probs[row, col])]
        if d.target_probs is not None:
            lines.append(f"target {visible_token(d.target or '')}: p = {d.target_probs[row, col]:.4f}, "
                         f"rank {int(d.target_ranks[row, col]) + 1}")
        return "\n".join(lines)

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(row, column) under a scene point, or None."""
        vb = self.plot.getViewBox()
        if self.data is None or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        row, col = int(np.floor(p.y() + 0.5)), int(np.floor(p.x() + 0.5))
        n_rows, n_cols = self.values.shape
        return (row, col) if 0 <= row < n_rows and 0 <= col < n_cols else None

    def cell_pixels(self) -> tuple[float, float]:
        """A cell's width and height on screen, in pixels."""
        px_w, px_h = self.plot.getViewBox().viewPixelSize()
        return (1.0 / px_w if px_w else 0.0, 1.0 / px_h if px_h else 0.0)

    def cell_labels(self) -> list[tuple[int, int, str, QColor]]:
        """The top-1 tokens written in visible cells, elided to fit; none when cells are
        narrower than MIN_CELL_WIDTH or shorter than a line of text."""
        if self.data is None or self.values is None:
            return []
        width, height = self.cell_pixels()
        metrics = QFontMetrics(self.cell_font)
        if width < MIN_CELL_WIDTH or height < metrics.height() + 2:
            return []
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        n_rows, n_cols = self.values.shape
        cols = range(max(0, math.ceil(x0 + 0.25)), min(n_cols - 1, math.floor(x1 - 0.25)) + 1)  # cells 3/4 in view
        rows = range(max(0, math.ceil(y0 + 0.25)), min(n_rows - 1, math.floor(y1 - 0.25)) + 1)
        lo, hi = self.levels
        colours = _TEXT["rank" if self.quantity == "target_rank" else "prob"]
        out = []
        for r in rows:
            for c in cols:
                text = metrics.elidedText(visible_token(str(self.data.top_tokens[r, c, 0])), Qt.TextElideMode.ElideRight,
                                          int(width) - CELL_PAD)
                t = 0.0 if not np.isfinite(self.values[r, c]) else (self.values[r, c] - lo) / (hi - lo)
                out.append((r, c, text, colours[int(np.clip(t, 0.0, 1.0) * 255)]))
        return out

    # -- internals ------------------------------------------------------------------------
    def _fill_quantities(self, has_target: bool) -> None:
        keys = list(QUANTITIES) if has_target else ["top1"]
        if [self.quantity_box.itemData(i) for i in range(self.quantity_box.count())] == keys:
            return
        self.quantity_box.blockSignals(True)
        self.quantity_box.clear()
        for key in keys:
            self.quantity_box.addItem(QUANTITIES[key] + (" (log)" if key == "target_rank" else ""), key)
        self.quantity = self.quantity if self.quantity in keys else "top1"
        self.quantity_box.setCurrentIndex(keys.index(self.quantity))
        self.quantity_box.setEnabled(has_target)
        self.quantity_box.blockSignals(False)

    def _on_quantity(self, index: int) -> None:
        self.quantity = self.quantity_box.itemData(index) or "top1"
        if self.data is not None:
            self._render()
            self._render_side()

    def _render(self) -> None:
        d = self.data
        if self.quantity == "target_rank":
            self.values = np.log10(np.asarray(d.target_ranks, dtype=float) + 1.0)
            top = max(1, math.ceil(float(self.values.max())))
            self.levels, cmap = (0.0, float(top)), VIRIDIS_REVERSED
            ticks = [(k, f"{10 ** k:,}") for k in range(top + 1)]
        else:
            source = d.target_probs if self.quantity == "target_prob" else d.top_probs[..., 0]
            self.values = np.asarray(source, dtype=float)
            self.levels, cmap, ticks = (0.0, 1.0), VIRIDIS, None
        self.image.setImage(self.values, autoLevels=False)
        self.colorbar.setColorMap(cmap)
        label = QUANTITIES[self.quantity]
        if self.quantity != "top1":
            label += f" of {elide(visible_token(d.target or ''), 12)}"
        self.colorbar.set_scale(self.levels, ticks, label)  # the only place the quantity is named in a figure
        self.cell_text.update()

    def _render_side(self) -> None:
        """Target probability (rank in rank mode; top-1 probability without a target) at the focus."""
        d = self.data
        if d is None or self.focus is None:
            return
        col = d.positions.index(self.focus)
        layers = np.arange(len(d.layer_labels))
        rank_mode = self.quantity == "target_rank"
        self.side.setLogMode(x=rank_mode, y=False)
        self.side.invertX(rank_mode)  # rightwards = more believed, as with probability
        if rank_mode:
            self.side_curve.setData(np.asarray(d.target_ranks[:, col], dtype=float) + 1.0, layers)
            self.side.setXRange(0, self.levels[1], padding=0.02)
        else:
            source = d.target_probs if d.target_probs is not None else d.top_probs[..., 0]
            self.side_curve.setData(np.asarray(source[:, col], dtype=float), layers)
            self.side.setXRange(0, 1, padding=0.02)
        self._side_label()

    def side_description(self) -> str:
        """What the side plot shows, in full (its tooltip; the axis label is this, shortened)."""
        d = self.data
        if d is None or self.focus is None:
            return ""
        return f"{self._side_quantity()} by layer at position {self.focus} '{visible_token(d.prompt_tokens[self.focus])}'"

    def _side_quantity(self) -> str:
        if self.quantity == "target_rank":
            return "target rank"
        return "p(target)" if self.data is not None and self.data.target_probs is not None else "p(top-1)"

    def _side_label(self) -> None:
        """The side plot's axis label, not a title (no extra line): quantity and position,
        the token elided to the plot's width."""
        d = self.data
        if d is None or self.focus is None:
            return
        axis = self.side.getAxis("bottom")
        metrics = QFontMetrics(axis.label.font())
        room = max(40, int(self.side.width()) - 8)
        head = f"{self._side_quantity()} at {self.focus}"
        token = visible_token(d.prompt_tokens[self.focus])
        text = head
        for n in range(min(len(token), 12), 0, -1):
            candidate = f"{head} '{elide(token, n)}'"
            if metrics.horizontalAdvance(candidate) <= room:
                text = candidate
                break
        if axis.labelText != text:
            self.side.setLabel("bottom", text, color="k")
        self.side.setToolTip(self.side_description())

    def _align_side(self) -> None:
        """The side plot's rows line up with the heatmap's: same bottom axis height."""
        height = self.column_axis.fixedHeight or self.column_axis.height()
        if self.side.getAxis("bottom").fixedHeight != height:
            self.side.getAxis("bottom").setHeight(height)
        self._side_label()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit_to_height()

    def _fit_to_height(self) -> None:
        """Flat token labels below a short plot, rotated ones (capped) above: the heatmap keeps the height."""
        height = self.view.height()
        self.column_axis.set_room(height < COMPACT_VIEW_HEIGHT, int(height * ROTATED_SHARE))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self.data is not None and self.side.getViewBox().sceneBoundingRect().contains(scene_pos):
            self.view.setToolTip(self.side_description())
            self.hover_label.setText(self.side_description())
            return
        cell = self.cell_at(scene_pos)
        if cell is None:
            self.view.setToolTip("")
            return
        text = self.describe(*cell)
        self.view.setToolTip(text)
        self.hover_label.setText(" ".join(line.strip() for line in text.splitlines()[:2]))

    def _on_mouse_clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            position = self.data.positions[cell[1]]
            self.set_focus(position)
            self.position_clicked.emit(position)


def demo() -> LogitLensHeatmap:
    """A made-up 13-row lens over 16 positions."""
    heat = LogitLensHeatmap()
    heat.set_lens(synthetic_lens(13, 16))
    heat.resize(900, 420)
    return heat


if __name__ == "__main__":
    from .demo import run

    run(demo)
