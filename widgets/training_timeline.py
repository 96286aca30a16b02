"""How a model changed across its training checkpoints, and a scrubber to load one of them.

One small plot per measured quantity, stacked and sharing the training-step axis, so a
phase change (an induction score jumping while the copy loss falls) lines up across them;
a vertical cursor in every plot marks the checkpoint the slider is on. Picking a checkpoint
(slider, ◀ / ▶, or a click on a plot near its step) only emits `checkpoint_chosen`: the app
loads it and answers with set_current, which, like every setter, emits nothing.

Docked, the panel is often ~400 x 350 px: the plots share the height, titles are one short
line, only the bottom plot carries the step axis, and the left axes share one width so the
cursors line up."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QToolButton, QVBoxLayout, QWidget

from .colors import HIGHLIGHT
from .elided_label import ElidedLabel
from .plots import plain_plot

NO_CHECKPOINTS = "No checkpoints: open a folder of checkpoints of one model"
NOT_MEASURED = "Press “Measure every checkpoint” to plot how the model changed"
CLICK_TOLERANCE_PX = 12  # a click on a plot this close (horizontally) to a checkpoint's step picks it
LINE_COLOURS = [(31, 119, 180), (44, 160, 44), (148, 103, 189), (140, 86, 75), (23, 190, 207)]
TITLE_SIZE = "9pt"
MIN_PLOT_HEIGHT = 60  # pixels per plot before the figure stops shrinking
MIN_TICK_GAP = 1.8  # lines of text between neighbouring values on a plot's left axis


def position_text(steps: list[int], index: int | None) -> str:
    """'step 2,500  (6 of 9)', or what None means."""
    if not steps:
        return ""
    if index is None:
        return "loaded: none of these"
    return f"step {steps[index]:,}  ({index + 1} of {len(steps)})"


class TrainingTimeline(QWidget):
    """set_checkpoints(steps), set_curves({title: values}), set_current(index); emits checkpoint_chosen(index)."""

    checkpoint_chosen = Signal(int)
    open_requested = Signal()
    compute_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._steps: list[int] = []
        self._labels: list[str] = []
        self._curves: dict[str, np.ndarray] = {}
        self._current: int | None = None  # the loaded checkpoint, as last told
        self._chosen: int | None = None  # the last index told or emitted: picking it again says nothing new
        self._cursor_on = False  # False while the loaded model is none of the checkpoints (or unknown)
        self.plots: list[pg.PlotItem] = []
        self.lines: list[pg.PlotDataItem] = []
        self.cursors: list[pg.InfiniteLine] = []

        self.open_button = QPushButton("Open checkpoints…")
        self.open_button.setToolTip("Open a folder holding several checkpoints of one model")
        self.open_button.clicked.connect(self.open_requested)
        self.compute_button = QPushButton("Measure every checkpoint")
        self.compute_button.setToolTip("Load each checkpoint in turn and measure it (this takes a while)")
        self.compute_button.clicked.connect(self.compute_requested)
        self.status = ElidedLabel("")

        self.back_button, self.forward_button = QToolButton(), QToolButton()
        for button, text, tip, delta in ((self.back_button, "◀", "Previous checkpoint", -1),
                                         (self.forward_button, "▶", "Next checkpoint", 1)):
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(False)
            button.clicked.connect(lambda _=False, d=delta: self._step_by(d))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Choose a checkpoint: drag and release, click, or use the arrow keys")
        self.slider.valueChanged.connect(self._on_slider_value)
        self.slider.sliderReleased.connect(self._on_slider_released)
        self.position = QLabel("")
        widest = QFontMetrics(self.position.font()).horizontalAdvance("step 88,888  (88 of 88)")
        self.position.setMinimumWidth(widest + 4)  # the slider keeps its length as the text changes
        self.hint = QLabel(NO_CHECKPOINTS)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #555;")

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.layout.setContentsMargins(2, 2, 10, 2)
        self.view.ci.layout.setVerticalSpacing(0)
        self.view.scene().sigMouseClicked.connect(self._on_plot_clicked)

        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.compute_button)
        buttons.addStretch(1)
        scrubber = QHBoxLayout()
        scrubber.addWidget(self.back_button)
        scrubber.addWidget(self.slider, 1)
        scrubber.addWidget(self.forward_button)
        scrubber.addWidget(self.position)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addLayout(scrubber)
        layout.addWidget(self.hint, 1)  # shown instead of the plots: takes their room
        layout.addWidget(self.view, 1)
        self.setMinimumSize(320, 260)
        self.set_checkpoints([])

    # ---- setters: none of them emits checkpoint_chosen ----

    def set_checkpoints(self, steps: list[int], labels: list[str] | None = None) -> None:
        """The checkpoints in order, by training step; forgets the current one and any curves
        that no longer have one value per checkpoint."""
        self._steps = [int(s) for s in steps]
        self._labels = list(labels) if labels is not None else [f"step {s:,}" for s in self._steps]
        n = len(self._steps)
        self._current = self._chosen = None
        self._cursor_on = False
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(n > 0)
        self.compute_button.setEnabled(n > 0)
        keep = {k: v for k, v in self._curves.items() if len(v) == n} if n else {}
        self._build_plots(keep)
        self._show_position()

    def set_current(self, index: int | None) -> None:
        """Put the slider and the cursors on checkpoint `index` (None: the loaded model is none of them)."""
        if index is not None and not 0 <= index < len(self._steps):
            raise IndexError(f"checkpoint {index} of {len(self._steps)}")
        self._current = self._chosen = index
        self._cursor_on = index is not None
        if index is not None:
            self._move_slider(index)
        self._show_position()

    def set_curves(self, curves: dict[str, np.ndarray]) -> None:
        """One plot per entry, values at the checkpoints' steps (NaN: not measured, a gap); replaces the plots."""
        arrays = {str(k): np.asarray(v, dtype=float).ravel() for k, v in curves.items()}
        bad = [k for k, v in arrays.items() if len(v) != len(self._steps)]
        if bad:
            raise ValueError(f"{bad}: need one value per checkpoint ({len(self._steps)})")
        self._build_plots(arrays)
        self._show_position()

    def set_status(self, text: str) -> None:
        """One line under the buttons: progress or an error."""
        self.status.setText(text)

    def figure_view(self) -> QWidget:
        """The stacked plots alone: what a figure export renders."""
        return self.view

    @property
    def steps(self) -> list[int]:
        return list(self._steps)

    @property
    def current(self) -> int | None:
        return self._current

    # ---- plots ----

    def _build_plots(self, curves: dict[str, np.ndarray]) -> None:
        self.view.clear()
        self.plots, self.lines, self.cursors = [], [], []
        self._curves = curves
        steps = np.asarray(self._steps, dtype=float)
        for row, (title, values) in enumerate(curves.items()):
            axes = {"bottom": StepAxis("bottom"), "left": ValueAxis("left")}
            plot = plain_plot(self.view.addPlot(row=row, col=0, axisItems=axes), self)
            plot.setTitle(title, color="k", size=TITLE_SIZE)
            title_height = QFontMetrics(plot.titleLabel.item.font()).height() + 2
            plot.titleLabel.setMaximumHeight(title_height)  # pyqtgraph reserves 30 px: a third of a docked plot
            plot.layout.setRowFixedHeight(0, title_height)
            colour = LINE_COLOURS[row % len(LINE_COLOURS)]
            line = plot.plot(steps, values, pen=pg.mkPen(colour, width=2), connect="finite", symbol="o",
                             symbolSize=6, symbolBrush=colour, symbolPen=None)
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=cursor_pen())
            cursor.setZValue(-1)  # under the line and its symbols
            plot.addItem(cursor, ignoreBounds=True)
            plot.setYRange(*y_range(values), padding=0.1)
            if row:
                plot.setXLink(self.plots[0])
            self.plots.append(plot)
            self.lines.append(line)
            self.cursors.append(cursor)
        for i, plot in enumerate(self.plots):
            last = i == len(self.plots) - 1
            bottom = plot.getAxis("bottom")
            bottom.setStyle(showValues=last)
            if last:
                plot.setLabel("bottom", "training step", color="k")
            self.view.ci.layout.setRowStretchFactor(i, 1)
        if self.plots:
            span = (steps.min(), steps.max()) if steps.max() > steps.min() else (steps.min() - 1, steps.max() + 1)
            self.plots[0].setXRange(*span, padding=0.04)
            self._align_left_axes()
        self.view.setMinimumHeight(MIN_PLOT_HEIGHT * len(self.plots))
        self.view.setVisible(bool(self.plots))
        self.hint.setText(NO_CHECKPOINTS if not self._steps else NOT_MEASURED)
        self.hint.setVisible(not self.plots)

    def _align_left_axes(self) -> None:
        """One width for every left axis, so every plot's x axis starts at the same pixel and
        the cursors form one vertical line through the stack."""
        widths = []
        for plot, values in zip(self.plots, self._curves.values()):
            axis = plot.getAxis("left")
            lo, hi = y_range(values)
            pad = (hi - lo) * 0.1
            metrics = QFontMetrics(axis.style["tickFont"] or QFont())
            labels = []
            for size in (60, 150, 400):  # a docked plot to a tall one: finer spacing, more decimals
                for spacing, ticks in axis.tickValues(lo - pad, hi + pad, size):
                    labels += axis.tickStrings(ticks, 1.0, spacing)
            widths.append(max((metrics.horizontalAdvance(t) for t in labels), default=20))
        width = max(widths, default=20) + 14
        for plot in self.plots:
            plot.getAxis("left").setWidth(width)

    def _show_position(self) -> None:
        """Label, cursors and ◀ / ▶ for the slider's checkpoint (cursors hidden while none is shown)."""
        n = len(self._steps)
        index = self.slider.value() if n and self._cursor_on else None
        self.position.setText(position_text(self._steps, index))
        self.position.setToolTip(self._labels[index] if index is not None else "")
        for cursor in self.cursors:
            cursor.setVisible(index is not None)
            if index is not None:
                cursor.setValue(self._steps[index])
        self.back_button.setEnabled(n > 0 and self.slider.value() > 0)
        self.forward_button.setEnabled(n > 0 and self.slider.value() < n - 1)

    # ---- user picks ----

    def _pick(self, index: int) -> None:
        """The user chose checkpoint `index`: show it, and say so unless it is already the chosen one."""
        self._move_slider(index)
        self._cursor_on = True
        self._show_position()
        if index != self._chosen:
            self._chosen = index
            self.checkpoint_chosen.emit(index)

    def _move_slider(self, index: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)

    def _on_slider_value(self, value: int) -> None:
        if self.slider.isSliderDown():  # dragging: show where it is; the release picks
            self._cursor_on = True
            self._show_position()
        else:  # a click on the groove or a key press
            self._pick(value)

    def _on_slider_released(self) -> None:
        if self._steps:
            self._pick(self.slider.value())

    def _step_by(self, delta: int) -> None:
        index = self.slider.value() + delta
        if self._steps and 0 <= index < len(self._steps):
            self._pick(index)

    def nearest_checkpoint(self, scene_pos: QPointF) -> int | None:
        """The checkpoint whose step is within CLICK_TOLERANCE_PX of a scene point on a plot."""
        for plot in self.plots:
            box = plot.getViewBox()
            if not box.sceneBoundingRect().contains(scene_pos):
                continue
            xs = np.array([box.mapViewToScene(QPointF(s, 0.0)).x() for s in self._steps])
            index = int(np.argmin(np.abs(xs - scene_pos.x())))
            return index if abs(xs[index] - scene_pos.x()) <= CLICK_TOLERANCE_PX else None
        return None

    def _on_plot_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        index = self.nearest_checkpoint(event.scenePos())
        if index is not None:
            self._pick(index)


class StepAxis(pg.AxisItem):
    """Training steps written short ("2k", "12.5k", "1.5M") so the last one fits at the right edge."""

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: N802 (pyqtgraph API)
        for unit, size in (("M", 1e6), ("k", 1e3)):
            if spacing * scale >= size / 2:  # ticks 500 apart read "0.5k", "1k"; 250 apart stay "250", "500"
                return [f"{v * scale / size:g}{unit}" if v else "0" for v in values]
        return [f"{v * scale:,g}" for v in values]


class ValueAxis(pg.AxisItem):
    """A left axis whose values stay MIN_TICK_GAP lines of text apart: pyqtgraph picks its
    spacing from the axis length alone, which crowds six labels onto a 60 px plot."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph API)
        span = maxVal - minVal
        if span <= 0 or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        line = QFontMetrics(self.style["tickFont"] or self.font()).height() * MIN_TICK_GAP
        return [(nice_spacing(span * line / size), 0.0)]


def nice_spacing(least: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at least `least`."""
    power = 10.0 ** math.floor(math.log10(least))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= least)


def cursor_pen() -> QPen:
    pen = pg.mkPen(HIGHLIGHT, width=2)
    pen.setCosmetic(True)
    return pen


def y_range(values: np.ndarray) -> tuple[float, float]:
    """The finite values' span (a flat or empty curve gets a unit span to sit in)."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if math.isclose(lo, hi):
        return lo - 0.5, hi + 0.5
    return lo, hi


def demo() -> TrainingTimeline:
    """Nine checkpoints of a model forming induction heads between steps 1,500 and 2,500."""
    steps = [0, 500, 1000, 1500, 2000, 2500, 3000, 4000, 6000]
    s = np.asarray(steps, dtype=float)
    jump = 1 / (1 + np.exp(-(s - 2000) / 220))
    timeline = TrainingTimeline()
    timeline.set_checkpoints(steps)
    timeline.set_curves({
        "best induction score": 0.05 + 0.9 * jump,
        "copy loss (nats)": 6.2 - 5.8 * jump,
        "logit diff (target − foil)": 15 * (s / s.max()) ** 0.8,
    })
    timeline.set_current(5)
    timeline.set_status("measured 9 of 9")
    timeline.resize(420, 360)
    return timeline


if __name__ == "__main__":
    from .demo import run

    run(demo)
