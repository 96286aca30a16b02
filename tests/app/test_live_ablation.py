"""Drag-to-ablate through the whole app: the numbers the panels show equal the engine's."""

from __future__ import annotations

import pytest

from app.controller import Controller, ViewState
from app.main_window import MainWindow
from app.settings import Settings
from engine import Ablation, Engine, Scale
from tests.app.conftest import IOI_PROMPT as PROMPT
from tests.widgets.test_component_graph import drag

TIMEOUT = 120_000


@pytest.fixture
def window(qtbot, tiny_window):
    """The tiny model's window with the component graph in front."""
    tiny_window.docks["graph"].raise_()
    qtbot.waitExposed(tiny_window.view("graph"))
    return tiny_window


def run_until(qtbot, controller: Controller, predicate) -> None:
    qtbot.waitUntil(lambda: controller.last_result is not None and predicate(controller.last_result), timeout=TIMEOUT)


def test_mouse_drag_onto_the_bin_equals_the_engine_with_that_ablation(qtbot, window, tiny_gpt2_dir) -> None:
    controller, graph = window.controller, window.view("graph")
    drag(graph, graph.node_scene_center("L1.H2"), graph.bin_scene_center())
    run_until(qtbot, controller, lambda r: r.interventions == (Ablation("L1.H2"),))
    expected = Engine(tiny_gpt2_dir, device="cpu").run(PROMPT, [Ablation("L1.H2")], want=["dla"], target="Mary", foil="John")
    assert controller.last_result.logit_diff == pytest.approx(expected.logit_diff, abs=1e-5)
    qtbot.waitUntil(lambda: controller.baseline is not None and "→" in graph.summary.text(), timeout=TIMEOUT)
    assert f"{expected.logit_diff:+.2f}" in graph.summary.text()
    assert f"{controller.baseline.logit_diff:+.2f}" in graph.summary.text()
    assert "✕0" in graph.nodes["L1.H2"].label.text()


def test_undo_and_redo_restore_exactly_the_previous_numbers(qtbot, window) -> None:
    controller = window.controller
    clean = controller.last_result
    controller.ablate(["L0.H1", "L1.mlp"], "zero")
    run_until(qtbot, controller, lambda r: len(r.interventions) == 2)
    ablated = controller.last_result
    assert ablated.logit_diff != pytest.approx(clean.logit_diff, abs=1e-4)
    window.undo_action.trigger()
    run_until(qtbot, controller, lambda r: r.interventions == ())
    assert controller.last_result.logit_diff == clean.logit_diff
    assert (controller.last_result.patterns == clean.patterns).all()
    window.redo_action.trigger()
    run_until(qtbot, controller, lambda r: len(r.interventions) == 2)
    assert controller.last_result.logit_diff == ablated.logit_diff
    assert window.view("graph").nodes["L0.H1"].state == ("zero", None)


def test_burst_of_scale_changes_coalesces_and_ends_on_the_final_scale(qtbot, window, tiny_gpt2_dir) -> None:
    controller, graph = window.controller, window.view("graph")
    graph.nodes["L0.H3"].setSelected(True)
    runs_before = controller.client.runs_executed
    for value in range(100, 0, -1):  # 100 slider moves: 1.00 down to 0.01
        graph.slider.setValue(value)
    run_until(qtbot, controller, lambda r: r.interventions == (Scale("L0.H3", 0.01),))
    qtbot.wait(200)
    runs = controller.client.runs_executed - runs_before
    assert runs < 50, runs  # far fewer than the 100 changes (the rest were superseded unrun)
    expected = Engine(tiny_gpt2_dir, device="cpu").run(PROMPT, [Scale("L0.H3", 0.01)], want=["dla"], target="Mary", foil="John")
    assert controller.last_result.logit_diff == pytest.approx(expected.logit_diff, abs=1e-5)
    assert "×0.01" in graph.nodes["L0.H3"].label.text()
    assert controller.undo_stack.count() == 1  # the whole drag is one undo step


def test_resample_without_a_corrupted_prompt_explains_itself(qtbot, window) -> None:
    with qtbot.waitSignal(window.controller.error, timeout=2000):
        window.controller.ablate(["L0.H0"], "resample")
    assert "corrupted prompt" in window.error_label.text()


def test_presentation_mode_shows_the_graph_large_and_restores_the_layout(qtbot, window) -> None:
    window.presentation.action.trigger()
    assert window.docks["graph"].isVisible() and not window.docks["lens"].isVisible()
    assert "20pt" in window.styleSheet()
    window.presentation.action.trigger()
    assert window.docks["lens"].isVisible() and window.styleSheet() == ""


def test_a_knob_drag_skips_an_expensive_lens_and_refreshes_it_when_the_knob_rests(qtbot, tmp_path) -> None:
    """With a vocabulary large enough that the lens costs more than a forward pass, live
    knob runs leave it out (the table says so) and a full run follows 250 ms later."""
    from training.tiny_models import save_random_gpt2

    words = [f"v{i}" for i in range(3000)]
    folder = save_random_gpt2(tmp_path / "wide_vocab", words, n_layer=2, n_head=2, n_embd=16)
    controller = Controller()
    controller.state = ViewState(prompt="v1 v2 v3 v4", target="v5", foil="v6")
    win = MainWindow(controller, Settings())
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(controller.result_ready, timeout=TIMEOUT):
        controller.load_model(str(folder), "cpu")
    assert controller.last_result.logit_lens is not None
    live_results = []
    controller.result_ready.connect(lambda r: live_results.append(r.logit_lens is None))
    for value in (90, 70, 50):
        controller.scale(["L1.H0"], value / 100)
    qtbot.waitUntil(lambda: any(live_results), timeout=TIMEOUT)
    assert "paused" in win.view("lens").caption.text() and win.view("lens").image.opacity() < 1.0
    qtbot.waitUntil(lambda: controller.last_result.logit_lens is not None, timeout=TIMEOUT)
    assert controller.last_result.interventions == (Scale("L1.H0", 0.5),)
    assert win.view("lens").image.opacity() == 1.0 and "paused" not in win.view("lens").caption.text()
    win.close()


def test_gpt2_style_answers_keep_their_leading_space(window) -> None:
    window.controller.set_target(" Mary")
    window.controller.set_foil("   ")
    assert window.controller.state.target == " Mary" and window.controller.state.foil == ""


def test_export_to_an_unwritable_place_reports_instead_of_raising(window, tmp_path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert window.files.export_all_data(str(blocker / "sub"), ("csv",)) == []
    assert "Could not export" in window.error_label.text()


def test_changing_the_corrupted_prompt_updates_resample_ablations(qtbot, window) -> None:
    c = window.controller
    c.set_corrupted("When John and Mary went to the park , Mary gave a drink to")
    c.ablate(["L0.H2"], "resample")
    c.set_corrupted("When Mary and John went to the shop , John gave a book to")
    assert c.state.interventions == (Ablation("L0.H2", "resample", source_prompt=c.state.corrupted),)
    run_until(qtbot, c, lambda r: r.interventions == c.state.interventions)


def test_a_display_failure_is_reported_and_the_window_keeps_working(qtbot, window, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ValueError("simulated widget failure")

    monkeypatch.setattr(window.view("lens"), "set_lens", broken)
    window.controller.result_ready.emit(window.controller.last_result)
    assert "Internal display error" in window.error_label.text()
    monkeypatch.undo()
    window.controller.result_ready.emit(window.controller.last_result)
    assert window.error_label.text() == ""


def test_a_drop_paints_the_numbers_first_and_marks_what_is_still_coming(qtbot, demo_window) -> None:
    """Between the drop and its numbers the graph, the predictions and the patterns say they
    are the previous run's; the numbers arrive (progressively) before the lens; then nothing
    is marked stale."""
    window = demo_window
    c, graph, grid, prompt = window.controller, window.view("graph"), window.view("heads"), window.view("prompt")
    events = []
    c.partial_ready.connect(lambda r: events.append(("partial", r.dla is not None, r.logit_lens is None)))
    c.result_ready.connect(lambda r: events.append(("complete", r.dla is not None, r.logit_lens is None)))
    c.stale_after_ms = 0  # mark at once (by default only what is still missing after 100 ms)
    c.ablate(["L1.H4"])
    qtbot.waitUntil(lambda: graph.updating or bool(events), timeout=TIMEOUT)
    assert graph.updating and prompt.updating and grid.stale
    assert "updating" in window.time_label.text() and "lens" in window.time_label.text()
    qtbot.waitUntil(lambda: any(kind == "complete" for kind, *_ in events), timeout=TIMEOUT)
    assert events[0] == ("partial", True, True)  # the numbers, before the lens
    assert events[-1] == ("complete", True, False)
    assert not graph.updating and not prompt.updating and not grid.stale
    assert "updating" not in window.time_label.text() and "ms" in window.time_label.text()
    assert "updating" not in window.view("lens").caption.text()
