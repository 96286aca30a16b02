"""The steering panel in the window: a vector from pairs becomes an undoable intervention,
dragging its strength changes the live numbers as the engine computes them, a sweep shows
where the answer flips, a feature's decoder row steers, and sessions keep the vector."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Engine
from engine.interventions import Steer
from tests.app.conftest import CLEAN, CORRUPT, TIMEOUT, wait_result


def make_vector(qtbot, window):
    c, panel = window.controller, window.panels["steering"]
    with wait_result(qtbot, c, "steering_vector"):
        panel.make_vector({"component": "L1.resid_pre", "positives": [CLEAN], "negatives": [CORRUPT], "position": "last"})
    qtbot.waitUntil(lambda: any(i.kind == "steer" for i in c.state.interventions), timeout=TIMEOUT)
    return panel


def test_a_vector_from_a_pair_steers_live_and_undoably(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_vector(qtbot, window)
    steer = next(i for i in c.state.interventions if i.kind == "steer")
    assert steer.strength == 0.0 and steer.component == "L1.resid_pre" and "two prompts" in steer.source
    panel.widget.strength_changed.emit(1.5)
    qtbot.waitUntil(lambda: c.last_result is not None and any(
        getattr(i, "strength", None) == 1.5 for i in c.last_result.interventions), timeout=TIMEOUT)
    expected = Engine(device="cpu").run(CLEAN, [steer.with_strength(1.5)], want=(), target="Mary", foil="John")
    assert c.last_result.logit_diff == pytest.approx(expected.logit_diff, abs=1e-3)
    c.undo_stack.undo()  # the drag and the vector's arrival are separate undo steps
    assert next(i for i in c.state.interventions if i.kind == "steer").strength == 0.0
    assert panel.widget.strength() == 0.0


def test_a_sweep_finds_where_the_answer_flips(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_vector(qtbot, window)
    with wait_result(qtbot, c, "steering_sweep"):
        panel.sweep({"low": 0.0, "high": 2.0, "n": 9, "words": []})
    sweep = panel.shown_sweep
    assert sweep.logit_diff[0] > 0 and sweep.logit_diff.min() < 0 and sweep.flips_at() is not None
    rows, header, arrays = panel.export_tables()["steering_sweep"]
    assert header[:2] == ("strength", "logit_diff") and len(rows) == 9


def test_turning_steering_off_and_sessions(qtbot, demo_window, tmp_path) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_vector(qtbot, window)
    panel.widget.enabled_changed.emit(False)
    assert not any(i.kind == "steer" for i in c.state.interventions)
    state = panel.session_state()
    restored = type(panel).validate_session(state, 1)
    panel.vector = None
    panel.restore_session(restored)
    assert np.allclose(panel.vector.vector, state["vector"]["values"])
    panel.save(str(tmp_path / "v.safetensors"))
    from engine.steering import vector_from_file

    assert np.allclose(vector_from_file(tmp_path / "v.safetensors", 192), panel.vector.vector)
    with pytest.raises(ValueError):
        type(panel).validate_session({"vector": {"component": "L1.H0", "values": [1.0]}}, 1)


def test_a_feature_steers_from_the_features_panel(qtbot, demo_window) -> None:
    from engine.paths import demo_model_dir

    window, c = demo_window, demo_window.controller
    folder = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")
    features = window.panels["features"]
    with wait_result(qtbot, c, "features"):
        features.open(folder)
    with wait_result(qtbot, c, "steering_vector"):
        features.steer_with(7)
    qtbot.waitUntil(lambda: any(i.kind == "steer" for i in c.state.interventions), timeout=TIMEOUT)
    steer = next(i for i in c.state.interventions if i.kind == "steer")
    assert steer.component == "L0.resid_post" and "feature #7" in steer.source
    assert isinstance(steer, Steer) and window.panels["steering"].vector.strength_bound() > 1
