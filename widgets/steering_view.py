"""Steering a model: make a direction in the residual stream at one layer, set how hard to
push along it, and watch the predictions move; a sweep plots a measure against the strength
so the user sees where the behaviour flips.

Three sections. Vector: the layer, contrast pairs typed one prompt per line (line i of one
box pairs with line i of the other), read at the last token or averaged over tokens; "Make
from pairs" checks the pairs and emits `vector_requested`, files are opened and saved by the
app (`load_requested`, `save_requested`). Apply: add / remove / cap, a strength slider with an
editable value (dragging emits `strength_changed` continuously, which the app coalesces; the
end of a gesture emits `strength_committed` once) and the "Steering on" switch. Sweep: the
app answers `sweep_requested` with set_sweep; the plot's orange cursor follows the strength,
a dashed line marks where the behaviour flips, hovering names a point's values and top
token, and a click there sets the strength. Like every view here, no setter emits anything.

Docked, the panel is often ~420 x 520 px: the sections stack and the plot takes the height
left. From WIDE_AT pixels wide (~700 x 420) the vector and apply sections sit left of the
sweep, so the plot keeps its height."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QSlider, QSpinBox, QStackedWidget,
                               QVBoxLayout, QWidget)

from .elided_label import ElidedLabel
from .plots import bold_label, plain_plot
from .token_text import visible_token
from .training_timeline import LINE_COLOURS, ValueAxis, cursor_pen, y_range
from .resize_watcher import ResizeWatcher

__all__ = ["MODES", "POSITIONS", "SteeringView", "demo"]

MODES = (("add", "add the vector × strength"),
         ("remove", "project the direction out"),
         ("cap", "cap the projection at strength"))
POSITIONS = (("last", "last token"), ("mean", "mean over tokens"))
NO_VECTOR = "No vector yet: make one from pairs, load a file, or use a feature"
NO_SWEEP = "Press “Sweep strength” to plot the prediction against the strength"
NOTHING_MEASURED = "The sweep measured nothing to plot: set a target and foil, or words to track"
NO_PROMPTS = "Type one prompt per line in both boxes: with the behaviour, and without it"
NO_SITE = "No layer to read at: load a model first"
DECIMALS = 2  # the strength's precision
SCALE = 10 ** DECIMALS  # the slider counts hundredths
DEFAULT_RANGE = (-10.0, 10.0)
DEFAULT_POINTS, MAX_POINTS = 21, 101  # strengths per sweep (the engine sweeps at most 101)
WIDE_AT = 620  # from this width the vector and apply sections sit left of the sweep
BOX_LINES = (3, 2)  # a prompt box shows this many lines when stacked, at least this many beside the sweep
LEGEND_SIZE = "9pt"
QWIDGETSIZE_MAX = (1 << 24) - 1
MIN_PLOT_HEIGHT = 130
FLIP_COLOUR = (60, 60, 60)
ON_STYLE = ("QPushButton:checked { background: rgb(255, 205, 160); border: 1px solid rgb(255, 120, 0);"
            " border-radius: 3px; padding: 3px 8px; }")
ZERO_COLOUR = (150, 150, 150)


# ---- plain helpers (tests read them too) ----

def prompt_lines(text: str) -> list[str]:
    """The prompts in a box: one per line, blank lines skipped (a prompt keeps its spaces)."""
    return [line for line in text.splitlines() if line.strip()]


def pairs_problem(positives: list[str], negatives: list[str]) -> str | None:
    """Why these prompts are no contrast pairs, or None when they are."""
    if not positives or not negatives:
        return NO_PROMPTS
    if len(positives) != len(negatives):
        def count(n: int) -> str:
            return f"{n} prompt{'s' if n != 1 else ''}"
        return f"{count(len(positives))} with the behaviour but {len(negatives)} without: give pairs"
    return None


def words_list(text: str) -> list[str]:
    """Comma-separated words, trimmed, blanks dropped."""
    return [w.strip() for w in text.split(",") if w.strip()]


def value_text(value: float) -> str:
    """A measured value as written in tooltips: 4.21, -0.0034, 1.2e+03, — for NaN."""
    value = float(value)
    if not np.isfinite(value):
        return "—"
    if value == 0.0 or 0.01 <= abs(value) < 1000:
        return f"{value:.2f}"
    return f"{value:.3g}"


def vector_text(description: str | None, norm: float, typical_norm: float) -> str:
    """The vector label: what it was made from, its norm and, given the residual stream's
    typical norm there, the strength at which adding it moves the stream that far."""
    if description is None:
        return NO_VECTOR
    text = description
    if norm > 0:
        text += f" · |v|\u00a0{norm:.3g}"  # no-break spaces: a wrapped line keeps a name with its number
        if typical_norm > 0:
            text += (f"\ntypical |resid| here {typical_norm:.3g}: "
                     f"strength {typical_norm / norm:.2g} adds that much")
    return text


def pack_lines(widths: list[float], room: float, gap: float) -> list[list[int]]:
    """Indices of entries `widths` wide, greedily packed into lines `room` wide (at least one per line)."""
    lines: list[list[int]] = []
    used = 0.0
    for i, width in enumerate(widths):
        if lines and used + gap + width <= room:
            lines[-1].append(i)
            used += gap + width
        else:
            lines.append([i])
            used = width
    return lines


def colour_hex(rgb: tuple[int, int, int]) -> str:
    return QColor(*rgb).name()


class SteeringView(QWidget):
    """set_sites, set_vector, set_strength(_range), set_mode, set_enabled_state, set_pairs,
    set_sweep / clear_sweep, set_status; emits vector_requested(dict), load_requested(),
    save_requested(), strength_changed(float), strength_committed(float), mode_changed(str),
    enabled_changed(bool), sweep_requested(dict)."""

    vector_requested = Signal(dict)  # {"component", "positives", "negatives", "position"}
    load_requested = Signal()
    save_requested = Signal()
    strength_changed = Signal(float)
    strength_committed = Signal(float)
    mode_changed = Signal(str)
    enabled_changed = Signal(bool)
    sweep_requested = Signal(dict)  # {"low", "high", "n", "words"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._has_vector = False
        self._value = 0.0  # the strength shown
        self._committed = 0.0  # the strength last committed or told: committing it again says nothing
        self._low, self._high = DEFAULT_RANGE
        self._wide: bool | None = None
        self._strengths = np.zeros(0)
        self._curves: dict[str, np.ndarray] = {}
        self._top_tokens: list[str] | None = None
        self._flip_at: float | None = None
        self._y_span = (0.0, 1.0)  # the curves' values with a margin: the plot shows this, and room for the flip label
        self.curves: list[pg.PlotDataItem] = []

        self._build_vector_section()
        self._build_apply_section()
        self._build_sweep_section()
        self.status = ElidedLabel("")
        self.status.hide()

        self.controls = QWidget()
        controls = QVBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(3)
        controls.addWidget(self.vector_section, 1)
        controls.addSpacing(4)
        controls.addWidget(self.apply_section)
        self.columns = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.columns.setContentsMargins(0, 0, 0, 0)
        self.columns.addWidget(self.controls)
        self.columns.addWidget(self.sweep_section, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self.columns, 1)
        layout.addWidget(self.status)
        self.setMinimumSize(360, 300)

        self.set_strength_range(*DEFAULT_RANGE)
        self.set_vector(None)
        self._arrange()

    # ---- building ----

    def _build_vector_section(self) -> None:
        self.site_box = QComboBox()
        self.site_box.setToolTip("The residual stream place the vector is read at and added to")
        self.site_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.position_box = QComboBox()
        for key, text in POSITIONS:
            self.position_box.addItem(text, key)
        self.position_box.setToolTip("Read each prompt's residual at its last token, or averaged over its tokens")
        self.positives_edit, self.negatives_edit = QPlainTextEdit(), QPlainTextEdit()
        self.positives_label = QLabel("With the behaviour (one prompt per line)")
        self.negatives_label = QLabel("Without it (same number of lines)")
        for edit, label, example in ((self.positives_edit, self.positives_label, "I loved this film"),
                                     (self.negatives_edit, self.negatives_label, "I hated this film")):
            edit.setPlaceholderText(f"e.g. {example}")
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # one prompt, one line on screen
            edit.setTabChangesFocus(True)
            edit.setToolTip("Line i here pairs with line i of the other box; the vector is the mean difference")
            label.setWordWrap(True)
            label.setBuddy(edit)
        self.make_button = QPushButton("Make from pairs")
        self.make_button.setToolTip("The mean difference of the pairs' residuals at the chosen layer")
        self.make_button.clicked.connect(self._on_make_clicked)
        self.load_button = QPushButton("Load file…")
        self.load_button.setToolTip("A vector saved as .safetensors or .npy (the model's width)")
        self.load_button.clicked.connect(self.load_requested)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the current vector to a file")
        self.save_button.clicked.connect(self.save_requested)
        self.vector_label = QLabel(NO_VECTOR)
        self.vector_label.setWordWrap(True)
        self.vector_label.setStyleSheet("color: #444;")
        self.vector_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        where = QHBoxLayout()
        where.addWidget(QLabel("Layer"))
        where.addWidget(self.site_box, 1)
        where.addSpacing(8)
        where.addWidget(QLabel("Read at"))
        where.addWidget(self.position_box, 1)
        boxes = QGridLayout()
        boxes.setContentsMargins(0, 0, 0, 0)
        boxes.setHorizontalSpacing(6)
        boxes.setVerticalSpacing(1)
        boxes.addWidget(self.positives_label, 0, 0, Qt.AlignmentFlag.AlignBottom)
        boxes.addWidget(self.negatives_label, 0, 1, Qt.AlignmentFlag.AlignBottom)
        boxes.addWidget(self.positives_edit, 1, 0)
        boxes.addWidget(self.negatives_edit, 1, 1)
        boxes.setColumnStretch(0, 1)
        boxes.setColumnStretch(1, 1)
        boxes.setRowStretch(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.make_button)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        self.vector_section = QWidget()
        layout = QVBoxLayout(self.vector_section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(bold_label("Vector"))
        layout.addLayout(where)
        layout.addLayout(boxes, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.vector_label)

    def _build_apply_section(self) -> None:
        self.mode_box = QComboBox()
        for key, text in MODES:
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("add: x + strength·v · remove: take v's direction out of x · "
                                 "cap: x's projection on v's direction is at most strength")
        self.mode_box.currentIndexChanged.connect(self._on_mode_index)
        self.enabled_button = QPushButton("Steering on")
        self.enabled_button.setCheckable(True)
        self.enabled_button.setStyleSheet(ON_STYLE)  # on reads at a glance: orange like the cursor
        self.enabled_button.clicked.connect(self._on_enabled_clicked)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag to steer live; the release commits the strength")
        self.slider.valueChanged.connect(self._on_slider_value)
        self.slider.sliderReleased.connect(lambda: self._commit(self._value))
        self.strength_box = QDoubleSpinBox()
        self.strength_box.setDecimals(DECIMALS)
        self.strength_box.setKeyboardTracking(False)  # a typed value counts once Enter or focus-out finishes it
        self.strength_box.setToolTip("The strength: type a value and press Enter")
        self.strength_box.valueChanged.connect(lambda v: self._user_strength(v, commit=True))
        self.strength_label = QLabel("Strength")
        self.strength_label.setBuddy(self.strength_box)

        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Mode"))
        mode_row.addWidget(self.mode_box, 1)
        mode_row.addWidget(self.enabled_button)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength_label)
        strength_row.addWidget(self.slider, 1)
        strength_row.addWidget(self.strength_box)
        self.apply_section = QWidget()
        layout = QVBoxLayout(self.apply_section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(bold_label("Apply"))
        layout.addLayout(mode_row)
        layout.addLayout(strength_row)

    def _build_sweep_section(self) -> None:
        self.words_edit = QLineEdit()
        self.words_edit.setPlaceholderText("Words to track (comma separated)")
        self.words_edit.setToolTip("Optional: the sweep also plots log P(next token is one of these words)")
        self.words_edit.returnPressed.connect(self._on_sweep_clicked)
        self.points_box = QSpinBox()
        self.points_box.setRange(3, MAX_POINTS)
        self.points_box.setValue(DEFAULT_POINTS)
        self.points_box.setSuffix(" pts")
        self.points_box.setToolTip("How many strengths the sweep runs, evenly spaced over the slider's range")
        self.sweep_button = QPushButton("Sweep strength")
        self.sweep_button.clicked.connect(self._on_sweep_clicked)

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.layout.setContentsMargins(2, 2, 10, 2)
        self.view.ci.layout.setVerticalSpacing(0)
        self.legend = pg.LabelItem("", justify="left", color="k", size=LEGEND_SIZE)
        self.view.addItem(self.legend, row=0, col=0)
        self.plot = plain_plot(self.view.addPlot(row=1, col=0, axisItems={"left": ValueAxis("left")}), self)
        self.plot.setLabel("bottom", "strength", color="k")
        self.plot.getAxis("left").setWidth(44)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=dashed_pen(ZERO_COLOUR))
        self.zero_line.setZValue(-2)
        self.flip_line = pg.InfiniteLine(angle=90, movable=False, pen=dashed_pen(FLIP_COLOUR))
        self.flip_line.setZValue(-1)
        self.flip_label = pg.TextItem("", color=FLIP_COLOUR)
        self.flip_label.setZValue(5)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=cursor_pen())
        self.cursor.setZValue(-1)  # under the curves and their points
        self.hover_dots = pg.ScatterPlotItem(size=10, pen=pg.mkPen("k", width=1.5))
        for item in (self.zero_line, self.flip_line, self.flip_label, self.cursor, self.hover_dots):
            self.plot.addItem(item, ignoreBounds=True)
        self.plot.getViewBox().sigResized.connect(lambda _box: self._fit_y_range())
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_plot_clicked)
        self._watcher = ResizeWatcher(self._fit_legend)
        self.view.installEventFilter(self._watcher)
        self.view.setMinimumHeight(MIN_PLOT_HEIGHT)

        self.hint = QLabel(NO_SWEEP)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #555; background: white; padding: 12px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.hint)
        self.stack.setCurrentWidget(self.hint)

        self.words_row, self.sweep_row = QHBoxLayout(), QHBoxLayout()  # words: own line or first in sweep_row
        self.sweep_row.addWidget(self.points_box)
        self.sweep_row.addWidget(self.sweep_button)
        self.sweep_row.addStretch(1)
        self.sweep_section = QWidget()
        layout = QVBoxLayout(self.sweep_section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(bold_label("Sweep"))
        layout.addLayout(self.words_row)
        layout.addLayout(self.sweep_row)
        layout.addWidget(self.stack, 1)

    # ---- setters: none of them emits a signal ----

    def set_sites(self, sites: list[str], current: str | None = None) -> None:
        """The residual places to read at, shown as given; `current` (or the one chosen before,
        when still listed) is selected."""
        keep = current if current is not None else self.site_box.currentText()
        self.site_box.blockSignals(True)
        self.site_box.clear()
        self.site_box.addItems([str(s) for s in sites])
        index = self.site_box.findText(keep) if keep else -1
        self.site_box.setCurrentIndex(index if index >= 0 else 0 if sites else -1)
        self.site_box.blockSignals(False)

    def set_vector(self, description: str | None, norm: float = 0.0, typical_norm: float = 0.0) -> None:
        """The current vector in words (None: no vector; "Steering on" goes off and grey),
        its norm and the residual stream's typical norm there (0: unknown)."""
        self._has_vector = description is not None
        text = vector_text(description, float(norm), float(typical_norm))
        self.vector_label.setText(text)
        self.vector_label.setToolTip(text)
        self._sync_enabled()

    def set_strength_range(self, low: float, high: float) -> None:
        """The slider's ends (the sweep's range too); the strength is clipped into it."""
        if not float(high) > float(low):
            raise ValueError(f"strength range {low}..{high}: need low < high")
        low, high = round(float(low), DECIMALS), round(float(high), DECIMALS)
        high = max(high, round(low + 1 / SCALE, DECIMALS))  # a range narrower than the precision keeps one step
        self._low, self._high = low, high
        step = max(1, round((high - low) * SCALE / 100))  # arrow keys: 1% of the range
        for widget in (self.slider, self.strength_box):
            widget.blockSignals(True)
        self.slider.setRange(round(low * SCALE), round(high * SCALE))
        self.slider.setSingleStep(step)
        self.slider.setPageStep(step * 10)
        self.strength_box.setRange(low, high)
        self.strength_box.setSingleStep(step / SCALE)
        for widget in (self.slider, self.strength_box):
            widget.blockSignals(False)
        self._show_strength(self._clip(self._value))

    def set_strength(self, value: float) -> None:
        """Put the slider, its value and the plot's cursor on `value` (the range grows to hold it)."""
        value = round(float(value), DECIMALS)
        if not self._low <= value <= self._high:
            self.set_strength_range(min(self._low, value), max(self._high, value))
        self._committed = value
        self._show_strength(value)

    def set_mode(self, mode: str) -> None:
        """'add', 'remove' or 'cap'."""
        index = self.mode_box.findData(mode)
        if index < 0:
            raise ValueError(f"mode {mode!r}: one of {[m for m, _ in MODES]}")
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(index)
        self.mode_box.blockSignals(False)
        self._sync_enabled()

    def set_enabled_state(self, on: bool) -> None:
        """Check or uncheck "Steering on"."""
        self.enabled_button.setChecked(bool(on))

    def set_pairs(self, positives: list[str], negatives: list[str], position: str = "last") -> None:
        """Fill the two prompt boxes (one prompt per line) and the "Read at" choice."""
        self.positives_edit.setPlainText("\n".join(positives))
        self.negatives_edit.setPlainText("\n".join(negatives))
        index = self.position_box.findData(position)
        if index < 0:
            raise ValueError(f"position {position!r}: one of {[p for p, _ in POSITIONS]}")
        self.position_box.setCurrentIndex(index)

    def set_sweep(self, strengths, curves: dict, flip_at: float | None = None,
                  top_tokens: list[str] | None = None) -> None:
        """Plot each curve {name: values at `strengths`} (None values are skipped, NaN leaves
        a gap), a dashed line where the behaviour flips (`flip_at`), and keep the top token at
        each strength for the hover text."""
        x = np.asarray(strengths, dtype=float).ravel()
        arrays = {str(k): np.asarray(v, dtype=float).ravel() for k, v in curves.items() if v is not None}
        bad = [k for k, v in arrays.items() if len(v) != len(x)]
        if bad:
            raise ValueError(f"{bad}: need one value per strength ({len(x)})")
        if top_tokens is not None and len(top_tokens) != len(x):
            raise ValueError(f"{len(top_tokens)} top tokens for {len(x)} strengths")
        self._strengths, self._curves = x, arrays
        self._top_tokens = [str(t) for t in top_tokens] if top_tokens is not None else None
        self._flip_at = float(flip_at) if flip_at is not None else None
        self._draw_sweep()

    def clear_sweep(self, message: str = "") -> None:
        """Forget the sweep; the plot's place says `message` (or how to make one)."""
        self._strengths, self._curves, self._top_tokens, self._flip_at = np.zeros(0), {}, None, None
        self._draw_sweep(message or NO_SWEEP)

    def set_status(self, text: str) -> None:
        """One line at the bottom: progress or an error; hidden when empty."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # ---- reading the view ----

    def strength(self) -> float:
        return self._value

    def mode(self) -> str:
        return str(self.mode_box.currentData())

    def component(self) -> str:
        return self.site_box.currentText()

    def pairs(self) -> tuple[list[str], list[str], str]:
        """(prompts with the behaviour, prompts without it, "last" | "mean"), blank lines skipped."""
        return (prompt_lines(self.positives_edit.toPlainText()), prompt_lines(self.negatives_edit.toPlainText()),
                str(self.position_box.currentData()))

    def figure_view(self) -> QWidget:
        """The sweep plot with its legend: what a figure export renders."""
        return self.view

    def has_vector(self) -> bool:
        return self._has_vector

    def describe_point(self, index: int) -> str:
        """The hover text of sweep point `index`: its strength, each curve's value, its top token."""
        if not 0 <= index < len(self._strengths):
            raise IndexError(f"sweep point {index} of {len(self._strengths)}")
        lines = [f"strength {self._strengths[index]:.{DECIMALS}f}"]
        lines += [f"{name}: {value_text(values[index])}" for name, values in self._curves.items()]
        if self._top_tokens is not None:
            lines.append(f"top token: '{visible_token(self._top_tokens[index])}'")
        return "\n".join(lines)

    def nearest_point(self, scene_pos: QPointF) -> int | None:
        """The sweep point nearest (in strength) to a scene point on the plot, or None off it."""
        box = self.plot.getViewBox()
        if not len(self._strengths) or not box.sceneBoundingRect().contains(scene_pos):
            return None
        x = box.mapSceneToView(scene_pos).x()
        return int(np.argmin(np.abs(self._strengths - x)))

    def strength_at(self, scene_pos: QPointF) -> float | None:
        """The strength a click at a scene point on the plot asks for (clipped to the range,
        2 decimals), or None off the plot."""
        box = self.plot.getViewBox()
        if not len(self._strengths) or not box.sceneBoundingRect().contains(scene_pos):
            return None
        return self._clip(round(box.mapSceneToView(scene_pos).x(), DECIMALS))

    # ---- strength ----

    def _clip(self, value: float) -> float:
        return min(max(value, self._low), self._high)

    def _show_strength(self, value: float) -> None:
        """Slider, value box and cursor on `value`, silently."""
        self._value = value
        for widget in (self.slider, self.strength_box):
            widget.blockSignals(True)
        self.slider.setValue(round(value * SCALE))
        self.strength_box.setValue(value)
        for widget in (self.slider, self.strength_box):
            widget.blockSignals(False)
        self.cursor.setValue(value)

    def _user_strength(self, value: float, commit: bool) -> None:
        """The user moved the strength: show it, say strength_changed, and commit it when the gesture is over."""
        value = self._clip(round(float(value), DECIMALS))
        changed = value != self._value
        self._show_strength(value)
        if changed:
            self.strength_changed.emit(value)
        if commit:
            self._commit(value)

    def _commit(self, value: float) -> None:
        if value != self._committed:
            self._committed = value
            self.strength_committed.emit(value)

    def _on_slider_value(self, ticks: int) -> None:
        # dragging: live changes, the release commits; a click on the groove, a key or the wheel: done at once
        self._user_strength(ticks / SCALE, commit=not self.slider.isSliderDown())

    # ---- buttons ----

    def _on_make_clicked(self) -> None:
        positives, negatives, position = self.pairs()
        problem = pairs_problem(positives, negatives) or (None if self.component() else NO_SITE)
        if problem:
            self.set_status(problem)
            return
        self.set_status("")
        self.vector_requested.emit({"component": self.component(), "positives": positives,
                                    "negatives": negatives, "position": position})

    def _on_sweep_clicked(self) -> None:
        if not self.sweep_button.isEnabled():
            return
        self.sweep_requested.emit({"low": self._low, "high": self._high, "n": self.points_box.value(),
                                   "words": words_list(self.words_edit.text())})

    def _on_mode_index(self, _index: int) -> None:
        self._sync_enabled()
        self.mode_changed.emit(self.mode())

    def _on_enabled_clicked(self, checked: bool) -> None:
        self.enabled_changed.emit(bool(checked))

    def _sync_enabled(self) -> None:
        """Save, "Steering on" and the sweep need a vector; removing a direction needs no strength."""
        has, strength = self._has_vector, self.mode() != "remove"
        if not has:
            self.enabled_button.setChecked(False)  # setChecked emits no `clicked`: nothing is said
        self.save_button.setEnabled(has)
        self.enabled_button.setEnabled(has)
        self.enabled_button.setToolTip("Steer every run with this vector" if has else "Make or load a vector first")
        self.sweep_button.setEnabled(has and strength)
        self.sweep_button.setToolTip(
            "Run the prompt at evenly spaced strengths over the slider's range" if has and strength else
            "Make or load a vector first" if not has else "Removing a direction has no strength to sweep")
        for widget in (self.slider, self.strength_box, self.strength_label):
            widget.setEnabled(strength)

    # ---- sweep plot ----

    def _draw_sweep(self, message: str = NO_SWEEP) -> None:
        for line in self.curves:
            self.plot.removeItem(line)
        self.curves = []
        self.hover_dots.setData([], [])
        self.view.setToolTip("")
        x = self._strengths
        if not len(x) or not self._curves:
            self.hint.setText(message if not len(x) else NOTHING_MEASURED)
            self.stack.setCurrentWidget(self.hint)
            self.legend.setText("")
            return
        for i, values in enumerate(self._curves.values()):
            colour = LINE_COLOURS[i % len(LINE_COLOURS)]
            self.curves.append(self.plot.plot(x, values, pen=pg.mkPen(colour, width=2), connect="finite",
                                              symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None))
        every = np.concatenate(list(self._curves.values()))
        finite = every[np.isfinite(every)]
        crosses = bool(finite.size) and bool(finite.min() < 0 < finite.max())
        self.zero_line.setVisible(crosses)
        lo, hi = y_range(every)
        pad = 0.08 * (hi - lo)
        self._y_span = (lo - pad, hi + pad)
        x_low, x_high = float(x.min()), float(x.max())
        if x_high <= x_low:
            x_low, x_high = x_low - 1.0, x_high + 1.0
        self.plot.setXRange(x_low, x_high, padding=0.05)  # room for the end values' tick labels
        flip = self._flip_at
        self.flip_line.setVisible(flip is not None)
        self.flip_label.setVisible(flip is not None)
        if flip is not None:
            self.flip_line.setValue(flip)
            self.flip_label.setText(f"flips at {flip:.{DECIMALS}f}")
            right_half = flip > (x_low + x_high) / 2
            self.flip_label.setAnchor((1.0, 0.0) if right_half else (0.0, 0.0))  # the text stays inside the plot
        self.stack.setCurrentWidget(self.view)
        self._fit_legend()
        self._fit_y_range()

    def _fit_y_range(self) -> None:
        """The curves' span, and above it a strip as tall as the flip label (at most a third
        of the plot) so that the label never covers a curve."""
        low, high = self._y_span
        if self._flip_at is not None:
            label = self.flip_label.textItem.boundingRect().height()
            share = min(label / max(self.plot.getViewBox().height(), 1.0), 0.3)
            high = low + (high - low) / (1.0 - share)
            self.flip_label.setPos(self._flip_at, high)
        self.plot.setYRange(low, high, padding=0.0)

    def legend_entries(self) -> list[tuple[str, str]]:
        """(colour, name) of each curve, in the legend's order."""
        return [(colour_hex(LINE_COLOURS[i % len(LINE_COLOURS)]), name) for i, name in enumerate(self._curves)]

    def _fit_legend(self) -> None:
        """The coloured curve names above the plot, wrapped onto as many lines as the width needs."""
        entries = self.legend_entries()
        if not entries:
            self.legend.setText("")
            return
        font = QFont(self.font())
        font.setPointSizeF(float(LEGEND_SIZE.rstrip("pt")))
        metrics = QFontMetrics(font)
        texts = [f"━━ {name}" for _, name in entries]
        room = max(self.view.width() - 30, 60)
        lines = pack_lines([metrics.horizontalAdvance(t) for t in texts], room, metrics.horizontalAdvance("    "))
        rows = ["&nbsp;&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{entries[i][0]}'>━━</span>&nbsp;{html.escape(entries[i][1])}" for i in line)
            for line in lines]
        self.legend.setText("<br>".join(rows))
        self.legend.setMaximumHeight(metrics.lineSpacing() * len(rows) + 6)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        index = self.nearest_point(scene_pos)
        if index is None:
            self.hover_dots.setData([], [])
            self.view.setToolTip("")
            return
        xs, ys, brushes = [], [], []
        for i, values in enumerate(self._curves.values()):
            if np.isfinite(values[index]):
                xs.append(self._strengths[index])
                ys.append(values[index])
                brushes.append(pg.mkBrush(LINE_COLOURS[i % len(LINE_COLOURS)]))
        self.hover_dots.setData(xs, ys, brush=brushes)
        self.view.setToolTip(self.describe_point(index) + "\n(click: steer at this strength)")

    def _on_plot_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.slider.isEnabled():
            return
        value = self.strength_at(event.scenePos())
        if value is not None:
            self._user_strength(value, commit=True)

    # ---- layout ----

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Stacked sections below WIDE_AT pixels, the sweep beside the others from there."""
        wide = self.width() >= WIDE_AT
        if wide == self._wide:
            return
        self._wide = wide
        for edit in (self.positives_edit, self.negatives_edit):
            if wide:
                edit.setMinimumHeight(box_height(edit, BOX_LINES[1]))
                edit.setMaximumHeight(QWIDGETSIZE_MAX)
            else:
                edit.setFixedHeight(box_height(edit, BOX_LINES[0]))
        self.words_row.removeWidget(self.words_edit)
        self.sweep_row.removeWidget(self.words_edit)
        if wide:  # the sweep's column is narrow: the words get a line of their own
            self.words_row.addWidget(self.words_edit)
        else:
            self.sweep_row.insertWidget(0, self.words_edit, 1)
        self.sweep_row.setStretch(self.sweep_row.count() - 1, 0 if not wide else 1)
        if wide:
            self.columns.setDirection(QBoxLayout.Direction.LeftToRight)
            self.columns.setSpacing(10)
            self.columns.setStretch(0, 5)
            self.columns.setStretch(1, 6)
        else:
            self.columns.setDirection(QBoxLayout.Direction.TopToBottom)
            self.columns.setSpacing(6)
            self.columns.setStretch(0, 0)
            self.columns.setStretch(1, 1)


def box_height(edit: QPlainTextEdit, lines: int) -> int:
    """The height showing `lines` lines of a text box without a scroll bar."""
    margins = 2 * edit.frameWidth() + 2 * int(edit.document().documentMargin())
    return lines * QFontMetrics(edit.font()).lineSpacing() + margins + 2


def dashed_pen(colour: tuple[int, int, int]):
    pen = pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)
    pen.setCosmetic(True)
    return pen


def flip_strength(strengths: np.ndarray, values: np.ndarray) -> float | None:
    """The first strength (in order) where `values` changes sign, as the engine reports it."""
    sign = np.sign(values)
    change = np.flatnonzero(sign[1:] != sign[:-1])
    return float(strengths[change[0] + 1]) if len(change) else None


def demo() -> SteeringView:
    """A sentiment vector from three contrast pairs at layer 6, swept from -10 to 10 on
    "I thought the movie was": the prediction turns from ' terrible' to ' great' past 1."""
    view = SteeringView()
    view.set_sites([f"L{layer}.{place}" for layer in range(12) for place in ("resid_pre", "resid_mid", "resid_post")],
                   "L6.resid_pre")
    view.set_pairs(["I loved this film", "What a wonderful day", "She was delighted to help"],
                   ["I hated this film", "What an awful day", "She was annoyed to help"], "last")
    view.set_vector("3 contrast pairs at L6.resid_pre (last token)", 12.3, 35.0)
    s = np.linspace(-10.0, 10.0, DEFAULT_POINTS)
    wobble = 0.15 * np.sin(3.1 * s)
    logit_diff = 4.2 * np.tanh((s - 1.0) / 3.0) + wobble
    words = -9.0 + 7.5 / (1.0 + np.exp(-(s - 2.5) / 1.6)) + wobble
    top = [" terrible" if d < -1.5 else " boring" if d < 0 else " great" if d < 3.5 else " wonderful"
           for d in logit_diff]
    view.words_edit.setText("love, wonderful")
    view.set_sweep(s, {"logit diff (great − terrible)": logit_diff, "log P(love, wonderful)": words},
                   flip_strength(s, logit_diff), top)
    view.set_strength(3.0)
    view.set_enabled_state(True)
    view.set_status("swept 21 strengths in 0.8 s")
    view.resize(420, 560)
    return view


if __name__ == "__main__":
    from .demo import run

    run(demo)
