"""What the circuit view and the information-flow graph share: a pyqtgraph plot that zooms at
the wheel, pans by dragging and is fitted to its content until the user zooms or pans (a
resize then fits it again), with axes that name given positions and show only the names
that fit at the current spacing."""

from __future__ import annotations

from typing import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics

from .plots import adopt_menus

__all__ = ["FittedGraph", "NamedAxis"]


class NamedAxis(pg.AxisItem):
    """An axis naming given positions, showing only the names `chooser` keeps at the current
    pixel spacing (so they never overlap); the others get a short unlabelled tick."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.setStyle(hideOverlappingLabels=False, textFillLimits=[(0, 1.1)], autoExpandTextSpace=False)
        self.setPen("k")
        self.setTextPen("k")
        self.positions: list[float] = []
        self.names: list[str] = []
        self.chooser: Callable[[float, QFontMetrics], list[int]] = lambda _px, _m: []
        self.shown: list[int] = []
        self._labels: dict[float, str] = {}

    def set_names(self, positions: Sequence[float], names: Sequence[str],
                  chooser: Callable[[float, QFontMetrics], list[int]]) -> None:
        self.positions, self.names, self.chooser = [float(p) for p in positions], list(names), chooser
        self.picture = None
        self.update()

    def metrics(self) -> QFontMetrics:
        return QFontMetrics(self.style["tickFont"] or self.font())

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph API)
        if not self.positions or size <= 0 or maxVal <= minVal:
            self.shown = []
            return []
        inside = [i for i, p in enumerate(self.positions) if minVal - 1e-9 <= p <= maxVal + 1e-9]
        keep = set(self.chooser(size / (maxVal - minVal), self.metrics()))
        self.shown = [i for i in inside if i in keep]
        self._labels = {round(self.positions[i], 6): self.names[i] for i in self.shown}
        others = [self.positions[i] for i in inside if i not in keep]
        return [(1.0, [self.positions[i] for i in self.shown])] + ([(0.5, others)] if others else [])

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: N802 (pyqtgraph API)
        return [self._labels.get(round(float(v), 6), "") for v in values]



class FittedGraph:
    """Mixin for a QWidget with a `font_`: `_build_plot` makes `view`, `plot`, `box` and
    `fitted`; the widget supplies `fit()` and `_on_view_changed()` (zoomed or panned)."""

    def _build_plot(self, margins: tuple[int, int, int, int]) -> tuple["NamedAxis", "NamedAxis"]:
        """The plot with a named left and bottom axis (returned), wired to fit and follow the view."""
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.layout.setContentsMargins(*margins)
        left, bottom = NamedAxis("left"), NamedAxis("bottom")
        for axis in (left, bottom):
            axis.setStyle(tickFont=self.font_)
        self.plot = self.view.addPlot(axisItems={"left": left, "bottom": bottom})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        adopt_menus(self.plot, self)
        self.box = self.plot.getViewBox()
        self.fitted = True  # until the user zooms or pans: a resize then fits again
        self.box.sigRangeChangedManually.connect(lambda *_: setattr(self, "fitted", False))
        self.box.sigRangeChanged.connect(lambda *_: self._on_view_changed())
        self.box.sigResized.connect(lambda *_: self._on_resized())
        return left, bottom

    def _on_resized(self) -> None:
        if self.fitted:
            self.fit()
        self._on_view_changed()
