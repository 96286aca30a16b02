"""Screenshot of the patching panel on the demo model: a head sweep (denoising)
with its attribution estimate alongside.

Run under a virtual screen:
  xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshot_patching.py"""

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

from app.controller import Controller, ViewState  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.settings import Settings  # noqa: E402
from widgets.patching_panel import PatchingSpec  # noqa: E402

CLEAN = "When Mary and John went to the store , John gave a drink to"
CORRUPT = "When Mary and John went to the store , Mary gave a drink to"


def main(sweep: str = "head") -> None:
    app = QApplication(sys.argv[:1])
    controller = Controller()
    controller.state = ViewState(prompt=CLEAN, target="Mary", foil="John", corrupted=CORRUPT)
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None
    window.resize(1400, 950)
    window.show()

    def loaded(_result) -> None:
        controller.result_ready.disconnect(loaded)
        window.view("patching").set_spec(PatchingSpec(sweep, attribution=True))
        window.view("patching").run_button.click()

    def done(_done) -> None:
        def shoot() -> None:
            window.grab().save(str(ROOT / "docs" / "patching.png"))
            window.close()
            app.quit()
        QTimer.singleShot(800, shoot)

    controller.result_ready.connect(loaded)
    controller.results.on("patching", done)
    controller.load_model(None, "cpu")
    app.exec()


if __name__ == "__main__":
    main(*sys.argv[1:])
