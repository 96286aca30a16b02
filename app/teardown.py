"""An orderly end for the Qt application.

Left to interpreter shutdown, Python may destroy the QApplication before widgets that
pyqtgraph still references, and the process segfaults on exit (seen with PySide6 6.11 and
pyqtgraph 0.14). Deleting the windows while Qt is alive, then shutting the application
down explicitly, exits cleanly."""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QWidget


def shut_down(app: QApplication, *windows: QWidget) -> None:
    for window in windows:
        window.close()
        window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    app.processEvents()
    app.shutdown()
