"""A callback on another widget's resize, for views that fit their labels or legends to a
child's size (a plot's height, a list's width) rather than to their own."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject


class ResizeWatcher(QObject):
    """Install with `child.installEventFilter(watcher)`; keep a reference (Qt does not)."""

    def __init__(self, callback: Callable[[], None]) -> None:
        super().__init__()
        self.callback = callback

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize:
            self.callback()
        return False
