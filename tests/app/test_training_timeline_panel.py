"""The training timeline in the window: a model's checkpoints found, measured, and scrubbed
through with the prompt and the interventions kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.controller import ViewState
from engine import Ablation, Engine
from tests.app.conftest import IOI_PROMPT, TIMEOUT_MS, shown_window, wait_result
from tests.conftest import TINY_WORDS
from training.tiny_models import save_random_gpt2


@pytest.fixture(scope="module")
def model_with_timeline(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("with_timeline")
    model = save_random_gpt2(root / "model", TINY_WORDS, initializer_range=0.3, seed=0)
    for step, seed in ((0, 4), (50, 5), (400, 6)):
        save_random_gpt2(model / "checkpoints" / f"step_{step:05d}", TINY_WORDS, initializer_range=0.3, seed=seed)
    return model


@pytest.fixture
def window(qtbot, model_with_timeline):
    window = shown_window(qtbot, ViewState(prompt=IOI_PROMPT, target="Mary", foil="John"), str(model_with_timeline))
    yield window
    window.files.sessions.dirty = False
    window.close()


def test_a_model_with_checkpoints_opens_its_timeline_and_measures_it(qtbot, window, model_with_timeline) -> None:
    panel, view = window.panels["timeline"], window.view("timeline")
    assert [c.step for c in panel.checkpoints] == [0, 50, 400]
    assert view.current is None  # the model itself is none of its checkpoints
    with wait_result(qtbot, window.controller, "training_timeline"):
        view.compute_requested.emit()
    shown = panel.shown
    expected = Engine(str(model_with_timeline / "checkpoints" / "step_00050"), device="cpu").run(
        IOI_PROMPT, want=(), target="Mary", foil="John")
    assert shown.logit_diff[1] == pytest.approx(expected.logit_diff, abs=1e-4)
    assert len(view.plots) == 3
    np.testing.assert_allclose(view.lines[1].getData()[1], shown.copy_loss)
    rows, header, arrays = panel.export_tables()["training_timeline"]
    assert header[0] == "step" and [r[0] for r in rows] == [0, 50, 400] and arrays["induction"].shape == (3, 2, 4)


def test_choosing_a_checkpoint_loads_it_with_the_prompt_and_the_interventions_kept(qtbot, window, model_with_timeline) -> None:
    c, view = window.controller, window.view("timeline")
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT_MS):
        c.ablate(["L1.H2"])
    with qtbot.waitSignal(c.model_loaded, timeout=TIMEOUT_MS):
        view.checkpoint_chosen.emit(2)
    qtbot.waitUntil(lambda: c.last_result is not None and c.last_result.interventions == (Ablation("L1.H2"),)
                    and c.loaded.info.source.endswith("step_00400"), timeout=TIMEOUT_MS)
    assert view.current == 2 and c.state.prompt == IOI_PROMPT
    expected = Engine(str(model_with_timeline / "checkpoints" / "step_00400"), device="cpu").run(
        IOI_PROMPT, [Ablation("L1.H2")], want=(), target="Mary", foil="John")
    assert c.last_result.logit_diff == pytest.approx(expected.logit_diff, abs=1e-4)


def test_a_folder_that_is_not_a_timeline_says_why_and_keeps_the_one_shown(qtbot, window, tmp_path) -> None:
    panel = window.panels["timeline"]
    errors = []
    window.controller.error.connect(errors.append)
    assert panel.open(tmp_path, quiet=True) is False
    assert [c.step for c in panel.checkpoints] == [0, 50, 400]
    assert "step_<N>" in window.view("timeline").status.toolTip() + window.view("timeline").status.text()


def test_the_timeline_folder_is_kept_in_sessions(window, model_with_timeline) -> None:
    panel = window.panels["timeline"]
    state = panel.session_state()
    assert Path(state["folder"]) == model_with_timeline / "checkpoints"
    with pytest.raises(ValueError, match="folder"):
        type(panel).validate_session({"folder": 3}, 1)
