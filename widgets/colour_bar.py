"""A vertical colour bar whose gradient is an ImageItem, not a pixmap.

pyqtgraph's ColorBarItem paints its gradient as a QGraphicsPixmapItem, which a figure
export embeds as a bitmap; an ImageItem is what the export turns into vector cells, so the
bar stays crisp in an SVG like the heatmap beside it. Axes are black, like plain_plot's."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from .plots import adopt_menus

GRADIENT = np.arange(256, dtype=np.uint8)[:, None]  # row 0 (lowest value) at the bottom


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
        if label:
            self.axis.setLabel(label, color="k")
        self._sync()

    def attach(self, image: pg.ImageItem, plot: pg.PlotItem, owner) -> None:
        """Colour `image` and sit beside `plot`, menus parented to `owner` (see plain_plot)."""
        self.setImageItem(image, insert_in=plot)
        adopt_menus(self, owner)

    def setColorMap(self, colorMap) -> None:  # noqa: N802, N803 (pyqtgraph API)
        super().setColorMap(colorMap)
        self._sync()

    def _sync(self) -> None:
        gradient = getattr(self, "gradient", None)  # the base __init__ sets the map before it exists
        if gradient is not None and self._colorMap is not None:
            gradient.setLookupTable(self._colorMap.getLookupTable(0.0, 1.0, 256))
            self.bar.hide()
