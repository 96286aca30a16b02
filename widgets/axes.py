"""Axes that label every token of a prompt.

pyqtgraph lays tick labels flat and drops those that would overlap, which loses most
token labels on a pattern. TokenAxis draws the labels itself: horizontal on a left axis,
rotated 90 degrees on a bottom axis, one per tick, centred on its row or column."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetrics


class TokenAxis(pg.AxisItem):
    """A 'left' or 'bottom' AxisItem for (position, label) ticks."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self._labels: list[tuple[float, str]] = []

    def set_labels(self, ticks: list[tuple[float, str]]) -> None:
        self._labels = list(ticks)
        self.setTicks([ticks, []])
        metrics = QFontMetrics(self.style["tickFont"] or self.font())
        longest = max((metrics.horizontalAdvance(text) for _, text in ticks), default=10) + 12
        if self.orientation == "bottom":
            self.setHeight(longest)
        else:
            self.setWidth(longest)

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802 (pyqtgraph API)
        super().drawPicture(p, axisSpec, tickSpecs, [])
        view = self.linkedView()
        if view is None:
            return
        p.setPen(self.textPen())
        metrics = p.fontMetrics()
        bounds = self.boundingRect()
        spacing = metrics.height()  # labels closer than a line of text are skipped, not overlapped
        last_drawn = None
        for value, text in self._labels:
            point = self.mapFromScene(view.mapViewToScene(QPointF(value, value)))
            along = point.x() if self.orientation == "bottom" else point.y()
            if last_drawn is not None and abs(along - last_drawn) < spacing:
                continue
            width = metrics.horizontalAdvance(text)
            if self.orientation == "bottom":
                if not bounds.left() <= point.x() <= bounds.right():
                    continue
                p.save()
                p.translate(QPointF(point.x() + metrics.ascent() / 2 - 1, bounds.top() + 4))
                p.rotate(-90)
                p.drawText(QRectF(-width - 2, -metrics.ascent(), width + 2, metrics.height()),
                           int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
                p.restore()
            else:
                if not bounds.top() <= point.y() <= bounds.bottom():
                    continue
                p.drawText(QRectF(bounds.left(), point.y() - metrics.height() / 2, bounds.width() - 6, metrics.height()),
                           int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
            last_drawn = along
