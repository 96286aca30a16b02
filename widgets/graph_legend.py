"""The component graph's legend: what colour and number on a node mean, and on what scale.

A widget outside the zoomable scene so it is always legible; it states the quantity, the
fixed symmetric scale and where that scale came from, so two screenshots can be compared."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


class ColourLegend(QWidget):
    """Gradient bar -S .. 0 .. +S under a title word-wrapped to the width."""

    def __init__(self, colour_at: Callable[[float, float], QColor], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour_at = colour_at  # value, scale -> QColor
        self.scale = 1.0
        self.title = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._update_height()

    def set_scale(self, scale: float, title: str) -> None:
        self.scale, self.title = scale, title
        self.setToolTip(title)
        self._update_height()
        self.update()

    def text(self) -> str:
        """What the legend says (for tests and for anyone reading the widget without eyes)."""
        return f"{self.title} [{-self.scale:+g} .. 0 .. {self.scale:+g}]"

    def setFont(self, font: QFont) -> None:  # noqa: N802 (Qt API)
        super().setFont(font)
        self._update_height()

    def _title_lines(self) -> list[str]:
        """The title word-wrapped to the current width (a narrow dock must not cut it off)."""
        fm, width, out = self.fontMetrics(), max(self.width() - 8, 80), []
        for paragraph in self.title.split("\n"):
            line = ""
            for word in paragraph.split(" "):
                trial = f"{line} {word}".strip()
                if line and fm.horizontalAdvance(trial) > width:
                    out.append(line)
                    line = word
                else:
                    line = trial
            out.append(line)
        return out

    def _update_height(self) -> None:
        line = self.fontMetrics().height()
        self.setFixedHeight(int(line * (len(self._title_lines()) + 2.4)) + 10)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_height()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        line = fm.height()
        w = self.width() - 8
        p.setPen(QColor(40, 40, 40))
        lines = self._title_lines()
        for i, text in enumerate(lines):
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, w)
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            p.drawText(QRectF(4, 2 + i * line, w, line), align, text)
        bar = QRectF(4, len(lines) * line + 6, w, line * 0.9)
        gradient = QLinearGradient(bar.left(), 0, bar.right(), 0)
        for i in range(9):
            t = i / 8
            gradient.setColorAt(t, self.colour_at((2 * t - 1) * self.scale, self.scale))
        p.fillRect(bar, gradient)
        p.setPen(QPen(QColor(90, 90, 90), 1))
        p.drawRect(bar)
        y = bar.bottom() + 2
        labels = ((f"{-self.scale:+.3g}", Qt.AlignmentFlag.AlignLeft), ("0", Qt.AlignmentFlag.AlignHCenter),
                  (f"{self.scale:+.3g}", Qt.AlignmentFlag.AlignRight))
        for text, align in labels:
            p.drawText(QRectF(4, y, w, line), align | Qt.AlignmentFlag.AlignTop, text)
        p.end()
