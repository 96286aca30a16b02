"""A circuit found by edge attribution patching (EAP): which edges between components carry
the behaviour, how faithful a circuit of each size is, and what the user's own edits do.

The graph is layered like the model: embed at the bottom, one row per layer (its heads in
head-index columns, its MLP in a column right of the heads and half a layer up, since it
reads what the heads wrote), logits at the top. Only heads and MLPs with an edge shown are
drawn, but each keeps its column, so a head sits at the same x in every layer. An edge in
the circuit is a solid curve whose width is its |attribution| (0.5 - 6 px, scaled to the
largest shown) and whose colour is its sign: red helps the answer, blue hurts it (the
component graph's colours for a positive and a negative logit difference). The candidate
edges just outside the circuit are faint grey dashes. An edge into a head enters its box
from below at the left (query), middle (key) or right (value); hovering an edge names it
and its port. A click on an edge (within CLICK_TOLERANCE_PX of the line) emits
`edge_clicked` and rings it orange; a double-click emits `edge_toggled` (in/out of the
circuit), a double-click on a node `node_toggled`. The panel answers with set_circuit;
no setter emits anything.

Nodes are boxes of a fixed screen size holding their name, so a fitted 30-layer model
stays legible: names are given out most attributed first (embed and logits always), and a
node whose name would overlap one already shown becomes a small unnamed box (zoom in, or
hover it). Layer and head axes thin their labels (widgets/ticks.py). The graph zooms at
the wheel, pans by dragging and is fitted by default ("Fit" comes back).

Beside the graph: the live faithfulness of the circuit as edited (a large number and a
0 - 1 bar, greyed while it is being recomputed), "Back to the found circuit", and the
faithfulness of the found circuit at each size (log x when the sizes span decades) with
the current size marked. Above it, the size: a slider (log-spaced when the maximum is
large) and a spin box for an exact count."""

from __future__ import annotations

import html
import math
import re
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QSlider, QSpinBox, QSplitter, QTextBrowser, QVBoxLayout,
                               QWidget)

from .colors import HIGHLIGHT
from .elided_label import ElidedLabel
from .fitted_graph import FittedGraph
from .plots import plain_plot
from .ticks import label_stride
from .training_timeline import ValueAxis

__all__ = ["CircuitView", "demo", "demo_real_size", "node_position", "parse_node"]

HELPS, HURTS = QColor(200, 20, 30), QColor(33, 81, 219)  # the ends of the component graph's diverging map
CANDIDATE = QColor(110, 110, 110, 130)
MLP_GAP = 0.5  # the MLP column sits this much further right than a next head column would
END_GAP = 0.85  # embed below layer 0 and logits above the last MLP, in layers
PORT_OFFSET = {"q": -0.3, "k": 0.0, "v": 0.3, "": 0.0}  # where an edge enters a head, x its box's width
PORT_NAMES = {"q": "query", "k": "key", "v": "value", "": ""}
SAMPLES = 24  # points along each drawn edge (hit-testing measures to these segments)
MIN_WIDTH, MAX_WIDTH = 0.5, 6.0  # px, an in-circuit edge's width by |score|
CLICK_TOLERANCE_PX = 6.0
PAD = (4.0, 1.0)  # px around a node's name
COMPACT = (14.0, 8.0)  # px, a node whose name does not fit
END_WIDTH = 150.0  # px, the embed and logits boxes (edges spread over their width)
FIT_MARGIN = (34.0, 14.0)  # px kept around the outermost node centres when fitted
LABEL_GAP = 2.0  # px between node names
LINEAR_UP_TO = 300  # a maximum up to this: the slider steps edge by edge; beyond it, log-spaced
SLIDER_STEPS = 1000
FONT_PT = 8.5
HINT = ("Wheel: zoom · drag: pan · click an edge: details · double-click an edge: in/out of the circuit · "
        "double-click a node: it and its edges in/out")
_HEAD, _MLP = re.compile(r"^L(\d+)\.H(\d+)$"), re.compile(r"^L(\d+)\.mlp$")
ENDS = ("embed", "logits")


# ---- plain geometry (tests read it too) ----

def parse_node(name: str) -> tuple[str, int, int]:
    """'L3.H2' -> ('head', 3, 2), 'L3.mlp' -> ('mlp', 3, 0), 'embed' / 'logits' -> (name, 0, 0)."""
    if name in ENDS:
        return name, 0, 0
    head = _HEAD.match(name)
    if head:
        return "head", int(head.group(1)), int(head.group(2))
    mlp = _MLP.match(name)
    if mlp:
        return "mlp", int(mlp.group(1)), 0
    raise ValueError(f"not a circuit node: {name!r} (embed, logits, L<l>.H<h> or L<l>.mlp)")


def shape_of(nodes: Sequence[str]) -> tuple[int, int]:
    """(layers, heads per layer) as far as the node names tell (at least 1 x 1)."""
    parsed = [parse_node(n) for n in nodes]
    layers = max((l + 1 for kind, l, _ in parsed if kind in ("head", "mlp")), default=1)
    heads = max((h + 1 for kind, _, h in parsed if kind == "head"), default=1)
    return layers, heads


def mlp_x(n_heads: int) -> float:
    return n_heads + MLP_GAP


def node_position(name: str, n_layers: int, n_heads: int) -> tuple[float, float]:
    """A node's centre in data units: x = head index (MLPs right of the heads), y = layer."""
    kind, layer, head = parse_node(name)
    if kind == "head":
        return float(head), float(layer)
    if kind == "mlp":
        return mlp_x(n_heads), layer + 0.5
    return mlp_x(n_heads) / 2, (-END_GAP if kind == "embed" else n_layers - 0.5 + END_GAP)


def edge_curves(starts: np.ndarray, ends: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """Cubic curves leaving each start upwards and reaching each end from below ([E, samples,
    2]). An edge that stays in its column over more than a layer bows right, clear of the
    nodes it passes."""
    starts, ends = np.asarray(starts, dtype=float).reshape(-1, 2), np.asarray(ends, dtype=float).reshape(-1, 2)
    rise = ends[:, 1] - starts[:, 1]
    bow = np.where((np.abs(ends[:, 0] - starts[:, 0]) < 0.3) & (rise > 1.2), np.minimum(0.45, 0.12 * rise), 0.0)
    handle = np.stack([bow, 0.45 * rise], axis=1)
    c1, c2 = starts + handle, ends + handle * np.array([1.0, -1.0])
    t = np.linspace(0.0, 1.0, samples)[None, :, None]
    p0, p1, p2, p3 = (p[:, None, :] for p in (starts, c1, c2, ends))
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3


def polyline_distances(paths: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Distance from `point` to each polyline in paths [E, S, 2] (same units)."""
    if not len(paths):
        return np.zeros(0)
    a, b = paths[:, :-1], paths[:, 1:]
    ab = b - a
    length2 = np.maximum((ab ** 2).sum(-1), 1e-12)
    t = np.clip(((point - a) * ab).sum(-1) / length2, 0.0, 1.0)
    nearest = a + t[..., None] * ab
    return np.sqrt(((nearest - point) ** 2).sum(-1)).min(axis=1)


def edge_widths(scores: np.ndarray, in_circuit: np.ndarray) -> np.ndarray:
    """Pen widths (px) of the in-circuit edges by |score| against the largest shown; 1 px for the rest."""
    magnitude = np.abs(np.nan_to_num(np.asarray(scores, dtype=float)))
    top = magnitude[in_circuit].max() if in_circuit.any() else 0.0
    scaled = magnitude / top if top > 0 else np.zeros_like(magnitude)
    return np.where(in_circuit, MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * np.clip(scaled, 0, 1), 1.0)


def greedy_labels(full: np.ndarray, small: np.ndarray, forced: int = 0, gap: float = LABEL_GAP) -> np.ndarray:
    """Which nodes are named, in order of importance: `full` and `small` are each node's
    named and unnamed box [N, 4] (left, top, right, bottom px). A name shows when its box
    stays `gap` px clear of every name already shown and of every other node's small box;
    the first `forced` always show."""
    full, small = np.asarray(full, dtype=float).reshape(-1, 4), np.asarray(small, dtype=float).reshape(-1, 4)
    shown = np.zeros(len(full), dtype=bool)

    def hits(rect: np.ndarray, others: np.ndarray, margin: float) -> np.ndarray:
        return ((others[:, 0] < rect[2] + margin) & (others[:, 2] > rect[0] - margin)
                & (others[:, 1] < rect[3] + margin) & (others[:, 3] > rect[1] - margin))

    for i, rect in enumerate(full):
        if i < forced:
            shown[i] = True
            continue
        near = hits(rect, small, 1.0)
        near[i] = False
        shown[i] = not near.any() and not hits(rect, full[shown], gap).any()
    return shown


def count_text(value: float) -> str:
    """An edge count as an axis writes it: 1, 20, 500, 2k, 10k, 1M."""
    value = int(round(value))
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return f"{value:,}"


class CountAxis(pg.AxisItem):
    """The curve's x axis. In log mode: 1, 10, 100, 1k ... and 2, 5 (then 3) between them
    when they fit, never overlapping (pyqtgraph's own log ticks crowd a narrow plot)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph API)
        if not self.logMode or size <= 0 or maxVal <= minVal:
            return super().tickValues(minVal, maxVal, size)
        metrics = QFontMetrics(self.style["tickFont"] or self.font())
        per_unit = size / (maxVal - minVal)
        every = [math.log10(m * 10 ** e) for e in range(math.floor(minVal), math.ceil(maxVal) + 1)
                 for m in range(1, 10)]
        every = [v for v in every if minVal - 1e-9 <= v <= maxVal + 1e-9]
        for mantissas in ((1, 2, 3, 5), (1, 2, 5), (1, 3), (1,)):
            major = [v for v in every if round(10 ** (v % 1)) in mantissas]
            widths = [metrics.horizontalAdvance(count_text(10 ** v)) for v in major]
            gaps = [(b - a) * per_unit - (wa + wb) / 2 for a, b, wa, wb in zip(major, major[1:], widths, widths[1:])]
            if all(g >= 8 for g in gaps):
                break
        minor = [v for v in every if v not in major]
        return [(1.0, major), (0.1, minor)]

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: N802 (pyqtgraph API)
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [count_text(10 ** v) if spacing == 1.0 else "" for v in values]


class _Bar(QWidget):
    """The faithfulness bar: 0 to 1, clamped (the number above it says when it is beyond)."""

    def __init__(self) -> None:
        super().__init__()
        self.value: float | None = None
        self.pending = False
        self.setFixedHeight(12)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_value(self, value: float | None, pending: bool) -> None:
        self.value, self.pending = value, pending
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.fillRect(rect, QColor(232, 232, 232))
        if self.value is not None and math.isfinite(self.value):
            share = min(max(self.value, 0.0), 1.0)
            p.fillRect(QRectF(rect.left(), rect.top(), rect.width() * share, rect.height()),
                       QColor(190, 190, 190) if self.pending else QColor(70, 70, 70))
        p.setPen(QPen(QColor(140, 140, 140), 1))
        p.drawRect(rect)
        p.end()


class _Node(QGraphicsRectItem):
    """One component: a box of a fixed screen size around its name, or a small box when the
    name is not shown. Centred on its data position (so its rect is in pixels)."""

    def __init__(self, name: str, strong: bool, font: QFont) -> None:
        super().__init__()
        self.name, self.end = name, name in ENDS
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.text = QGraphicsSimpleTextItem(name, self)
        bold = QFont(font)
        bold.setBold(self.end)
        self.text.setFont(bold)
        self.text.setBrush(QColor(0, 0, 0) if strong or self.end else QColor(105, 105, 105))
        size = self.text.boundingRect()
        width = max(size.width() + 2 * PAD[0], END_WIDTH if self.end else 0.0)
        self.full = QRectF(-width / 2, -size.height() / 2 - PAD[1], width, size.height() + 2 * PAD[1])
        self.text.setPos(-size.width() / 2, -size.height() / 2)
        pen = QPen(QColor(50, 50, 50) if strong or self.end else QColor(140, 140, 140), 1.2 if strong else 1.0,
                   Qt.PenStyle.SolidLine if strong or self.end else Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setBrush(QColor(228, 228, 228) if self.end else QColor(255, 255, 255))
        self.setZValue(4)
        self.set_named(True)

    def set_named(self, named: bool) -> None:
        named = named or self.end
        self.text.setVisible(named)
        self.setRect(self.full if named else QRectF(-COMPACT[0] / 2, -COMPACT[1] / 2, *COMPACT))


class CircuitView(FittedGraph, QWidget):
    """set_circuit, set_curve, set_faithfulness, set_edge_count, set_details; emits
    edge_count_changed(int), edge_clicked(int), edge_toggled(int), node_toggled(str),
    reset_requested(), find_requested()."""

    edge_count_changed = Signal(int)
    edge_clicked = Signal(int)
    edge_toggled = Signal(int)
    node_toggled = Signal(str)
    reset_requested = Signal()
    find_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shape = (1, 1)
        self.nodes: list[str] = []
        self.src = self.dst = np.zeros(0, dtype=int)
        self.ports: list[str] = []
        self.scores = np.zeros(0)
        self.in_circuit = np.zeros(0, dtype=bool)
        self.paths = np.zeros((0, SAMPLES, 2))  # each edge's curve, data units (they depend on the zoom)
        self.items: dict[str, _Node] = {}  # the drawn nodes
        self.centres: dict[str, tuple[float, float]] = {}
        self.selected_edge: int | None = None
        self.pending = False
        self._scale = (0.0, 0.0)  # px per data unit the geometry was made for
        self._maximum = self._count = 0
        self.font_ = QFont(self.font())
        self.font_.setPointSizeF(FONT_PT)
        self._build_graph()
        self._build_side()
        self._build_controls()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self.controls)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.details)
        layout.addWidget(self.hint)
        self.set_faithfulness(None)
        self.set_edge_count(0, 0)
        self.resize(700, 600)

    # ---- building ----

    def _build_graph(self) -> None:
        self.layer_axis, self.head_axis = self._build_plot((2, 6, 8, 2))
        self.candidates = pg.PlotCurveItem()
        self.candidates.setZValue(1)
        self.candidates.edges = set()
        self.selected_halo, self.hover_halo = pg.PlotCurveItem(), pg.PlotCurveItem()
        self.selected_halo.setZValue(2)
        self.hover_halo.setZValue(2.5)
        for item in (self.candidates, self.selected_halo, self.hover_halo):
            self.plot.addItem(item, ignoreBounds=True)
        self.circuit_items: list[pg.PlotCurveItem] = []
        self.view.scene().sigMouseClicked.connect(self._on_clicked)
        self.view.scene().sigMouseMoved.connect(self._on_moved)
        self.view.setMinimumSize(220, 200)

    def _build_side(self) -> None:
        self.meter_value = QLabel()
        big = QFont(self.font())
        big.setPointSizeF(max(big.pointSizeF(), 9.0) * 1.5)
        big.setBold(True)
        self.meter_value.setFont(big)
        self.meter_value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meter_value.setToolTip("How much of the full model's behaviour the circuit as edited recovers "
                                    "(1 = the full model, 0 = the empty circuit)")
        self.meter_state = QLabel("⟳ updating…")
        self.meter_state.setStyleSheet("color: #b36b00; font-weight: bold;")
        self.meter_bar = _Bar()
        self.meter_note = ElidedLabel()  # one line (a docked column is short); the whole note in its tooltip
        self.meter_note.setStyleSheet("color: #444;")
        self.reset_button = QPushButton("Back to the found circuit")
        self.reset_button.setToolTip("Undo your edits: the circuit found at the slider's size")
        self.reset_button.clicked.connect(self.reset_requested)

        self.curve_view = pg.GraphicsLayoutWidget()
        self.curve_view.setBackground("w")
        self.curve_view.ci.layout.setContentsMargins(2, 4, 12, 10)  # the tick labels clear the summary below
        self.curve = plain_plot(self.curve_view.addPlot(axisItems={"left": ValueAxis("left"),
                                                                   "bottom": CountAxis("bottom")}), self)
        self.curve.setLabel("left", "faithfulness", color="k")
        self.curve_line = self.curve.plot([], [], pen=pg.mkPen((60, 60, 60), width=2), symbol="o", symbolSize=4,
                                          symbolBrush=(60, 60, 60), symbolPen=None)
        self.full_line = pg.InfiniteLine(1.0, angle=0, pen=pg.mkPen((90, 90, 90), width=1.2,
                                                                     style=Qt.PenStyle.DashLine))
        self.full_text = pg.TextItem("full model", color=(90, 90, 90), anchor=(0.0, 0.0))
        self.current_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(HIGHLIGHT, width=1.2, style=Qt.PenStyle.DotLine))
        for item in (self.full_line, self.full_text, self.current_line):
            self.curve.addItem(item, ignoreBounds=True)
        self.current_dot = self.curve.plot([], [], pen=None, symbol="o", symbolSize=10, symbolBrush=HIGHLIGHT,
                                           symbolPen=pg.mkPen("k", width=1))
        self.current_dot.setZValue(5)
        self.curve.getViewBox().sigRangeChanged.connect(lambda *_: self._place_full_text())
        self.curve_view.setMinimumSize(180, 110)
        self.summary = ElidedLabel()  # one line under the plot, the whole summary in its tooltip

        self.side = QWidget()
        side = QVBoxLayout(self.side)
        side.setContentsMargins(6, 0, 0, 0)
        side.setSpacing(4)
        top = QHBoxLayout()
        top.addWidget(self.meter_value)
        top.addStretch(1)
        side.addLayout(top)
        side.addWidget(self.meter_state)
        side.addWidget(self.meter_bar)
        side.addWidget(self.meter_note)
        side.addWidget(self.reset_button)
        side.addSpacing(6)
        side.addWidget(self.curve_view, 1)
        side.addWidget(self.summary)
        self.side.setMinimumWidth(205)

    def _build_controls(self) -> None:
        self.find_button = QPushButton("Find circuit")
        self.find_button.setToolTip("Score every edge by attribution patching and find the circuit")
        self.find_button.clicked.connect(self.find_requested)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("How many edges, the highest scored first, make the circuit")
        self.slider.valueChanged.connect(self._on_slider)
        self.count_box = QSpinBox()
        self.count_box.setKeyboardTracking(False)  # Enter, the arrows or leaving the box: not every digit
        self.count_box.setGroupSeparatorShown(True)
        self.count_box.valueChanged.connect(self._on_count_box)
        self.count_of = QLabel()
        fit = QPushButton("Fit")
        fit.setToolTip("Show the whole circuit")
        fit.clicked.connect(self.fit)
        self.controls = QHBoxLayout()
        self.controls.setSpacing(6)
        self.controls.addWidget(self.find_button)
        self.controls.addWidget(QLabel("Edges"))
        self.controls.addWidget(self.slider, 1)
        self.controls.addWidget(self.count_box)
        self.controls.addWidget(self.count_of)
        self.controls.addWidget(fit)

        self.legend = QLabel(legend_html())
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("background: white; padding: 3px;")
        self.legend.setToolTip("An edge into a head enters its box from below at the left for the query input, "
                               "the middle for the key and the right for the value; hover an edge to read it.")
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.details.setPlaceholderText("Click an edge to see what it carries")
        self.details.setFixedHeight(QFontMetrics(self.details.font()).lineSpacing() * 4 + 12)
        self.hint = ElidedLabel(HINT)
        self.hint.setStyleSheet("color: #666;")

    # ---- setters: none of them emits a signal ----

    def set_circuit(self, nodes: Sequence[str], src: np.ndarray, dst: np.ndarray, ports: Sequence[str],
                    scores: np.ndarray, in_circuit: np.ndarray, shape: tuple[int, int] | None = None) -> None:
        """The candidate edges (src -> dst index `nodes`), their port, attribution and whether
        each is in the circuit; `shape` (layers, heads per layer) keeps the columns and rows
        of the whole model (else read off the names given). Fitted when the shape changes."""
        named = shape_of(nodes) if len(nodes) else (1, 1)
        shape = named if shape is None else (max(int(shape[0]), named[0]), max(int(shape[1]), named[1]))
        refit = shape != self.shape or not self.nodes
        self.nodes, self.shape = list(nodes), shape
        self.src, self.dst = np.asarray(src, dtype=int).ravel(), np.asarray(dst, dtype=int).ravel()
        self.ports = [str(p) for p in ports]
        self.scores = np.asarray(scores, dtype=float).ravel()
        self.in_circuit = np.asarray(in_circuit, dtype=bool).ravel()
        n = len(self.src)
        if not (len(self.dst) == len(self.ports) == len(self.scores) == len(self.in_circuit) == n):
            raise ValueError("src, dst, ports, scores and in_circuit must have one entry per edge")
        if self.selected_edge is not None and self.selected_edge >= n:
            self.selected_edge = None
        self._make_nodes()
        if refit:
            self.fit()
        self._geometry()

    def set_curve(self, sizes: np.ndarray, faithfulness: np.ndarray, current: int | None, summary: str) -> None:
        """Faithfulness of the found circuit at each size (x log-scaled when the sizes span
        decades; a size of 0 is then left out), the current size marked, and the summary."""
        sizes = np.asarray(sizes, dtype=float).ravel()
        values = np.asarray(faithfulness, dtype=float).ravel()
        order = np.argsort(sizes)
        sizes, values = sizes[order], values[order]
        positive = sizes[sizes > 0]
        log = bool(positive.size > 1 and positive.max() / positive.min() >= 20)
        keep = np.isfinite(values) & (sizes > 0 if log else True)
        xs, ys = sizes[keep], values[keep]
        self.curve.setLogMode(x=log, y=False)
        self.curve.getAxis("bottom").showLabel(False)  # said under the plot: a docked plot is too short for it
        self._x_words = "x: edges" + (" (log)" if log else "")
        self.curve_line.setData(xs, ys)
        low = min(0.0, float(ys.min())) if ys.size else 0.0
        high = max(1.0, float(ys.max())) if ys.size else 1.0
        self.curve.setYRange(low, high, padding=0.06)
        if xs.size:
            shown_x = np.log10(xs) if log else xs
            self.curve.setXRange(float(shown_x.min()), float(shown_x.max()), padding=0.04)
        shown = current is not None and xs.size > 0 and (current > 0 or not log)
        self.current_line.setVisible(shown)
        if shown:
            value = float(np.interp(current, xs, ys))
            self.current_dot.setData([float(current)], [value])
            self.current_line.setValue(math.log10(current) if log else float(current))
        else:
            self.current_dot.setData([], [])
        self.summary.setText(f"{self._x_words} · {summary}" if summary else self._x_words)
        self._place_full_text()

    def set_faithfulness(self, value: float | None, pending: bool = False, note: str = "") -> None:
        """The circuit as edited: its faithfulness in large type and a 0-1 bar, greyed and
        marked "updating…" while the number shown is the previous one."""
        number = "—" if value is None or not math.isfinite(value) else f"{value:.2f}"
        self.meter_value.setText(f"faithfulness {number}")
        palette = self.meter_value.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(150, 150, 150) if pending else QColor(20, 20, 20))
        self.meter_value.setPalette(palette)
        self.meter_value.setToolTip("⟳ updating: this is the previous edit's number" if pending else
                                    "How much of the full model's behaviour the circuit as edited recovers "
                                    "(1 = the full model, 0 = the empty circuit)")
        self.meter_state.setVisible(pending)
        self.meter_bar.set_value(value, pending)
        self.meter_note.setText(note)
        self.meter_note.setVisible(bool(note))
        self.pending = pending

    def set_edge_count(self, n: int, maximum: int) -> None:
        """The slider's value and range (log-spaced beyond LINEAR_UP_TO edges)."""
        self._maximum = max(int(maximum), 0)
        self._count = min(max(int(n), 0), self._maximum)
        for widget in (self.slider, self.count_box):
            widget.blockSignals(True)
        self.slider.setRange(0, SLIDER_STEPS if self._maximum > LINEAR_UP_TO else self._maximum)
        self.slider.setValue(self.position_of(self._count))
        self.count_box.setRange(0, self._maximum)
        self.count_box.setValue(self._count)
        for widget in (self.slider, self.count_box):
            widget.blockSignals(False)
        self.count_of.setText(f"of {self._maximum:,}")
        self.slider.setEnabled(self._maximum > 0)
        self.count_box.setEnabled(self._maximum > 0)

    def set_selected_edge(self, index: int | None) -> None:
        """Ring an edge orange (the one whose details are shown), or none."""
        self.selected_edge = None if index is None or not 0 <= index < len(self.paths) else int(index)
        self._halo(self.selected_halo, self.selected_edge, HIGHLIGHT, 5.0)

    def set_details(self, html_text: str) -> None:
        """What the clicked edge carries, as the panel words it."""
        self.details.setHtml(html_text)

    def figure_view(self) -> list[QWidget]:
        """The graph and its legend (no slider, meter or curve): for figure exports."""
        return [self.view, self.legend]

    # ---- reading the view (tests, the panel) ----

    def edge_count(self) -> int:
        return self._count

    def drawn_nodes(self) -> list[str]:
        return list(self.items)

    def count_at(self, position: int) -> int:
        """The edge count at a slider position (log-spaced from 1 when the maximum is large)."""
        if self._maximum <= LINEAR_UP_TO:
            return int(position)
        if position <= 0:
            return 0
        return int(min(self._maximum, max(1, round(self._maximum ** (position / SLIDER_STEPS)))))

    def position_of(self, count: int) -> int:
        if self._maximum <= LINEAR_UP_TO:
            return int(count)
        if count <= 0:
            return 0
        return int(round(SLIDER_STEPS * math.log(max(count, 1)) / math.log(self._maximum)))

    def edge_midpoint(self, index: int) -> QPointF:
        """The middle of an edge's curve, in data units."""
        x, y = self.paths[index, SAMPLES // 2]
        return QPointF(float(x), float(y))

    def node_centre(self, name: str) -> QPointF:
        return QPointF(*self.centres[name])

    def node_rect(self, name: str) -> QRectF:
        """A drawn node's box in scene pixels."""
        centre = self.box.mapViewToScene(self.node_centre(name))
        return self.items[name].rect().translated(centre)

    def named_nodes(self) -> list[str]:
        return [name for name, item in self.items.items() if item.text.isVisible()]

    def visible_label_rects(self) -> list[QRectF]:
        """The node names shown, as scene (pixel) rects."""
        return [self.node_rect(name) for name in self.named_nodes()]

    def edge_pen(self, index: int) -> QPen:
        """The pen an edge is drawn with."""
        for item in [self.candidates, *self.circuit_items]:
            if index in item.edges:
                return item.opts["pen"]
        raise KeyError(index)

    # ---- drawing ----

    def _make_nodes(self) -> None:
        """A box for embed, logits and every head or MLP with an edge shown."""
        for item in self.items.values():
            self.box.removeItem(item)
        n_layers, n_heads = self.shape
        used = set(self.src.tolist()) | set(self.dst.tolist())
        touched = {self.nodes[i] for e in np.flatnonzero(self.in_circuit) for i in (self.src[e], self.dst[e])}
        self.items, self.centres = {}, {}
        for i, name in enumerate(self.nodes):
            if i in used or name in ENDS:
                self.centres[name] = node_position(name, n_layers, n_heads)
                item = _Node(name, name in touched, self.font_)
                item.setPos(*self.centres[name])
                self.box.addItem(item, ignoreBounds=True)
                self.items[name] = item
        self._scale = (0.0, 0.0)

    def _pixels_per_unit(self) -> tuple[float, float]:
        origin, unit = self.box.mapViewToScene(QPointF(0, 0)), self.box.mapViewToScene(QPointF(1, 1))
        return unit.x() - origin.x(), unit.y() - origin.y()

    def _on_view_changed(self) -> None:
        """Zoomed (not merely panned): the names that fit and the curves' ends change."""
        scale = self._pixels_per_unit()
        if not np.allclose(scale, self._scale, rtol=1e-6):
            self._geometry()

    def _geometry(self) -> None:
        """Names where they fit (embed and logits, then by attribution carried), then each
        edge's curve from its source's centre into its target's box at its port."""
        self._scale = sx, sy = self._pixels_per_unit()
        if not self.items or not sx or not sy or not len(self.src):
            self.paths = np.zeros((len(self.src), SAMPLES, 2))
            if self.items and sx and sy:
                self._place_ends(abs(sy))
                self._place_names()
            self._draw_edges()
            return
        self._place_ends(abs(sy))
        self._place_names()
        n_heads = self.shape[1]
        centre = mlp_x(n_heads) / 2
        starts = np.array([self.centres[self.nodes[s]] for s in self.src], dtype=float).reshape(-1, 2)
        ends = np.array([self.centres[self.nodes[d]] for d in self.dst], dtype=float).reshape(-1, 2)
        spread = 0.42 * END_WIDTH / abs(sx)
        for e, (s, d) in enumerate(zip(self.src, self.dst)):
            source, target = self.nodes[s], self.nodes[d]
            if source == "embed":
                starts[e, 0] = centre + np.clip((ends[e, 0] - centre) * 0.5, -spread, spread)
            if target == "logits":
                ends[e, 0] = centre + np.clip((starts[e, 0] - centre) * 0.5, -spread, spread)
            elif target not in ENDS:
                ends[e, 0] += PORT_OFFSET.get(self.ports[e], 0.0) * self.items[target].rect().width() / abs(sx)
        self.paths = edge_curves(starts, ends)
        self._draw_edges()

    def end_gap(self, per_layer: float) -> float:
        """How far (layers) embed sits below L0 and logits above the last MLP: END_GAP, or
        more where that would not clear a named box at this zoom."""
        need = self.font_metrics().height() + 2 * PAD[1] + 10
        return max(END_GAP, need / max(per_layer, 1e-6))

    def font_metrics(self) -> QFontMetrics:
        return QFontMetrics(self.font_)

    def _place_ends(self, per_layer: float) -> None:
        gap, top = self.end_gap(per_layer), self.shape[0] - 0.5
        for name, y in (("embed", -gap), ("logits", top + gap)):
            if name in self.items:
                self.centres[name] = (self.centres[name][0], y)
                self.items[name].setPos(*self.centres[name])

    def _place_names(self) -> None:
        weight = {name: 0.0 for name in self.items}
        for e in range(len(self.src)):
            share = abs(self.scores[e]) * (1.0 if self.in_circuit[e] else 1e-3)
            for i in (self.src[e], self.dst[e]):
                weight[self.nodes[i]] += share
        order = sorted(self.items, key=lambda n: (n not in ENDS, -weight[n], n))
        compact = QRectF(-COMPACT[0] / 2, -COMPACT[1] / 2, *COMPACT)
        full, small = [], []
        for name in order:
            centre = self.box.mapViewToScene(self.node_centre(name))
            for rects, rect in ((full, self.items[name].full), (small, compact)):
                r = rect.translated(centre)
                rects.append((r.left(), r.top(), r.right(), r.bottom()))
        forced = sum(1 for n in order if n in ENDS)
        for name, named in zip(order, greedy_labels(np.array(full), np.array(small), forced)):
            self.items[name].set_named(bool(named))

    def _draw_edges(self) -> None:
        for item in self.circuit_items:
            self.plot.removeItem(item)
        self.circuit_items = []
        widths = edge_widths(self.scores, self.in_circuit)
        out = np.flatnonzero(~self.in_circuit)
        self.candidates.setData(*self._joined(out), connect="finite",
                                pen=pg.mkPen(CANDIDATE, width=1.0, style=Qt.PenStyle.DashLine))
        self.candidates.edges = set(out.tolist())
        buckets: dict[tuple[bool, float], list[int]] = {}
        for e in np.flatnonzero(self.in_circuit):
            buckets.setdefault((bool(self.scores[e] >= 0), round(widths[e] * 2) / 2), []).append(int(e))
        for (helps, width), members in sorted(buckets.items(), key=lambda kv: kv[0][1]):
            item = pg.PlotCurveItem(*self._joined(np.array(members)), connect="finite",
                                    pen=pg.mkPen(HELPS if helps else HURTS, width=width))
            item.setZValue(3 + width / 100)  # thick over thin
            item.edges = set(members)
            self.plot.addItem(item, ignoreBounds=True)
            self.circuit_items.append(item)
        self._halo(self.selected_halo, self.selected_edge, HIGHLIGHT, 5.0)
        self.hover_halo.setData([], [])

    def _joined(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The curves of `edges` as one NaN-separated line."""
        if not len(edges):
            return np.zeros(0), np.zeros(0)
        parts = np.concatenate([self.paths[edges], np.full((len(edges), 1, 2), np.nan)], axis=1).reshape(-1, 2)
        return parts[:, 0], parts[:, 1]

    def _halo(self, item: pg.PlotCurveItem, index: int | None, colour: QColor, extra: float) -> None:
        if index is None or index >= len(self.paths):
            item.setData([], [])
            return
        width = edge_widths(self.scores, self.in_circuit)[index]
        item.setData(self.paths[index, :, 0], self.paths[index, :, 1], pen=pg.mkPen(colour, width=width + extra))

    def fit(self) -> None:
        """The whole graph in view, with room for the outermost boxes."""
        n_layers, n_heads = self.shape
        x0, x1 = 0.0, mlp_x(n_heads)
        rect = self.box.boundingRect()
        width, height = max(rect.width(), 2 * FIT_MARGIN[0] + 40), max(rect.height(), 2 * FIT_MARGIN[1] + 40)
        depth = n_layers - 0.5  # L0's heads to the last MLP
        need = self.font_metrics().height() + 2 * PAD[1] + 10
        per_layer = (height - 2 * FIT_MARGIN[1]) / (depth + 2 * END_GAP)
        if END_GAP * per_layer < need:  # the end boxes keep their distance in pixels
            per_layer = max((height - 2 * FIT_MARGIN[1] - 2 * need) / depth, 1.0)
        gap = self.end_gap(per_layer)
        y0, y1 = -gap, depth + gap
        mx = FIT_MARGIN[0] * (x1 - x0) / (width - 2 * FIT_MARGIN[0])
        my = FIT_MARGIN[1] / per_layer
        self.box.setLimits(xMin=x0 - (x1 - x0), xMax=x1 + (x1 - x0), yMin=y0 - (y1 - y0), yMax=y1 + (y1 - y0),
                           minXRange=1.5, minYRange=1.0, maxXRange=3 * (x1 - x0), maxYRange=3 * (y1 - y0))
        self.box.setRange(xRange=(x0 - mx, x1 + mx), yRange=(y0 - my, y1 + my), padding=0.0)
        self.fitted = True
        self.layer_axis.set_names(range(n_layers), [f"L{l}" for l in range(n_layers)], self._vertical_chooser)
        names = [f"H{h}" for h in range(n_heads)] + ["MLP"]
        self.head_axis.set_names([*range(n_heads), mlp_x(n_heads)], names, self._horizontal_chooser)
        self.layer_axis.setWidth(QFontMetrics(self.font_).horizontalAdvance(f"L{n_layers - 1}") + 14)

    @staticmethod
    def _vertical_chooser(per_layer: float, metrics: QFontMetrics) -> list[int]:
        stride = label_stride(per_layer, metrics.height() + 3)
        return list(range(0, 10_000, stride))

    def _horizontal_chooser(self, per_column: float, metrics: QFontMetrics) -> list[int]:
        n_heads = self.shape[1]
        widest = max(metrics.horizontalAdvance(f"H{n_heads - 1}"), metrics.horizontalAdvance("MLP")) + 6
        stride = label_stride(per_column, widest)
        heads = [h for h in range(n_heads) if h % stride == 0]
        if heads and (mlp_x(n_heads) - heads[-1]) * per_column < widest:
            heads.pop()  # MLP is always named; the head just left of it gives way
        return heads + [n_heads]

    def _place_full_text(self) -> None:
        """'full model' under the dashed line at 1, at the plot's left end (where the curve is low)."""
        (x0, x1), _ = self.curve.getViewBox().viewRange()
        self.full_text.setPos(x0, 1.0)

    # ---- the user ----

    def _scene_paths(self) -> np.ndarray:
        """The edges' curves in scene pixels (the view box maps data to scene axis-aligned)."""
        origin = self.box.mapViewToScene(QPointF(0, 0))
        return self.paths * np.array(self._pixels_per_unit()) + np.array([origin.x(), origin.y()])

    def node_at(self, scene_pos: QPointF) -> str | None:
        """The drawn node whose box (with 2 px to spare) holds a scene point."""
        for name in reversed(list(self.items)):
            if self.node_rect(name).adjusted(-2, -2, 2, 2).contains(scene_pos):
                return name
        return None

    def edge_at(self, scene_pos: QPointF) -> int | None:
        """The edge nearest a scene point within CLICK_TOLERANCE_PX (a circuit edge wins a near-tie)."""
        if not len(self.paths):
            return None
        handicap = np.where(self.in_circuit, 0.0, 0.75)
        distance = polyline_distances(self._scene_paths(), np.array([scene_pos.x(), scene_pos.y()])) + handicap
        best = int(np.argmin(distance))
        return best if distance[best] - handicap[best] <= CLICK_TOLERANCE_PX else None

    def describe_edge(self, index: int) -> str:
        port = PORT_NAMES.get(self.ports[index], "")
        into = f" ({port})" if port else ""
        where = "in the circuit" if self.in_circuit[index] else "not in the circuit"
        action = "take it out" if self.in_circuit[index] else "put it in"
        return (f"{self.nodes[self.src[index]]} → {self.nodes[self.dst[index]]}{into} · attribution "
                f"{self.scores[index]:+.3g} · {where}\nclick: details · double-click: {action}")

    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.box.sceneBoundingRect().contains(event.scenePos()):
            return
        node = self.node_at(event.scenePos())
        if node is not None:
            if event.double():
                self.node_toggled.emit(node)
            return
        edge = self.edge_at(event.scenePos())
        if edge is None:
            return
        if event.double():
            self.edge_toggled.emit(edge)
        else:
            self.selected_edge = edge
            self._halo(self.selected_halo, edge, HIGHLIGHT, 5.0)
            self.edge_clicked.emit(edge)

    def _on_moved(self, scene_pos: QPointF) -> None:
        tip, hovered = "", None
        if self.box.sceneBoundingRect().contains(scene_pos):
            node = self.node_at(scene_pos)
            if node is not None:
                count = sum(1 for e in np.flatnonzero(self.in_circuit)
                            if node in (self.nodes[self.src[e]], self.nodes[self.dst[e]]))
                tip = (f"{node}: {count} edge{'s' if count != 1 else ''} in the circuit\n"
                       f"double-click: take it and its edges {'out' if count else 'in'}")
            else:
                hovered = self.edge_at(scene_pos)
                tip = self.describe_edge(hovered) if hovered is not None else ""
        self._halo(self.hover_halo, hovered, QColor(0, 0, 0, 60), 4.0)
        self.view.setToolTip(tip)

    def _on_slider(self, position: int) -> None:
        count = self.count_at(position)
        self.count_box.blockSignals(True)
        self.count_box.setValue(count)
        self.count_box.blockSignals(False)
        self._emit_count(count)

    def _on_count_box(self, count: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self.position_of(count))
        self.slider.blockSignals(False)
        self._emit_count(count)

    def _emit_count(self, count: int) -> None:
        if count != self._count:
            self._count = count
            self.edge_count_changed.emit(count)


def legend_html() -> str:
    """What colour, width and dashes mean (and where q, k and v enter a head)."""
    def swatch(colour: QColor, glyph: str) -> str:
        return f"<span style='color:{colour.name()}; font-weight:bold'>{glyph}</span>"
    return (f"{swatch(HELPS, '━━')} helps the answer &nbsp; {swatch(HURTS, '━━')} hurts the answer &nbsp; "
            f"{swatch(QColor(130, 130, 130), '╌╌')} candidate, not in the circuit &nbsp; "
            "width ∝ |attribution| &nbsp; into a head from below: left q · middle k · right v &nbsp; "
            f"{swatch(HIGHLIGHT, '━━')} the edge described below")


# ---- demos ----

def _candidates(nodes: list[str], pairs: list[tuple[str, str, str, float]], keep: int) -> dict:
    """set_circuit's arguments from (src, dst, port, score): the `keep` largest |score| in."""
    index = {n: i for i, n in enumerate(nodes)}
    scores = np.array([p[3] for p in pairs])
    in_circuit = np.zeros(len(pairs), dtype=bool)
    in_circuit[np.argsort(-np.abs(scores))[:keep]] = True
    return {"nodes": nodes, "src": np.array([index[p[0]] for p in pairs]),
            "dst": np.array([index[p[1]] for p in pairs]), "ports": [p[2] for p in pairs],
            "scores": scores, "in_circuit": in_circuit}


def _demo_curve(view: CircuitView, maximum: int, current: int, seed: int) -> None:
    """A made-up faithfulness curve: rising through the current size, overshooting 1 a little."""
    rng = np.random.default_rng(seed)
    sizes = np.unique(np.round(np.logspace(0, math.log10(maximum), 24)).astype(int))
    values = 1.06 / (1 + (current / 1.6 / sizes) ** 1.4) - 0.06 * np.clip(np.log10(sizes / current / 4), 0, None)
    values = values + rng.normal(0, 0.012, sizes.size)
    view.set_curve(np.concatenate([[0], sizes]), np.concatenate([[0.0], values]), current,
                   "area 0.83 · CPR 0.91 · CMD 0.12")
    view.set_edge_count(current, maximum)


def demo() -> CircuitView:
    """A 2-layer, 8-head IOI-like circuit: L0.H3 and L0.H5 (duplicate-token and previous-
    token heads) feed the key of name mover L1.H0 and the query of negative mover L1.H1."""
    rng = np.random.default_rng(0)
    nodes = ["embed", *[f"L{l}.H{h}" for l in range(2) for h in range(8)], "L0.mlp", "L1.mlp", "logits"]
    pairs = [("embed", "L0.H3", "v", 0.55), ("embed", "L0.H5", "k", 0.42), ("embed", "L0.H0", "q", 0.18),
             ("embed", "L0.mlp", "", 0.35), ("L0.mlp", "L1.H0", "v", 0.61), ("L0.H3", "L1.H0", "k", 0.72),
             ("L0.H5", "L1.H0", "q", 0.38), ("L0.H5", "L1.H1", "q", -0.33), ("L0.H0", "L1.H1", "k", -0.21),
             ("L1.H0", "logits", "", 1.35), ("L1.H1", "logits", "", -0.58), ("L1.H0", "L1.mlp", "", 0.27),
             ("L1.mlp", "logits", "", 0.44), ("embed", "L1.H0", "v", 0.16), ("L0.mlp", "L1.mlp", "", 0.2),
             ("L0.H3", "L1.mlp", "", -0.12)]
    for _ in range(20):  # weaker candidates
        layer = int(rng.integers(0, 2))
        src = "embed" if layer == 0 else f"L0.H{rng.integers(0, 8)}"
        dst = f"L{layer}.H{rng.integers(0, 8)}"
        pairs.append((src, dst, "qkv"[rng.integers(0, 3)], float(rng.normal(0, 0.07))))
    view = CircuitView()
    view.set_circuit(**_candidates(nodes, pairs, keep=13))
    _demo_curve(view, maximum=len(pairs), current=13, seed=1)
    view.set_faithfulness(0.87, note="13 edges · 9 nodes · your edits: +1 −0")
    view.set_selected_edge(5)
    view.set_details("<b>L0.H3 → L1.H0 (key)</b>: attribution +0.72 · patching it alone moves the logit "
                     "difference by 1.9 of 3.2")
    view.resize(700, 600)
    return view


def demo_real_size(n_layers: int = 30, n_heads: int = 9, n_edges: int = 200, keep: int = 48,
                   seed: int = 0) -> CircuitView:
    """A circuit on a 30-layer, 9-head model: ~200 candidate edges between some 40
    components, mostly a few layers apart, the 48 highest in."""
    rng = np.random.default_rng(seed)
    nodes = ["embed", *[f"L{l}.{p}" for l in range(n_layers) for p in [*(f"H{h}" for h in range(n_heads)), "mlp"]],
             "logits"]
    parts = nodes[1:-1]
    important = ["embed"] + [parts[i] for i in sorted(rng.choice(len(parts), size=40, replace=False))] + ["logits"]
    depth = {n: -1.0 if n == "embed" else n_layers + 1.0 if n == "logits" else
             int(n[1:n.index(".")]) + (0.5 if n.endswith("mlp") else 0.0) for n in important}
    pairs, seen = [], set()
    for _ in range(200 * n_edges):  # as many as fit among these components
        if len(pairs) == n_edges:
            break
        a, b = sorted(rng.choice(len(important), size=2, replace=False))
        s, d = important[a], important[b]
        span = depth[d] - depth[s]
        if span <= 0 or (s, d) in seen or rng.random() > math.exp(-span / 5.0) + (0.5 if d == "logits" else 0):
            continue
        seen.add((s, d))
        port = "qkv"[rng.integers(0, 3)] if ".H" in d else ""
        boost = 2.0 if d == "logits" or depth[s] > 20 else 1.0
        pairs.append((s, d, port, float(rng.standard_t(3) * 0.12 * boost + 0.03)))
    view = CircuitView()
    view.set_circuit(**_candidates(nodes, pairs, keep=keep))
    _demo_curve(view, maximum=32_768, current=keep, seed=seed)
    view.set_faithfulness(0.79, pending=True, note=f"{keep + 1} edges · 31 nodes · your edits: +2 −1")
    top = int(np.argmax(np.abs(view.scores) * view.in_circuit * (view.dst != len(nodes) - 1)))  # not into logits
    view.set_selected_edge(top)
    view.set_details(f"<b>{html.escape(view.describe_edge(top).splitlines()[0])}</b>")
    view.resize(1920, 1080)
    return view


if __name__ == "__main__":
    from .demo import run

    run(demo)
