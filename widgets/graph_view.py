"""The component graph's zoomable view: wheel zoom at the pointer, pan by dragging empty
space, Shift/Ctrl+drag to box-select, and a 'fitted' state that survives resizes until the
user zooms or pans (then a resize keeps their view).

No scroll bars: the scene rect is padded far beyond the graph so any point can be centred,
and Fit / search are the way back."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView


class GraphView(QGraphicsView):
    """Emits zoom_requested(factor, anchor px) for the wheel, refit_requested on resize while fitted."""

    zoom_requested = Signal(float, QPoint)
    refit_requested = Signal()

    def __init__(self, scene: QGraphicsScene) -> None:
        super().__init__(scene)
        self.fitted, self._moving = True, False
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QColor(255, 255, 255))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)  # fixed-size text moves
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)

    def show_at(self, scale: float, centre: QPointF, fitted: bool = False) -> None:
        """Scale and centre in one step (Fit and search use it)."""
        self._moving = True
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(centre)
        self._moving = False
        self.fitted = fitted

    def zoom_by(self, factor: float, anchor: QPoint | None, lowest: float, highest: float) -> None:
        """Zoom within [lowest, highest], keeping the scene point under `anchor` where it is."""
        s = self.transform().m11()
        factor = float(np.clip(s * factor, lowest, highest)) / s
        if abs(factor - 1) < 1e-6:
            return
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        before = self.mapToScene(anchor)
        centre = self.mapToScene(self.viewport().rect().center())
        self.show_at(s * factor, centre + (before - centre) * (1 - 1 / factor))

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_requested.emit(1.2 ** steps, event.position().toPoint())
        event.accept()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        box = bool(event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier))
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag if box else QGraphicsView.DragMode.ScrollHandDrag)
        super().mousePressEvent(event)

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        super().scrollContentsBy(dx, dy)
        if not self._moving:
            self.fitted = False  # the user panned

    def resizeEvent(self, event) -> None:  # noqa: N802
        fitted, self._moving = self.fitted, True
        super().resizeEvent(event)
        self._moving = False
        self.fitted = fitted
        if fitted:
            self.refit_requested.emit()
