"""Presentation mode (F11): the component graph, the predictions and the logit difference,
large enough to read from the back of a room; everything else out of the way.

Leaving it restores exactly the layout and style the user had."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

PRESENTATION_STYLE = """
* { font-size: 20pt; }
QLabel { font-size: 22pt; }
QTableWidget { font-size: 22pt; }
"""
SHOWN = ("prompt", "graph")


class Presentation:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.action = QAction("Presentation mode", window, checkable=True, shortcut=QKeySequence("F11"))
        self.action.toggled.connect(self.set_active)
        self._saved_state: QByteArray | None = None
        self._saved_style = ""

    @property
    def active(self) -> bool:
        return self._saved_state is not None

    def set_active(self, on: bool) -> None:
        w = self.window
        if on == self.active:
            return
        if on:
            self._saved_state, self._saved_style = w.saveState(), w.styleSheet()
            for key, dock in w.docks.items():
                dock.setVisible(key in SHOWN)
            w.setStyleSheet(PRESENTATION_STYLE)
            w.prompt_panel.set_compact(True)  # the numbers matter more than the tokens from the back row
            w.graph.set_large_text(True)
            w.statusBar().hide()
            if not w.isFullScreen():
                w.showFullScreen()
            w.resizeDocks([w.docks["prompt"], w.docks["graph"]], [260, 700], Qt.Orientation.Vertical)
        else:
            w.setStyleSheet(self._saved_style)
            w.prompt_panel.set_compact(False)
            w.graph.set_large_text(False)
            w.statusBar().show()
            w.restoreState(self._saved_state)
            self._saved_state = None
            w.showNormal()
        self.action.setChecked(on)
