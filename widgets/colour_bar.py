"""A vertical colour bar whose gradient is an ImageItem, not a pixmap.

pyqtgraph's ColorBarItem paints its gradient as a QGraphicsPixmapItem, which a figure
export embeds as a bitmap; an ImageItem is what the export turns into vector cells, so the
bar stays crisp in an SVG like the heatmap beside it. Axes are black, like plain_plot's.

pyqtgraph picks tick values for an axis without knowing how tall its text is, so on a
short bar (a docked panel ~150 px high) the values overlap. `set_scale` takes the levels,
optional candidate ticks and the quantity's name; `fit()` keeps only ticks at least a line
of text apart (MIN_TICK_GAP) and elides (or drops) the name to the bar's height, whenever the bar resizes."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics

from .plots import adopt_menus

GRADIENT = np.arange(256, dtype=np.uint8)[:, None]  # row 0 (lowest value) at the bottom
LINEAR_STEPS = (0.1, 0.2, 0.25, 0.5, 1.0)  # fractions of the range between ticks, finest first
MIN_TICK_GAP = 1.8  # lines of text between neighbouring tick values: never touching, easy to read
MIN_LABEL_CHARS = 4  # a name elided shorter than this says nothing: drop it instead


class ColourBar(pg.ColorBarItem):
    """A non-interactive vertical ColorBarItem drawn with an ImageItem gradient."""

    def __init__(self, cmap: pg.ColorMap, width: int = 12, label: str = "") -> None:
        super().__init__(values=(0, 1), colorMap=cmap, interactive=False, width=width)
        self.gradient = pg.ImageItem(GRADIENT, axisOrder="row-major", levels=(0, 255))
        self.gradient.setRect(QRectF(0, 0, 1, 256))
        self.addItem(self.gradient)
        self.bar.hide()
        for name in ("left", "right", "top", "bottom"):
            self.getAxis(name).setPen("k")
            self.getAxis(name).setTextPen("k")
        self.label_text = label  # the whole name; the axis shows it elided to the bar's height
        self._candidates: list[tuple[float, str]] | None = None
        self._fitted: tuple | None = None
        self.axis.geometryChanged.connect(self.fit)
        self._sync()
        self.fit()

    def attach(self, image: pg.ImageItem, plot: pg.PlotItem, owner) -> None:
        """Colour `image` and sit beside `plot`, menus parented to `owner` (see plain_plot)."""
        self.setImageItem(image, insert_in=plot)
        adopt_menus(self, owner)

    def setColorMap(self, colorMap) -> None:  # noqa: N802, N803 (pyqtgraph API)
        super().setColorMap(colorMap)
        self._sync()

    def set_scale(self, levels: tuple[float, float], ticks: list[tuple[float, str]] | None = None,
                  label: str = "") -> None:
        """Levels, candidate ticks (None: evenly spaced values) and the quantity's name,
        all thinned to fit the bar by fit()."""
        self.setLevels(levels)
        self._candidates = None if ticks is None else list(ticks)
        self.label_text = label
        self._fitted = None
        self.fit()

    def tick_font(self) -> QFont:
        return self.axis.style["tickFont"] or self.axis.font()

    def fitted_ticks(self, height: float) -> list[tuple[float, str]]:
        """The ticks a bar `height` pixels tall shows: neighbours at least a line of text apart."""
        lo, hi = (float(v) for v in self.values)
        span = hi - lo
        line = QFontMetrics(self.tick_font()).height() * MIN_TICK_GAP
        if span <= 0 or height <= 0:
            return [(hi, f"{hi:g}")]
        if self._candidates is not None:
            ticks = sorted(self._candidates)
            gaps = [b[0] - a[0] for a, b in zip(ticks, ticks[1:])]
            gap = min(gaps, default=span) / span * height
            stride = max(1, math.ceil(line / max(gap, 1e-9)))
            return ticks[::stride]
        for step in LINEAR_STEPS:
            if step * height >= line:
                decimals = 2 if step == 0.25 else 1
                count = int(round(1 / step))
                return [(lo + span * i * step, f"{lo + span * i * step:.{decimals}f}") for i in range(count + 1)]
        return [(hi, f"{hi:.1f}")]  # shorter than two lines: the top value alone

    def fit(self) -> None:
        """Thin the ticks and elide the name to the bar's current height; size the axis to them."""
        height = self.axis.geometry().height()
        key = (round(height), tuple(self.values), self._candidates and tuple(self._candidates), self.label_text)
        if key == self._fitted:
            return
        self._fitted = key
        ticks = self.fitted_ticks(height)
        self.axis.setTicks([ticks, []])
        metrics = QFontMetrics(self.tick_font())
        shown = ""
        if self.label_text:
            label_metrics = QFontMetrics(self.axis.label.font())
            shown = label_metrics.elidedText(self.label_text, Qt.TextElideMode.ElideRight, int(height) - 8)
            if shown != self.label_text and len(shown) - 1 < MIN_LABEL_CHARS:
                shown = ""
        if shown:
            self.axis.setLabel(shown, color="k")
        else:
            self.axis.labelText = ""
            self.axis.showLabel(False)
        widest = max(metrics.horizontalAdvance(text) for _, text in ticks)
        width = widest + 16 + (QFontMetrics(self.axis.label.font()).height() if shown else 0)
        if self.axis.fixedWidth != width:
            self.axis.setWidth(width)

    def _sync(self) -> None:
        gradient = getattr(self, "gradient", None)  # the base __init__ sets the map before it exists
        if gradient is not None and self._colorMap is not None:
            gradient.setLookupTable(self._colorMap.getLookupTable(0.0, 1.0, 256))
            self.bar.hide()
