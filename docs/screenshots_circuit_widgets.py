"""Screenshots of the circuit view and the information-flow view from their demos (numpy
only, no model): the small demo docked (~700 x 600) and full screen, and the real-size demo
(30 layers) full screen and docked.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_circuit_widgets.py
(without QT_QPA_PLATFORM set, it uses an offscreen 1920 x 1080 screen of its own)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "QT_QPA_PLATFORM" not in os.environ:  # a 1920 x 1080 offscreen screen, so a full-screen grab is whole
    screens = Path(tempfile.mkdtemp()) / "screens.json"
    screens.write_text(json.dumps({"synchronousWindowSystemEvents": False, "windowFrameMargins": False,
                                   "screens": [{"name": "OffscreenScreen", "x": 0, "y": 0, "width": 1920,
                                                "height": 1080, "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={screens}"

from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets import circuit_view, info_flow_view  # noqa: E402

DOCKED, FULL = (700, 600), (1920, 1080)
SHOTS = [  # file name, demo, size
    ("circuit_view_demo.png", circuit_view.demo, DOCKED),
    ("circuit_view_demo_wide.png", circuit_view.demo, FULL),
    ("circuit_view_demo_real.png", circuit_view.demo_real_size, FULL),
    ("circuit_view_demo_real_docked.png", circuit_view.demo_real_size, DOCKED),
    ("info_flow_demo.png", info_flow_view.demo, DOCKED),
    ("info_flow_demo_wide.png", info_flow_view.demo, FULL),
    ("info_flow_demo_real.png", info_flow_view.demo_real_size, FULL),
    ("info_flow_demo_real_docked.png", info_flow_view.demo_real_size, DOCKED),
]


def settle(app: QApplication) -> None:
    for _ in range(30):  # layouts, fitting and repaints land over a few event loop turns
        app.processEvents()
        time.sleep(0.01)


def main() -> None:
    app = QApplication(sys.argv[:1])
    for name, make, size in SHOTS:
        widget = make()
        widget.resize(*size)
        widget.show()
        settle(app)
        widget.grab().save(str(ROOT / "docs" / name))
        widget.close()
        print("saved", name)


if __name__ == "__main__":
    main()
