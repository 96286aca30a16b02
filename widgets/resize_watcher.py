"""A callback on another widget's resize, for views that fit their labels or legends to a
child's size (a plot's height, a list's width) rather than to their own; or on another event
of it (a panel computing only while its view is on screen watches it being shown)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject


class ResizeWatcher(QObject):
    """Install with `child.installEventFilter(watcher)`; keep a reference (Qt does not)."""

    def __init__(self, callback: Callable[[], None], event: QEvent.Type = QEvent.Type.Resize) -> None:
        super().__init__()
        self.callback, self.event = callback, event

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == self.event:
            self.callback()
        return False
