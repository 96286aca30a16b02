"""Screenshots of the training timeline: the demo model's checkpoints measured, the window on
a checkpoint before the induction phase change and after it; and the panel on the real model
(SmolLM2 ships no checkpoints: the panel says how to open some).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_timeline.py [--real]"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MICROTOME_CONFIG_DIR", tempfile.mkdtemp())
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.controller import Controller, ViewState  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.settings import Settings  # noqa: E402

PROMPT = "When Mary and John went to the store , John gave a drink to"


def settle(app: QApplication, condition, timeout_s: float = 300.0) -> None:
    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):  # let the last repaints land
        app.processEvents()
        time.sleep(0.01)


def stop_engines() -> None:
    """Stop every window's engine thread before exit (a running QThread aborts the process)."""
    for widget in QApplication.topLevelWidgets():
        if hasattr(widget, "controller"):
            widget.controller.shutdown()


def window_on(app: QApplication, source: str | None) -> MainWindow:
    controller = Controller()
    controller.state = ViewState(prompt=PROMPT, target="Mary", foil="John")
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None
    window.resize(1400, 950)
    window.show()
    controller.load_model(source, "cpu")
    settle(app, lambda: controller.last_result is not None and not controller.pending
           and controller.results.get("head_scores") is not None)
    window.docks["timeline"].raise_()
    return window


def main() -> None:
    app = QApplication(sys.argv[:1])
    out = ROOT / "docs"
    if "--real" in sys.argv:
        from engine.paths import REAL_MODEL_FOLDER, real_model_cache

        window = window_on(app, str(real_model_cache() / REAL_MODEL_FOLDER))
        window.grab().save(str(out / "real_size" / "timeline_smollm2.png"))
        return
    window = window_on(app, None)
    panel, c = window.panels["timeline"], window.controller
    panel.measure()
    settle(app, lambda: panel.shown is not None)
    window.grab().save(str(out / "timeline.png"))
    heads = window.view("heads")
    for index, name in ((2, "timeline_step2000.png"), (8, "timeline_step12000.png")):
        panel.choose(index)
        settle(app, lambda: c.loaded is not None and c.loaded.info.source.endswith(panel.checkpoints[index].path.name)
               and c.last_result is not None and not c.pending and c.results.get("head_scores") is not None)
        heads.grab().save(str(out / name))
    print("saved", [p.name for p in out.glob("timeline*.png")])


if __name__ == "__main__":
    main()
    stop_engines()
