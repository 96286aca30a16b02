"""The patching panel on the demo model: a sweep runs on the engine thread with progress,
its heatmap equals the engine's numbers and names the model card's IOI head, a clicked
cell applies its own patch in the component graph, and cancel / bad input say so."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from app.controller import ViewState
from engine import Engine
from engine.analyses.patching import activation_patching
from widgets.patching_panel import PatchingSpec

from tests.demo_facts import IOI_HEAD
from tests.app.conftest import CLEAN, CORRUPT, TIMEOUT, wait_failed, wait_result


def click_cell(qtbot, heat, row: int, col: int) -> None:
    view = heat.plot.getViewBox()
    scene = view.mapViewToScene(QPointF(col, row))
    widget_pos = heat.view.mapFromScene(scene)
    QTest.mouseClick(heat.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_pos)


def test_head_sweep_shows_the_engines_numbers_and_a_cell_applies_its_patch(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    window.view("patching").set_spec(PatchingSpec("head", mode="noise", attribution=True))
    steps = []
    c.results.progress.connect(lambda k, d, n: steps.append((d, n)))
    with wait_result(qtbot, c, "patching"):
        window.view("patching").run_button.click()
    shown = window.view("patching").main.values
    expected = activation_patching(Engine(device="cpu"), CLEAN, CORRUPT, "Mary", "John", "head", mode="noise")
    np.testing.assert_allclose(shown, expected.values, atol=1e-5)
    assert steps and steps[-1] == (16, 16)
    # attribution patching estimates denoising only: no estimate (and no checkbox) in noise mode
    assert not window.view("patching").estimate.isVisible() and not window.view("patching").with_attribution.isEnabled()
    layer, head = (int(x) for x in IOI_HEAD[1:].split(".H"))
    assert window.view("patching").main.rows == ("L0", "L1") and window.view("patching").main.columns[head] == f"H{head}"
    # noising the model card's IOI head hurts most
    assert np.unravel_index(np.argmin(shown), shown.shape) == (layer, head)

    window.docks["patching"].raise_()
    qtbot.waitExposed(window.view("patching").main)
    click_cell(qtbot, window.view("patching").main, layer, head)
    qtbot.waitUntil(lambda: c.last_result is not None and len(c.last_result.interventions) == 1, timeout=TIMEOUT)
    (applied,) = c.state.interventions
    assert (applied.component, applied.method, applied.source_prompt) == (IOI_HEAD, "resample", CORRUPT)
    # the graph now runs exactly the cell's noising patch, and the panel says so (issue 16, item 12)
    assert "exactly this noising patch" in window.view("patching").summary.text()
    assert c.last_result.logit_diff == pytest.approx(expected.raw[layer, head], abs=1e-4)


def test_position_sweep_cell_applies_at_that_position_and_path_sweep_runs(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    window.view("patching").set_spec(PatchingSpec("mlp_out", mode="noise", attribution=False))
    with wait_result(qtbot, c, "patching"):
        window.view("patching").run_button.click()
    assert not window.view("patching").estimate.isVisible()
    result = window.panels["patching"].shown.main
    col = len(result.column_labels) - 1
    window.panels["patching"].apply_cell(result, 1, col)
    qtbot.waitUntil(lambda: c.last_result is not None and len(c.last_result.interventions) == 1, timeout=TIMEOUT)
    assert c.state.interventions[0].positions == (col,)
    assert c.last_result.logit_diff == pytest.approx(result.raw[1, col], abs=1e-4)

    c.set_prompt(CLEAN.replace("store", "park"))  # the sweep's pair is no longer the current one
    with qtbot.waitSignal(c.error, timeout=TIMEOUT) as blocker:
        window.panels["patching"].apply_cell(result, 1, col)
    assert "another clean/corrupted pair" in blocker.args[0]
    c.set_prompt(CLEAN)

    window.view("patching").set_spec(PatchingSpec("path", receiver="L1.H4", receiver_input="q"))
    with wait_result(qtbot, c, "patching"):
        window.view("patching").run_button.click()
    assert window.panels["patching"].shown.main.method == "path" and window.panels["patching"].shown.main.values.shape == (1, 8)
    assert "Path patching" in window.view("patching").main.title.text()


def test_residual_cells_cannot_be_applied_and_missing_corrupted_prompt_is_explained(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    window.view("patching").set_spec(PatchingSpec("resid", attribution=False))
    with wait_result(qtbot, c, "patching"):
        window.view("patching").run_button.click()
    with qtbot.waitSignal(c.error, timeout=TIMEOUT) as blocker:
        window.panels["patching"].apply_cell(window.panels["patching"].shown.main, 0, 0)
    assert "residual stream" in blocker.args[0]

    c.state = ViewState(prompt=CLEAN, target="Mary", foil="John", corrupted="")
    with wait_failed(qtbot, c, "patching") as failed:
        window.view("patching").run_button.click()
    assert "corrupted prompt" in failed.args[1] and "corrupted prompt" in window.view("patching").summary.text()
    assert window.view("patching").run_button.isEnabled()

    c.state = ViewState(prompt=CLEAN, target="Mary", foil="John", corrupted=CORRUPT + " Mary")
    with wait_failed(qtbot, c, "patching") as failed:
        window.view("patching").run_button.click()
    assert "same number of tokens" in failed.args[1]


def test_cancel_stops_a_sweep_and_its_late_result_is_never_shown(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    window.view("patching").set_spec(PatchingSpec("head_pos", attribution=False))
    window.view("patching").run_button.click()
    request_id = c.client.latest("patching")
    with wait_failed(qtbot, c, "patching") as failed:
        window.view("patching").cancel_button.click()
    assert "cancelled" in failed.args[1]
    assert c.client.is_cancelled(request_id)
    assert "cancelled" in window.view("patching").summary.text() and window.view("patching").run_button.isEnabled()
    qtbot.wait(1500)  # the engine thread stops at a chunk boundary, or finishes: either way, stale
    assert window.panels["patching"].shown is None and window.view("patching").main.values is None
    assert window.error_label.text() == ""  # a cancel is not an error


def test_an_estimate_sits_beside_a_denoising_sweep_and_a_new_model_clears_the_panel(qtbot, demo_window,
                                                                                      tiny_gpt2_dir) -> None:
    window, c = demo_window, demo_window.controller
    window.view("patching").set_spec(PatchingSpec("head", mode="denoise", attribution=True))
    with wait_result(qtbot, c, "patching"):
        window.view("patching").run_button.click()
    assert window.view("patching").estimate.isVisible() and "r = " in window.view("patching").summary.text()
    assert window.panels["patching"].shown.correlation > 0.8
    with qtbot.waitSignal(c.model_loaded, timeout=TIMEOUT):
        c.load_model(str(tiny_gpt2_dir), "cpu")
    assert window.panels["patching"].shown is None and window.view("patching").main.values is None
    with qtbot.waitSignal(c.error, timeout=TIMEOUT) as blocker:
        window.panels["patching"].apply_cell(window.view("patching").results[0] if window.view("patching").results else None, 0, 0)
    assert "No sweep" in blocker.args[0]
