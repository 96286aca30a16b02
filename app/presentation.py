"""Presentation mode (F11): the panels marked `presented` (the prompt with its predictions and
the component graph), large enough to read from the back of a room; everything else out of
the way.

Leaving it restores exactly the layout and style the user had."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

PRESENTATION_STYLE = """
* { font-size: 20pt; }
QLabel { font-size: 22pt; }
QTableWidget { font-size: 22pt; }
"""


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
            shown = [key for key, panel in w.panels.items() if getattr(panel, "presented", False)]
            for key, dock in w.docks.items():
                dock.setVisible(key in shown)
            w.setStyleSheet(PRESENTATION_STYLE)
            for panel in w.panels.values():
                panel.set_presenting(True)
            w.statusBar().hide()
            if not w.isFullScreen():
                w.showFullScreen()
            docks = [w.docks[key] for key in shown]
            split = lambda: self.active and w.resizeDocks(docks, [260, 700][: len(docks)], Qt.Orientation.Vertical)
            split()
            QTimer.singleShot(0, split)  # again at the full-screen size (sizes given before it are rescaled)
        else:
            w.setStyleSheet(self._saved_style)
            for panel in w.panels.values():
                panel.set_presenting(False)
            w.statusBar().show()
            w.restoreState(self._saved_state)
            self._saved_state = None
            w.showNormal()
        self.action.setChecked(on)
