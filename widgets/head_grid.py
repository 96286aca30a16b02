"""Every attention head at once: a layer x head mosaic of attention patterns.

One pyqtgraph ImageItem holds the whole mosaic (tiles separated by gap cells), so a
repaint with 144 new patterns is a single setImage, not 144. Rows are layers, columns
heads; each tile is a query x key pattern with the first query at the top."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QGraphicsRectItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .colors import HIGHLIGHT, lut_with_gap, to_lut_indices
from .plots import plain_plot

SCORE_KEYS = ("none", "induction", "previous-token", "duplicate-token", "DLA")
DEFAULT_THRESHOLD = 0.3  # an induction or previous-token score this high is far above chance


class HeadGrid(QWidget):
    """Shows patterns [L, H, S, S]; emits head_clicked(layer, head) and hover text."""

    head_clicked = Signal(int, int)
    score_key_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mosaic: np.ndarray | None = None
        self._shape = (0, 0, 0)  # layers, heads, seq
        self._gap = 1
        self._tokens: list[str] = []
        self._scores: dict[str, np.ndarray] = {}
        self._frames: list[QGraphicsRectItem] = []
        self._mark_items: dict[tuple[int, int], tuple[QGraphicsRectItem, pg.TextItem]] = {}
        self._mark_geometry: tuple[int, int, int] | None = None
        self._marked: dict[tuple[int, int], str] = {}
        self._selected: tuple[int, int] | None = None

        self.score_box = QComboBox()
        self.score_box.addItems(SCORE_KEYS)
        self.score_box.setToolTip("Outline the heads scoring highest on this measure")
        self.score_box.currentTextChanged.connect(self._on_score_key)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setPrefix("≥ ")
        self.threshold.setToolTip("Outline every head scoring at least this (DLA: this fraction of the largest |DLA|)")
        self.threshold.valueChanged.connect(lambda _: self._update_frames())
        self.count_label = QLabel("")
        self.hover_label = QLabel("Hover a head to read it; click to open it in the detail view")
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(QLabel("Highlight:"))
        top.addWidget(self.score_box)
        top.addWidget(self.threshold)
        top.addWidget(self.count_label)
        top.addStretch(1)

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.plot = plain_plot(self.view.addPlot(), self)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.showAxis("top")
        self.plot.hideAxis("bottom")
        for name in ("left", "top"):
            self.plot.getAxis(name).setStyle(tickLength=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(lut_with_gap())
        self.plot.addItem(self.image)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_mouse_clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hover_label)

    # ------------------------------------------------------------------ data in
    def set_patterns(self, patterns: np.ndarray, tokens: list[str] | None = None) -> None:
        """patterns: [layers, heads, S, S] in [0, 1]."""
        n_layers, n_heads, seq, _ = patterns.shape
        reshaped = (n_layers, n_heads, seq) != self._shape
        self._shape, self._tokens = (n_layers, n_heads, seq), list(tokens or [str(i) for i in range(seq)])
        self._gap = gap = max(1, seq // 6)
        step = seq + gap
        # [layer, query, head, key] with NaN gaps, flattened to rows = layer*query, cols = head*key
        padded = np.full((n_layers, step, n_heads, step), np.nan, dtype=np.float32)
        padded[:, :seq, :, :seq] = patterns.transpose(0, 2, 1, 3)
        self._mosaic = mosaic = padded.reshape(n_layers * step, n_heads * step)[:-gap, :-gap]
        self.image.setImage(to_lut_indices(mosaic), levels=(0, 256), autoLevels=False)
        if reshaped:
            self._update_marks()
            self._set_ticks()
            height, width = self._mosaic.shape
            self.plot.getViewBox().setRange(xRange=(-gap, width + gap), yRange=(-gap, height + gap), padding=0.0)
            self._update_frames()

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

    def tile(self, layer: int, head: int) -> np.ndarray:
        """The pattern shown for one head (what the user sees), [S, S]."""
        seq = self._shape[2]
        step = seq + self._gap
        return self._mosaic[layer * step : layer * step + seq, head * step : head * step + seq]

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self._shape[:2]

    # ------------------------------------------------------------------ drawing helpers
    def _set_ticks(self) -> None:
        n_layers, n_heads, seq = self._shape
        step = seq + self._gap
        self.plot.getAxis("left").setTicks([[(l * step + seq / 2, f"L{l}") for l in range(n_layers)], []])
        self.plot.getAxis("top").setTicks([[(h * step + seq / 2, f"H{h}") for h in range(n_heads)], []])

    def _update_frames(self) -> None:
        for frame in self._frames:
            self.plot.removeItem(frame)
        self._frames = []
        chosen = self.highlighted()
        self.count_label.setText(f"{len(chosen)} head{'s' if len(chosen) != 1 else ''}" if self._mosaic is not None else "")
        seq = self._shape[2]
        step = seq + self._gap
        for l, h in chosen:
            # drawn in the gap around the tile, so the pattern itself stays visible
            frame = QGraphicsRectItem(QRectF(h * step - self._gap / 2, l * step - self._gap / 2,
                                             seq + self._gap, seq + self._gap))
            pen = QPen(HIGHLIGHT)
            pen.setWidthF(max(0.5, self._gap * 0.45))
            pen.setCosmetic(False)
            frame.setPen(pen)
            self.plot.addItem(frame)
            self._frames.append(frame)

    def highlighted(self) -> list[tuple[int, int]]:
        """Heads at or above the threshold on the chosen score (DLA: relative to the largest
        |DLA|, as its scale is the logit difference's, not 0..1)."""
        values = self._scores.get(self.score_box.currentText())
        if self._mosaic is None or values is None or values.shape != self._shape[:2]:
            return []
        magnitude = np.abs(values)
        if self.score_box.currentText() == "DLA":
            magnitude = magnitude / max(float(magnitude.max()), 1e-12)
        return [(int(l), int(h)) for l, h in zip(*np.nonzero(magnitude >= max(self.threshold.value(), 1e-9)))]

    def _update_marks(self) -> None:
        """Veils for marked heads. Same heads as before: only the labels change (a knob drag
        updates the label many times a second; rebuilding graphics items each time is slow)."""
        n_layers, n_heads, seq = self._shape
        wanted = {k: v for k, v in self._marked.items() if 0 <= k[0] < n_layers and 0 <= k[1] < n_heads}
        if set(wanted) == set(self._mark_items) and self._mark_geometry == self._shape:
            for key, label in wanted.items():
                self._mark_items[key][1].setText(label)
            return
        for veil, text in self._mark_items.values():
            self.plot.removeItem(veil)
            self.plot.removeItem(text)
        self._mark_items, self._mark_geometry = {}, self._shape
        step = seq + self._gap
        for (l, h), label in wanted.items():
            veil = QGraphicsRectItem(QRectF(h * step, l * step, seq, seq))
            veil.setBrush(QBrush(QColor(255, 255, 255, 150), Qt.BrushStyle.BDiagPattern))
            veil.setPen(QPen(Qt.PenStyle.NoPen))
            self.plot.addItem(veil)
            text = pg.TextItem(label, color=(176, 0, 32), anchor=(0.5, 0.5), fill=(255, 255, 255, 230),
                               border=(176, 0, 32))
            text.setPos(h * step + seq / 2, l * step + seq / 2)
            self.plot.addItem(text)
            self._mark_items[(l, h)] = (veil, text)

    @property
    def marks(self) -> dict[tuple[int, int], str]:
        """What the grid shows as marked: (layer, head) -> label."""
        return {key: text.textItem.toPlainText() for key, (_veil, text) in self._mark_items.items()}

    # ------------------------------------------------------------------ mouse
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int, int, int] | None:
        """(layer, head, query, key) under a scene position, or None over a gap."""
        if self._mosaic is None:
            return None
        p = self.plot.getViewBox().mapSceneToView(scene_pos)
        n_layers, n_heads, seq = self._shape
        step = seq + self._gap
        x, y = int(np.floor(p.x())), int(np.floor(p.y()))  # pixel i spans [i, i + 1)
        layer, q = divmod(y, step)
        head, k = divmod(x, step)
        if x < 0 or y < 0 or layer >= n_layers or head >= n_heads or q >= seq or k >= seq:
            return None
        return layer, head, q, k

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

    def _on_mouse_clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.head_clicked.emit(cell[0], cell[1])

    def _on_score_key(self, key: str) -> None:
        self._update_frames()
        self.score_key_changed.emit(key)


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
