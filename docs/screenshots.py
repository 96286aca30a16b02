"""Regenerate the README screenshots: the main window on the demo model, and the window
with IOI head L0.H5 ablated, normal and in presentation mode.

Run under a virtual screen:
  xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots.py"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MICROTOME_CONFIG_DIR", tempfile.mkdtemp())
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.controller import Controller  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.settings import Settings  # noqa: E402

ABLATE = ["L0.H5"]


def main() -> None:
    app = QApplication(sys.argv[:1])
    controller = Controller()
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None
    window.resize(1400, 950)
    window.show()
    step = {"n": 0}

    def later(ms: int, fn) -> None:
        QTimer.singleShot(ms, fn)

    def on_result(_result) -> None:
        step["n"] += 1
        if step["n"] == 1:
            def first() -> None:
                window.grab().save(str(ROOT / "docs" / "main_window.png"))
                controller.ablate(ABLATE)
            later(800, first)
        elif step["n"] == 2:
            def second() -> None:
                window.grab().save(str(ROOT / "docs" / "graph_ablated.png"))
                window.presentation.action.trigger()
                later(800, lambda: (window.grab().save(str(ROOT / "docs" / "graph_presentation.png")),
                                    window.presentation.action.trigger(), window.close(), app.quit()))
            later(800, second)

    controller.result_ready.connect(on_result)
    controller.load_model(None, "cpu")
    app.exec()


if __name__ == "__main__":
    main()
