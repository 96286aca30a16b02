"""Every attention head at once: a layer x head mosaic of attention patterns.

One pyqtgraph ImageItem holds the whole mosaic (tiles separated by gap cells), so a
repaint with 1200 new patterns is a single setImage of a uint8 indexed image, not 1200.
Layers run down the rows (heads across) or across the columns (heads down): "auto" picks
whichever gives the larger tiles for the view's shape (a 30 x 9 model in a wide dock is
a strip of specks as rows, readable as columns); the user can force either. Only the
tiles' placement changes: each is a query x key pattern with the first query at the top.
Real models are tall (48 layers x 25 heads), so the view zooms (wheel) and
pans (drag) inside limits, shows a chosen layer range, thins its axis labels to what fits
at the current zoom, and draws highlight frames with cosmetic pens (a few screen pixels at
any zoom). A click opens the nearest head even when the mouse moved a little."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QBrush, QColor, QFontMetrics, QPainterPath, QPen
from PySide6.QtWidgets import (QGraphicsPathItem, QGraphicsRectItem, QHBoxLayout, QLabel,
                               QMenu, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from .colors import GAP_INDEX, HIGHLIGHT, lut8_with_gap
from .head_scores import DEFAULT_THRESHOLD, SCORE_KEYS, heads_above, highlight_controls
from .plots import plain_plot
from .ticks import label_stride

__all__ = ["DEFAULT_THRESHOLD", "ORIENTATIONS", "SCORE_KEYS", "HeadGrid"]

CLICK_SLOP_PX = 8  # a press and release this close is a click, even if pyqtgraph saw a drag
FRAME_PX = (1.5, 3.0)  # highlight frame width on screen: thinner on tiles of a few pixels, never a hairline
ORIENTATIONS = ("auto", "rows", "columns")  # where the layers run; auto: whichever gives the larger tiles
ORIENTATION_TEXT = {"auto": "Auto: the larger tiles", "rows": "Layers as rows (down)",
                    "columns": "Layers as columns (across)"}
ARROWS = {"rows": "↓", "columns": "→"}  # on the layer-range button: which way the layers run
REORIENT_GAIN = 1.05  # a resize flips an auto layout only for 5 % larger tiles, so it never flickers


class HeadGrid(QWidget):
    """Shows patterns [L, H, S, S]; emits head_clicked(layer, head) and hover text."""

    head_clicked = Signal(int, int)
    score_key_changed = Signal(str)
    threshold_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._patterns: np.ndarray | None = None
        self._buffer: np.ndarray | None = None  # uint8 LUT indices of all layers, gaps included
        self._shape = (0, 0, 0)  # layers, heads, seq (all layers, not only the shown range)
        self._gap = 1
        self._range = (0, -1)  # first and last layer shown
        self._tokens: list[str] = []
        self._scores: dict[str, np.ndarray] = {}
        self._frames: list[tuple[int, int]] = []
        self._mark_items: dict[tuple[int, int], tuple[QGraphicsRectItem, pg.TextItem]] = {}
        self._mark_geometry: tuple | None = None
        self._marked: dict[tuple[int, int], str] = {}
        self._fitted = True  # the view shows the whole layer range (kept so through resizes)
        self._bounds = QRectF()
        self._press: tuple[QPointF, QPointF] | None = None  # widget pos, view pos of a left press
        self._ticks: dict[str, list[tuple[float, str]]] = {"left": [], "top": []}
        self._mode = "auto"  # one of ORIENTATIONS, as chosen by the user
        self._orientation = "rows"  # what is shown: "rows" (layers down) or "columns" (layers across)
        self._buffer_layout: tuple = ()  # (shape, orientation) the buffer was laid out for

        self.score_box, self.threshold = highlight_controls("Outline")
        self.score_box.currentTextChanged.connect(self._on_score_key)
        self.threshold.valueChanged.connect(self._on_threshold)
        self.count_label = QLabel("")
        self.first_layer, self.last_layer = QSpinBox(), QSpinBox()
        for box, tip in ((self.first_layer, "First layer shown"), (self.last_layer, "Last layer shown")):
            box.setRange(0, 0)
            box.setToolTip(tip)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._on_layer_box)
        # the "Layers" caption is the orientation toggle: one small button, as a narrow dock has no room for more
        self.orientation_button = QToolButton()
        self.orientation_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.orientation_button.setAutoRaise(True)
        menu = QMenu(self.orientation_button)
        group = QActionGroup(self)
        self.orientation_actions: dict[str, QAction] = {}
        for mode in ORIENTATIONS:
            action = menu.addAction(ORIENTATION_TEXT[mode])
            action.setCheckable(True)
            action.setChecked(mode == "auto")
            group.addAction(action)
            action.triggered.connect(lambda _checked=False, mode=mode: self._on_orientation_chosen(mode))
            self.orientation_actions[mode] = action
        self.orientation_button.setMenu(menu)
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show every layer in range (wheel zooms, drag pans)")
        self.fit_button.clicked.connect(self.fit)
        self.hover_label = QLabel("Hover a head to read it; click to open it; wheel zooms, drag pans")
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hover_label.setWordWrap(True)
        top = QHBoxLayout()
        top.setSpacing(4)
        for widget in (QLabel("Highlight"), self.score_box, self.threshold, self.count_label):
            top.addWidget(widget)
        top.addStretch(1)
        for widget in (self.orientation_button, self.first_layer, QLabel("–"), self.last_layer, self.fit_button):
            top.addWidget(widget)
        self._show_orientation()

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.plot = plain_plot(self.view.addPlot(), self)
        self.plot.setMouseEnabled(True, True)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.showAxis("top")
        self.plot.hideAxis("bottom")
        for name in ("left", "top"):
            # labels are thinned to fit (_update_ticks); the edge ones may reach into the corner
            self.plot.getAxis(name).setStyle(tickLength=0, autoReduceTextSpace=False, hideOverlappingLabels=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(lut8_with_gap())
        self.plot.addItem(self.image)
        self.frame_item = QGraphicsPathItem()
        pen = QPen(HIGHLIGHT)
        pen.setWidthF(FRAME_PX[1])
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        self.frame_item.setPen(pen)
        self.frame_item.setZValue(10)
        self.plot.addItem(self.frame_item)
        vb = self.plot.getViewBox()
        vb.sigRangeChanged.connect(self._update_ticks)
        vb.sigResized.connect(self._on_resized)
        vb.sigRangeChangedManually.connect(self._on_user_range)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hover_label)

    def figure_view(self) -> QWidget:
        """The plot alone (no controls or labels): what a figure export renders."""
        return self.view

    # ------------------------------------------------------------------ data in
    def set_stale(self, stale: bool) -> None:
        """Dim the patterns while the run that replaces them is on its way."""
        self.image.setOpacity(0.4 if stale else 1.0)

    @property
    def stale(self) -> bool:
        return self.image.opacity() < 1.0

    def set_patterns(self, patterns: np.ndarray, tokens: list[str] | None = None) -> None:
        """patterns: [layers, heads, S, S] in [0, 1]. Same shape as before: only the pixels
        change (the zoom, the layer range and the frames stay)."""
        n_layers, n_heads, seq, _ = patterns.shape
        reshaped = (n_layers, n_heads, seq) != self._shape
        new_model = (n_layers, n_heads) != self._shape[:2]
        self._patterns = patterns
        self._shape, self._tokens = (n_layers, n_heads, seq), list(tokens or [str(i) for i in range(seq)])
        if reshaped:
            self._gap = max(1, seq // 6)
        if new_model:
            for box in (self.first_layer, self.last_layer):
                box.blockSignals(True)
                box.setRange(0, n_layers - 1)
                box.setValue(0 if box is self.first_layer else n_layers - 1)
                box.blockSignals(False)
            self._range = (0, n_layers - 1)
        if reshaped and self._mode == "auto":
            self._orientation = self._best_orientation()
        self._ensure_buffer()
        self._fill()
        self._show_range(refit=reshaped)

    def _ensure_buffer(self) -> bool:
        """A gap-filled buffer of every layer in the current layout; True if a new one was made
        (a new shape or orientation: the caller fills it)."""
        n_layers, n_heads, seq = self._shape
        step = self._step()
        rows, cols = (n_layers, n_heads) if self._orientation == "rows" else (n_heads, n_layers)
        layout = (self._shape, self._orientation)  # not the array's shape: two layouts may share it
        if self._buffer is not None and self._buffer_layout == layout:
            return False
        self._buffer = np.full((rows * step, cols * step), GAP_INDEX, dtype=np.uint8)
        self._buffer_layout = layout
        return True

    def _fill(self) -> None:
        """Write every pattern into its tile: one vectorised copy through a [layer, query, head,
        key] view of the buffer, whichever way the layers run (tiles are never transposed)."""
        n_layers, n_heads, seq = self._shape
        step = self._step()
        if self._orientation == "rows":
            tiles = self._buffer.reshape(n_layers, step, n_heads, step)[:, :seq, :, :seq]
        else:  # [head, query, layer, key] in memory
            tiles = self._buffer.reshape(n_heads, step, n_layers, step)[:, :seq, :, :seq].transpose(2, 1, 0, 3)
        scaled = np.multiply(self._patterns, np.float32(GAP_INDEX - 1), dtype=np.float32)
        np.clip(scaled, 0.0, GAP_INDEX - 1, out=scaled)
        np.add(scaled, np.float32(0.5), out=scaled)
        np.copyto(tiles, scaled.transpose(0, 2, 1, 3), casting="unsafe")

    def set_scores(self, scores: dict[str, np.ndarray]) -> None:
        """Scores per key in SCORE_KEYS (each [layers, heads]); missing keys are allowed."""
        self._scores = dict(scores)
        self._update_frames()

    def set_marked(self, marked: dict[tuple[int, int], str]) -> None:
        """Heads under an intervention, (layer, head) -> short label ('✕0', '×0.50'): drawn
        as a hatched veil with the label, so the grid shows what is ablated."""
        self._marked = dict(marked)
        self._update_marks()

    def select_score_key(self, key: str) -> None:
        self.score_box.setCurrentText(key)

    def set_threshold(self, value: float) -> None:
        self.threshold.setValue(value)

    def set_layer_range(self, first: int, last: int) -> None:
        """Show layers first..last (inclusive), fitted."""
        n_layers = self._shape[0]
        first, last = sorted((int(np.clip(first, 0, max(n_layers - 1, 0))), int(np.clip(last, 0, max(n_layers - 1, 0)))))
        for box, value in ((self.first_layer, first), (self.last_layer, last)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        if (first, last) != self._range:
            self._range = (first, last)
            self._show_range(refit=True)

    def set_orientation(self, mode: str) -> None:
        """'rows' (layers down), 'columns' (layers across) or 'auto' (the larger tiles); refits."""
        if mode not in ORIENTATIONS:
            raise ValueError(f"orientation must be one of {ORIENTATIONS}, not {mode!r}")
        self.orientation_actions[mode].setChecked(True)
        self._on_orientation_chosen(mode)

    @property
    def orientation(self) -> str:
        """The layout on display: 'rows' or 'columns' (auto resolved)."""
        return self._orientation

    @property
    def orientation_mode(self) -> str:
        """What the user chose: 'auto', 'rows' or 'columns'."""
        return self._mode

    @property
    def layer_axis(self) -> str:
        """The axis ('left' or 'top') that labels the layers; the other labels the heads."""
        return "left" if self._orientation == "rows" else "top"

    def fitted_tile_px(self, orientation: str) -> float:
        """Screen pixels per tile side when the shown layers are fitted in this orientation, for
        the view's current size (0 before it has one): what auto maximises."""
        size = self.plot.getViewBox().rect()
        if self._patterns is None or size.width() < 1 or size.height() < 1:
            return 0.0
        rows, cols = self._grid_dims(orientation)
        step, gap = self._step(), self._gap
        scale = min(size.width() / (cols * step + gap), size.height() / (rows * step + gap))
        return self._shape[2] * scale

    def _best_orientation(self, gain: float = 1.0) -> str:
        """The orientation with the larger fitted tiles; the current one unless the other's tiles
        are `gain` times larger (or the view has no size yet)."""
        current = self._orientation
        other = "columns" if current == "rows" else "rows"
        here, there = self.fitted_tile_px(current), self.fitted_tile_px(other)
        return other if here > 0 and there > here * gain else current

    def tile(self, layer: int, head: int) -> np.ndarray:
        """The pattern shown for one head, [S, S]."""
        return self._patterns[layer, head]

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self._shape[:2]

    @property
    def layer_range(self) -> tuple[int, int]:
        return self._range

    @property
    def shown_image(self) -> np.ndarray | None:
        """The LUT indices on display (the layers in range)."""
        return self.image.image

    # ------------------------------------------------------------------ geometry
    def _step(self) -> int:
        return self._shape[2] + self._gap

    def _grid_dims(self, orientation: str | None = None) -> tuple[int, int]:
        """(rows, columns) of tiles shown: the layers in range and the heads, placed."""
        first, last = self._range
        layers, heads = last - first + 1, self._shape[1]
        return (layers, heads) if (orientation or self._orientation) == "rows" else (heads, layers)

    def _tile_origin(self, layer: int, head: int) -> tuple[float, float]:
        """Top-left (x, y) of a shown head's tile in mosaic coordinates."""
        step, offset = self._step(), layer - self._range[0]
        return (head * step, offset * step) if self._orientation == "rows" else (offset * step, head * step)

    def _head_of(self, row: int, col: int) -> tuple[int, int] | None:
        """(layer, head) of the tile at a row and column of the shown mosaic, None outside it."""
        rows, cols = self._grid_dims()
        if not (0 <= row < rows and 0 <= col < cols):
            return None
        layer, head = (row, col) if self._orientation == "rows" else (col, row)
        return layer + self._range[0], head

    def _content_rect(self) -> QRectF:
        """The mosaic of the shown layers with a gap around it."""
        rows, cols = self._grid_dims()
        step, gap = self._step(), self._gap
        return QRectF(-gap, -gap, cols * step + gap, rows * step + gap)

    def _show_range(self, refit: bool) -> None:
        if refit and self._mode == "auto":
            self._orientation = self._best_orientation()
        if self._ensure_buffer():
            self._fill()
        first, last = self._range
        step, gap = self._step(), self._gap
        layers = slice(first * step, (last + 1) * step - gap)
        shown = self._buffer[layers, :-gap] if self._orientation == "rows" else self._buffer[:-gap, layers]
        self.image.setImage(np.ascontiguousarray(shown), autoLevels=False)
        if refit:
            self._show_orientation()
            self._update_marks()
            self._update_frames()
            self._apply_limits()
            self._fit_view()

    def _apply_limits(self) -> None:
        """Pan and zoom limits: the content, widened to the view's aspect (the room goes right
        and down, so the labels stay by the tiles) so that the fitted view, aspect locked,
        lies inside them, with 1 % to spare; one cannot drag into empty space."""
        if self._buffer is None:
            return
        vb = self.plot.getViewBox()
        rect = self._content_rect()
        size = vb.rect()  # not boundingRect(): that one is half a pixel larger
        if size.width() > 1 and size.height() > 1:
            aspect = size.width() / size.height()
            if rect.width() / rect.height() < aspect:
                rect.setWidth(rect.height() * aspect)
            else:
                rect.setHeight(rect.width() / aspect)
        self._bounds = rect
        spare = QRectF(rect).adjusted(-0.005 * rect.width(), -0.005 * rect.height(),
                                      0.005 * rect.width(), 0.005 * rect.height())
        minimum = max(2.0, self._shape[2] / 4)
        vb.setLimits(xMin=spare.left(), xMax=spare.right(), yMin=spare.top(), yMax=spare.bottom(),
                     minXRange=minimum, minYRange=minimum)

    def fit(self) -> None:
        """Show every layer in range, whole (auto: in the orientation with the larger tiles)."""
        if self._buffer is None:
            return
        if self._mode == "auto" and self._best_orientation() != self._orientation:
            self._show_range(refit=True)  # re-lays the mosaic out, then fits
            return
        self._fit_view()

    def _fit_view(self) -> None:
        self._apply_limits()
        self.plot.getViewBox().setRange(rect=self._bounds, padding=0.0)
        self._fitted = True
        self._update_ticks()

    def _on_resized(self) -> None:
        """Keep a fitted view fitted (the dock or the axis labels changed size); a view the
        user zoomed or panned keeps its range, within the new limits."""
        if self._buffer is None:
            return
        if self._fitted and self._mode == "auto" and self._best_orientation(REORIENT_GAIN) != self._orientation:
            self._show_range(refit=True)
            return
        self._apply_limits()
        if self._fitted:
            self._fit_view()
        self._update_ticks()

    def _update_ticks(self) -> None:
        """Label every layer and head that fits: a stride of 1, 2, 5, 10... chosen from the
        pixels between tiles at this zoom and the labels' text size."""
        if self._buffer is None:
            return
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        size = vb.rect()
        if x1 <= x0 or y1 <= y0 or size.width() < 1 or size.height() < 1:
            return
        n_layers, n_heads, seq = self._shape
        first, last = self._range
        step = self._step()
        px = {"left": step * size.height() / (y1 - y0), "top": step * size.width() / (x1 - x0)}
        pen = self.frame_item.pen()
        pen.setWidthF(float(np.clip(px["left"] * 0.12, *FRAME_PX)))
        self.frame_item.setPen(pen)
        layer_axis = self.layer_axis
        head_axis = "top" if layer_axis == "left" else "left"
        layers = label_stride(px[layer_axis], self._label_room(layer_axis, f"L{last}"))
        heads = label_stride(px[head_axis], self._label_room(head_axis, f"H{n_heads - 1}"))
        self._ticks[layer_axis] = [((l - first) * step + seq / 2, f"L{l}") for l in range(first, last + 1)
                                   if l % layers == 0]
        self._ticks[head_axis] = [(h * step + seq / 2, f"H{h}") for h in range(n_heads) if h % heads == 0]
        for name in ("left", "top"):
            self.plot.getAxis(name).setTicks([self._ticks[name], []])

    def _label_room(self, name: str, text: str) -> float:
        """Pixels a label needs along its axis: its height down the left one, its width (and a
        margin) across the top one."""
        width, height = self._label_size(self.plot.getAxis(name), text)
        return height + 2 if name == "left" else width + 8

    @staticmethod
    def _label_size(axis: pg.AxisItem, text: str) -> tuple[int, int]:
        metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
        return metrics.horizontalAdvance(text), metrics.height()

    def tick_labels(self, name: str) -> list[tuple[float, str]]:
        """(position in view-widget pixels along the axis, text) of the labels shown on the
        'left' or 'top' axis, those inside the visible range only."""
        vb = self.plot.getViewBox()
        out = []
        (x0, x1), (y0, y1) = vb.viewRange()
        for value, text in self._ticks[name]:
            if name == "left" and not y0 <= value <= y1 or name == "top" and not x0 <= value <= x1:
                continue
            point = self.view.mapFromScene(vb.mapViewToScene(QPointF(value, value)))
            out.append((float(point.y() if name == "left" else point.x()), text))
        return out

    # ------------------------------------------------------------------ highlight and marks
    def highlighted(self) -> list[tuple[int, int]]:
        """Heads at or above the threshold on the chosen score (DLA: relative to the largest
        |DLA|, as its scale is the logit difference's, not 0..1), every layer."""
        key = self.score_box.currentText()
        values = self._scores.get(key)
        if self._patterns is None or values is None or values.shape != self._shape[:2]:
            return []
        return heads_above(values, key, self.threshold.value())

    def _update_frames(self) -> None:
        chosen = self.highlighted()
        self.count_label.setText(f"{len(chosen)} head{'s' if len(chosen) != 1 else ''}"
                                 if self._patterns is not None else "")
        first, last = self._range
        self._frames = [(l, h) for l, h in chosen if first <= l <= last]
        path = QPainterPath()
        seq, gap = self._shape[2], self._gap
        for l, h in self._frames:  # drawn in the gap around the tile, so the pattern stays visible
            x, y = self._tile_origin(l, h)
            path.addRect(QRectF(x - gap / 2, y - gap / 2, seq + gap, seq + gap))
        self.frame_item.setPath(path)

    def _update_marks(self) -> None:
        """Veils for marked heads. Same heads as before: only the labels change (a knob drag
        updates the label many times a second; rebuilding graphics items each time is slow)."""
        n_layers, n_heads, seq = self._shape
        first, last = self._range
        wanted = {k: v for k, v in self._marked.items() if first <= k[0] <= last and 0 <= k[1] < n_heads}
        geometry = (self._shape, self._range, self._orientation)
        if set(wanted) == set(self._mark_items) and self._mark_geometry == geometry:
            for key, label in wanted.items():
                self._mark_items[key][1].setText(label)
            return
        for veil, text in self._mark_items.values():
            self.plot.removeItem(veil)
            self.plot.removeItem(text)
        self._mark_items, self._mark_geometry = {}, geometry
        for (l, h), label in wanted.items():
            x, y = self._tile_origin(l, h)
            veil = QGraphicsRectItem(QRectF(x, y, seq, seq))
            veil.setBrush(QBrush(QColor(255, 255, 255, 150), Qt.BrushStyle.BDiagPattern))
            veil.setPen(QPen(Qt.PenStyle.NoPen))
            veil.setZValue(15)
            self.plot.addItem(veil)
            text = pg.TextItem(label, color=(176, 0, 32), anchor=(0.5, 0.5), fill=(255, 255, 255, 230),
                               border=(176, 0, 32))
            text.setPos(x + seq / 2, y + seq / 2)
            text.setZValue(20)  # above the highlight frames
            self.plot.addItem(text)
            self._mark_items[(l, h)] = (veil, text)

    @property
    def marks(self) -> dict[tuple[int, int], str]:
        """What the grid shows as marked: (layer, head) -> label."""
        return {key: text.textItem.toPlainText() for key, (_veil, text) in self._mark_items.items()}

    # ------------------------------------------------------------------ mouse
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int, int, int] | None:
        """(layer, head, query, key) under a scene position, or None over a gap."""
        if self._patterns is None:
            return None
        return self._cell_at_view(self.plot.getViewBox().mapSceneToView(scene_pos))

    def _cell_at_view(self, p: QPointF) -> tuple[int, int, int, int] | None:
        seq, step = self._shape[2], self._step()
        x, y = int(np.floor(p.x())), int(np.floor(p.y()))  # pixel i spans [i, i + 1)
        row, q = divmod(y, step)  # queries run down a tile, keys across, in either orientation
        col, k = divmod(x, step)
        head = self._head_of(row, col) if x >= 0 and y >= 0 and q < seq and k < seq else None
        return None if head is None else (*head, q, k)

    def head_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The head whose tile is nearest a scene position (a gap belongs to the nearer tile),
        or None outside the mosaic."""
        if self._patterns is None:
            return None
        return self._head_at_view(self.plot.getViewBox().mapSceneToView(scene_pos))

    def _head_at_view(self, p: QPointF) -> tuple[int, int] | None:
        step, gap = self._step(), self._gap
        return self._head_of(int(np.floor((p.y() + gap / 2) / step)), int(np.floor((p.x() + gap / 2) / step)))

    def describe(self, layer: int, head: int, q: int | None = None, k: int | None = None) -> str:
        parts = [f"L{layer}.H{head}"]
        for key, values in self._scores.items():
            if values is not None and values.shape == self._shape[:2]:
                parts.append(f"{key} {values[layer, head]:+.3f}" if key == "DLA" else f"{key} {values[layer, head]:.2f}")
        text = "   ".join(parts)
        if q is not None and k is not None:
            text += (f"\nquery {q} {self._tokens[q]!r} → key {k} {self._tokens[k]!r}: "
                     f"{self.tile(layer, head)[q, k]:.3f}")
        return text

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            text = self.describe(*cell)
            self.hover_label.setText(text.replace("\n", "   |   "))
            self.view.setToolTip(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """Clicks are read here, not from pyqtgraph's sigMouseClicked: that one is lost when
        the mouse moves a few pixels between press and release (it becomes a drag)."""
        if watched is self.view.viewport() and self._patterns is not None:
            kind = event.type()
            if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
                pos = event.position()
                scene = self.view.mapToScene(pos.toPoint())
                self._press = (pos, self.plot.getViewBox().mapSceneToView(scene))
            elif kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton \
                    and self._press is not None:
                (pressed_at, view_point), self._press = self._press, None
                if (event.position() - pressed_at).manhattanLength() <= CLICK_SLOP_PX:
                    head = self._head_at_view(view_point)  # what was under the press, even if the view panned
                    if head is not None:
                        self.head_clicked.emit(*head)
        return super().eventFilter(watched, event)

    def _on_user_range(self, *_args) -> None:
        self._fitted = False

    def _on_score_key(self, key: str) -> None:
        self._update_frames()
        self.score_key_changed.emit(key)

    def _on_threshold(self, value: float) -> None:
        self._update_frames()
        self.threshold_changed.emit(value)

    def _on_orientation_chosen(self, mode: str) -> None:
        self._mode = mode
        if mode != "auto":
            self._orientation = mode
        if self._buffer is not None:
            self._show_range(refit=True)
        else:
            self._show_orientation()

    def _show_orientation(self) -> None:
        """The button says which way the layers run (and whether auto chose it)."""
        arrow, auto = ARROWS[self._orientation], self._mode == "auto"
        self.orientation_button.setText(f"Layers {arrow}")
        self.orientation_button.setToolTip(f"Layers run {'down, as rows' if arrow == '↓' else 'across, as columns'}"
                                           f"{' (auto: the larger tiles for this view)' if auto else ''}. "
                                           "Click to choose rows, columns or auto.")

    def _on_layer_box(self, _value: int) -> None:
        self.set_layer_range(self.first_layer.value(), self.last_layer.value())


def demo() -> HeadGrid:
    """4 layers x 8 heads of random causal patterns, outlined by a random score."""
    from .demo import causal_patterns

    grid = HeadGrid()
    grid.set_patterns(causal_patterns(4, 8, 20), [f"t{i}" for i in range(20)])
    grid.set_scores({"induction": np.random.default_rng(0).random((4, 8))})
    grid.select_score_key("induction")
    grid.resize(900, 500)
    return grid


if __name__ == "__main__":
    from .demo import run

    run(demo)
