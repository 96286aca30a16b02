"""Shown main windows with a model loaded and the first result displayed: the tiny random
GPT-2 or the demo model, on an IOI-style prompt."""

from __future__ import annotations

import pytest

from app.controller import Controller, ViewState
from app.main_window import MainWindow
from app.settings import Settings

IOI_PROMPT = "When Mary and John went to the store , John gave a drink to"
TIMEOUT_MS = 120_000
CLEAN, CORRUPT = IOI_PROMPT, IOI_PROMPT.replace("John gave", "Mary gave")
TIMEOUT = TIMEOUT_MS


def shown_window(qtbot, state: ViewState, source: str | None) -> MainWindow:
    """A 1400x950 window on `source` (None: the demo model), its first result displayed."""
    controller = Controller()
    controller.state = state
    window = MainWindow(controller, Settings())
    qtbot.addWidget(window)
    window.resize(1400, 950)
    window.show()
    with qtbot.waitSignal(controller.result_ready, timeout=TIMEOUT_MS):
        controller.load_model(source, "cpu")
    return window


@pytest.fixture
def tiny_window(qtbot, tiny_gpt2_dir):
    window = shown_window(qtbot, ViewState(prompt=IOI_PROMPT, target="Mary", foil="John"), str(tiny_gpt2_dir))
    yield window
    window.close()


@pytest.fixture
def demo_window(qtbot):
    """The window on the demo model with a clean/corrupted IOI pair (name swapped at S2)."""
    window = shown_window(qtbot, ViewState(prompt=CLEAN, target="Mary", foil="John", corrupted=CORRUPT), None)
    yield window
    window.close()


def wait_result(qtbot, controller: Controller, key: str, timeout: int = TIMEOUT_MS):
    """Block until a result of analysis `key` reaches the workspace."""
    return qtbot.waitSignal(controller.results.ready, timeout=timeout, check_params_cb=lambda k, _: k == key)


def wait_failed(qtbot, controller: Controller, key: str, timeout: int = TIMEOUT_MS):
    """Block until analysis `key` fails or is cancelled; args are (key, message)."""
    return qtbot.waitSignal(controller.results.failed, timeout=timeout, check_params_cb=lambda k, _: k == key)


FAKE_PROMPT = "When Mary and John went to the store"


@pytest.fixture
def fake_window(qtbot):
    """A window on a fake 2x4 model (tests/app/fakes.FakeClient: no thread, no torch), its
    first run shown; tests finish further jobs by hand. Yields (window, client)."""
    from app.engine_service import Loaded
    from tests.app.fakes import FakeClient
    from tests.app.test_controller import INFO, fake_result

    client = FakeClient()
    controller = Controller(client)
    controller.state = ViewState(prompt=FAKE_PROMPT, target="Mary", foil="John")
    window = MainWindow(controller, Settings())
    qtbot.addWidget(window)
    window.resize(1400, 950)
    window.show()
    load = controller.load_model("fake", "cpu")
    client.finish(load, Loaded(INFO, tuple("abcdefghij"), False, 1.0))
    run, _ = client.last("run")
    client.finish(run, fake_result(FAKE_PROMPT))
    yield window, client
    window.files.sessions.dirty = False
    window.close()
