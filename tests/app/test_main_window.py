"""The window on the engine thread: real results in every panel, coalesced bursts, errors
shown while the app keeps working, nothing leaked after closing."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.controller import Controller, ViewState
from app.main_window import MainWindow
from app.settings import Settings
from widgets.token_text import visible_token

LOAD_TIMEOUT_MS = 120_000


@pytest.fixture
def open_window(qtbot):
    """Factory: a shown MainWindow with its model loaded and the first result displayed."""
    windows: list[MainWindow] = []

    def make(source: str | None, state: ViewState | None = None) -> MainWindow:
        controller = Controller()
        if state is not None:
            controller.state = state
        window = MainWindow(controller, Settings())
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        with qtbot.waitSignal(controller.result_ready, timeout=LOAD_TIMEOUT_MS):
            controller.load_model(source, "cpu")
        return window

    yield make
    for window in windows:
        window.close()


def wait_for_run(qtbot, window: MainWindow, action) -> None:
    with qtbot.waitSignal(window.controller.result_ready, timeout=LOAD_TIMEOUT_MS):
        action()


def test_demo_model_panels_show_the_engines_numbers(qtbot, open_window) -> None:
    from engine import Engine

    window = open_window(None)
    result = window.controller.last_result
    reference = Engine(device="cpu").run(result.prompt, want=["patterns", "logit_lens"], target="Mary")
    n_layers, n_heads = reference.patterns.shape[:2]
    assert window.view("heads").grid_shape == (n_layers, n_heads)
    for l in range(n_layers):
        for h in range(n_heads):
            np.testing.assert_allclose(window.view("heads").tile(l, h), reference.patterns[l, h], atol=1e-6)
    heat, lens = window.view("lens"), reference.logit_lens
    assert heat.values.shape == (n_layers + 1, len(reference.tokens))
    np.testing.assert_allclose(heat.image.image, lens.top_probs[..., 0], atol=1e-6)
    last = len(reference.tokens) - 1
    assert heat.describe(n_layers, last).splitlines()[1] == \
        f"  {visible_token(str(lens.top_tokens[-1, -1, 0]))}  {lens.top_probs[-1, -1, 0]:.3f}"
    np.testing.assert_allclose(heat.side_curve.getData()[0], lens.target_probs[:, -1], atol=1e-6)
    assert window.view("prompt").chips.count() == len(reference.tokens)
    assert window.view("prompt").predictions.item(0, 0).text() == repr(reference.top_tokens[0])

    # clicking a head in the grid opens it in the detail view
    grid = window.view("heads")
    seq = len(reference.tokens)
    target = QPointF((n_heads - 1) * (seq + grid._gap) + seq / 2, (n_layers - 1) * (seq + grid._gap) + seq / 2)
    pos = grid.view.mapFromScene(grid.plot.getViewBox().mapViewToScene(target))
    QTest.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert window.view("detail").title.text().startswith(f"L{n_layers - 1}.H{n_heads - 1}")
    np.testing.assert_allclose(window.view("detail").image.image, reference.patterns[-1, -1], atol=1e-6)


def test_burst_of_prompt_changes_shows_only_the_newest(qtbot, open_window, tiny_gpt2_dir: Path) -> None:
    window = open_window(str(tiny_gpt2_dir), ViewState(prompt="the store", target="", foil=""))
    controller = window.controller
    runs_before, shown_before = controller.client.runs_executed, len(controller.displayed_ids)
    prompts = [" ".join(["the store"] + ["w1"] * i) for i in range(1, 21)]
    with qtbot.waitSignal(controller.result_ready, timeout=LOAD_TIMEOUT_MS,
                          check_params_cb=lambda r: r.prompt == prompts[-1]):
        for prompt in prompts:
            window.view("prompt").set_prompt(prompt)
            window.view("prompt").prompt_changed.emit(prompt)
    qtbot.wait(300)
    assert controller.client.runs_executed - runs_before < 20
    assert len(controller.displayed_ids) - shown_before == 1  # nothing stale was shown
    assert controller.last_result.prompt == prompts[-1]
    assert window.view("prompt").chips.count() == len(prompts[-1].split()) + 1


@pytest.mark.parametrize("prompt, message", [("   ", "empty"), ("the " * 100, "at most 64")])
def test_bad_prompts_show_a_message_and_the_app_keeps_working(qtbot, open_window, tiny_gpt2_dir, prompt, message) -> None:
    window = open_window(str(tiny_gpt2_dir), ViewState(prompt="the store", target="", foil=""))
    with qtbot.waitSignal(window.controller.error, timeout=LOAD_TIMEOUT_MS):
        window.controller.set_prompt(prompt)
    assert message in window.error_label.text()
    wait_for_run(qtbot, window, lambda: window.controller.set_prompt("the store gave"))
    assert window.error_label.text() == ""
    assert window.view("prompt").chips.count() == 4


def test_missing_model_folder_keeps_the_current_model(qtbot, open_window, tiny_gpt2_dir, tmp_path) -> None:
    window = open_window(str(tiny_gpt2_dir), ViewState(prompt="the store", target="", foil=""))
    with qtbot.waitSignal(window.controller.error, timeout=LOAD_TIMEOUT_MS):
        window.controller.load_model(str(tmp_path / "missing"), "cpu")
    assert "Could not open the model" in window.error_label.text() and "not found" in window.error_label.text()
    wait_for_run(qtbot, window, lambda: window.controller.set_prompt("the store gave a"))
    assert window.controller.last_result.prompt == "the store gave a"


def test_bad_target_token_is_reported(qtbot, open_window, tiny_gpt2_dir) -> None:
    window = open_window(str(tiny_gpt2_dir), ViewState(prompt="the store", target="", foil=""))
    with qtbot.waitSignal(window.controller.error, timeout=LOAD_TIMEOUT_MS):
        window.controller.set_target("Mary John")
    assert "one token" in window.error_label.text()


def test_closing_leaves_no_widgets_and_stops_the_engine_thread(qtbot, tiny_gpt2_dir) -> None:
    before = {id(w) for w in QApplication.topLevelWidgets()}
    controller = Controller()
    controller.state = ViewState(prompt="the store", target="", foil="")
    window = MainWindow(controller, Settings())
    window.show()
    with qtbot.waitSignal(controller.result_ready, timeout=LOAD_TIMEOUT_MS):
        controller.load_model(str(tiny_gpt2_dir), "cpu")
    worker = controller.client._worker
    window.close()
    window.deleteLater()
    qtbot.wait(50)
    QApplication.sendPostedEvents(None, 0)
    assert not worker.isRunning()
    assert not shiboken6.isValid(window)  # the C++ window is gone, and with it every child
    del window, controller
    gc.collect()  # pyqtgraph's parentless context menus go with their Python owners
    leftover = [(type(w).__name__, getattr(w, "title", lambda: "")()) for w in QApplication.topLevelWidgets() if id(w) not in before]
    assert leftover == []


def test_the_app_process_starts_shows_a_result_and_exits_cleanly(tmp_path) -> None:
    """`python -m app --screenshot` on the demo model: a PNG, and exit code 0 (no crash at teardown)."""
    import subprocess
    import sys

    shot = tmp_path / "window.png"
    proc = subprocess.run([sys.executable, "-m", "app", "--screenshot", str(shot)], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=300,
                          env={"QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                               "MICROTOME_CONFIG_DIR": str(tmp_path / "cfg")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PySide6.QtGui import QImage

    assert QImage(str(shot)).width() > 600


def test_the_fidelity_badge_says_the_hooked_model_matches_hugging_face(tiny_window) -> None:
    loaded = tiny_window.controller.loaded
    assert loaded.fidelity_ok is True and loaded.fidelity_diff < 1e-4
    assert tiny_window.fidelity_label.text().startswith("✓ matches HF")
    assert "hook points" in tiny_window.fidelity_label.toolTip()


def test_a_model_too_large_for_memory_is_refused_before_loading(qtbot, tiny_window, monkeypatch) -> None:
    import engine.memory

    monkeypatch.setattr(engine.memory, "available_memory", lambda device="cpu": 1024)
    c = tiny_window.controller
    before = c.loaded
    with qtbot.waitSignal(c.load_failed, timeout=60_000) as failed:
        c.load_model(before.info.source, "cpu")
    assert "needs ~" in failed.args[0] and "GiB free" in failed.args[0]
    assert c.loaded is before  # the model in use stays


def test_out_of_memory_in_a_run_is_a_message_and_the_app_carries_on(qtbot, tiny_window, monkeypatch) -> None:
    import torch

    c = tiny_window.controller
    engine = c.client.service.engine
    real_run = engine.analyse  # every job the engine thread runs goes through it

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    monkeypatch.setattr(engine, "analyse", exhausted)
    with qtbot.waitSignal(c.error, timeout=60_000) as blocker:
        c.set_prompt("the store gave")
    assert "Out of memory" in blocker.args[0] and "shorter prompt" in blocker.args[0]
    assert "Out of memory" in tiny_window.error_label.text()
    monkeypatch.setattr(engine, "analyse", real_run)
    with qtbot.waitSignal(c.result_ready, timeout=60_000):
        c.set_prompt("the store gave a")
    assert tiny_window.error_label.text() == ""


def test_a_model_note_is_short_in_the_status_bar_and_whole_in_its_tooltip() -> None:
    from app.main_window import short_note

    assert short_note("weights dequantised to float from the file's Q4_1 quantisation") == "dequantised Q4_1"
    assert short_note("float32 weights dequantised from the Q8_0 GGUF file") == "dequantised Q8_0"
    assert short_note("a note that is much longer than the status bar can hold") .endswith("…")
