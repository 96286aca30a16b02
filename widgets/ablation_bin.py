"""The ablation bin: a plain widget beside the zoomable graph, so it stays large and in
reach at any zoom (a bin inside the scene shrank to ~20 px on a 48-layer model).

It does not take Qt drag-and-drop: graph nodes are scene items dragged by the view's mouse
grab, and the graph asks `contains_global` where the drag was released."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_W, MIN_H = 140, 64
STYLE = ("QLabel {{ border: 2px dashed #b00020; border-radius: 6px; color: #b00020; font-weight: bold;"
         " background: {bg}; padding: 4px; {size} }}")


class AblationBin(QLabel):
    """Drop target for node drags; `set_hot` while a drag hovers, `set_large` for presenting."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Ablation bin\ndrop heads / MLPs here", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setToolTip("Drag a head or MLP (or a selection) here to zero-ablate it;\n"
                        "right-click a node for mean / resample ablation or scaling")
        self._hot, self._large = False, False
        self._restyle()

    def set_hot(self, hot: bool) -> None:
        if hot != self._hot:
            self._hot = hot
            self._restyle()

    def set_large(self, large: bool) -> None:
        self._large = large
        self._restyle()

    def _restyle(self) -> None:
        w, h = (MIN_W + 60, MIN_H + 36) if self._large else (MIN_W, MIN_H)
        self.setMinimumSize(w, h)
        self.setStyleSheet(STYLE.format(bg="#ffc2cb" if self._hot else "#ffebee",
                                        size="font-size: 20pt;" if self._large else ""))

    def contains_global(self, point: QPointF | QPoint) -> bool:
        """Is a screen point (a drop's screenPos) over the bin?"""
        p = point.toPoint() if isinstance(point, QPointF) else point
        return self.isVisible() and self.rect().contains(self.mapFromGlobal(p))
