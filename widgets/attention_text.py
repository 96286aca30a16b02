"""Attention over text, CircuitsVis-style: the prompt as a paragraph of token chips, each
coloured by one head's attention from the focused query (or to the focused key). Reading the
weights on the words themselves shows *what* a head looks at faster than a heatmap does.

One custom-painted canvas in a scroll area (no widget per token), so a 512-token prompt stays
cheap to lay out and repaint."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (QBrush, QColor, QFontMetrics, QHelpEvent, QLinearGradient, QMouseEvent, QPainter,
                           QPaintEvent, QPen, QResizeEvent)
from PySide6.QtWidgets import (QButtonGroup, QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QToolButton,
                               QToolTip, QVBoxLayout, QWidget)

from .colors import HIGHLIGHT, text_color_for
from .plots import bold_label

# white -> one saturated blue, fixed 0..1: weights compare across heads and prompts
LOW_RGB = np.array([255, 255, 255], dtype=np.float64)
HIGH_RGB = np.array([0x1F, 0x4E, 0x9C], dtype=np.float64)
_RAMP = [QColor(*(int(round(c)) for c in LOW_RGB + (HIGH_RGB - LOW_RGB) * (i / 255.0))) for i in range(256)]
_RAMP_TEXT = [text_color_for(c) for c in _RAMP]
MASKED_FILL = QColor(238, 238, 238)
MASKED_HATCH = QColor(212, 212, 212)  # light enough that the token stays readable over it
MASKED_TEXT = QColor(125, 125, 125)
CHIP_BORDER = QColor(200, 205, 212)
NAN_FILL = QColor(255, 220, 220)  # a weight that is not a number must not pass for 0

MODES = ("query", "key")
MODE_LABELS = {"query": "from query", "key": "to key"}
WHITESPACE_MARKS = {"\n": "⏎", "\t": "⇥", "\xa0": "⍽", "\r": "␍"}


def weight_color(value: float) -> QColor:
    """Chip background for a weight on the fixed 0..1 scale (clipped)."""
    return _RAMP[0 if not value > 0.0 else 255 if value >= 1.0 else int(value * 255)]


def weight_text_color(value: float) -> QColor:
    """Black on light chips, white on dark ones."""
    return _RAMP_TEXT[0 if not value > 0.0 else 255 if value >= 1.0 else int(value * 255)]


def display_text(token: str) -> str:
    """A token as shown on its chip: newlines, tabs and non-breaking spaces get visible marks,
    and spaces become '␣' only in a token that is nothing but whitespace (else ' Mary' stays)."""
    shown = "".join(WHITESPACE_MARKS.get(ch, ch) for ch in token)
    if token and not token.strip():
        shown = shown.replace(" ", "␣")
    return shown


class _ColorBar(QWidget):
    """The fixed 0..1 scale as a small gradient strip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(72, 12)
        self.setToolTip("attention weight, fixed scale 0 … 1")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        gradient = QLinearGradient(0, 0, self.width(), 0)
        gradient.setColorAt(0.0, _RAMP[0])
        gradient.setColorAt(1.0, _RAMP[255])
        painter.fillRect(self.rect(), gradient)
        painter.setPen(CHIP_BORDER)
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))


class _MaskedSwatch(QWidget):
    """Legend entry for masked positions, drawn like the masked chips."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(16, 12)
        self.setToolTip("masked: causal attention cannot reach this position")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), MASKED_FILL)
        painter.fillRect(self.rect(), QBrush(MASKED_HATCH, Qt.BrushStyle.BDiagPattern))
        painter.setPen(CHIP_BORDER)
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))


class TokenCanvas(QWidget):
    """The painted paragraph. Height follows width (heightForWidth), so the scroll area only
    ever scrolls vertically; chip rects are cached per width."""

    PAD_X, PAD_Y, GAP_X, GAP_Y, MARGIN, RADIUS = 4, 3, 3, 5, 6, 4

    def __init__(self, owner: AttentionText) -> None:
        super().__init__()
        self._owner = owner
        self._texts: list[str] = []
        self._widths: list[int] = []
        self._breaks: list[bool] = []  # a line break after this token (it ends with a newline)
        self._rects: list[QRect] = []
        self._layout_width = -1
        self._height = 0
        self._hover = -1
        self.message = ""
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMouseTracking(True)
        self.setAutoFillBackground(False)

    # ------------------------------------------------------------------ layout
    def set_tokens(self, tokens: list[str]) -> None:
        """Measure once per prompt; widths do not depend on the widget's width."""
        fm = QFontMetrics(self.font())
        self._texts = [display_text(t) for t in tokens]
        min_width = fm.horizontalAdvance("M")
        self._widths = [max(min_width, fm.horizontalAdvance(s)) + 2 * self.PAD_X for s in self._texts]
        self._breaks = [t.endswith("\n") for t in tokens]
        self._layout_width = -1
        self._hover = -1
        self.updateGeometry()
        self.update()

    def _flow(self, width: int) -> tuple[list[QRect], int]:
        """Chip rects wrapped like words in a paragraph; a token ending in a newline ends its line."""
        fm = QFontMetrics(self.font())
        row_h = fm.height() + 2 * self.PAD_Y
        right = max(width - self.MARGIN, self.MARGIN + 1)
        usable = right - self.MARGIN
        x, y = self.MARGIN, self.MARGIN
        rects: list[QRect] = []
        for w, brk in zip(self._widths, self._breaks):
            w = min(w, usable)  # a token wider than the view is elided, never overflows
            if x > self.MARGIN and x + w > right:
                x, y = self.MARGIN, y + row_h + self.GAP_Y
            rects.append(QRect(x, y, w, row_h))
            x += w + self.GAP_X
            if brk:
                x, y = self.MARGIN, y + row_h + self.GAP_Y
        height = (rects[-1].bottom() + 1 + self.MARGIN) if rects else 2 * self.MARGIN + row_h
        return rects, height

    def _ensure_layout(self) -> None:
        if self._layout_width != self.width():
            self._rects, self._height = self._flow(self.width())
            self._layout_width = self.width()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt API)
        return self._flow(width)[1]

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(400, self._flow(400)[1])

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(80, 0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        self._layout_width = -1
        super().resizeEvent(event)

    def chip_rect(self, position: int) -> QRect:
        self._ensure_layout()
        return QRect(self._rects[position])

    def index_at(self, point: QPoint) -> int:
        """Position of the chip under `point` (canvas coordinates), or -1."""
        self._ensure_layout()
        for i, rect in enumerate(self._rects):  # rows are sorted: stop once past the point
            if rect.top() > point.y():
                break
            if rect.contains(point):
                return i
        return -1

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(255, 255, 255))
        owner = self._owner
        if not self._texts:
            painter.setPen(QColor(110, 110, 110))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            return
        self._ensure_layout()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        weights = owner._weights
        focus = owner._focus
        clip = event.rect().adjusted(-3, -3, 3, 3)
        border = QPen(CHIP_BORDER, 1)
        for i, rect in enumerate(self._rects):
            if rect.bottom() < clip.top():
                continue
            if rect.top() > clip.bottom():
                break
            chip = rect.adjusted(0, 0, -1, -1)
            value = float(weights[i])
            painter.setPen(border)
            if owner.is_masked(i):
                painter.setBrush(MASKED_FILL)
                painter.drawRoundedRect(chip, self.RADIUS, self.RADIUS)
                painter.setBrush(QBrush(MASKED_HATCH, Qt.BrushStyle.BDiagPattern))
                painter.drawRoundedRect(chip, self.RADIUS, self.RADIUS)
                text_color = MASKED_TEXT
            elif np.isnan(value):
                painter.setBrush(NAN_FILL)
                painter.drawRoundedRect(chip, self.RADIUS, self.RADIUS)
                text_color = QColor(0, 0, 0)
            else:
                painter.setBrush(weight_color(value))
                painter.drawRoundedRect(chip, self.RADIUS, self.RADIUS)
                text_color = weight_text_color(value)
            if i == focus or i == self._hover:
                pen = QPen(HIGHLIGHT if i == focus else QColor(90, 90, 90), 2.0)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(rect.adjusted(0, 0, -1, -1), self.RADIUS, self.RADIUS)
            painter.setPen(text_color)
            text_rect = rect.adjusted(self.PAD_X, 0, -self.PAD_X, 0)
            text = self._texts[i]
            if fm.horizontalAdvance(text) > text_rect.width():
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, text_rect.width())
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextSingleLine, text)

    # ------------------------------------------------------------------ mouse
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            i = self.index_at(event.pos())
            if i >= 0:
                QToolTip.showText(event.globalPos(), self._owner.tooltip(i), self, self.chip_rect(i))
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        i = self.index_at(event.position().toPoint())
        if i != self._hover:
            old, self._hover = self._hover, i
            for j in (old, i):
                if 0 <= j < len(self._rects):
                    self.update(self._rects[j].adjusted(-2, -2, 2, 2))
            self.setCursor(Qt.CursorShape.PointingHandCursor if i >= 0 else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        if 0 <= self._hover < len(self._rects):
            self.update(self._rects[self._hover].adjusted(-2, -2, 2, 2))
        self._hover = -1
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        i = self.index_at(event.position().toPoint())
        if i >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self._owner._chip_clicked(i)
            event.accept()
            return
        super().mousePressEvent(event)


class AttentionText(QWidget):
    """set_data(head, pattern [S, S], tokens, focus); colours each token by the focused query's
    weights over keys ("query" mode) or by every query's weight on the focused key ("key" mode).
    Emits position_clicked(position) when a chip is clicked and mode_changed("query" | "key")."""

    position_clicked = Signal(int)
    mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._head = ""
        self._pattern: np.ndarray | None = None
        self._tokens: list[str] = []
        self._focus = -1
        self._mode = "query"
        self._causal = True
        self._weights = np.zeros(0, dtype=np.float32)

        self.title = bold_label("")
        # a long title must not set the panel's minimum width
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.colorbar = _ColorBar()
        self.mode_buttons = QButtonGroup(self)
        self.mode_buttons.setExclusive(True)
        self.query_button = QToolButton()
        self.key_button = QToolButton()
        tips = {"query": "Colour each key by the attention the focused query gives it (a row of the pattern)",
                "key": "Colour each query by the attention it gives the focused key (a column of the pattern)"}
        for button, mode in ((self.query_button, "query"), (self.key_button, "key")):
            button.setText(MODE_LABELS[mode])
            button.setCheckable(True)
            button.setToolTip(tips[mode])
            self.mode_buttons.addButton(button)
        self.query_button.setChecked(True)
        self.query_button.toggled.connect(lambda on: on and self.set_mode("query"))
        self.key_button.toggled.connect(lambda on: on and self.set_mode("key"))

        self.canvas = TokenCanvas(self)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.scroll.setBackgroundRole(self.canvas.backgroundRole())

        header = QHBoxLayout()
        header.setSpacing(6)
        header.addWidget(self.title, 1)
        header.addWidget(QLabel("0"))
        header.addWidget(self.colorbar)
        header.addWidget(QLabel("1"))
        header.addSpacing(6)
        header.addWidget(_MaskedSwatch())
        header.addWidget(QLabel("masked"))
        header.addSpacing(10)
        header.addWidget(self.query_button)
        header.addWidget(self.key_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.scroll, 1)
        self.setMinimumSize(320, 120)
        self.clear("Click a head to read its attention over the prompt")

    # ------------------------------------------------------------------ data in
    def set_data(self, head: str, pattern: np.ndarray, tokens: list[str], focus: int | None = None) -> None:
        """Show one head's pattern [S, S] (query, key) over `tokens`; focus None = last position."""
        pattern = np.asarray(pattern)
        tokens = [str(t) for t in tokens]
        n = len(tokens)
        if pattern.ndim != 2 or pattern.shape != (n, n):
            raise ValueError(f"attention pattern must be [S, S] (query, key) with S = len(tokens) = {n}; "
                             f"got shape {tuple(pattern.shape)}")
        if n == 0:
            self.clear("Empty prompt: no tokens to show")
            return
        self._head, self._pattern = str(head), pattern.astype(np.float32, copy=False)
        # masking is only claimed for causal patterns: nothing above the diagonal
        self._causal = not np.any(np.triu(np.nan_to_num(self._pattern), 1))
        if tokens != self._tokens:
            self._tokens = tokens
            self.canvas.set_tokens(tokens)
            self._relayout()
        self._focus = self._clamp(n - 1 if focus is None else focus)
        self._refresh()

    def set_focus(self, position: int) -> None:
        """Focus a position (clamped to the last one when out of range) and scroll it into view."""
        if self._pattern is None:
            return
        self._focus = self._clamp(position)
        self._refresh()
        rect = self.canvas.chip_rect(self._focus)
        # keep a few lines of context around it, not just the chip itself
        margin = max(rect.height(), self.scroll.viewport().height() // 3)
        self.scroll.ensureVisible(rect.center().x(), rect.center().y(), 0, margin)

    def set_mode(self, mode: str) -> None:
        """Colour by the focused query's row ("query") or by the focused key's column ("key")."""
        if mode not in MODES:
            raise ValueError(f"mode must be 'query' or 'key', not {mode!r}")
        button = self.query_button if mode == "query" else self.key_button
        if not button.isChecked():
            button.setChecked(True)  # its toggled handler comes back here
            return
        if mode == self._mode:
            return
        self._mode = mode
        self._refresh()
        self.mode_changed.emit(mode)

    def clear(self, message: str = "") -> None:
        """No data: an empty canvas with `message` in the middle."""
        self._head, self._pattern, self._tokens = "", None, []
        self._focus = -1
        self._weights = np.zeros(0, dtype=np.float32)
        self.title.setText("")
        self.canvas.message = message
        self.canvas.set_tokens([])
        self._relayout()

    # ------------------------------------------------------------------ read back
    def weights(self) -> np.ndarray:
        """The [S] weights on the chips now: pattern[focus, :] or pattern[:, focus]."""
        return self._weights.copy()

    def mode(self) -> str:
        return self._mode

    @property
    def focus(self) -> int:
        """The focused position, -1 without data."""
        return self._focus

    def is_masked(self, position: int) -> bool:
        """True where causal attention cannot reach: keys after the focused query ("query" mode),
        queries before the focused key ("key" mode). Never for a non-causal pattern."""
        if self._pattern is None or not self._causal:
            return False
        return position > self._focus if self._mode == "query" else position < self._focus

    def chip_rect(self, position: int) -> QRect:
        """The chip of `position`, in `canvas` coordinates (what a click there hits)."""
        if not 0 <= position < len(self._tokens):
            raise IndexError(f"position {position} outside 0..{len(self._tokens) - 1}")
        return self.canvas.chip_rect(position)

    def tooltip(self, position: int) -> str:
        text = f"pos {position} {self._tokens[position]!r}  "
        if self.is_masked(position):
            return text + ("masked: after the query" if self._mode == "query" else "masked: before the key")
        return text + f"weight {float(self._weights[position]):.3f}"

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(700, 240)

    # ------------------------------------------------------------------ internals
    def _clamp(self, position: int) -> int:
        n = len(self._tokens)
        position = int(position)
        return position if 0 <= position < n else n - 1

    def _refresh(self) -> None:
        assert self._pattern is not None
        f = self._focus
        if self._mode == "query":
            self._weights = self._pattern[f, :].copy()
            where = f"from query {f}"
        else:
            self._weights = self._pattern[:, f].copy()
            where = f"to key {f}"
        self.title.setText(f"{self._head} · {where} {self._tokens[f]!r}")
        self.title.setToolTip(self.title.text())
        self.canvas.update()

    def _relayout(self) -> None:
        """New chips: let the scroll area re-ask the canvas for its height at the current width."""
        self.canvas.updateGeometry()
        # sent, not posted: the canvas height and scroll range are right before set_data returns
        QCoreApplication.sendEvent(self.scroll, QEvent(QEvent.Type.LayoutRequest))
        self.canvas.update()

    def _chip_clicked(self, position: int) -> None:
        self.set_focus(position)
        self.position_clicked.emit(position)


def induction_pattern(tokens: list[str], seed: int = 0) -> np.ndarray:
    """A causal, row-stochastic pattern like an induction head's: a query whose token appeared
    before attends to the token that followed it then; others rest on the first token."""
    rng = np.random.default_rng(seed)
    n = len(tokens)
    scores = rng.normal(scale=0.6, size=(n, n))
    scores[:, 0] += 2.5  # attention sink
    for q in range(n):
        earlier = [j for j in range(q) if tokens[j] == tokens[q] and j + 1 < q]
        if earlier:
            scores[q, earlier[-1] + 1] += 6.0
    scores = np.where(np.tril(np.ones((n, n))) > 0, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)).astype(np.float32)


def demo() -> AttentionText:
    """An induction-like head on a prompt that repeats itself, focused on a repeated token."""
    tokens = ["<|endoftext|>", "Mr", " D", "urs", "ley", " and", " Mrs", " D", "urs", "ley", ",", "\n",
              "\t", "Mr", "\xa0", " D", "urs", "ley", " said", " "]
    view = AttentionText()
    view.set_data("L1.H4", induction_pattern(tokens), tokens, focus=15)
    view.resize(900, 300)
    return view


if __name__ == "__main__":
    from .demo import run

    run(demo)
