"""The result of a patching sweep over a prompt set: one number per cell is not the whole
story, so the view shows how far it can be trusted and lets the user look inside a cell.

The heatmap (a PatchingHeatmap) shows one statistic per cell, chosen in "Show": the mean
effect, its standard deviation, the share of prompts whose effect has the mean's sign, or
the width of the mean's 95% interval; hovering a cell names all of them. A click on a cell
emits `cell_chosen`; the app answers with show_cell, the drill-down: a histogram of the
cell's effect on each prompt with the mean (line), its 95% interval (band) and 0 marked,
and the prompts sorted by their effect, largest first. A click on a bar lists only the
prompts in it (a second click, or one elsewhere, lists them all again); a double-click on
a prompt emits `prompt_opened` with its index in the set, so the single-prompt views can
show it. Like every view here, no setter emits anything.

Docked, the panel is often ~520 x 520 px: the drill-down sits below the heatmap, its
histogram beside the list. From WIDE_AT pixels wide (~900 x 420) it sits right of the
heatmap, the histogram above the list, so both keep their height."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen, QResizeEvent
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QGraphicsRectItem, QHBoxLayout, QHeaderView, QLabel,
                               QSizePolicy, QSplitter, QStackedWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from .colors import HIGHLIGHT
from .elided_label import ElidedLabel
from .patching_heatmap import PatchingHeatmap
from .plots import plain_plot
from .training_timeline import ValueAxis

__all__ = ["BINS", "MAX_LISTED", "STATISTICS", "SetResultsView", "bin_of", "demo", "label_text", "number"]

STATISTICS = (("mean", "Mean effect"),
              ("std", "Standard deviation"),
              ("same_sign", "Prompts with the mean's sign"),
              ("ci_width", "Width of the 95% interval"))
SHORT_NAMES = {"mean": "mean", "std": "std", "same_sign": "same sign",
               "ci_width": "CI width"}  # the colour bar's label (short: a docked heatmap is ~140 px tall)
REQUIRED = ("mean", "std", "ci_low", "ci_high", "same_sign")
BINS = 30  # histogram bars
MAX_LISTED = 500  # prompts listed at once
WIDE_AT = 800  # from this width the drill-down sits right of the heatmap
NO_RESULT = "No result yet: run a patching sweep over a prompt set"
NO_CELL = "Click a cell of the heatmap to see its effect on each prompt"
BAR_COLOUR, BAR_EDGE = QColor(175, 180, 190), QColor(120, 125, 135)
MEAN_COLOUR = QColor(31, 119, 180)
BAND_COLOUR = QColor(31, 119, 180, 80)
ZERO_COLOUR = QColor(90, 90, 90)
MIN_HISTOGRAM = (150, 110)  # pixels
BAR_HINT = "Click a bar to list only the prompts in it"
BAR_RESET_HINT = "Click the chosen bar again, or outside the bars, to list every prompt"


# ---- plain helpers (tests read them too) ----

def number(value: float, signed: bool = False) -> str:
    """A statistic as written: +0.82, 0.0034, 1.2e+03, — for NaN."""
    value = float(value)
    if not np.isfinite(value):
        return "—"
    sign = "+" if signed else ""
    if value == 0.0 or 0.01 <= abs(value) < 1000:
        return f"{value:{sign}.2f}"
    return f"{value:{sign}.2g}"


def prompts_text(n: int) -> str:
    return f"{n:,} prompt{'s' if n != 1 else ''}"


def bin_of(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The histogram bar each value falls in, as numpy.histogram counts it (bars are
    [low, high) but the last is closed); -1 for NaN, infinities and values outside."""
    values = np.asarray(values, dtype=float)
    n_bins = len(edges) - 1
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = n_bins - 1
    index[~np.isfinite(values) | (index < 0) | (index >= n_bins)] = -1
    return index


def label_text(label: str) -> str:
    """A row or column label as the heatmap's axis writes it: 'i:token' as 'i token'."""
    index, sep, token = label.partition(":")
    if sep and index.isdigit():
        return f"{index} {token.strip() or repr(token)}"
    return label


def one_line(text: str) -> str:
    return text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\t", " ")


class _SetHeatmap(PatchingHeatmap):
    """A PatchingHeatmap whose hover text is the owner's (every statistic of the cell)."""

    def __init__(self, describer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._describer = describer

    def describe(self, row: int, col: int) -> str:
        return self._describer(row, col)


class SetResultsView(QWidget):
    """set_result(stats, rows, columns, n, title), set_statistic(name), show_cell(row, col,
    values, prompts), clear(message), set_status(text); emits cell_chosen(row, col),
    prompt_opened(index) and statistic_changed(name)."""

    cell_chosen = Signal(int, int)
    prompt_opened = Signal(int)
    statistic_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stats: dict[str, np.ndarray] | None = None
        self._rows: tuple[str, ...] = ()
        self._columns: tuple[str, ...] = ()
        self._n = 0
        self._title = ""
        self._per_row = False
        self._wide: bool | None = None
        self.cell: tuple[int, int] | None = None  # the cell drilled into
        self.values = np.zeros(0)  # its effect on each prompt
        self.prompts: list[str] = []
        self.edges = np.zeros(0)
        self.counts = np.zeros(0, dtype=np.int64)
        self.value_bins = np.zeros(0, dtype=np.int64)  # each prompt's bar (-1: none)
        self.chosen_bar: int | None = None  # the bar whose prompts are listed, None: all

        self.stat_box = QComboBox()
        for key, text in STATISTICS:
            self.stat_box.addItem(text, key)
        self.stat_box.setToolTip("What the heatmap shows for each cell, over the set's prompts")
        self.stat_box.currentIndexChanged.connect(self._on_statistic_index)
        show_label = QLabel("Show")
        show_label.setBuddy(self.stat_box)
        self.count_label = QLabel("")
        self.count_label.setStyleSheet("color: #444;")
        top = QHBoxLayout()
        top.addWidget(show_label)
        top.addWidget(self.stat_box)
        top.addStretch(1)
        top.addWidget(self.count_label)

        self.heatmap = _SetHeatmap(self.describe)
        self.heatmap.title.setWordWrap(True)  # a long sweep title takes a second line, not the dock's width
        self.heatmap.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.heatmap.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.heatmap.cell_clicked.connect(self.cell_chosen)
        self.cell_marker = QGraphicsRectItem()
        pen = QPen(HIGHLIGHT)
        pen.setCosmetic(True)
        pen.setWidth(3)
        self.cell_marker.setPen(pen)
        self.cell_marker.setZValue(10)
        self.cell_marker.hide()
        self.heatmap.plot.addItem(self.cell_marker, ignoreBounds=True)
        bar_axis = self.heatmap.colorbar.getAxis("right")
        bar_axis.setTextPen("k")
        bar_axis.enableAutoSIPrefix(False)  # "0.5", not "500 (x0.001)"

        self._build_drill_down()
        self.status = ElidedLabel("")
        self.status.hide()

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.heatmap)
        self.splitter.addWidget(self.drill)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.status)
        self.setMinimumSize(380, 320)
        self.clear()
        self._arrange()

    def _build_drill_down(self) -> None:
        self.cell_title = ElidedLabel("", bold=True)
        self.cell_summary = ElidedLabel("")
        self.cell_summary.setStyleSheet("color: #444;")
        titles = QHBoxLayout()
        titles.setSpacing(8)
        titles.addWidget(self.cell_title)
        titles.addWidget(self.cell_summary, 1)

        self.histogram = pg.GraphicsLayoutWidget()
        self.histogram.setBackground("w")
        self.histogram.ci.layout.setContentsMargins(0, 4, 10, 0)
        self.histogram.setMinimumSize(*MIN_HISTOGRAM)
        self.plot = plain_plot(self.histogram.addPlot(axisItems={"left": ValueAxis("left")}), self)
        self.plot.getAxis("left").setWidth(34)
        self.bars = pg.BarGraphItem(x0=[0.0], x1=[1.0], height=[0.0], brush=BAR_COLOUR, pen=pg.mkPen(BAR_EDGE))
        self.band = pg.LinearRegionItem((0.0, 0.0), movable=False, brush=pg.mkBrush(BAND_COLOUR),
                                        pen=pg.mkPen(None))
        self.band.setZValue(5)
        mean_pen = pg.mkPen(MEAN_COLOUR, width=2)
        self.mean_line = pg.InfiniteLine(angle=90, movable=False, pen=mean_pen)
        self.mean_line.setZValue(6)
        zero_pen = pg.mkPen(ZERO_COLOUR, width=1, style=Qt.PenStyle.DashLine)
        zero_pen.setCosmetic(True)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=zero_pen)
        self.zero_line.setZValue(4)
        self.plot.addItem(self.bars)
        for item in (self.band, self.mean_line, self.zero_line):
            self.plot.addItem(item, ignoreBounds=True)
        self.histogram.scene().sigMouseMoved.connect(self._on_histogram_moved)
        self.histogram.scene().sigMouseClicked.connect(self._on_histogram_clicked)

        self.list_note = ElidedLabel("")
        self.list_note.setStyleSheet("color: #444;")
        self.prompt_list = QTreeWidget()
        self.prompt_list.setColumnCount(2)
        self.prompt_list.setHeaderHidden(True)
        self.prompt_list.setRootIsDecorated(False)
        self.prompt_list.setUniformRowHeights(True)
        self.prompt_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.prompt_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # prompts elide
        header = self.prompt_list.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.prompt_list.setToolTip("Double-click a prompt to open it in the single-prompt views")
        self.prompt_list.itemDoubleClicked.connect(self._on_item_double_clicked)
        self.prompt_list.setMinimumSize(150, 80)
        listing = QVBoxLayout()
        listing.setContentsMargins(0, 0, 0, 0)
        listing.setSpacing(1)
        listing.addWidget(self.list_note)
        listing.addWidget(self.prompt_list, 1)

        self.drill_row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.drill_row.setContentsMargins(0, 0, 0, 0)
        self.drill_row.addWidget(self.histogram, 1)
        self.drill_row.addLayout(listing, 1)
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(2, 2, 2, 2)
        page_layout.setSpacing(2)
        page_layout.addLayout(titles)
        page_layout.addLayout(self.drill_row, 1)
        self.drill_page = page

        self.drill_hint = QLabel(NO_CELL)
        self.drill_hint.setWordWrap(True)
        self.drill_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drill_hint.setStyleSheet("color: #555; background: white; padding: 12px;")
        self.drill = QStackedWidget()
        self.drill.addWidget(self.drill_page)
        self.drill.addWidget(self.drill_hint)

    # ---- setters: none of them emits a signal ----

    def set_result(self, stats: dict[str, np.ndarray], row_labels: tuple[str, ...], column_labels: tuple[str, ...],
                   n: int, title: str, per_row: bool = False) -> None:
        """The set's statistics {"mean", "std", "ci_low", "ci_high", "same_sign"}, each [R, C]
        (same_sign a fraction; NaN: not measured), over `n` prompts; the drill-down is reset.
        per_row: the rows are in different units (each is coloured on its own scale)."""
        missing = [k for k in REQUIRED if k not in stats]
        if missing:
            raise ValueError(f"statistics {missing} missing: need {list(REQUIRED)}")
        arrays = {k: np.asarray(stats[k], dtype=float) for k in REQUIRED}
        shape = (len(row_labels), len(column_labels))
        bad = [k for k, v in arrays.items() if v.shape != shape]
        if bad:
            raise ValueError(f"{bad}: need shape {shape} (rows x columns)")
        arrays["ci_width"] = arrays["ci_high"] - arrays["ci_low"]
        self._stats = arrays
        self._rows, self._columns = tuple(map(str, row_labels)), tuple(map(str, column_labels))
        self._n, self._title, self._per_row = int(n), str(title), bool(per_row)
        self.count_label.setText(f"over {prompts_text(self._n)}")
        self._clear_drill_down()
        self._draw_heatmap()

    def set_statistic(self, name: str) -> None:
        """Show 'mean', 'std', 'same_sign' or 'ci_width' in the heatmap."""
        index = self.stat_box.findData(name)
        if index < 0:
            raise ValueError(f"statistic {name!r}: one of {[k for k, _ in STATISTICS]}")
        self.stat_box.blockSignals(True)
        self.stat_box.setCurrentIndex(index)
        self.stat_box.blockSignals(False)
        self._draw_heatmap()

    def show_cell(self, row: int, col: int, values: np.ndarray, prompts: list[str]) -> None:
        """The drill-down of one cell: `values` [N], its effect on each prompt, and the
        prompts' texts, both in the set's order. Mean and interval come from set_result."""
        values = np.asarray(values, dtype=float).ravel()
        if len(prompts) != len(values):
            raise ValueError(f"{len(prompts)} prompts for {len(values)} values")
        self.cell, self.values, self.prompts = (int(row), int(col)), values, [str(p) for p in prompts]
        finite = values[np.isfinite(values)]
        if finite.size:
            self.counts, self.edges = np.histogram(finite, bins=BINS)
        else:
            self.counts, self.edges = np.zeros(0, dtype=np.int64), np.zeros(0)
        self.value_bins = bin_of(values, self.edges) if finite.size else np.full(len(values), -1)
        self.chosen_bar = None
        mean, low, high = self._cell_interval(finite)
        name = self._cell_name(*self.cell)
        self.cell_title.setText(f"{name} over {prompts_text(len(values))}")
        summary = f"mean {number(mean, True)}"
        if np.isfinite(low) and np.isfinite(high):
            summary += f" · 95% [{number(low, True)}, {number(high, True)}]"
        unmeasured = len(values) - finite.size
        if unmeasured:
            summary += f" · {prompts_text(unmeasured)} without a value"
        self.cell_summary.setText(summary)
        self._draw_histogram(mean, low, high)
        self._fill_list()
        self._mark_cell()
        self.drill.setCurrentWidget(self.drill_page)

    def clear(self, message: str = "") -> None:
        """Forget the result; the heatmap's place says `message` (or how to get one)."""
        self._stats, self._rows, self._columns, self._n = None, (), (), 0
        self.count_label.setText("")
        self.heatmap.clear(message or NO_RESULT)
        self.heatmap.hover_label.setText(" ")
        self.heatmap.view.setToolTip("")
        self.heatmap.colorbar.getAxis("right").setLabel("")
        self._clear_drill_down()

    def set_status(self, text: str) -> None:
        """One line at the bottom: progress or an error; hidden when empty."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # ---- reading the view ----

    def statistic(self) -> str:
        return str(self.stat_box.currentData())

    def figure_view(self) -> QWidget:
        """The heatmap and its colour bar (labelled with the statistic): what a figure export renders."""
        return self.heatmap.view

    def describe(self, row: int, col: int) -> str:
        """The hover text of a cell: every statistic, e.g.
        'L1 × H3: mean +0.82 [0.79, 0.85] · std 0.12 · 97% same sign'."""
        if self._stats is None:
            return ""
        s = {k: float(v[row, col]) for k, v in self._stats.items()}
        share = f"{100 * s['same_sign']:.0f}%" if np.isfinite(s["same_sign"]) else "—"
        return (f"{self._cell_name(row, col)}: mean {number(s['mean'], True)} "
                f"[{number(s['ci_low'])}, {number(s['ci_high'])}] · std {number(s['std'])} · {share} same sign")

    def listed(self) -> list[int]:
        """The set indices of the prompts listed now, top to bottom."""
        return [int(self.prompt_list.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole))
                for i in range(self.prompt_list.topLevelItemCount())]

    def shown_values(self) -> np.ndarray | None:
        """The statistic the heatmap shows now, [R, C] (None before a result)."""
        return None if self._stats is None else self._stats[self.statistic()]

    def bar_at(self, scene_pos: QPointF) -> int | None:
        """The histogram bar (with prompts in it) under a scene point's x, or None."""
        box = self.plot.getViewBox()
        if not len(self.edges) or not box.sceneBoundingRect().contains(scene_pos):
            return None
        x = box.mapSceneToView(scene_pos).x()
        index = int(bin_of(np.array([x]), self.edges)[0])
        return index if index >= 0 and self.counts[index] > 0 else None

    # ---- heatmap ----

    def _cell_name(self, row: int, col: int) -> str:
        if 0 <= row < len(self._rows) and 0 <= col < len(self._columns):
            return f"{label_text(self._rows[row])} × {label_text(self._columns[col])}"
        return f"row {row} × column {col}"

    def _draw_heatmap(self) -> None:
        if self._stats is None:
            return
        name = self.statistic()
        self.heatmap.set_result(self._stats[name], self._rows, self._columns,
                                f"{self.stat_box.currentText()} · {self._title}" if self._title
                                else self.stat_box.currentText(), per_row=self._per_row and name != "same_sign")
        label = "per row" if self.heatmap.per_row else SHORT_NAMES[name]
        self.heatmap.colorbar.getAxis("right").setLabel(label, color="k")
        self._mark_cell()

    def _mark_cell(self) -> None:
        rows, cols = len(self._rows), len(self._columns)
        if self.cell is None or self._stats is None or not (0 <= self.cell[0] < rows and 0 <= self.cell[1] < cols):
            self.cell_marker.hide()
            return
        row, col = self.cell
        self.cell_marker.setRect(QRectF(col - 0.5, row - 0.5, 1.0, 1.0))
        self.cell_marker.show()

    def _on_statistic_index(self, _index: int) -> None:
        self._draw_heatmap()
        self.statistic_changed.emit(self.statistic())

    # ---- drill-down ----

    def _clear_drill_down(self) -> None:
        self.cell, self.values, self.prompts = None, np.zeros(0), []
        self.edges, self.counts = np.zeros(0), np.zeros(0, dtype=np.int64)
        self.value_bins, self.chosen_bar = np.zeros(0, dtype=np.int64), None
        self.prompt_list.clear()
        self.cell_marker.hide()
        self.drill.setCurrentWidget(self.drill_hint)

    def _cell_interval(self, finite: np.ndarray) -> tuple[float, float, float]:
        """(mean, ci_low, ci_high) of the cell: the set's statistics, or the values' mean
        (and no interval) when the cell has none."""
        if self._stats is not None and self.cell is not None:
            row, col = self.cell
            if 0 <= row < len(self._rows) and 0 <= col < len(self._columns):
                return tuple(float(self._stats[k][row, col]) for k in ("mean", "ci_low", "ci_high"))
        return (float(finite.mean()) if finite.size else float("nan")), float("nan"), float("nan")

    def _draw_histogram(self, mean: float, low: float, high: float) -> None:
        has_bars = len(self.edges) > 0
        if has_bars:
            self.bars.setOpts(x0=self.edges[:-1], x1=self.edges[1:], height=self.counts, brushes=self._bar_brushes())
        else:
            self.bars.setOpts(x0=[0.0], x1=[1.0], height=[0.0], brushes=None)
        self.bars.setVisible(has_bars)
        self.mean_line.setVisible(bool(np.isfinite(mean)))
        if np.isfinite(mean):
            self.mean_line.setValue(mean)
        band = bool(np.isfinite(low) and np.isfinite(high))
        self.band.setVisible(band)
        if band:
            self.band.setRegion((min(low, high), max(low, high)))
        # the span: the bars and the mean's interval; 0 too when that at most doubles it
        ends = [float(e) for e in ([self.edges[0], self.edges[-1]] if has_bars else []) + [mean, low, high]
                if np.isfinite(e)]
        left, right = (min(ends), max(ends)) if ends else (-1.0, 1.0)
        width = right - left if right > left else 1.0
        if min(abs(left), abs(right)) <= width or left <= 0.0 <= right:
            left, right = min(left, 0.0), max(right, 0.0)
        self.zero_line.setVisible(left <= 0.0 <= right)
        if right <= left:
            left, right = left - 0.5, right + 0.5
        self.plot.setXRange(left, right, padding=0.04)
        self.plot.setYRange(0.0, max(float(self.counts.max()) if has_bars else 0.0, 1.0), padding=0.05)

    def _bar_brushes(self) -> list:
        return [pg.mkBrush(HIGHLIGHT if i == self.chosen_bar else BAR_COLOUR) for i in range(len(self.counts))]

    def _fill_list(self) -> None:
        """The prompts (all, or the chosen bar's), largest value first, NaN last, at most MAX_LISTED."""
        order = np.argsort(-self.values, kind="stable")  # NaN sorts last
        if self.chosen_bar is not None:
            order = order[self.value_bins[order] == self.chosen_bar]
        total = len(order)
        order = order[:MAX_LISTED]
        self.prompt_list.setUpdatesEnabled(False)
        self.prompt_list.clear()
        items = []
        for index in order:
            prompt = self.prompts[index]
            item = QTreeWidgetItem([number(self.values[index], True), one_line(prompt)])
            item.setData(0, Qt.ItemDataRole.UserRole, int(index))
            item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(1, f"prompt #{index}: {prompt}\n(double-click to open it)")
            items.append(item)
        self.prompt_list.addTopLevelItems(items)
        self.prompt_list.setUpdatesEnabled(True)
        shown = len(order)
        if self.chosen_bar is not None:
            low, high = self.edges[self.chosen_bar], self.edges[self.chosen_bar + 1]
            note = f"{prompts_text(total)} from {number(low, True)} to {number(high, True)}"
        else:
            note = f"{prompts_text(total)}, largest first" if shown == total else \
                f"{shown:,} largest of {prompts_text(total)}"
        self.list_note.setText(note)

    def _choose_bar(self, index: int | None) -> None:
        self.chosen_bar = index
        if len(self.counts):
            self.bars.setOpts(brushes=self._bar_brushes())
        self._fill_list()

    def _on_histogram_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.cell is None:
            return
        index = self.bar_at(event.scenePos())
        self._choose_bar(None if index is None or index == self.chosen_bar else index)

    def _on_histogram_moved(self, scene_pos: QPointF) -> None:
        index = self.bar_at(scene_pos)
        if index is None:
            self.histogram.setToolTip(BAR_HINT if self.chosen_bar is None else BAR_RESET_HINT)
            return
        low, high = self.edges[index], self.edges[index + 1]
        action = "list them all again" if index == self.chosen_bar else "list only these"
        self.histogram.setToolTip(f"{prompts_text(int(self.counts[index]))} from {number(low, True)} "
                                  f"to {number(high, True)}\n(click: {action})")

    def _on_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self.prompt_opened.emit(int(item.data(0, Qt.ItemDataRole.UserRole)))

    # ---- layout ----

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """The drill-down below the heatmap (histogram beside the list) under WIDE_AT pixels,
        right of it (histogram above the list) from there."""
        wide = self.width() >= WIDE_AT
        if wide == self._wide:
            return
        self._wide = wide
        if wide:
            self.splitter.setOrientation(Qt.Orientation.Horizontal)
            self.drill_row.setDirection(QBoxLayout.Direction.TopToBottom)
            self.drill_row.setSpacing(4)
        else:
            self.splitter.setOrientation(Qt.Orientation.Vertical)
            self.drill_row.setDirection(QBoxLayout.Direction.LeftToRight)
            self.drill_row.setSpacing(8)
        along = self.splitter.width() if wide else self.splitter.height()
        self.splitter.setSizes([max(along, 2) // 2, max(along, 2) // 2])


def demo() -> SetResultsView:
    """A made-up head sweep over 1,000 IOI prompts (6 layers x 8 heads): a strong name mover
    at L4 × H3 that fails on a tenth of the prompts, a weaker one, a negative one; the
    drill-down shows the strong head."""
    rng = np.random.default_rng(0)
    names = ["Mary", "John", "Alice", "Bob", "Sarah", "Tom", "Emma", "David"]
    places = ["store", "park", "office", "garden", "station", "cafe"]
    things = ["drink", "book", "letter", "ring", "ticket"]
    n, n_layers, n_heads = 1000, 6, 8
    prompts = []
    for _ in range(n):
        a, b = rng.choice(names, 2, replace=False)
        prompts.append(f"When {a} and {b} went to the {rng.choice(places)}, {b} gave a {rng.choice(things)} to")
    effect = rng.normal(0.0, 0.02, (n_layers, n_heads))
    effect[4, 3], effect[5, 1], effect[3, 6], effect[2, 2] = 0.82, 0.45, -0.35, 0.15
    spread = np.full((n_layers, n_heads), 0.05)
    spread[4, 3], spread[5, 1], spread[3, 6], spread[2, 2] = 0.12, 0.2, 0.15, 0.3
    values = effect + spread * rng.standard_normal((n, n_layers, n_heads))  # [N, layers, heads]
    fails = rng.random(n) < 0.1
    values[fails, 4, 3] = rng.normal(0.1, 0.08, fails.sum())  # the name mover does nothing on these
    mean, std = values.mean(0), values.std(0, ddof=1)
    half = 1.96 * std / np.sqrt(n)
    stats = {"mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half,
             "same_sign": (np.sign(values) == np.sign(mean)).mean(0)}
    view = SetResultsView()
    view.set_result(stats, tuple(f"L{i}" for i in range(n_layers)), tuple(f"H{h}" for h in range(n_heads)), n,
                    "Head output, IOI set")
    view.show_cell(4, 3, values[:, 4, 3], prompts)
    view.cell_chosen.connect(lambda r, c: view.show_cell(r, c, values[:, r, c], prompts))
    view.prompt_opened.connect(lambda i: view.set_status(f"would open prompt #{i}: {prompts[i]}"))
    view.set_status("swept 1,000 prompts in 14 s")
    view.resize(520, 520)
    return view


if __name__ == "__main__":
    from .demo import run

    run(demo)
