"""Which dictionary (sparse autoencoder, transcoder) features fire on each token of the
prompt: a heatmap with one row per shown feature ("#1199") and one column per token,
white where a feature is silent, darkening to red with its activation; beside it the
features active at the focused position, largest first.

The caller picks what is shown (the F most active features across the prompt, a longer
top list for the focused position) and answers the widget's signals: a click on a row,
its label or a listed feature emits `feature_chosen(id)`; a click on a token's label
emits `position_chosen(position)` (the widget outlines that column and lists it from the
heatmap at once; the caller may then send a longer list with set_focus_list). Like every
view here, no setter emits anything.

Docked, the panel is often ~450 x 350 px: token labels are rotated (capped to a share of
the plot's height) or, below a short plot, flat; either way they are thinned to every
1st, 2nd, 5th, 10th ... column (widgets/ticks.py) so no two touch, while hover and clicks
map the exact column under the mouse."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPen, QPixmap
from PySide6.QtWidgets import (QGraphicsRectItem, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QSplitter, QStackedWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from .axes import GAP, PAD, PlacedLabel, TokenAxis, place_flat
from .colour_bar import ColourBar
from .elided_label import ElidedLabel
from .plots import plain_plot
from .ticks import label_stride
from .token_text import elide, visible_token
from .resize_watcher import ResizeWatcher

__all__ = ["ACTIVATION_CMAP", "FeatureStrip", "demo", "synthetic_features"]

NO_DICTIONARY = "Open a dictionary (SAELens or circuit-tracer folder) to see its features on the prompt"
NO_FEATURES = "No features yet: run the prompt to see which of the dictionary's features fire on it"
NONE_ACTIVE = "No feature of the dictionary fires on this prompt"
NO_FOCUS = "Click a token's label to list the features active there"
NOTHING_HERE = "no feature active here"
# white at 0, then ColorBrewer's OrRd: sequential, light = silent, dark red = the strongest activation
ACTIVATION_CMAP = pg.ColorMap(np.linspace(0.0, 1.0, 9), [
    (255, 255, 255), (254, 232, 200), (253, 212, 158), (253, 187, 132), (252, 141, 89),
    (239, 101, 72), (215, 48, 31), (179, 0, 0), (127, 0, 0)])
_LUT = ACTIVATION_CMAP.getLookupTable(0.0, 1.0, 256)
FOCUS_COLOUR = QColor(30, 80, 200)  # blue: stands out against white, orange and red alike
TOKEN_CHARS = 10  # a token label's most characters (the tooltip has it whole)
ROTATED_SHARE = 0.3  # rotated token labels take at most this share of the plot's height
MIN_ROTATED_LABEL = "token…"  # rotated labels shorter than this say too little: lay them flat instead
MIN_FLAT_LABEL = "extr…"  # a thinned flat label gets at least this much room
STALE_OPACITY = 0.35
STALE_TEXT = QColor(160, 160, 160)
SIDE_SHARE, SIDE_MAX = 0.34, 280  # the list's share of the width, and its most pixels (until the user drags)
SWATCH = 10  # pixels of a listed feature's colour swatch


def value_text(value: float) -> str:
    """An activation as written in the list and tooltips: 4.21, 0.0034, 0."""
    value = float(value)
    if value == 0.0 or abs(value) >= 0.01:
        return f"{value:.2f}"
    return f"{value:.2g}"


def colour_for(value: float, top: float) -> QColor:
    """The heatmap's colour for `value` on a 0..top scale (clipped)."""
    t = 0.0 if top <= 0 or not np.isfinite(value) else min(max(value / top, 0.0), 1.0)
    r, g, b = (int(c) for c in _LUT[int(round(t * 255))][:3])
    return QColor(r, g, b)


def nice_ticks(top: float) -> list[tuple[float, str]]:
    """0 and round values up to `top` (the colour bar thins them to its height)."""
    if not top > 0:
        return [(0.0, "0")]
    least = top / 4
    power = 10.0 ** math.floor(math.log10(least))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= least)
    count = int(math.floor(top / step + 1e-9))
    return [(k * step, f"{k * step:g}") for k in range(count + 1)]


class TokenColumnAxis(TokenAxis):
    """The tokens' bottom axis. Flat labels when every one fits its column; otherwise
    rotated (at most `rotated_extent` pixels long) or, when `compact`, flat and elided;
    in both cases only every k-th column is labelled, k from widgets/ticks.py. Labels are
    shifted inside the axis, never cut at its ends; `label_rects()` is what is painted."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.compact = False
        self.focus: int | None = None  # this column is always labelled, in FOCUS_COLOUR
        self._full_longest = 10

    def set_labels(self, ticks: list[tuple[float, str]]) -> None:
        super().set_labels(ticks)
        self._full_longest = self._longest
        self.set_room(self.compact, self._rotated_extent if hasattr(self, "_rotated_extent") else 140, force=True)

    def set_room(self, compact: bool, rotated_extent: int, force: bool = False) -> None:
        """Flat labels (compact) or rotated ones at most `rotated_extent` pixels long (ticks included)."""
        self._rotated_extent = rotated_extent
        line = QFontMetrics(self.tick_font()).height()
        longest = max(line, min(self._full_longest, rotated_extent - PAD))
        if force or (compact, longest) != (self.compact, self._longest):
            self.compact, self._longest = compact, longest
            self._fitted = None
            self._fit_height()
            self.picture = None
            self.update()

    def set_focus(self, column: int | None) -> None:
        if column != self.focus:
            self.focus = column
            self.picture = None
            self.update()

    def _flat(self, metrics: QFontMetrics) -> bool:
        return self.compact or super()._flat(metrics)

    def stride(self) -> int:
        """Every how many columns a label is drawn."""
        metrics = QFontMetrics(self.tick_font())
        spacing = self._spacing()
        if spacing == math.inf or not self._labels:
            return 1
        widest = max(metrics.horizontalAdvance(text) for _, text in self._labels)
        if widest + GAP <= spacing:
            return 1
        if self.compact:
            return label_stride(spacing, min(widest, metrics.horizontalAdvance(MIN_FLAT_LABEL)) + GAP)
        return label_stride(spacing, metrics.height() + GAP)

    def label_layout(self) -> list[PlacedLabel]:
        """The labels drawn: every stride()-th column from the first and the focused one
        (its neighbours less than a stride away give way), elided to their room and
        shifted inside the axis (start/end: their extent along it, in pixels)."""
        metrics = QFontMetrics(self.tick_font())
        pixels = self._pixels()
        if not pixels:
            return []
        spacing = self._spacing()
        stride = self.stride()
        flat = self._flat(metrics)
        low, high = 0.0, float(self.size().width())
        focus = self.focus if self.focus is not None and 0 <= self.focus < len(self._labels) else None

        def drawn(i: int) -> bool:
            if focus is not None and i != focus and abs(i - focus) < stride:
                return False
            return i % stride == 0 or i == focus

        chosen = [(value, text, along) for i, ((value, text), along) in enumerate(zip(self._labels, pixels))
                  if drawn(i) and low - 0.5 <= along <= high + 0.5]
        placed: list[PlacedLabel] = []
        if not flat:
            room = max(int(self.size().height()) - PAD, metrics.height())
            half = metrics.height() / 2
            for value, text, along in chosen:
                start = min(max(along - half, low), high - 2 * half)
                placed.append(PlacedLabel(value, along, metrics.elidedText(text, Qt.TextElideMode.ElideRight, room),
                                          start, start + 2 * half, True))
            return placed
        room = stride * spacing - GAP if spacing != math.inf else high - low
        return place_flat([(value, along, metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(room)))
                           for value, text, along in chosen], metrics, low, high)

    def label_rects(self) -> list[tuple[PlacedLabel, QRectF]]:
        """Each drawn label and the rectangle its text covers, in this axis's coordinates."""
        metrics = QFontMetrics(self.tick_font())
        top = 4.0
        out = []
        for label in self.label_layout():
            width = metrics.horizontalAdvance(label.text)
            if label.rotated:
                out.append((label, QRectF(label.start, top, label.end - label.start, width)))
            else:
                out.append((label, QRectF(label.start, top, width, metrics.height())))
        return out

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802 (pyqtgraph API)
        pg.AxisItem.drawPicture(self, p, axisSpec, tickSpecs, [])
        p.setPen(self.textPen())
        p.setFont(self.tick_font())
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for label, rect in self.label_rects():
            p.setPen(FOCUS_COLOUR if label.value == self.focus else self.textPen().color())
            if label.rotated:  # reads upwards, its end next to the column
                p.save()
                p.translate(rect.bottomLeft())
                p.rotate(-90)
                p.drawText(QRectF(0, 0, rect.height() + 1, rect.width()), left, label.text)
                p.restore()
            else:
                p.drawText(rect.adjusted(0, 0, 1, 0), left, label.text)


class FeatureStrip(QWidget):
    """set_dictionary(label), set_features(tokens, feature_ids, values, focus),
    set_focus_list(position, token, ids, values, labels), set_status(text), set_stale(bool);
    emits feature_chosen(id), position_chosen(position), open_requested()."""

    feature_chosen = Signal(int)
    position_chosen = Signal(int)
    open_requested = Signal()
    search_requested = Signal(str)  # a token typed in the search box (Enter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dictionary: str | None = None
        self.tokens: list[str] = []
        self.feature_ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self.values: np.ndarray | None = None  # [S, F] as given
        self.top = 1.0  # the colour scale's maximum
        self.focus: int | None = None
        self.labels: dict[int, str] = {}  # the user's names of features, as last told
        self._stale = False

        self.open_button = QPushButton("Open dictionary…")
        self.open_button.setToolTip("Open a sparse autoencoder or transcoder (SAELens or circuit-tracer folder)")
        self.open_button.clicked.connect(self.open_requested)
        self.dictionary_label = ElidedLabel("no dictionary open")
        self.search = QLineEdit()
        self.search.setPlaceholderText("features on a token or label…")
        self.search.setToolTip("Type and press Enter: the features whose label contains the text or, when none "
                               "does, the features that fire on it as a token across the dictionary's corpus")
        self.search.setMaximumWidth(180)
        self.search.returnPressed.connect(lambda: self.search.text().strip() and self.search_requested.emit(
            self.search.text()))
        self.status = ElidedLabel("")
        self.status.hide()

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        line = QFontMetrics(self.font()).height()
        self.view.ci.setContentsMargins(2, line // 2 + 2, 2, 2)  # the top row's label is not cut
        self.row_axis, self.column_axis = TokenAxis("left"), TokenColumnAxis()
        self.plot = plain_plot(self.view.addPlot(row=0, col=0, axisItems={"left": self.row_axis,
                                                                          "bottom": self.column_axis}), self)
        self.plot.invertY(True)  # the first (most active) feature on top
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.focus_marker = QGraphicsRectItem()
        pen = QPen(FOCUS_COLOUR)
        pen.setCosmetic(True)
        pen.setWidth(2)
        self.focus_marker.setPen(pen)
        self.focus_marker.hide()
        self.plot.addItem(self.focus_marker)
        self.colorbar = ColourBar(ACTIVATION_CMAP, label="activation")
        self.colorbar.attach(self.image, self.plot, self)
        self.colorbar.set_scale((0.0, 1.0), nice_ticks(1.0), "activation")
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._watcher = ResizeWatcher(self._fit_to_height)
        self.view.installEventFilter(self._watcher)

        self.hint = QLabel(NO_DICTIONARY)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #555; background: white; padding: 12px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.hint)

        self.list_title = QLabel(NO_FOCUS)  # wraps to a second line in a narrow dock rather than lose the token
        self.list_title.setWordWrap(True)
        title_font = self.list_title.font()
        title_font.setBold(True)
        self.list_title.setFont(title_font)
        self.feature_list = QTreeWidget()
        self.feature_list.setColumnCount(3)
        self.feature_list.setHeaderHidden(True)
        self.feature_list.setRootIsDecorated(False)
        self.feature_list.setUniformRowHeights(True)
        self.feature_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.feature_list.header()
        header.setStretchLastSection(False)  # a hidden header does not stretch: _fit_columns does
        header.setMinimumSectionSize(12)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self._list_watcher = ResizeWatcher(self._fit_columns)
        self.feature_list.viewport().installEventFilter(self._list_watcher)
        self.feature_list.itemClicked.connect(self._on_item_clicked)
        self.side = QWidget()
        side_layout = QVBoxLayout(self.side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(2)
        side_layout.addWidget(self.list_title)
        side_layout.addWidget(self.feature_list, 1)
        self.side.setMinimumWidth(140)
        self.feature_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # columns elide

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self._user_split = False  # once the user drags the handle, the split is theirs
        self.splitter.splitterMoved.connect(self._on_split_moved)

        controls = QHBoxLayout()
        controls.addWidget(self.open_button)
        controls.addWidget(self.dictionary_label, 1)
        controls.addWidget(self.search)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        self.setMinimumSize(360, 240)
        self._show_page()

    # ---- setters: none of them emits a signal ----

    def set_dictionary(self, label: str | None) -> None:
        """The open dictionary in one line (None: none open, the plot shows how to open one).
        Another dictionary forgets the features shown and their names."""
        if label != self.dictionary:
            self._clear()
            self.labels = {}
        self.dictionary = label
        self.dictionary_label.setText(label if label is not None else "no dictionary open")
        self._show_page()

    def set_features(self, tokens: list[str], feature_ids: np.ndarray, values: np.ndarray,
                     focus: int | None = None) -> None:
        """The prompt's tokens [S], the features shown [F] (ids) and their activations [S, F]
        (>= 0; 0 = silent). focus: the position outlined and listed beside (None: none).
        The side list is refilled from these values; send a longer one with set_focus_list.
        Labels and the plot's range change only when the tokens or features do."""
        ids = np.asarray(feature_ids, dtype=np.int64).ravel()
        values = np.asarray(values, dtype=float)
        if values.shape != (len(tokens), len(ids)):
            raise ValueError(f"values {values.shape}: need [tokens, features] = ({len(tokens)}, {len(ids)})")
        same = list(tokens) == self.tokens and np.array_equal(ids, self.feature_ids)
        self.tokens, self.feature_ids, self.values = list(tokens), ids, values
        finite = values[np.isfinite(values)]
        self.top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        n_tokens, n_features = values.shape
        self.image.setImage(np.nan_to_num(values.T, nan=0.0), autoLevels=False)  # row r = feature r
        self.colorbar.set_scale((0.0, self.top), nice_ticks(self.top), "activation")
        if not same:
            self.image.setRect(QRectF(-0.5, -0.5, n_tokens, n_features))  # cell (f, s) centred on (s, f)
            self.row_axis.set_labels([(r, f"#{fid}") for r, fid in enumerate(ids)])
            self.column_axis.set_labels([(c, elide(visible_token(t), TOKEN_CHARS)) for c, t in enumerate(tokens)])
            if n_tokens and n_features:
                self.plot.getViewBox().setRange(xRange=(-0.5, n_tokens - 0.5), yRange=(-0.5, n_features - 0.5),
                                                padding=0.0)
        self._show_page()
        self._focus_from_heatmap(focus if focus is not None and 0 <= focus < n_tokens else None)

    def set_focus_list(self, position: int, token: str, feature_ids: list[int], values: list[float],
                       labels: dict[int, str] | None = None) -> None:
        """The side list: the features active at `position` (may be more than the heatmap
        shows) with their activations, listed largest first; `labels` (the user's names of
        features) are remembered and shown next to the ids, here and in tooltips."""
        if labels:
            self.labels.update({int(k): str(v) for k, v in labels.items()})
        self.focus = int(position)
        self._outline_focus()
        self._fill_list(position, token, [int(i) for i in feature_ids], [float(v) for v in values])

    def set_search_results(self, token: str, feature_ids: list[int], values: list[float], note: str) -> None:
        """The side list shows a token search's result: features by mean activation on `token`
        across the corpus (`note` says over how many occurrences)."""
        self._fill_list(-1, token, [int(i) for i in feature_ids], [float(v) for v in values])
        self.list_title.setText(f"Features on '{visible_token(token)}' ({note})")

    def set_label_matches(self, text: str, matches: list[tuple[int, str]]) -> None:
        """The side list shows the features whose label contains `text` (a label search)."""
        self.labels.update({int(fid): str(label) for fid, label in matches})
        self.feature_list.clear()
        items = []
        for fid, label in matches:
            item = QTreeWidgetItem([f"#{fid}", "", label])
            item.setData(0, Qt.ItemDataRole.UserRole, int(fid))
            for column in range(3):
                item.setToolTip(column, f"feature #{fid}: “{label}”; click to open it")
            items.append(item)
        self.feature_list.addTopLevelItems(items)
        self.list_title.setText(f"Features labelled '{text}' ({len(matches)})")
        self._fit_columns()

    def set_status(self, text: str) -> None:
        """One line above the plot: progress ("⟳ updating") or an error; hidden when empty."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_stale(self, stale: bool) -> None:
        """Grey the heatmap and the list while a newer run is computing."""
        self._stale = stale
        for item in (self.image, self.focus_marker):
            item.setOpacity(STALE_OPACITY if stale else 1.0)
        self.list_title.setStyleSheet("color: rgb(160, 160, 160);" if stale else "")
        for i in range(self.feature_list.topLevelItemCount()):
            self._style_item(self.feature_list.topLevelItem(i))

    @property
    def stale(self) -> bool:
        return self._stale

    def figure_view(self) -> QWidget:
        """The heatmap and its colour bar alone: what a figure export renders."""
        return self.view

    # ---- reading the view (hover, clicks, tests) ----

    def describe(self, row: int, col: int) -> str:
        """The tooltip of a cell: feature, token, position, activation."""
        fid = int(self.feature_ids[row])
        return (f"feature #{fid}{self._named(fid)} at '{visible_token(self.tokens[col])}' (position {col}): "
                f"{value_text(self.values[col, row])}")

    def hit(self, scene_pos: QPointF) -> tuple[str, int, int] | None:
        """What is under a scene point: ("cell", row, col), ("row", row, -1) on the feature
        labels, ("column", -1, col) on the token labels, or None."""
        if self.values is None or not self.values.size:
            return None
        vb = self.plot.getViewBox()
        p = vb.mapSceneToView(scene_pos)
        row, col = int(np.floor(p.y() + 0.5)), int(np.floor(p.x() + 0.5))
        n_cols, n_rows = self.values.shape
        if vb.sceneBoundingRect().contains(scene_pos):
            return ("cell", row, col) if 0 <= row < n_rows and 0 <= col < n_cols else None
        if self.row_axis.sceneBoundingRect().contains(scene_pos) and 0 <= row < n_rows:
            return ("row", row, -1)
        if self.column_axis.sceneBoundingRect().contains(scene_pos) and 0 <= col < n_cols:
            return ("column", -1, col)
        return None

    def listed(self) -> list[tuple[int, float, str]]:
        """(feature id, value, label) of the side list's rows, top to bottom."""
        out = []
        for i in range(self.feature_list.topLevelItemCount()):
            item = self.feature_list.topLevelItem(i)
            fid = item.data(0, Qt.ItemDataRole.UserRole)
            if fid is not None:
                out.append((int(fid), float(item.data(1, Qt.ItemDataRole.UserRole)), item.text(2)))
        return out

    # ---- internals ----

    def _named(self, fid: int) -> str:
        return f" ({self.labels[fid]})" if self.labels.get(fid) else ""

    def _clear(self) -> None:
        self.tokens, self.feature_ids, self.values, self.focus = [], np.zeros(0, dtype=np.int64), None, None
        self.image.clear()
        self.focus_marker.hide()
        self.row_axis.set_labels([])
        self.column_axis.set_labels([])
        self.feature_list.clear()
        self.list_title.setText(NO_FOCUS)

    def _show_page(self) -> None:
        if self.dictionary is None:
            hint = NO_DICTIONARY
        elif self.values is None:
            hint = NO_FEATURES
        elif not self.values.size:
            hint = NONE_ACTIVE
        else:
            hint = ""
        self.hint.setText(hint)
        self.stack.setCurrentWidget(self.hint if hint else self.view)
        self.side.setVisible(not hint)  # the hint gets the width

    def _outline_focus(self) -> None:
        if self.focus is None or self.values is None or not 0 <= self.focus < self.values.shape[0]:
            self.focus_marker.hide()
            self.column_axis.set_focus(None)
            return
        self.column_axis.set_focus(self.focus)
        self.focus_marker.setRect(QRectF(self.focus - 0.5, -0.5, 1, self.values.shape[1]))
        self.focus_marker.show()

    def _focus_from_heatmap(self, position: int | None) -> None:
        """Outline `position` and list the shown features active there."""
        self.focus = position
        self._outline_focus()
        if position is None:
            self.feature_list.clear()
            self.list_title.setText(NO_FOCUS)
            return
        row = self.values[position]
        self._fill_list(position, self.tokens[position], [int(i) for i in self.feature_ids], [float(v) for v in row])

    def _fill_list(self, position: int, token: str, ids: list[int], values: list[float]) -> None:
        self.list_title.setText(f"Features at position {position} ('{visible_token(token)}')")
        active = sorted(((v, fid) for fid, v in zip(ids, values) if np.isfinite(v) and v > 0),
                        key=lambda pair: (-pair[0], pair[1]))
        self.feature_list.clear()
        top = self.top if self.values is not None else max((v for v, _ in active), default=1.0)  # beyond: darkest
        items = []
        for value, fid in active:
            label = self.labels.get(fid, "")
            item = QTreeWidgetItem([f"#{fid}", value_text(value), label])
            item.setData(0, Qt.ItemDataRole.UserRole, fid)
            item.setData(1, Qt.ItemDataRole.UserRole, value)
            item.setData(2, Qt.ItemDataRole.UserRole, top)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._style_item(item)
            tip = f"feature #{fid}{self._named(fid)}: {value_text(value)} at '{visible_token(token)}' " \
                  f"(position {position}); click to open it"
            for column in range(3):
                item.setToolTip(column, tip)
            items.append(item)
        if not items:
            empty = QTreeWidgetItem([NOTHING_HERE, "", ""])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            items.append(empty)
        self.feature_list.addTopLevelItems(items)
        if not active:
            items[0].setFirstColumnSpanned(True)
        self._fit_columns()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if not self._user_split:
            width = self.splitter.width()
            side = int(min(max(SIDE_SHARE * width, self.side.minimumWidth()), SIDE_MAX))
            self.splitter.setSizes([max(width - side, 1), side])

    def _on_split_moved(self, *_args) -> None:
        self._user_split = True

    def _fit_columns(self) -> None:
        """The label column takes the list's width left over, so a long label is elided, not cut."""
        header = self.feature_list.header()
        header.resizeSections(QHeaderView.ResizeMode.ResizeToContents)
        used = header.sectionSize(0) + header.sectionSize(1)
        header.resizeSection(2, max(12, self.feature_list.viewport().width() - used))

    def _style_item(self, item: QTreeWidgetItem) -> None:
        """A listed feature's swatch (the heatmap's colour for its value) and text, faded while stale."""
        value = item.data(1, Qt.ItemDataRole.UserRole)
        if value is None:
            return
        colour = colour_for(float(value), float(item.data(2, Qt.ItemDataRole.UserRole)))
        if self._stale:
            colour = QColor(*(int(c + (255 - c) * (1 - STALE_OPACITY)) for c in colour.getRgb()[:3]))
        swatch = QPixmap(SWATCH, SWATCH)
        swatch.fill(colour)
        item.setIcon(1, QIcon(swatch))
        for column in range(3):
            if self._stale:
                item.setForeground(column, STALE_TEXT)
            else:
                item.setData(column, Qt.ItemDataRole.ForegroundRole, None)

    def _fit_to_height(self) -> None:
        """Flat token labels below a short plot, rotated ones (capped) above it."""
        extent = int(self.view.height() * ROTATED_SHARE)
        least = QFontMetrics(self.column_axis.tick_font()).horizontalAdvance(MIN_ROTATED_LABEL) + PAD
        self.column_axis.set_room(extent < least, extent)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        hit = self.hit(scene_pos)
        if hit is None:
            self.view.setToolTip("")
            return
        kind, row, col = hit
        if kind == "cell":
            self.view.setToolTip(self.describe(row, col))
        elif kind == "row":
            fid = int(self.feature_ids[row])
            self.view.setToolTip(f"feature #{fid}{self._named(fid)}: click to open it")
        else:
            self.view.setToolTip(f"position {col} '{visible_token(self.tokens[col])}': click to list its features")

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self.hit(event.scenePos())
        if hit is None:
            return
        kind, row, col = hit
        if kind == "column":
            self._focus_from_heatmap(col)
            self.position_chosen.emit(col)
        else:
            self.feature_chosen.emit(int(self.feature_ids[row]))

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        fid = item.data(0, Qt.ItemDataRole.UserRole)
        if fid is not None:
            self.feature_chosen.emit(int(fid))


TOKENS = ["<bos>", "The", " cat", " sat", " on", " the", " mat", " because", " it", " was", " tired", ".",
          " The", " dog", " barked", " at", " the", " mail", "man", " who", " came", " by", " every", " morning",
          "\n", "It", " was", " a", " quiet", " street", " in", " the", " middle", " of", " a", " small", " town",
          ",", " and", " the"]


def synthetic_features(n_tokens: int = 15, n_features: int = 12, seed: int = 0):
    """Made-up tokens, feature ids and sparse activations [S, F], most active feature first."""
    rng = np.random.default_rng(seed)
    tokens = [TOKENS[i % len(TOKENS)] for i in range(n_tokens)]
    ids = rng.choice(np.arange(16, 1536), size=n_features, replace=False)
    fires = rng.random((n_tokens, n_features)) < rng.uniform(0.1, 0.5, size=n_features)
    values = np.where(fires, rng.gamma(3.0, 0.6, size=(n_tokens, n_features)) * rng.uniform(0.6, 1.6, n_features), 0.0)
    order = np.argsort(-values.sum(0), kind="stable")
    return tokens, ids[order], values[:, order]


DEMO_LABELS = {0: "animals", 1: "sentence end", 3: "definite article"}  # by rank among the shown features


def demo(n_tokens: int = 15, n_features: int = 12) -> FeatureStrip:
    """A made-up TopK SAE's 12 most active features on a 15-token prompt, a busy position
    focused with a longer top list than the heatmap holds."""
    tokens, ids, values = synthetic_features(n_tokens, n_features)
    strip = FeatureStrip()
    strip.set_dictionary("TopK SAE · blocks.0.hook_resid_post · 1536 features")
    focus = int(np.argmax((values > 0).sum(1)[: min(n_tokens, 15)]))  # a busy position
    strip.set_features(tokens, ids, values, focus)
    labels = {int(ids[rank]): name for rank, name in DEMO_LABELS.items() if rank < len(ids)}
    extra_ids = [1003, 77, 1420]  # active at the focus, not among the prompt's most active overall
    strip.set_focus_list(focus, tokens[focus], [int(i) for i in ids] + extra_ids,
                         [float(v) for v in values[focus]] + [0.8, 0.35, 0.12], labels)
    strip.resize(450, 350)
    return strip


if __name__ == "__main__":
    from .demo import run

    run(demo)
