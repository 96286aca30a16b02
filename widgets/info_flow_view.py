"""The information-flow graph of Ferrando & Voita (2024, the LLM Transparency Tool): which
paths through the residual stream carry a prediction, read off one forward pass.

Columns are the prompt's tokens, left to right; rows are residual-stream states from the
bottom up: row 2l enters layer l, row 2l+1 is after layer l's attention, the top row is
the output. An edge goes up one row: an attention edge from a key position to a query
position (a diagonal), the residual skip straight up, and an MLP edge up through a small
square just right of the column, so an MLP never hides under its skip. Width and opacity
are the edge's weight (its share of what arrives). The route tree, what the prediction at
the chosen output position ("Route from", or a click on a top-row node) is built from at
the threshold set, is drawn in purple with its nodes filled; every other edge is faint
grey. Colour says only that: on the route or not; the kind of edge is its shape.

A click on a node emits `node_clicked(row, pos)`; the app answers with set_details (what
the node reads as through the logit lens) and set_selected, an orange ring. The threshold
slider emits `threshold_changed`; no setter emits anything. The graph zooms at the wheel,
pans by dragging and is fitted by default; tokens (widgets/token_text.visible_token) and
row labels are thinned to what fits, never overlapping: with too little height for every
row, only the rows entering a layer are named, every 1st, 2nd, 5th ... layer (and the
output)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QTextBrowser, QVBoxLayout,
                               QWidget)

from .colors import HIGHLIGHT
from .elided_label import ElidedLabel
from .fitted_graph import FittedGraph
from .ticks import label_stride
from .token_text import elide, visible_token

__all__ = ["ATTENTION", "MLP", "RESIDUAL", "InfoFlowView", "demo", "demo_real_size", "route_tree"]

ATTENTION, RESIDUAL, MLP = 0, 1, 2  # set_graph's kinds
ROUTE = QColor(112, 48, 160)  # purple: on the route tree (orange marks the node read, as elsewhere)
OTHER = QColor(110, 110, 110)
NODE_GREY = QColor(175, 175, 175)
MLP_DX = 0.3  # an MLP edge's square sits this far right of its column, half way up
LEVELS = 8  # edge weights are drawn in this many steps of width and opacity
THRESHOLD_MAX, THRESHOLD_STEP = 0.3, 0.01
TOKEN_CHARS = 14  # a token label longer than this is elided
CLICK_TOLERANCE_PX = 10.0
FIT_MARGIN = 16.0  # px round the outermost nodes when fitted
FONT_PT = 8.5
HINT = "Wheel: zoom · drag: pan · click a node: read it through the logit lens · click a top-row node: route from it"


# ---- plain helpers (tests and demos read them too) ----

def edge_polylines(src_row: np.ndarray, src_pos: np.ndarray, dst_row: np.ndarray, dst_pos: np.ndarray,
                   kinds: np.ndarray) -> np.ndarray:
    """Each edge as three points [E, 3, 2] (x = position, y = row): a straight edge through
    its midpoint, an MLP edge through its square."""
    start = np.stack([src_pos, src_row], axis=1).astype(float)
    end = np.stack([dst_pos, dst_row], axis=1).astype(float)
    middle = (start + end) / 2
    middle[:, 0] += np.where(np.asarray(kinds) == MLP, MLP_DX, 0.0)
    return np.stack([start, middle, end], axis=1)


def edge_pen_for(on_route: bool, weight: float) -> tuple[QColor, float]:
    """An edge's colour (with opacity) and width by its weight, in LEVELS steps."""
    share = (min(int(np.clip(weight, 0.0, 1.0) * LEVELS), LEVELS - 1) + 0.5) / LEVELS
    colour = QColor(ROUTE if on_route else OTHER)
    colour.setAlpha(int(110 + 145 * share) if on_route else int(25 + 85 * share))
    return colour, (1.0 + 4.0 * share) if on_route else (0.6 + 1.6 * share)


def route_tree(src_row: np.ndarray, src_pos: np.ndarray, dst_row: np.ndarray, dst_pos: np.ndarray,
               weights: np.ndarray, top_row: int, position: int, threshold: float) -> np.ndarray:
    """Which edges lead (weight >= threshold at every step) to the output at `position`:
    the route tree, walked down from the top row. For demos and tests; the app gets it from
    the engine."""
    on = np.zeros(len(weights), dtype=bool)
    strong = np.asarray(weights) >= threshold
    frontier = {(top_row, position)}
    for row in range(top_row, 0, -1):
        here = {p for r, p in frontier if r == row}
        chosen = strong & (np.asarray(dst_row) == row) & np.isin(dst_pos, list(here))
        on |= chosen
        frontier |= {(row - 1, int(p)) for p in np.asarray(src_pos)[chosen]}
    return on


class InfoFlowView(FittedGraph, QWidget):
    """set_graph, set_threshold, set_selected, set_position, set_details; emits
    threshold_changed(float), node_clicked(int, int) (row, position), position_changed(int)."""

    threshold_changed = Signal(float)
    node_clicked = Signal(int, int)
    position_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens: list[str] = []
        self.row_labels: list[str] = []
        self.kinds = np.zeros(0, dtype=int)
        self.on_route = np.zeros(0, dtype=bool)
        self.weights = np.zeros(0)
        self.edges = np.zeros((0, 4), dtype=int)  # src_row, src_pos, dst_row, dst_pos
        self.edge_items: list[pg.PlotCurveItem] = []
        self.selected: tuple[int, int] | None = None
        self._position = 0
        self.font_ = QFont(self.font())
        self.font_.setPointSizeF(FONT_PT)
        self._build_graph()
        self._build_controls()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self.controls)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.details)
        layout.addWidget(self.hint)
        self.set_threshold(0.04)
        self.resize(700, 600)

    # ---- building ----

    def _build_graph(self) -> None:
        self.row_axis, self.token_axis = self._build_plot((2, 8, 12, 2))
        self._lines = np.zeros((0, 3, 2))
        self._node_on = self._square_on = np.zeros(0, dtype=bool)
        self._pitch = 0.0
        self.nodes = pg.ScatterPlotItem(pxMode=True)
        self.nodes.setZValue(3)
        self.squares = pg.ScatterPlotItem(pxMode=True, symbol="s")
        self.squares.setZValue(3.5)
        self.ring = pg.ScatterPlotItem(pxMode=True, size=17, pen=pg.mkPen(HIGHLIGHT, width=2.5), brush=None)
        self.ring.setZValue(4)
        for item in (self.nodes, self.squares, self.ring):
            self.plot.addItem(item, ignoreBounds=True)
        self.view.scene().sigMouseClicked.connect(self._on_clicked)
        self.view.scene().sigMouseMoved.connect(self._on_moved)
        self.view.setMinimumSize(240, 200)

    def _build_controls(self) -> None:
        self.position_box = QComboBox()
        self.position_box.setToolTip("The output position whose prediction the route tree explains")
        self.position_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.position_box.activated.connect(self._on_position_chosen)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, int(round(THRESHOLD_MAX / THRESHOLD_STEP)))
        self.slider.setToolTip("Edges below this weight are left out of the route tree")
        self.slider.valueChanged.connect(self._on_slider)
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(QFontMetrics(self.font()).horizontalAdvance("threshold 0.00") + 6)
        fit = QPushButton("Fit")
        fit.setToolTip("Show the whole graph")
        fit.clicked.connect(self.fit)
        self.controls = QHBoxLayout()
        self.controls.setSpacing(6)
        self.controls.addWidget(QLabel("Route from"))
        self.controls.addWidget(self.position_box)
        self.controls.addSpacing(8)
        self.controls.addWidget(self.threshold_label)
        self.controls.addWidget(self.slider, 1)
        self.controls.addWidget(fit)
        self.legend = QLabel(legend_html())
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("background: white; padding: 3px;")
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.details.setPlaceholderText("Click a node to read it through the logit lens")
        self.details.setFixedHeight(QFontMetrics(self.details.font()).lineSpacing() * 3 + 12)
        self.hint = ElidedLabel(HINT)
        self.hint.setStyleSheet("color: #666;")

    # ---- setters: none of them emits a signal ----

    def set_graph(self, tokens: Sequence[str], row_labels: Sequence[str], src_row: np.ndarray, src_pos: np.ndarray,
                  dst_row: np.ndarray, dst_pos: np.ndarray, weights: np.ndarray, kinds: np.ndarray,
                  on_route: np.ndarray) -> None:
        """The graph's edges (rows and positions of both ends, weight in [0, 1], kind) and
        which are on the route tree. Fitted when the prompt or the model's depth changes."""
        refit = len(tokens) != len(self.tokens) or len(row_labels) != len(self.row_labels)
        self.tokens, self.row_labels = list(tokens), list(row_labels)
        columns = [np.asarray(a, dtype=int).ravel() for a in (src_row, src_pos, dst_row, dst_pos)]
        self.edges = np.stack(columns, axis=1) if len(columns[0]) else np.zeros((0, 4), dtype=int)
        self.weights = np.asarray(weights, dtype=float).ravel()
        self.kinds = np.asarray(kinds, dtype=int).ravel()
        self.on_route = np.asarray(on_route, dtype=bool).ravel()
        if not (len(self.weights) == len(self.kinds) == len(self.on_route) == len(self.edges)):
            raise ValueError("every edge needs its rows, positions, weight, kind and on_route")
        self._fill_positions(refit)
        self._draw()
        self.token_axis.set_names(range(len(self.tokens)), [self.token_text(i) for i in range(len(self.tokens))],
                                  self._token_chooser)
        self.row_axis.set_names(range(len(self.row_labels)), self.row_labels, self._row_chooser)
        widest = max((QFontMetrics(self.font_).horizontalAdvance(t) for t in self.row_labels), default=20)
        self.row_axis.setWidth(widest + 14)
        if refit:
            self.fit()

    def set_threshold(self, value: float) -> None:
        """The slider's position (0 - 0.3 in steps of 0.01)."""
        self.slider.blockSignals(True)
        self.slider.setValue(int(round(np.clip(value, 0.0, THRESHOLD_MAX) / THRESHOLD_STEP)))
        self.slider.blockSignals(False)
        self.threshold_label.setText(f"threshold {self.threshold():.2f}")

    def set_selected(self, row: int | None, pos: int | None = None) -> None:
        """Ring the node being read (None: no ring)."""
        self.selected = None if row is None or pos is None else (int(row), int(pos))
        self.ring.setData([] if self.selected is None else [self.selected[1]],
                          [] if self.selected is None else [self.selected[0]])

    def set_position(self, pos: int) -> None:
        """The output position the route tree starts from (as the combo box shows it)."""
        self._position = int(pos)
        index = self.position_box.findData(self._position)
        if index >= 0:
            self.position_box.setCurrentIndex(index)

    def set_details(self, html_text: str) -> None:
        """What the clicked node reads as (the panel words it)."""
        self.details.setHtml(html_text)

    def figure_view(self) -> list[QWidget]:
        """The graph and its legend (no controls): for figure exports."""
        return [self.view, self.legend]

    # ---- reading the view ----

    def threshold(self) -> float:
        return round(self.slider.value() * THRESHOLD_STEP, 2)

    def position(self) -> int:
        return self._position

    def token_text(self, pos: int) -> str:
        return elide(visible_token(self.tokens[pos]), TOKEN_CHARS)

    def route_nodes(self) -> set[tuple[int, int]]:
        """(row, pos) of every node the route touches."""
        on = self.edges[self.on_route]
        return {(int(r), int(p)) for r, p in np.concatenate([on[:, :2], on[:, 2:]])} if len(on) else set()

    def edge_colour(self, index: int) -> QColor:
        """The colour edge `index` is drawn in."""
        for item in self.edge_items:
            if index in item.edges:
                return item.opts["pen"].color()
        raise KeyError(index)

    def node_scene_pos(self, row: int, pos: int) -> QPointF:
        return self.box.mapViewToScene(QPointF(float(pos), float(row)))

    def shown_token_labels(self) -> list[int]:
        return list(self.token_axis.shown)

    def shown_row_labels(self) -> list[int]:
        return list(self.row_axis.shown)

    # ---- drawing ----

    def _fill_positions(self, refit: bool) -> None:
        """The combo box lists the positions; a new prompt starts from its last token."""
        if refit or not 0 <= self._position < len(self.tokens):
            self._position = max(len(self.tokens) - 1, 0)
        self.position_box.blockSignals(True)
        self.position_box.clear()
        for i in range(len(self.tokens)):
            self.position_box.addItem(f"{i}: {self.token_text(i)}", i)
        self.position_box.setCurrentIndex(self._position)
        self.position_box.blockSignals(False)

    def _draw(self) -> None:
        for item in self.edge_items:
            self.plot.removeItem(item)
        self.edge_items = []
        lines = edge_polylines(*self.edges.T, self.kinds) if len(self.edges) else np.zeros((0, 3, 2))
        level = np.minimum((np.clip(self.weights, 0, 1) * LEVELS).astype(int), LEVELS - 1)
        for route in (False, True):
            for step in range(LEVELS):
                members = np.flatnonzero((self.on_route == route) & (level == step))
                if not len(members):
                    continue
                joined = np.concatenate([lines[members], np.full((len(members), 1, 2), np.nan)], axis=1).reshape(-1, 2)
                colour, width = edge_pen_for(route, (step + 0.5) / LEVELS)
                item = pg.PlotCurveItem(joined[:, 0], joined[:, 1], connect="finite", pen=pg.mkPen(colour, width=width))
                item.setZValue(2 + step / 100 if route else 1 + step / 100)
                item.edges = set(members.tolist())
                self.plot.addItem(item, ignoreBounds=True)
                self.edge_items.append(item)
        self._lines = lines
        rows, n = len(self.row_labels), len(self.tokens)
        route = self.route_nodes()
        grid = [(r, p) for r in range(rows) for p in range(n)]
        self._node_on = np.array([(r, p) in route for r, p in grid], dtype=bool)
        brushes, no_pen = (pg.mkBrush(NODE_GREY), pg.mkBrush(ROUTE)), pg.mkPen(None)
        self.nodes.setData([p for _, p in grid], [r for r, _ in grid], brush=[brushes[int(o)] for o in self._node_on],
                           pen=no_pen)
        mlp = np.flatnonzero(self.kinds == MLP)
        squares = lines[mlp, 1] if len(mlp) else np.zeros((0, 2))
        self._square_on = self.on_route[mlp]
        self.squares.setData(squares[:, 0], squares[:, 1], brush=[brushes[int(o)] for o in self._square_on], pen=no_pen)
        self._pitch = 0.0
        self._size_markers()

    def _pitch_px(self) -> float:
        """The smaller of the row and the token spacing on screen."""
        origin, unit = self.box.mapViewToScene(QPointF(0, 0)), self.box.mapViewToScene(QPointF(1, 1))
        return min(abs(unit.x() - origin.x()), abs(unit.y() - origin.y()))

    def _on_view_changed(self) -> None:
        if not np.isclose(self._pitch_px(), self._pitch, rtol=0.05):
            self._size_markers()

    def _size_markers(self) -> None:
        """Nodes, MLP squares and the ring sized to the spacing on screen (a fitted 61-row
        graph has rows ~7 px apart docked): the route's large, the rest small."""
        self._pitch = pitch = self._pitch_px()
        sizes = np.array([np.clip(0.3 * pitch, 2.0, 4.0), np.clip(0.6 * pitch, 3.0, 8.0)])
        self.nodes.setSize(sizes[self._node_on.astype(int)])
        self.squares.setSize(sizes[self._square_on.astype(int)])
        self.ring.setSize(float(np.clip(1.2 * pitch, 9.0, 17.0)))

    def fit(self) -> None:
        """The whole graph in view, FIT_MARGIN pixels round the outermost nodes."""
        n, rows = max(len(self.tokens), 1), max(len(self.row_labels), 1)
        rect = self.box.boundingRect()
        width, height = max(rect.width(), 4 * FIT_MARGIN), max(rect.height(), 4 * FIT_MARGIN)
        x0, x1, y0, y1 = 0.0, n - 1 + MLP_DX, 0.0, rows - 1.0
        metrics = self.token_axis.metrics()  # the end tokens' names may reach 12 px past the plot, not more
        ends = [metrics.horizontalAdvance(self.token_text(i)) / 2 - 12 for i in (0, n - 1)] if self.tokens else [0, 0]
        left, right = max(FIT_MARGIN, ends[0]), max(FIT_MARGIN, ends[1])
        per_unit = max(width - left - right, 20.0) / max(x1 - x0, 1.0)
        my = FIT_MARGIN * max(y1 - y0, 1.0) / (height - 2 * FIT_MARGIN)
        self.box.setLimits(xMin=x0 - n, xMax=x1 + n, yMin=y0 - rows, yMax=y1 + rows,
                           minXRange=1.5, minYRange=2.0, maxXRange=3 * (x1 - x0 + 1), maxYRange=3 * (y1 - y0 + 1))
        self.box.setRange(xRange=(x0 - left / per_unit, x1 + right / per_unit), yRange=(y0 - my, y1 + my),
                          padding=0.0)
        self.fitted = True

    def _token_chooser(self, per_token: float, metrics: QFontMetrics) -> list[int]:
        """Tokens named from the last (the one predicted from) leftwards, each where it
        clears the one named to its right by 8 px."""
        shown, left_edge = [], float("inf")
        for i in range(len(self.tokens) - 1, -1, -1):
            half = metrics.horizontalAdvance(self.token_text(i)) / 2
            if i * per_token + half + 8 <= left_edge:
                shown.append(i)
                left_edge = i * per_token - half
        return shown[::-1]

    def _row_chooser(self, per_row: float, metrics: QFontMetrics) -> list[int]:
        """Every row where they fit; else the rows entering every 1st, 2nd, 5th ... layer, and
        the output (the row just below it gives way when they would touch)."""
        rows, needed = len(self.row_labels), metrics.height() + 2
        if per_row >= needed + 4:  # every row, with room to breathe
            return list(range(rows))
        stride = label_stride(2 * per_row, needed)
        shown = [r for r in range(0, rows, 2) if (r // 2) % stride == 0]
        top = rows - 1
        if top not in shown:
            if shown and (top - shown[-1]) * per_row < needed:
                shown.pop()
            shown.append(top)
        return shown

    # ---- the user ----

    def node_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The grid node within CLICK_TOLERANCE_PX of a scene point (or half the spacing)."""
        if not self.tokens or not self.box.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.box.mapSceneToView(scene_pos)
        pos, row = int(round(point.x())), int(round(point.y()))
        if not (0 <= pos < len(self.tokens) and 0 <= row < len(self.row_labels)):
            return None
        origin, unit = self.box.mapViewToScene(QPointF(0, 0)), self.box.mapViewToScene(QPointF(1, 1))
        spacing = min(abs(unit.x() - origin.x()), abs(unit.y() - origin.y()))
        tolerance = max(4.0, min(CLICK_TOLERANCE_PX, spacing / 2))
        centre = self.node_scene_pos(row, pos)
        near = np.hypot(centre.x() - scene_pos.x(), centre.y() - scene_pos.y()) <= tolerance
        return (row, pos) if near else None

    def describe_node(self, row: int, pos: int) -> str:
        token = self.token_text(pos)
        text = f"{self.row_labels[row]} · position {pos} {token}"
        if (row, pos) in self.route_nodes():
            text += " · on the route"
        text += "\nclick: read it through the logit lens"
        if row == len(self.row_labels) - 1:
            text += " and route from it"
        return text

    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        node = self.node_at(event.scenePos())
        if node is None:
            return
        row, pos = node
        self.node_clicked.emit(row, pos)
        if row == len(self.row_labels) - 1 and pos != self._position:
            self.set_position(pos)
            self.position_changed.emit(pos)

    def _on_moved(self, scene_pos: QPointF) -> None:
        node = self.node_at(scene_pos)
        self.view.setToolTip(self.describe_node(*node) if node is not None else "")

    def _on_position_chosen(self, index: int) -> None:
        pos = self.position_box.itemData(index)
        if pos is not None and pos != self._position:
            self._position = int(pos)
            self.position_changed.emit(self._position)

    def _on_slider(self, _value: int) -> None:
        self.threshold_label.setText(f"threshold {self.threshold():.2f}")
        self.threshold_changed.emit(self.threshold())


def legend_html() -> str:
    """What the colours and shapes mean."""
    route, other = ROUTE.name(), OTHER.name()
    return (f"<span style='color:{route}; font-weight:bold'>━━</span> on the route to the chosen output "
            f"&nbsp; <span style='color:{other}'>━━</span> other edges &nbsp; width = weight &nbsp; "
            "╱&nbsp;attention (key&nbsp;→&nbsp;query) &nbsp; │&nbsp;residual &nbsp; ■&nbsp;MLP &nbsp; "
            f"<span style='color:{HIGHLIGHT.name()}; font-weight:bold'>◯</span>&nbsp;the node read")


# ---- demos ----

def demo_flow(tokens: list[str], n_layers: int, links: dict[tuple[int, int], int], threshold: float = 0.04,
              floor: float = 0.01, seed: int = 0) -> dict:
    """set_graph's arguments for a made-up flow: each state's incoming weights sum to 1;
    layer 0 has a previous-token head, and links[(layer, query)] = key adds a strong
    attention edge (an induction head's jump). The route is walked from the last token."""
    rng = np.random.default_rng(seed)
    n = len(tokens)
    out: dict[str, list] = {k: [] for k in ("src_row", "src_pos", "dst_row", "dst_pos", "weights", "kinds")}

    def add(sr: int, sp: int, dr: int, dp: int, w: float, kind: int) -> None:
        if w >= floor:
            for key, value in zip(out, (sr, sp, dr, dp, min(w, 1.0), kind)):
                out[key].append(value)

    for layer in range(n_layers):
        for q in range(n):
            pattern = np.exp(rng.normal(0, 2.0, q + 1))
            pattern = 0.45 * np.eye(q + 1)[0] + 0.55 * pattern / pattern.sum()  # much of it on the first token
            share = rng.uniform(0.04, 0.2) if q else 0.02
            if layer == 0 and q > 0:
                pattern, share = 0.3 * pattern + 0.7 * np.eye(q + 1)[q - 1], 0.35
            if (layer, q) in links:
                pattern, share = 0.2 * pattern + 0.8 * np.eye(q + 1)[links[(layer, q)]], 0.45
            for k in range(q + 1):
                add(2 * layer, k, 2 * layer + 1, q, share * pattern[k], ATTENTION)
            add(2 * layer, q, 2 * layer + 1, q, 1 - share, RESIDUAL)
            mlp = rng.uniform(0.03, 0.3)
            add(2 * layer + 1, q, 2 * layer + 2, q, mlp, MLP)
            add(2 * layer + 1, q, 2 * layer + 2, q, 1 - mlp, RESIDUAL)
    arrays = {k: np.array(v) for k, v in out.items()}
    rows = [label for layer in range(n_layers) for label in (f"L{layer} in", f"L{layer} attn")] + ["out"]
    on_route = route_tree(arrays["src_row"], arrays["src_pos"], arrays["dst_row"], arrays["dst_pos"],
                          arrays["weights"], 2 * n_layers, n - 1, threshold)
    return {"tokens": tokens, "row_labels": rows, **arrays, "on_route": on_route}


def demo() -> InfoFlowView:
    """'… Mr Harry Potter … Mr Harry' on 2 layers: a previous-token edge in layer 0 writes
    ' Harry' into ' Potter's stream, and layer 1 jumps from the last ' Harry' to it."""
    tokens = ["<|endoftext|>", "When", " Mr", " Harry", " Potter", " met", " the", " owl", ",", " old", " Mr",
              " Harry"]
    view = InfoFlowView()
    view.set_graph(**demo_flow(tokens, 2, {(1, 11): 4}, seed=3))
    view.set_threshold(0.04)
    view.set_selected(3, 11)
    view.set_details("<b>L1 attn · 11 ␣Harry</b> reads as: ␣Potter 0.61 · ␣Styles 0.05 · ,  0.03")
    view.resize(700, 600)
    return view


def demo_real_size() -> InfoFlowView:
    """An IOI prompt of 16 tokens (one of them a newline) on a 30-layer model."""
    tokens = ["<|endoftext|>", "When", " Mary", " and", " John", " went", " to", " the", " store", ",", "\n", "John",
              " gave", " a", " drink", " to"]
    view = InfoFlowView()
    view.set_graph(**demo_flow(tokens, 30, {(9, 15): 2, (14, 15): 2, (20, 15): 4, (7, 11): 4}, threshold=0.07,
                               floor=0.02, seed=5))
    view.set_threshold(0.07)
    view.set_selected(41, 15)
    view.set_details("<b>L20 attn · 15 ␣to</b> reads as: ␣Mary 0.34 · ␣the 0.08 · ␣her 0.05")
    view.resize(1920, 1080)
    return view


if __name__ == "__main__":
    from .demo import run

    run(demo)
