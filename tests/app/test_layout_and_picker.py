"""Window layout persists across runs; the model picker returns what the user chose."""

from __future__ import annotations

import pytest

from app.controller import Controller, ViewState
from app.main_window import MainWindow
from app.model_picker import DEMO_ENTRY, ModelPicker
from app.settings import load_settings
from tests.app.conftest import shown_window


def window_on(qtbot, source) -> MainWindow:
    """A window with a short prompt, its model loaded and the first result shown."""
    controller = Controller()
    controller.state = controller.state.__class__(prompt="the store", target="", foil="")
    window = MainWindow(controller, load_settings())
    qtbot.addWidget(window)
    with qtbot.waitSignal(controller.result_ready, timeout=120_000):
        controller.load_model(str(source), "cpu")
    return window


def test_layout_is_restored_in_the_next_session(qtbot) -> None:
    first = MainWindow(Controller(), load_settings())
    qtbot.addWidget(first)
    first.show()
    first.docks["detail"].hide()
    first.resize(1234, 777)
    first.close()  # saves settings and stops the engine thread

    saved = load_settings()
    assert saved.window_state and saved.window_geometry
    second = MainWindow(Controller(), saved)
    qtbot.addWidget(second)
    second.show()
    assert not second.docks["detail"].isVisible() and second.docks["lens"].isVisible()
    second.close()


def test_model_picker_choices(qtbot) -> None:
    picker = ModelPicker(["/models/pythia-70m"])
    qtbot.addWidget(picker)
    assert picker.list.item(0).text() == DEMO_ENTRY
    assert picker.choice() == (None, "auto", "float32")
    picker.list.setCurrentRow(1)
    assert picker.choice() == ("/models/pythia-70m", "auto", "float32")
    picker.source_edit.setText("  EleutherAI/pythia-70m ")
    picker.device_box.setCurrentIndex(picker.device_box.findData("cpu"))
    picker.dtype_box.setCurrentText("bfloat16")
    assert picker.choice() == ("EleutherAI/pythia-70m", "cpu", "bfloat16")


def test_model_picker_estimates_memory_from_the_config(qtbot, tiny_gpt2_dir) -> None:
    from transformers import AutoModelForCausalLM

    from app.model_picker import count_text

    picker = ModelPicker([])
    qtbot.addWidget(picker)
    picker.source_edit.setText(str(tiny_gpt2_dir))
    n_params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir).parameters())
    shown = picker.estimate_label.text()
    assert f"{count_text(n_params)} parameters in float32" in shown and "GiB free" in shown
    assert (count_text(124_439_808), count_text(6_738_415_616), count_text(52_100)) == ("124 M", "6.74 B", "52.1 k")
    picker.dtype_box.setCurrentText("bfloat16")
    assert "in bfloat16" in picker.estimate_label.text()
    picker.source_edit.setText("someone/some-model")
    assert "config.json" in picker.estimate_label.text()


def test_cancelled_load_keeps_the_previous_model(qtbot, tiny_gpt2_dir, tmp_path) -> None:
    from training.tiny_models import save_random_gpt2

    other = save_random_gpt2(tmp_path / "three_layers", ["a", "b", "c"], n_layer=3)
    window = window_on(qtbot, tiny_gpt2_dir)
    controller = window.controller
    controller.load_model(str(other), "cpu")
    assert window.cancel_action.isEnabled()
    controller.cancel_load()
    assert not window.cancel_action.isEnabled()
    with qtbot.waitSignal(controller.result_ready, timeout=120_000):
        controller.set_prompt("the store gave")
    assert controller.last_result.patterns.shape[0] == 2  # still the 2-layer model
    assert controller.loaded.info.n_layers == 2
    window.close()


def test_a_focused_head_does_not_survive_a_switch_to_a_smaller_model(qtbot, tiny_gpt2_dir, tmp_path) -> None:
    from training.tiny_models import save_random_gpt2

    bigger = save_random_gpt2(tmp_path / "four_layers", ["the", "store", "a"], n_layer=4, n_head=8)
    window = window_on(qtbot, bigger)
    controller = window.controller
    window.show_head(3, 7)
    window.focus_position(2)
    with qtbot.waitSignal(controller.result_ready, timeout=120_000):
        controller.load_model(str(tiny_gpt2_dir), "cpu")
    head = controller.state.focused_head
    assert (head is None or (head[0] < 2 and head[1] < 4)) and window.view("heads").grid_shape == (2, 4)
    assert window.view("detail").title.text().startswith("L")  # the detail shows a head of this model
    window.close()


def test_the_old_model_is_released_after_a_load_and_kept_after_a_late_cancel(qtbot, tiny_gpt2_dir, tmp_path) -> None:
    from training.tiny_models import save_random_gpt2

    other = save_random_gpt2(tmp_path / "three", ["the", "store"], n_layer=3)
    controller = Controller()
    controller.state = controller.state.__class__(prompt="the store", target="", foil="")
    service = controller.client.service
    with qtbot.waitSignal(controller.result_ready, timeout=120_000):
        controller.load_model(str(tiny_gpt2_dir), "cpu")
    first = service.engine
    with qtbot.waitSignal(controller.result_ready, timeout=120_000):
        controller.load_model(str(other), "cpu")
    qtbot.waitUntil(lambda: service.previous is None, timeout=10_000)  # the 2-layer model is not held
    assert service.engine is not first and service.engine.info.n_layers == 3

    # a cancel that arrives after the worker finished the load: the UI drops it, the engine goes back too
    controller._cancelled_loads.add(controller.client.latest("load") + 1000)  # keep the set non-trivial
    with qtbot.waitSignal(controller.client.finished, timeout=120_000,
                          check_params_cb=lambda i, kind, payload: kind == "load"):
        request_id = controller.load_model(str(tiny_gpt2_dir), "cpu")
        controller._cancelled_loads.add(request_id)  # as if Cancel was pressed just as it finished
        controller.client.forget("load")
    qtbot.waitUntil(lambda: service.engine.info.n_layers == 3 and service.previous is None, timeout=10_000)
    assert controller.loaded.info.n_layers == 3
    controller.shutdown()


@pytest.mark.parametrize("family", ["gpt_neox", "llama", "gemma", "gemma2", "opt", "phi3", "gptj"])
def test_the_window_opens_other_families(qtbot, tmp_path, family) -> None:
    from tests.conftest import TINY_WORDS
    from training.tiny_models import save_random_family

    folder = save_random_family(tmp_path / family, TINY_WORDS, family)
    window = shown_window(qtbot, ViewState(prompt="When Mary and John went", target="Mary", foil="John"), str(folder))
    controller = window.controller
    assert window.view("heads").grid_shape == (2, 4)
    assert set(window.view("graph").nodes) >= {"L1.H3", "L1.mlp", "embed", "unembed"}
    assert controller.last_result.dla is not None
    assert window.fidelity_label.text().startswith("✓ matches HF"), window.fidelity_label.toolTip()
    window.close()
