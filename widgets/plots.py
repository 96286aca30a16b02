"""Small helpers around pyqtgraph plots shared by the views."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QWidget


def plain_plot(plot: pg.PlotItem, owner: QWidget) -> pg.PlotItem:
    """A still plot: no pan/zoom, no auto-range button, black axes, and pyqtgraph's context
    menus parented to `owner`. Those menus are created parentless; parented, they are
    deleted with the widget instead of outliving it as top-level windows."""
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    adopt_menus(plot, owner)
    for name in ("left", "bottom", "top", "right"):
        axis = plot.getAxis(name)
        axis.setPen("k")
        axis.setTextPen("k")
    return plot


def bold_label(text: str) -> QLabel:
    """A panel's title line."""
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def adopt_menus(plot: pg.PlotItem, owner: QWidget) -> None:
    """Parent a PlotItem's (or ColorBarItem's) context menus to `owner` (see plain_plot)."""
    for menu in (getattr(plot, "ctrlMenu", None), plot.getViewBox().menu if plot.getViewBox() else None):
        if menu is not None:
            menu.setParent(owner, menu.windowFlags())
