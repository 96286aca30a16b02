"""Save the window to a PNG once the first result has been painted, then quit (used for
README screenshots and smoke runs under Xvfb or offscreen)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


def screenshot_after_first_result(window: QMainWindow, path: str, delay_ms: int = 500) -> None:
    controller = window.controller

    def shoot() -> None:
        window.grab().save(path)
        window.close()
        QApplication.instance().quit()

    def on_error(message: str) -> None:
        if controller.loaded is None:  # the model never opened: still save what the user sees
            QTimer.singleShot(delay_ms, shoot)

    controller.result_ready.connect(lambda _: QTimer.singleShot(delay_ms, shoot))
    controller.error.connect(on_error)
