"""Axes that label every token of a prompt, or as many as fit without overlapping.

pyqtgraph lays tick labels flat and drops those that would overlap, which loses most
token labels on a pattern. TokenAxis draws the labels itself, centred on their row or
column: a bottom axis lays them flat when every label fits its column and rotates them
90 degrees when not; when even a line of text is taller than the spacing, every k-th
label is drawn (counted from the last: the final layer or token is the one people read).
Labels longer than the axis allows are elided. `label_layout()` is what gets drawn, so
tests can check that no two labels overlap."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics

GAP = 4  # pixels between neighbouring labels
PAD = 12  # pixels an axis keeps beside its labels (tick marks and margin)


@dataclass(frozen=True)
class PlacedLabel:
    """One drawn label: its centre along the axis and the span it covers there (pixels)."""

    value: float
    along: float
    text: str
    start: float
    end: float
    rotated: bool


def place_flat(spans: list[tuple[float, float, str]], metrics: QFontMetrics, low: float,
               high: float) -> list[PlacedLabel]:
    """Flat labels (value, centre, text) along [low, high] without overlaps: an end label is
    shifted inwards, not cut, and shortened if it would then touch its neighbour; a label with
    no room left is dropped."""
    placed: list[PlacedLabel] = []
    for k, (value, along, text) in enumerate(spans):
        left = placed[-1].end + GAP if placed else low
        right = high
        if k + 1 < len(spans):  # short of where the next label, centred, would start
            right = min(high, spans[k + 1][1] - metrics.horizontalAdvance(spans[k + 1][2]) / 2 - GAP)
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(0, int(right - left)))
        width = metrics.horizontalAdvance(text)
        if not text or width > right - left:
            continue
        start = min(max(along - width / 2, left), right - width)
        placed.append(PlacedLabel(value, along, text, start, start + width, False))
    return placed


class TokenAxis(pg.AxisItem):
    """A 'left' or 'bottom' AxisItem for (position, label) ticks."""

    def __init__(self, orientation: str, max_extent: int = 140) -> None:
        super().__init__(orientation)
        self._labels: list[tuple[float, str]] = []
        self._longest = 10
        self.max_extent = max_extent  # the most pixels a label may take across the axis
        self.min_height = 0  # a bottom axis never shorter (to line up with a neighbour's)

    def tick_font(self) -> QFont:
        return self.style["tickFont"] or self.font()

    def set_labels(self, ticks: list[tuple[float, str]]) -> None:
        self._labels = list(ticks)
        self.setTicks([ticks, []])
        metrics = QFontMetrics(self.tick_font())
        self._longest = min(self.max_extent, max((metrics.horizontalAdvance(text) for _, text in ticks), default=10))
        if self.orientation == "left":
            self.setWidth(self._longest + PAD)
        self._fit_height()

    def linkedViewChanged(self, view, newRange=None) -> None:  # noqa: N802 (pyqtgraph API)
        super().linkedViewChanged(view, newRange)
        self._fit_height()

    def _fit_height(self) -> None:
        """A bottom axis is one line high when its labels lie flat, the longest label when rotated."""
        if self.orientation != "bottom" or not hasattr(self, "_labels"):
            return
        metrics = QFontMetrics(self.tick_font())
        height = max(self.min_height, (metrics.height() if self._flat(metrics) else self._longest) + PAD)
        if getattr(self, "_fitted", None) != height:
            self._fitted = height
            self.setHeight(height)

    def _pixels(self) -> list[float]:
        """Each label's centre along the axis in this item's pixels."""
        view = self.linkedView()
        if view is None:
            return []
        out = []
        for value, _ in self._labels:
            point = self.mapFromScene(view.mapViewToScene(QPointF(value, value)))
            out.append(point.x() if self.orientation == "bottom" else point.y())
        return out

    def _spacing(self) -> float:
        pixels = self._pixels()
        gaps = [abs(b - a) for a, b in zip(pixels, pixels[1:])]
        return min(gaps) if gaps else math.inf

    def _flat(self, metrics: QFontMetrics) -> bool:
        widest = max((metrics.horizontalAdvance(text) for _, text in self._labels), default=0)
        return widest + GAP <= self._spacing()

    def label_layout(self) -> list[PlacedLabel]:
        """The labels as drawn: position, elided text and the span each covers along the axis."""
        metrics = QFontMetrics(self.tick_font())
        pixels = self._pixels()
        if not pixels:
            return []
        bounds = self.boundingRect()
        flat = self.orientation == "bottom" and self._flat(metrics)
        rotated = self.orientation == "bottom" and not flat
        stride = 1 if flat else max(1, math.ceil((metrics.height() + 1) / max(self._spacing(), 1e-9)))
        room = (bounds.height() if rotated else bounds.width()) - PAD
        low, high = (bounds.left(), bounds.right()) if self.orientation == "bottom" else (bounds.top(), bounds.bottom())
        placed = []
        last = len(self._labels) - 1
        for i, ((value, text), along) in enumerate(zip(self._labels, pixels)):
            if (last - i) % stride or not low - 0.5 <= along <= high + 0.5:
                continue
            if not flat:
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(int(room), metrics.height()))
            half = metrics.horizontalAdvance(text) / 2 if flat else metrics.height() / 2
            placed.append(PlacedLabel(value, along, text, along - half, along + half, rotated))
        return placed

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802 (pyqtgraph API)
        super().drawPicture(p, axisSpec, tickSpecs, [])
        p.setPen(self.textPen())
        p.setFont(self.tick_font())
        metrics = QFontMetrics(self.tick_font())
        bounds = self.boundingRect()
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for label in self.label_layout():
            width = metrics.horizontalAdvance(label.text)
            if label.rotated:
                p.save()
                p.translate(QPointF(label.along + metrics.ascent() / 2 - 1, bounds.top() + 4))
                p.rotate(-90)
                p.drawText(QRectF(-width - 2, -metrics.ascent(), width + 2, metrics.height()), right, label.text)
                p.restore()
            elif self.orientation == "bottom":
                p.drawText(QRectF(label.start, bounds.top() + 4, width, metrics.height()),
                           int(Qt.AlignmentFlag.AlignCenter), label.text)
            else:
                p.drawText(QRectF(bounds.left(), label.along - metrics.height() / 2, bounds.width() - 6,
                                  metrics.height()), right, label.text)
