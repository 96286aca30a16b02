"""A shown main window on the tiny random GPT-2 with an IOI-style prompt, result displayed."""

from __future__ import annotations

import pytest

from app.controller import Controller, ViewState
from app.main_window import MainWindow
from app.settings import Settings

IOI_PROMPT = "When Mary and John went to the store , John gave a drink to"
TIMEOUT_MS = 120_000
CLEAN, CORRUPT = IOI_PROMPT, IOI_PROMPT.replace("John gave", "Mary gave")
TIMEOUT = TIMEOUT_MS


@pytest.fixture
def tiny_window(qtbot, tiny_gpt2_dir):
    controller = Controller()
    controller.state = ViewState(prompt=IOI_PROMPT, target="Mary", foil="John")
    window = MainWindow(controller, Settings())
    qtbot.addWidget(window)
    window.resize(1400, 950)
    window.show()
    with qtbot.waitSignal(controller.result_ready, timeout=TIMEOUT_MS):
        controller.load_model(str(tiny_gpt2_dir), "cpu")
    yield window
    window.close()


@pytest.fixture
def demo_window(qtbot):
    """The window on the demo model with a clean/corrupted IOI pair (name swapped at S2)."""
    controller = Controller()
    controller.state = ViewState(prompt=CLEAN, target="Mary", foil="John", corrupted=CORRUPT)
    window = MainWindow(controller, Settings())
    qtbot.addWidget(window)
    window.resize(1400, 950)
    window.show()
    with qtbot.waitSignal(controller.result_ready, timeout=TIMEOUT):
        controller.load_model(None, "cpu")
    yield window
    window.close()
