"""Linear probes at every layer: where is a label (which name is the indirect object, the
sentiment of a review) linearly readable from the residual stream, and does the model use
what a probe found there?

A probe that reads a label says nothing about cause, and a probe rich enough reads anything:
so the plot shows the held-out accuracy of a logistic-regression probe and of a
difference-of-means probe at each layer beside a logistic probe trained on shuffled labels
(the control, which should sit near chance) and the chance level itself (the held-out share
of the most common label). The user picks a layer (a click on the plot near it; the orange
cursor marks it) and takes the causal check: "Steer along it" emits `steer_requested` and
"Project it out" emits `ablate_requested`, both with the layer and the probe ("Direction
from") whose direction to use. The app trains the probes on the Prompt set panel's set when
"Train probes" says `train_requested` and answers with set_result; like every view here, no
setter emits anything.

Docked, the panel is often ~420 x 420 px: the controls above and below the plot take two
lines each and the plot takes the height left. From WIDE_AT pixels wide (~800 x 360) each
takes one line, so a short panel keeps its plot. With many layers the layer labels are
thinned to every 2nd, 5th, 10th ... layer (widgets/ticks.py), never overlapping."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QStackedWidget,
                               QVBoxLayout, QWidget)

from .elided_label import ElidedLabel
from .plots import plain_plot
from .steering_view import colour_hex, pack_lines
from .ticks import label_stride
from .training_timeline import LINE_COLOURS, ValueAxis, cursor_pen

__all__ = ["CURVES", "DIRECTIONS", "POSITIONS", "ProbeView", "demo", "demo_result", "short_component"]

CURVES = ("logistic", "difference_of_means", "shuffled")  # set_result's keys, in the legend's order
CURVE_NAMES = {"logistic": "logistic", "difference_of_means": "difference of means",
               "shuffled": "shuffled labels (control)"}
SHORT_NAMES = {"logistic": "logistic", "difference_of_means": "diff. of means", "shuffled": "control"}
DIRECTIONS = (("difference_of_means", "diff. of means"), ("logistic", "logistic"))  # "Direction from"
POSITIONS = (("last", "last token"), ("mean", "mean over tokens"))
NO_SET = "No prompt set: make one in the Prompt set panel"
NO_RESULT = "Press “Train probes” to train a probe at every layer on the prompt set"
TRAIN, TRAINING = "Train probes", "Training…"
WIDE_AT = 640  # from this width the controls above and below the plot take one line each
LEGEND_SIZE = "9pt"
MIN_PLOT_HEIGHT = 130
CLICK_TOLERANCE_PX = 12  # a click this close to a layer picks it (or nearer than half the layer spacing)
LABEL_GAP = 6  # pixels between neighbouring layer labels
Y_PADDING = 0.04  # the accuracy axis shows 0 - 1 and this share beyond, so markers at 0 and 1 stay whole
COLOURS = {"logistic": LINE_COLOURS[0], "difference_of_means": LINE_COLOURS[1], "shuffled": (150, 150, 150)}
SYMBOLS = {"logistic": "o", "difference_of_means": "s", "shuffled": None}
GLYPHS = {"logistic": "━●━", "difference_of_means": "━■━", "shuffled": "╌╌╌"}
CHANCE_COLOUR = (70, 70, 70)


# ---- plain helpers (tests read them too) ----

def short_component(name: str) -> str:
    """A layer's tick label: 'L3.resid_post' -> 'L3'; a name that is no 'L<n>.…' stays whole."""
    head = name.split(".", 1)[0]
    return head if re.fullmatch(r"L\d+", head) else name


def accuracy_text(value: float) -> str:
    """An accuracy as written: 0.97, — for NaN."""
    value = float(value)
    return f"{value:.2f}" if math.isfinite(value) else "—"


def best_layer(values: np.ndarray) -> int:
    """The layer with the highest finite value (the first of equals; 0 when none is finite)."""
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return 0
    return int(np.nanargmax(np.where(np.isfinite(values), values, np.nan)))


class LayerAxis(pg.AxisItem):
    """A bottom axis with one tick per layer, labelled with its short name; labels go on
    every `stride`-th layer (L0, L5, L10 ...) so that none overlaps its neighbour."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.setStyle(hideOverlappingLabels=False)  # the end labels may reach past the plot's edges (15 px)
        self.names: list[str] = []
        self.stride = 1

    def set_names(self, names: list[str]) -> None:
        self.names = list(names)
        self.picture = None
        self.update()

    def tick_font(self) -> QFont:
        return self.style["tickFont"] or self.font()

    def stride_for(self, pixels_per_layer: float) -> int:
        """The label stride at this spacing: the widest label plus LABEL_GAP fits between labels."""
        metrics = QFontMetrics(self.tick_font())
        widest = max((metrics.horizontalAdvance(n) for n in self.names), default=0)
        return label_stride(max(pixels_per_layer, 1e-6), widest + LABEL_GAP)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph API)
        n = len(self.names)
        if not n or size <= 0 or maxVal <= minVal:
            return []
        self.stride = self.stride_for(size / (maxVal - minVal))
        shown = [i for i in range(n) if minVal <= i <= maxVal]
        labelled = [float(i) for i in shown if i % self.stride == 0]
        others = [float(i) for i in shown if i % self.stride]
        return [(float(self.stride), labelled)] + ([(1.0, others)] if others else [])

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: N802 (pyqtgraph API)
        if spacing != self.stride:
            return []  # the unlabelled layers between labels: a short tick each
        return [self.names[int(round(v))] if 0 <= int(round(v)) < len(self.names) else "" for v in values]

    def labelled_layers(self, size: float | None = None) -> list[int]:
        """The layers carrying a label at the axis's current length (or `size` pixels)."""
        low, high = self.range
        levels = self.tickValues(low, high, size if size is not None else self.geometry().width())
        return [int(v) for v in levels[0][1]] if levels else []


class ProbeView(QWidget):
    """set_source, set_result, set_chosen, clear, set_busy, set_status; emits
    train_requested(dict), layer_chosen(int), steer_requested(int, str), ablate_requested(int, str)."""

    train_requested = Signal(dict)  # {"column": str, "position": "last" | "mean"}
    layer_chosen = Signal(int)
    steer_requested = Signal(int, str)  # (layer, "difference_of_means" | "logistic")
    ablate_requested = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._components: list[str] = []
        self._curves: dict[str, np.ndarray] = {}
        self._train: np.ndarray | None = None
        self._chance = 0.5
        self._chosen: int | None = None
        self._has_source = False
        self._busy = False
        self._wide: bool | None = None
        self.lines: dict[str, pg.PlotDataItem] = {}

        self._build_top()
        self._build_plot()
        self._build_bottom()
        self.status = ElidedLabel("")
        self.status.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self.top)
        layout.addWidget(self.stack, 1)
        layout.addLayout(self.bottom)
        layout.addWidget(self.status)
        self.set_source(None)
        self.clear()
        self.resize(420, 420)  # a docked panel's size (Qt's default 640 px would start wide)
        self._arrange()
        # what the stacked rows need (~405 px): fixed, so a wide panel (its rows need ~520 px) shrinks
        # to docked in one drag; the one-line rows are used only from WIDE_AT, where they fit
        self.setMinimumSize(self.layout().totalMinimumSize().width(), 300)

    # ---- building ----

    def _build_top(self) -> None:
        self.column_edit = QLineEdit("label")
        self.column_edit.setPlaceholderText("label")
        self.column_edit.setToolTip("The prompt set's column holding each prompt's label (empty: 'label')")
        self.column_edit.returnPressed.connect(self._on_train_clicked)
        self.column_label = QLabel("Label column")
        self.column_label.setBuddy(self.column_edit)
        self.position_box = QComboBox()
        for key, text in POSITIONS:
            self.position_box.addItem(text, key)
        self.position_box.setToolTip("Read each prompt's residual at its last token, or averaged over its tokens")
        self.position_label = QLabel("Read at")
        self.position_label.setBuddy(self.position_box)
        self.train_button = QPushButton(TRAIN)
        self.train_button.clicked.connect(self._on_train_clicked)
        widest = max(self.train_button.fontMetrics().horizontalAdvance(t) for t in (TRAIN, TRAINING))
        self.train_button.setMinimumWidth(max(self.train_button.sizeHint().width(), widest + 24))
        self.source_label = QLabel(NO_SET)
        self.source_label.setWordWrap(True)
        self.source_label.setStyleSheet("color: #444;")

        fields = QHBoxLayout()
        fields.setSpacing(6)
        fields.addWidget(self.column_label)
        fields.addWidget(self.column_edit, 1)
        fields.addSpacing(6)
        fields.addWidget(self.position_label)
        fields.addWidget(self.position_box)
        train = QHBoxLayout()
        train.setSpacing(8)
        train.addWidget(self.train_button)
        train.addWidget(self.source_label, 1)
        self.top = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.top.setContentsMargins(0, 0, 0, 0)
        self.top.addLayout(fields)
        self.top.addLayout(train)

    def _build_plot(self) -> None:
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.layout.setContentsMargins(2, 2, 12, 2)
        self.view.ci.layout.setVerticalSpacing(0)
        self.legend = pg.LabelItem("", justify="left", color="k", size=LEGEND_SIZE)
        self.view.addItem(self.legend, row=0, col=0)
        self.layer_axis = LayerAxis()
        self.plot = plain_plot(self.view.addPlot(row=1, col=0, axisItems={"left": ValueAxis("left"),
                                                                         "bottom": self.layer_axis}), self)
        self.plot.setLabel("left", "held-out accuracy", color="k")
        for key in CURVES:
            colour = COLOURS[key]
            if key == "shuffled":
                pen = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine)
                line = self.plot.plot([], [], pen=pen, connect="finite")
            else:
                line = self.plot.plot([], [], pen=pg.mkPen(colour, width=2), connect="finite", symbol=SYMBOLS[key],
                                      symbolSize=6, symbolBrush=colour, symbolPen=None)
            line.setZValue({"shuffled": 1, "difference_of_means": 2, "logistic": 3}[key])
            self.lines[key] = line
        chance_pen = pg.mkPen(CHANCE_COLOUR, width=1.5, style=Qt.PenStyle.DotLine)
        chance_pen.setCosmetic(True)
        self.chance_line = pg.InfiniteLine(angle=0, movable=False, pen=chance_pen)
        self.chance_line.setZValue(0)
        self.chance_label = pg.TextItem("", color=CHANCE_COLOUR, fill=pg.mkBrush(255, 255, 255, 200))
        self.chance_label.setZValue(5)  # readable over a curve it may cross
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=cursor_pen())
        self.cursor.setZValue(-1)  # under the curves and their markers
        self.hover_dots = pg.ScatterPlotItem(size=10, pen=pg.mkPen("k", width=1.5))
        self.hover_dots.setZValue(6)
        for item in (self.chance_line, self.chance_label, self.cursor, self.hover_dots):
            self.plot.addItem(item, ignoreBounds=True)
        self.plot.setYRange(0.0, 1.0, padding=Y_PADDING)
        self.plot.getViewBox().sigResized.connect(lambda _box: self._place_chance_label())
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_plot_clicked)
        self.view.installEventFilter(self)  # the legend wraps to the plot's width
        self.view.setMinimumHeight(MIN_PLOT_HEIGHT)

        self.hint = QLabel(NO_RESULT)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #555; background: white; padding: 12px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.hint)

    def _build_bottom(self) -> None:
        self.chosen_label = QLabel("")
        self.chosen_label.setWordWrap(True)
        self.chosen_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.direction_box = QComboBox()
        for key, text in DIRECTIONS:
            self.direction_box.addItem(text, key)
        self.direction_box.setToolTip("Which probe's direction at the chosen layer to steer along or project out")
        self.direction_box.currentIndexChanged.connect(lambda _i: self._show_chosen())
        self.direction_label = QLabel("Direction from")
        self.direction_label.setBuddy(self.direction_box)
        self.steer_button = QPushButton("Steer along it")
        self.steer_button.setToolTip("Make the chosen layer's probe direction the steering vector")
        self.steer_button.clicked.connect(lambda: self._on_direction_clicked(self.steer_requested))
        self.ablate_button = QPushButton("Project it out")
        self.ablate_button.setToolTip("Remove the direction from the residual stream at the chosen layer: "
                                      "does the model's behaviour change?")
        self.ablate_button.clicked.connect(lambda: self._on_direction_clicked(self.ablate_requested))

        actions = QHBoxLayout()
        actions.setSpacing(4)  # the four fit a ~410 px dock
        actions.addWidget(self.direction_label)
        actions.addWidget(self.direction_box)
        actions.addWidget(self.steer_button)
        actions.addWidget(self.ablate_button)
        self.bottom = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.bottom.setContentsMargins(0, 0, 0, 0)
        self.bottom.addWidget(self.chosen_label)
        self.bottom.addLayout(actions)

    # ---- setters: none of them emits a signal ----

    def set_source(self, text: str | None) -> None:
        """What set the probes are trained on, in words (None: there is none, and "Train probes" rests)."""
        self._has_source = text is not None
        self.source_label.setText(text if text is not None else NO_SET)
        self._sync_enabled()

    def set_result(self, components: list[str], curves: dict[str, np.ndarray], chance: float,
                   train: np.ndarray | None = None, chosen: int | None = None) -> None:
        """Plot the held-out accuracy at each layer (`components`, e.g. 'L3.resid_post') of
        curves {"logistic", "difference_of_means", "shuffled"} (NaN: a gap), the chance level
        and, for the hover text, the logistic probe's training accuracy. The cursor goes on
        `chosen`, or on the layer where the difference-of-means probe does best."""
        names = [str(c) for c in components]
        if set(curves) != set(CURVES):
            raise ValueError(f"curves {sorted(curves)}: need exactly {list(CURVES)}")
        arrays = {key: np.asarray(curves[key], dtype=float).ravel() for key in CURVES}
        bad = [k for k, v in arrays.items() if len(v) != len(names)]
        if train is not None:
            train = np.asarray(train, dtype=float).ravel()
            if len(train) != len(names):
                bad.append("train")
        if bad or not names:
            raise ValueError(f"{bad or 'no layers'}: need one value per layer ({len(names)})")
        if chosen is not None and not 0 <= chosen < len(names):
            raise IndexError(f"layer {chosen} of {len(names)}")
        self._components, self._curves, self._train, self._chance = names, arrays, train, float(chance)
        self._chosen = int(chosen) if chosen is not None else best_layer(arrays["difference_of_means"])
        self._draw()

    def set_chosen(self, layer: int) -> None:
        """Put the cursor (and the buttons' layer) on `layer`."""
        if not 0 <= layer < len(self._components):
            raise IndexError(f"layer {layer} of {len(self._components)}")
        self._chosen = int(layer)
        self._show_chosen()

    def clear(self, message: str = "") -> None:
        """Forget the result; the plot's place says `message` (or how to get one)."""
        self._components, self._curves, self._train, self._chosen = [], {}, None, None
        self.hint.setText(message or NO_RESULT)
        self._draw()

    def set_busy(self, busy: bool) -> None:
        """While busy (training) the button reads Training… and the buttons rest."""
        self._busy = bool(busy)
        self.train_button.setText(TRAINING if self._busy else TRAIN)
        self._sync_enabled()

    def set_status(self, text: str) -> None:
        """One line at the bottom: progress or an error; hidden when empty."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # ---- reading the view ----

    def chosen(self) -> int | None:
        return self._chosen

    def params(self) -> dict:
        """What train_requested would carry now."""
        return {"column": self.column_edit.text().strip() or "label", "position": str(self.position_box.currentData())}

    def direction(self) -> str:
        """The probe whose direction the buttons use: "difference_of_means" or "logistic"."""
        return str(self.direction_box.currentData())

    def figure_view(self) -> QWidget:
        """The plot with its legend: what a figure export renders."""
        return self.view

    def describe_layer(self, i: int) -> str:
        """The hover text of layer `i`: each probe's held-out accuracy (and the logistic one's training accuracy)."""
        if not 0 <= i < len(self._components):
            raise IndexError(f"layer {i} of {len(self._components)}")
        logistic = f"logistic {accuracy_text(self._curves['logistic'][i])}"
        if self._train is not None:
            logistic += f" (train {accuracy_text(self._train[i])})"
        return (f"{self._components[i]}: {logistic} · diff. of means "
                f"{accuracy_text(self._curves['difference_of_means'][i])} · control "
                f"{accuracy_text(self._curves['shuffled'][i])}")

    def nearest_layer(self, scene_pos: QPointF) -> int | None:
        """The layer a scene point on the plot is near (within CLICK_TOLERANCE_PX or half the
        spacing between layers), or None off the plot or far from every layer."""
        box = self.plot.getViewBox()
        if not self._components or not box.sceneBoundingRect().contains(scene_pos):
            return None
        x = box.mapSceneToView(scene_pos).x()
        index = min(max(int(round(x)), 0), len(self._components) - 1)
        pitch = abs(box.mapViewToScene(QPointF(1.0, 0.0)).x() - box.mapViewToScene(QPointF(0.0, 0.0)).x())
        away = abs(box.mapViewToScene(QPointF(index, 0.0)).x() - scene_pos.x())
        return index if away <= max(CLICK_TOLERANCE_PX, pitch / 2) else None

    def legend_entries(self) -> list[tuple[str, str, str]]:
        """(colour, glyph, name) of each curve, in the legend's order."""
        if not self._curves:
            return []
        return [(colour_hex(COLOURS[key]), GLYPHS[key], CURVE_NAMES[key]) for key in CURVES]

    # ---- drawing ----

    def _draw(self) -> None:
        self.hover_dots.setData([], [])
        self.view.setToolTip("")
        n = len(self._components)
        self.layer_axis.set_names([short_component(c) for c in self._components])
        if not n:
            for line in self.lines.values():
                line.setData([], [])
            self.stack.setCurrentWidget(self.hint)
            self.legend.setText("")
            self._show_chosen()
            return
        x = np.arange(n, dtype=float)
        for key, line in self.lines.items():
            line.setData(x, self._curves[key])
        self.chance_line.setValue(self._chance)
        self.chance_label.setText(f"chance {self._chance:.2f}")
        self.plot.setXRange(-0.5, n - 0.5, padding=0.0)
        self.plot.setYRange(0.0, 1.0, padding=Y_PADDING)
        self.stack.setCurrentWidget(self.view)
        self._fit_legend()
        self._show_chosen()  # and places the chance label, clear of the cursor

    def _place_chance_label(self) -> None:
        """The chance label at an end of its line, above or below it: where it covers the
        fewest points of the curves, and never out of the plot."""
        n = len(self._components)
        if not n:
            return
        box = self.plot.getViewBox()
        rect = box.sceneBoundingRect()
        if rect.width() < 2 or rect.height() < 2:
            return
        size = self.chance_label.textItem.boundingRect()
        line_y = box.mapViewToScene(QPointF(0.0, self._chance)).y()
        points = [box.mapViewToScene(QPointF(float(i), float(v)))
                  for values in self._curves.values() for i, v in enumerate(values) if math.isfinite(v)]
        cursor_x = box.mapViewToScene(QPointF(float(self._chosen), 0.0)).x() if self._chosen is not None else None
        best = None
        for right in (True, False):
            for above in (True, False):
                left = rect.right() - size.width() - 2 if right else rect.left() + 2
                top = line_y - size.height() - 1 if above else line_y + 1
                spot = QRectF(left, top, size.width(), size.height())
                if not rect.contains(spot):
                    continue
                covered = sum(spot.adjusted(-4, -4, 4, 4).contains(p) for p in points)
                if cursor_x is not None and spot.left() - 2 <= cursor_x <= spot.right() + 2:
                    covered += 0.5  # crossing the cursor matters less than hiding a point
                if best is None or covered < best[0]:
                    best = (covered, spot)
        spot = best[1] if best else QRectF(rect.right() - size.width() - 2, line_y - size.height() / 2,
                                            size.width(), size.height())
        self.chance_label.setAnchor((0.0, 0.0))
        self.chance_label.setPos(box.mapSceneToView(spot.topLeft()))

    def _fit_legend(self) -> None:
        """The coloured curve names above the plot, wrapped onto as many lines as the width needs."""
        entries = self.legend_entries()
        if not entries:
            self.legend.setText("")
            return
        font = QFont(self.font())
        font.setPointSizeF(float(LEGEND_SIZE.rstrip("pt")))
        metrics = QFontMetrics(font)
        texts = [f"{glyph} {name}" for _, glyph, name in entries]
        room = max(self.view.width() - 30, 60)
        lines = pack_lines([metrics.horizontalAdvance(t) for t in texts], room, metrics.horizontalAdvance("    "))
        rows = ["&nbsp;&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{entries[i][0]}'>{entries[i][1]}</span>&nbsp;{html.escape(entries[i][2])}"
            for i in line) for line in lines]
        self.legend.setText("<br>".join(rows))
        self.legend.setMaximumHeight(metrics.lineSpacing() * len(rows) + 6)

    def _show_chosen(self) -> None:
        """Cursor, label and buttons for the chosen layer."""
        index = self._chosen
        self.cursor.setVisible(index is not None)
        if index is None:
            self.chosen_label.setText("")
        else:
            self.cursor.setValue(index)
            self._place_chance_label()
            key = self.direction()
            self.chosen_label.setText(f"Layer <b>{html.escape(self._components[index])}</b> · "
                                      f"{SHORT_NAMES[key]} probe {accuracy_text(self._curves[key][index])}"
                                      f" (control {accuracy_text(self._curves['shuffled'][index])})")
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        """Training needs a set; the direction buttons need a result; neither while busy."""
        can_train = self._has_source and not self._busy
        self.train_button.setEnabled(can_train)
        self.train_button.setToolTip("Train a logistic and a difference-of-means probe at every layer, "
                                     "and a control on shuffled labels" if self._has_source else NO_SET)
        has = self._chosen is not None and not self._busy
        for button in (self.steer_button, self.ablate_button):
            button.setEnabled(has)
        self.direction_box.setEnabled(self._chosen is not None)

    # ---- the user ----

    def _on_train_clicked(self) -> None:
        if self.train_button.isEnabled():
            self.train_requested.emit(self.params())

    def _on_direction_clicked(self, signal) -> None:
        if self._chosen is not None and not self._busy:
            signal.emit(self._chosen, self.direction())

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        index = self.nearest_layer(scene_pos)
        if index is None:
            self.hover_dots.setData([], [])
            self.view.setToolTip("")
            return
        xs, ys, brushes = [], [], []
        for key, values in self._curves.items():
            if math.isfinite(values[index]):
                xs.append(float(index))
                ys.append(float(values[index]))
                brushes.append(pg.mkBrush(COLOURS[key]))
        self.hover_dots.setData(xs, ys, brush=brushes)
        self.view.setToolTip(self.describe_layer(index) + "\n(click: choose this layer)")

    def _on_plot_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        index = self.nearest_layer(event.scenePos())
        if index is None or index == self._chosen:
            return
        self._chosen = index
        self._show_chosen()
        self.layer_chosen.emit(index)

    # ---- layout ----

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self._fit_legend()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Two lines above and below the plot under WIDE_AT pixels, one line each from there."""
        wide = self.width() >= WIDE_AT
        if wide == self._wide:
            return
        self._wide = wide
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        for row in (self.top, self.bottom):
            row.setDirection(direction)
            row.setSpacing(14 if wide else 3)
        self.top.setStretch(0, 0)
        self.top.setStretch(1, 1)
        self.bottom.setStretch(0, 1)
        self.bottom.setStretch(1, 0)


def demo_result(n_layers: int = 12, seed: int = 0) -> dict:
    """Made-up probe accuracies on a two-label set (set_result's keyword arguments): near
    chance at the embeddings, readable from a third of the way in, best past the middle."""
    rng = np.random.default_rng(seed)
    depth = np.linspace(0.0, 1.0, n_layers)
    rise = 1.0 / (1.0 + np.exp(-(depth - 0.3) / 0.07))
    logistic = np.clip(0.6 + 0.37 * rise - 0.05 * depth ** 3 + rng.normal(0, 0.012, n_layers), 0, 1)
    means = np.clip(0.58 + 0.36 * rise * (1.0 - 0.25 * (depth - 0.6) ** 2) + rng.normal(0, 0.015, n_layers), 0, 1)
    shuffled = np.clip(0.52 + rng.normal(0, 0.035, n_layers), 0, 1)
    train = np.clip(0.7 + 0.3 * np.minimum(1.0, 2.5 * rise), 0, 1)
    return {"components": [f"L{layer}.resid_post" for layer in range(n_layers)],
            "curves": {"logistic": logistic.round(3), "difference_of_means": means.round(3),
                       "shuffled": shuffled.round(3)},
            "chance": 0.58, "train": train.round(3)}


def demo() -> ProbeView:
    """Probes for which name is the indirect object, on an IOI set of 240 prompts over a
    12-layer model: the label is readable from L4, best around L7; the control sits at chance."""
    view = ProbeView()
    view.set_source("IOI set · 240 prompts · labels John, Mary")
    view.set_result(**demo_result())
    view.set_status("trained 36 probes in 2.1 s (180 train / 60 held-out prompts)")
    view.resize(420, 420)
    return view


if __name__ == "__main__":
    from .demo import run

    run(demo)
