"""The dashboard of one dictionary (sparse autoencoder, transcoder) feature, like
Neuronpedia's feature page, drawn from values computed elsewhere:

- a header: "Feature #1199", the dictionary it belongs to, and how often it fires;
- its top activating contexts, one line each: every token shaded white to red by its
  activation (one scale for all the lines shown, the feature strip's colours), the line's
  strongest token bold and its value at the left. A line too long for the width loses
  tokens on the left first (then the right), so its strongest token always shows;
  hovering a token tells its value;
- a histogram of its activations over the corpus (tokens where it fires);
- the output tokens its decoder direction promotes and suppresses through the unembedding;
- a line to name it: `label_changed(feature, text)` when the user finishes editing.

Docked, the panel is often ~450 x 400 px: the contexts scroll when they do not fit, the
histogram and the output lists share the row below them. Like every view here, no setter
emits anything."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QScrollArea,
                               QSizePolicy, QToolTip, QVBoxLayout, QWidget)

from .colors import text_color_for
from .elided_label import ElidedLabel
from .feature_strip import colour_for, value_text
from .plots import bold_label, plain_plot
from .token_text import visible_token

__all__ = ["ContextRows", "FeatureCard", "OUTPUTS_SHOWN", "TokenBox", "demo", "density_text"]

NO_FEATURE = "No feature chosen: click a feature (in the feature strip or a graph) to see its dashboard"
OUTPUTS_SHOWN = 8  # tokens listed under "promotes" and under "suppresses"
HPAD, VPAD = 2, 2  # pixels around a token's text inside its shaded box
TOKEN_GAP = 1  # pixels between neighbouring tokens' boxes
ROW_GAP = 3  # pixels between context lines
VALUE_GAP = 8  # pixels between a line's value and its first token
ELLIPSIS = "…"
LEFT_CONTEXT = 3  # a long line keeps this many tokens before its strongest one, while it can
MIN_ROWS_SHOWN = 3  # the contexts' area shows at least this many lines before it scrolls
BAR_COLOUR = QColor(252, 141, 89)  # the activation map's orange
BAR_EDGE = QColor(215, 48, 31)
MUTED = QColor(110, 110, 110)
ROW_RULE = QColor(238, 238, 238)
PROMOTE_COLOUR = QColor(20, 90, 170)
SUPPRESS_COLOUR = QColor(180, 30, 30)
HISTOGRAM_MIN_HEIGHT = 120


def density_text(density: float) -> str:
    """A firing rate (a fraction of tokens) as a percent: 42%, 4.2%, 0.013%, 0%."""
    if not np.isfinite(density):
        return "?%"
    percent = 100.0 * float(density)
    if percent == 0.0:
        return "0%"
    if percent >= 10:
        return f"{percent:.0f}%"
    if percent >= 1:
        return f"{percent:.1f}%"
    return f"{percent:.2g}%"


def signed_text(value: float) -> str:
    """An output logit's value with its sign: +1.24, −0.87."""
    return f"{value:+.2f}".replace("-", "−")


@dataclass(frozen=True)
class TokenBox:
    """One drawn token of a context line: its index in the context, the text drawn (the
    visible token, elided if even alone it is too wide), its box in the widget, its
    activation and background, and whether it is the line's strongest (bold)."""

    index: int
    text: str
    rect: QRectF
    value: float
    colour: QColor
    bold: bool


class ContextRows(QWidget):
    """The top activating contexts, painted one line each (see the module's docstring).
    `boxes(row)` is what is drawn, for tests and hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens: list[list[str]] = []
        self.values: list[np.ndarray] = []
        self.top = 1.0  # the colour scale's maximum: the largest activation of any line shown
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("white"))
        self.setPalette(palette)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def set_contexts(self, contexts: list[tuple[list[str], list[float]]]) -> None:
        tokens, values = [], []
        for k, (toks, vals) in enumerate(contexts):
            vals = np.asarray(vals, dtype=float).ravel()
            if len(vals) != len(toks):
                raise ValueError(f"context {k}: {len(toks)} tokens but {len(vals)} activations")
            tokens.append([str(t) for t in toks])
            values.append(vals)
        self.tokens, self.values = tokens, values
        finite = [v[np.isfinite(v)] for v in values]
        peak = max((float(v.max()) for v in finite if v.size), default=0.0)
        self.top = peak if peak > 0 else 1.0
        self.updateGeometry()
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    # ---- geometry ----

    def _fonts(self) -> tuple[QFont, QFont]:
        bold = QFont(self.font())
        bold.setBold(True)
        return self.font(), bold

    def row_height(self) -> int:
        return QFontMetrics(self._fonts()[1]).height() + 2 * VPAD + ROW_GAP

    def value_width(self) -> int:
        """The left column holding each line's largest value."""
        metrics = QFontMetrics(self.font())
        texts = [self.line_value_text(r) for r in range(len(self.tokens))] or ["0.00"]
        return max(metrics.horizontalAdvance(t) for t in texts) + VALUE_GAP

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        bold = QFontMetrics(self._fonts()[1])
        widest = 0
        for toks in self.tokens:
            widest = max(widest, sum(bold.horizontalAdvance(visible_token(t)) + 2 * HPAD + TOKEN_GAP for t in toks))
        return QSize(self.value_width() + widest + 4, max(1, len(self.tokens)) * self.row_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.value_width() + 80, self.sizeHint().height())

    def strongest(self, row: int) -> int | None:
        """The index of a line's largest activation (None: nothing fires on it)."""
        vals = self.values[row]
        if not vals.size or not np.nanmax(np.nan_to_num(vals, nan=0.0)) > 0:
            return None
        return int(np.argmax(np.nan_to_num(vals, nan=-np.inf)))

    def line_value_text(self, row: int) -> str:
        vals = self.values[row]
        finite = vals[np.isfinite(vals)]
        return value_text(float(finite.max()) if finite.size else 0.0)

    def shown_range(self, row: int, width: float | None = None) -> tuple[int, int]:
        """The tokens [first, end) of a line drawn at `width` pixels (default: the widget's)."""
        return self._window(row, self.width() if width is None else width)[:2]

    def _token_widths(self, row: int) -> tuple[list[float], int | None]:
        regular, bold = (QFontMetrics(f) for f in self._fonts())
        peak = self.strongest(row)
        widths = [(bold if i == peak else regular).horizontalAdvance(visible_token(t)) + 2 * HPAD
                  for i, t in enumerate(self.tokens[row])]
        return widths, peak

    def _window(self, row: int, width: float) -> tuple[int, int, float]:
        """(first, end, room): the tokens shown and the pixels they have. Tokens go from the
        left first (keeping LEFT_CONTEXT before the strongest), then from the right, then the
        rest on the left, until the line fits."""
        widths, peak = self._token_widths(row)
        n = len(widths)
        room = width - self.value_width() - 2
        ellipsis = QFontMetrics(self.font()).horizontalAdvance(ELLIPSIS) + TOKEN_GAP
        anchor = 0 if peak is None else peak

        def needed(a: int, b: int) -> float:
            return (sum(widths[a:b]) + TOKEN_GAP * max(b - a - 1, 0)
                    + (ellipsis if a > 0 else 0) + (ellipsis if b < n else 0))

        a, b = 0, n
        while needed(a, b) > room and a < anchor - LEFT_CONTEXT:
            a += 1
        while needed(a, b) > room and b > anchor + 1:
            b -= 1
        while needed(a, b) > room and a < anchor:
            a += 1
        return a, b, room

    def boxes(self, row: int) -> list[TokenBox]:
        """The tokens of line `row` as drawn now, left to right."""
        if not 0 <= row < len(self.tokens) or not self.tokens[row]:
            return []
        first, end, room = self._window(row, self.width())
        widths, peak = self._token_widths(row)
        regular, bold = (QFontMetrics(f) for f in self._fonts())
        ellipsis = regular.horizontalAdvance(ELLIPSIS) + TOKEN_GAP
        height = bold.height() + 2 * VPAD
        top = row * self.row_height() + ROW_GAP / 2
        x = self.value_width() + (ellipsis if first > 0 else 0)
        right_limit = self.value_width() + room - (ellipsis if end < len(widths) else 0)
        out = []
        for i in range(first, end):
            text = visible_token(self.tokens[row][i])
            metrics = bold if i == peak else regular
            w = widths[i]
            if x + w > right_limit:  # alone and still too wide: elide its text
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(max(right_limit - x - 2 * HPAD, 0)))
                w = metrics.horizontalAdvance(text) + 2 * HPAD
            value = float(self.values[row][i])
            out.append(TokenBox(i, text, QRectF(x, top, w, height), value, colour_for(value, self.top), i == peak))
            x += w + TOKEN_GAP
        return out

    def token_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(line, token index) under a widget point, or None."""
        row = int(pos.y() // self.row_height())
        for box in self.boxes(row):
            if box.rect.adjusted(0, 0, TOKEN_GAP, 0).contains(pos.x(), pos.y()):
                return row, box.index
        return None

    def describe(self, row: int, index: int) -> str:
        token = visible_token(self.tokens[row][index])
        return f"'{token}': {value_text(float(self.values[row][index]))}  (context {row + 1}, token {index + 1})"

    # ---- painting and hover ----

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        regular, bold = self._fonts()
        ellipsis = QFontMetrics(regular).horizontalAdvance(ELLIPSIS)
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        centre = int(Qt.AlignmentFlag.AlignCenter)
        value_w = self.value_width()
        for row in range(len(self.tokens)):
            top = row * self.row_height()
            line = QRectF(0, top + ROW_GAP / 2, self.width(), self.row_height() - ROW_GAP)
            if row:
                painter.setPen(QPen(ROW_RULE))
                painter.drawLine(0, top, self.width(), top)
            painter.setFont(regular)
            painter.setPen(MUTED)
            painter.drawText(QRectF(0, line.top(), value_w - VALUE_GAP, line.height()), right,
                             self.line_value_text(row))
            boxes = self.boxes(row)
            if not boxes:
                continue
            if boxes[0].index > 0:
                painter.setPen(MUTED)
                painter.drawText(QRectF(value_w, line.top(), ellipsis, line.height()), left, ELLIPSIS)
            for box in boxes:
                if box.colour != QColor("white"):
                    painter.fillRect(box.rect, box.colour)
                painter.setFont(bold if box.bold else regular)
                painter.setPen(text_color_for(box.colour))
                painter.drawText(box.rect, centre, box.text)
            if boxes[-1].index < len(self.tokens[row]) - 1:
                painter.setFont(regular)
                painter.setPen(MUTED)
                painter.drawText(QRectF(boxes[-1].rect.right() + TOKEN_GAP, line.top(), ellipsis + 2,
                                        line.height()), left, ELLIPSIS)

    def event(self, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip:
            hit = self.token_at(event.pos())
            if hit is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self.describe(*hit), self)
            return True
        return super().event(event)


class OutputList(QWidget):
    """A titled column of output tokens and their values, in the order given."""

    def __init__(self, title: str, colour: QColor, tip: str) -> None:
        super().__init__()
        self.title = bold_label(title)
        self.title.setToolTip(tip)
        self.colour = colour
        self.items: list[tuple[str, float]] = []
        self.token_labels: list[ElidedLabel] = []
        self.value_labels: list[QLabel] = []
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        grid.addWidget(self.title, 0, 0, 1, 2)
        for r in range(OUTPUTS_SHOWN):
            token, value = ElidedLabel(""), QLabel("")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setStyleSheet(f"color: {colour.name()};")
            grid.addWidget(token, r + 1, 0)
            grid.addWidget(value, r + 1, 1)
            self.token_labels.append(token)
            self.value_labels.append(value)
        grid.setColumnStretch(0, 1)
        grid.setRowStretch(OUTPUTS_SHOWN + 1, 1)

    def set_items(self, items: list[tuple[str, float]]) -> None:
        self.items = [(str(t), float(v)) for t, v in list(items)[:OUTPUTS_SHOWN]]
        for r, (token, value) in enumerate(zip(self.token_labels, self.value_labels)):
            if r < len(self.items):
                token.setText(visible_token(self.items[r][0]))
                value.setText(signed_text(self.items[r][1]))
            else:
                token.setText("")
                value.setText("")

    def shown(self) -> list[tuple[str, str]]:
        """(token, value) as written, top to bottom."""
        return [(t.text(), v.text()) for t, v in zip(self.token_labels, self.value_labels) if t.text()]


class FeatureCard(QWidget):
    """set_card(feature, title, contexts, histogram, density, promoted, suppressed, corpus_note),
    set_label(text), set_status(text), set_busy(bool), clear(message); emits label_changed(feature, text)."""

    label_changed = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feature: int | None = None
        self.counts = np.zeros(0)
        self.edges = np.zeros(1)
        self._label = ""  # the label as last set or emitted: editing back to it says nothing

        # header: which feature, of what, how often
        self.feature_label = bold_label("")
        self.title_label = ElidedLabel("")
        self.density_label = ElidedLabel("")
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("name this feature…")
        self.label_edit.setToolTip("Your name for this feature (Enter to keep it)")
        self.label_edit.setClearButtonEnabled(True)
        self.label_edit.editingFinished.connect(self._on_label_edited)
        self.label_caption = QLabel("label")
        self.status = ElidedLabel("")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedSize(70, 10)
        self.busy.hide()
        self.hint = QLabel(NO_FEATURE)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #555; background: white; padding: 12px;")

        # the figure: contexts, histogram, output tokens
        self.contexts_title = bold_label("Top activating contexts")
        self.contexts = ContextRows()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.contexts)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.histogram_title = bold_label("Activation histogram")
        self.histogram_title.setToolTip("How many of the corpus's tokens the feature fires on, by activation (> 0)")
        self.histogram_view = pg.GraphicsLayoutWidget()
        self.histogram_view.setBackground("w")
        self.histogram_view.ci.layout.setContentsMargins(0, 4, 8, 0)
        self.plot = plain_plot(self.histogram_view.addPlot(row=0, col=0), self)
        self.plot.setLabel("bottom", "activation", color="k")
        self.plot.setLabel("left", "tokens", color="k")
        self.bars = pg.BarGraphItem(x0=[0.0], x1=[1.0], height=[0.0], brush=BAR_COLOUR, pen=pg.mkPen(BAR_EDGE))
        self.plot.addItem(self.bars)
        self.histogram_view.setMinimumHeight(HISTOGRAM_MIN_HEIGHT)
        self.histogram_view.setMinimumWidth(150)

        tip = "Output tokens: the feature's decoder direction through the unembedding"
        self.promotes = OutputList("promotes", PROMOTE_COLOUR, tip + " (largest first)")
        self.suppresses = OutputList("suppresses", SUPPRESS_COLOUR, tip + " (most negative first)")
        self.outputs_title = bold_label("Output tokens")
        self.outputs_title.setToolTip(tip)

        self.figure = QWidget()
        self.figure.setAutoFillBackground(True)
        palette = self.figure.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("white"))
        self.figure.setPalette(palette)
        histogram_box = QVBoxLayout()
        histogram_box.setSpacing(0)
        histogram_box.addWidget(self.histogram_title)
        histogram_box.addWidget(self.histogram_view, 1)
        lists = QHBoxLayout()
        lists.setSpacing(10)
        lists.addWidget(self.promotes, 1)
        lists.addWidget(self.suppresses, 1)
        outputs_box = QVBoxLayout()
        outputs_box.setContentsMargins(0, 0, 0, 0)
        outputs_box.setSpacing(0)
        outputs_box.addWidget(self.outputs_title)
        outputs_box.addLayout(lists, 1)
        self.outputs = QWidget()
        self.outputs.setLayout(outputs_box)
        self.outputs.setMinimumWidth(200)
        self.outputs.setMaximumWidth(340)
        bottom = QHBoxLayout()
        bottom.setSpacing(10)
        bottom.addLayout(histogram_box, 1)
        bottom.addWidget(self.outputs)
        figure_layout = QVBoxLayout(self.figure)
        figure_layout.setContentsMargins(4, 4, 4, 4)
        figure_layout.setSpacing(3)
        figure_layout.addWidget(self.contexts_title)
        figure_layout.addWidget(self.scroll, 1)
        figure_layout.addLayout(bottom, 1)

        self.header = QWidget()
        header = QGridLayout(self.header)
        header.setContentsMargins(0, 0, 0, 0)
        header.setHorizontalSpacing(6)
        header.setVerticalSpacing(2)
        header.addWidget(self.feature_label, 0, 0)
        header.addWidget(self.title_label, 0, 1, 1, 3)
        header.addWidget(self.density_label, 1, 0, 1, 2)
        header.addWidget(self.label_caption, 1, 2)
        header.addWidget(self.label_edit, 1, 3)
        header.setColumnStretch(1, 1)
        header.setColumnStretch(3, 1)
        status_row = QHBoxLayout()
        status_row.setContentsMargins(0, 0, 0, 0)
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.busy)
        self.status_bar = QWidget()
        self.status_bar.setLayout(status_row)
        self.status_bar.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addWidget(self.header)
        layout.addWidget(self.status_bar)
        layout.addWidget(self.hint, 1)
        layout.addWidget(self.figure, 1)
        self.setMinimumSize(340, 300)
        self.clear(NO_FEATURE)

    # ---- setters: none of them emits a signal ----

    def set_card(self, feature: int, title: str, contexts: list[tuple[list[str], list[float]]],
                 histogram: tuple[np.ndarray, np.ndarray], density: float,
                 promoted: list[tuple[str, float]], suppressed: list[tuple[str, float]], corpus_note: str) -> None:
        """Show feature `feature`: `title` (its dictionary, say), its top activating contexts
        (tokens and this feature's activation on each, >= 0), the histogram (counts, edges) of
        its activations > 0, the fraction of tokens it fires on (`density`, 0..1) out of
        `corpus_note` ("10,240 tokens", shown as given), and the output tokens it promotes and
        suppresses, in the order given (the first OUTPUTS_SHOWN of each). A different feature
        empties the label box; the caller sends the feature's label with set_label."""
        counts = np.asarray(histogram[0], dtype=float).ravel()
        edges = np.asarray(histogram[1], dtype=float).ravel()
        if len(edges) != len(counts) + 1:
            raise ValueError(f"histogram: {len(counts)} counts need {len(counts) + 1} edges, not {len(edges)}")
        self.contexts.set_contexts(contexts)
        if feature != self.feature:
            self.set_label("")
        self.feature = int(feature)
        self.feature_label.setText(f"Feature #{self.feature}")
        self.title_label.setText(title)
        note = f" of {corpus_note}" if corpus_note else ""
        self.density_label.setText(f"fires on {density_text(density)}{note}")
        self.contexts_title.setText(f"Top activating contexts ({len(self.contexts.tokens)})"
                                    if self.contexts.tokens else "Top activating contexts: none")
        self._set_histogram(counts, edges)
        self.promotes.set_items(promoted)
        self.suppresses.set_items(suppressed)
        self._fit_contexts_area()
        self.label_edit.setEnabled(True)
        self.hint.hide()
        self.header.show()
        self.figure.show()

    def set_label(self, text: str) -> None:
        """The feature's name in the label box, without saying label_changed."""
        self._label = text
        self.label_edit.blockSignals(True)
        self.label_edit.setText(text)
        self.label_edit.blockSignals(False)

    def set_status(self, text: str) -> None:
        """One line under the header: progress ("computing over 10,240 tokens…") or an error; hidden when empty."""
        self.status.setText(text)
        self._show_status()

    def set_busy(self, busy: bool) -> None:
        """A moving bar beside the status line while the card is being computed."""
        self.busy.setVisible(busy)
        self._show_status()

    @property
    def is_busy(self) -> bool:
        return not self.busy.isHidden()

    def clear(self, message: str = NO_FEATURE) -> None:
        """Only `message`: no feature, no sections."""
        self.feature = None
        self.set_label("")
        self.label_edit.setEnabled(False)
        self.contexts.set_contexts([])
        self._set_histogram(np.zeros(0), np.zeros(1))
        self.promotes.set_items([])
        self.suppresses.set_items([])
        self.status.setText("")
        self._show_status()
        self.hint.setText(message)
        self.header.hide()
        self.figure.hide()
        self.hint.show()

    def figure_view(self) -> QWidget:
        """The contexts, histogram and output tokens (not the label box): what a figure export renders."""
        return self.figure

    # ---- internals ----

    def _set_histogram(self, counts: np.ndarray, edges: np.ndarray) -> None:
        self.counts, self.edges = counts, edges
        if counts.size:
            self.bars.setOpts(x0=edges[:-1], x1=edges[1:], height=counts)
            self.bars.show()
            top = float(np.nanmax(counts)) if np.isfinite(counts).any() else 0.0
            self.plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
            self.plot.setYRange(0.0, top if top > 0 else 1.0, padding=0.05)
        else:
            self.bars.hide()

    def _fit_contexts_area(self) -> None:
        """The contexts' area asks for all its lines (no more), and gets at least MIN_ROWS_SHOWN."""
        rows = max(len(self.contexts.tokens), 1)
        line = self.contexts.row_height()
        self.scroll.setMaximumHeight(rows * line + 2)
        self.scroll.setMinimumHeight(min(rows, MIN_ROWS_SHOWN) * line + 2)

    def _show_status(self) -> None:
        self.status_bar.setVisible(bool(self.status.text()) or self.is_busy)

    def _on_label_edited(self) -> None:
        text = self.label_edit.text().strip()
        if self.feature is None or text == self._label:
            return
        self._label = text
        self.label_changed.emit(self.feature, text)


# ---- demo ----

DEMO_CONTEXTS = [  # (text before, the city, text after): a feature for French place names
    (["The", " train", " from", " London", " arrives", " in"], " Paris", [" at", " noon", ",", " just", " in",
                                                                          " time", " for", " lunch", "."]),
    (["She", " spent", " three", " years", " studying", " art", " in"], " Lyon", [" before", " moving", " back",
                                                                                   " home", " to", " Ottawa", "."]),
    (["Wine", " from", " the", " hills", " around"], " Bordeaux", [" is", " exported", " to", " more", " than",
                                                                    " sixty", " countries", "."]),
    (["\n", "Flights", " to"], " Marseille", [" were", " cancelled", " on", " Monday", " because", " of", " the",
                                              " strike", " by", " air", " traffic", " controllers", "."]),
    (["The", " conference", " will", " be", " held", " in"], " Toulouse", [",", " home", " of", " the", " aircraft",
                                                                           " maker", "’s", " main", " plant", "."]),
    (["He", " grew", " up", " near"], " Nantes", [" and", " still", " supports", " its", " football", " club",
                                                  " every", " weekend", "."]),
    (["Tourists", " crowd", " the", " old", " port", " of"], " Nice", [" in", " August", ",", " when", " hotel",
                                                                       " prices", " double", "."]),
    (["The", " road", " from", " Geneva", " to"], " Grenoble", [" winds", " through", " the", " Alps", " for",
                                                                " two", " hours", "."]),
]
DEMO_PEAKS = [8.91, 7.64, 7.12, 6.58, 6.05, 5.47, 4.93, 4.40]


def demo_contexts(seed: int = 0) -> list[tuple[list[str], list[float]]]:
    """Eight made-up contexts of ~20 tokens, each peaking on a French city, with weaker
    activations on the words leading to it and a little after."""
    rng = np.random.default_rng(seed)
    out = []
    for (before, city, after), peak in zip(DEMO_CONTEXTS, DEMO_PEAKS):
        tokens = before + [city] + after
        values = np.zeros(len(tokens))
        at = len(before)
        values[at] = peak
        if at >= 1:
            values[at - 1] = peak * rng.uniform(0.15, 0.35)  # " in", " to": a place comes next
        if at + 1 < len(tokens):
            values[at + 1] = peak * rng.uniform(0.05, 0.2)
        for i in rng.choice(len(tokens), size=2, replace=False):
            if values[i] == 0:
                values[i] = rng.uniform(0.1, 0.8)
        out.append((tokens, [round(float(v), 3) for v in values]))
    return out


def demo_histogram(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Counts of a feature's positive activations: many weak ones, a long tail to ~9."""
    rng = np.random.default_rng(seed)
    samples = np.concatenate([rng.exponential(0.9, 360), rng.normal(6.5, 1.2, 70)])
    return np.histogram(samples[(samples > 0) & (samples < 9.2)], bins=30, range=(0.0, 9.2))


DEMO_PROMOTED = [(" Paris", 1.84), (" France", 1.62), (" Lyon", 1.41), (" French", 1.33), ("ville", 1.12),
                 (" Marseille", 1.05), (" Rhône", 0.97), (" Provence", 0.88), (" Seine", 0.71)]
DEMO_SUPPRESSED = [(" Berlin", -1.21), (" Germany", -1.07), (" Texas", -0.98), (" London", -0.92), (" the", -0.64),
                   (" Chicago", -0.61), (" Tokyo", -0.55), (",", -0.41)]


def demo() -> FeatureCard:
    """A made-up TopK SAE feature firing on French place names."""
    card = FeatureCard()
    card.set_card(1199, "TopK SAE · blocks.6.hook_resid_post", demo_contexts(), demo_histogram(), 0.042,
                  DEMO_PROMOTED, DEMO_SUPPRESSED, "10,240 tokens")
    card.set_label("French cities")
    card.resize(450, 400)
    return card


if __name__ == "__main__":
    from .demo import run

    run(demo)
