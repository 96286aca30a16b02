"""The features panel in the window: a dictionary checked against the model before it joins
the live run, then following every edit; one made for another model refused with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Ablation, Engine
from engine.paths import demo_model_dir
from tests.app.conftest import CLEAN, TIMEOUT, wait_failed, wait_result
from tests.demo_facts import THE_FEATURE, CLAMPED_FEATURE

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")


def test_a_dictionary_joins_the_live_run_and_follows_an_edit(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["features"]
    with wait_result(qtbot, c, "features"):
        panel.open(FOLDER)
    assert c.live_readouts["features"] == {"folder": FOLDER} and "1,536 features" in window.view("features").toolTip() + \
        panel.shown.label
    clean = panel.shown
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT):
        c.ablate(["L0.H5"])
    qtbot.waitUntil(lambda: panel.shown is not clean, timeout=TIMEOUT)
    expected = Engine(device="cpu").run(CLEAN, [Ablation("L0.H5")], want=(),
                                        readouts={"features": {"folder": FOLDER}}).readouts["features"]
    np.testing.assert_array_equal(panel.shown.top_ids, expected.top_ids)
    np.testing.assert_allclose(panel.shown.shown_values, expected.shown_values, atol=1e-5)
    rows, header, arrays = panel.export_tables()["features"]
    assert header == ("position", "token", "feature", "activation") and arrays["top_ids"].shape == expected.top_ids.shape
    state = panel.session_state()
    assert state["folder"] == FOLDER and len(state["digest"]) == 64


def test_a_session_whose_dictionary_changed_says_so(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["features"]
    shown: list[str] = []
    panel.ctx.show_error = shown.append
    with wait_result(qtbot, c, "features"):
        panel.restore_session({"folder": FOLDER, "digest": "0" * 64})
    assert panel.folder == FOLDER and shown and "changed since the session was saved" in shown[0]


def test_a_dictionary_for_another_model_is_refused_and_nothing_changes(qtbot, demo_window, tmp_path) -> None:
    from safetensors.torch import save_file
    import json
    import torch

    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "cfg.json").write_text(json.dumps({"architecture": "standard", "d_in": 32, "d_sae": 8,
                                                 "metadata": {"hook_name": "blocks.0.hook_resid_post"}}))
    save_file({"W_enc": torch.zeros(32, 8), "W_dec": torch.zeros(8, 32), "b_enc": torch.zeros(8), "b_dec": torch.zeros(32)},
              str(folder / "sae_weights.safetensors"))
    window, c = demo_window, demo_window.controller
    errors: list[str] = []
    c.error.connect(errors.append)
    with wait_failed(qtbot, c, "features") as failed:
        window.panels["features"].open(str(folder))
    assert "192" in failed.args[1] or "d_in" in failed.args[1], failed.args
    assert "features" not in c.live_readouts and window.panels["features"].folder is None
    with pytest.raises(ValueError, match="folder"):
        type(window.panels["features"]).validate_session({"folder": None}, 1)


def test_a_feature_edit_from_the_panel_is_undoable_and_saved(qtbot, demo_window, tmp_path) -> None:
    from engine.interventions import FeatureEdit

    window, c = demo_window, demo_window.controller
    panel = window.panels["features"]
    with wait_result(qtbot, c, "features"):
        panel.open(FOLDER)
    before = c.last_result.logit_diff
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT):
        panel.edit_feature(CLAMPED_FEATURE, "clamp", 30.0)
    edit = FeatureEdit(f"L0.resid_post/sae:{CLAMPED_FEATURE}", FOLDER, "clamp", 30.0)
    qtbot.waitUntil(lambda: c.last_result.interventions == (edit,), timeout=TIMEOUT)
    expected = Engine(device="cpu").run(CLEAN, [edit], want=(), target="Mary", foil="John")
    assert c.last_result.logit_diff == pytest.approx(expected.logit_diff, abs=1e-4) and abs(expected.logit_diff - before) > 1
    assert window.view("graph").nodes["L0.H1"].state is None  # not a graph node
    path = tmp_path / "s.microtome"
    window.files.sessions.save(path)
    c.undo_stack.undo()
    qtbot.waitUntil(lambda: c.last_result.interventions == (), timeout=TIMEOUT)
    from tests.app.test_sessions import open_and_wait

    message, reproduced = open_and_wait(qtbot, window, path)
    assert reproduced, message
    assert c.state.interventions == (edit,) and window.panels["features"].session_state()["folder"] == FOLDER


def test_a_session_whose_dictionary_is_gone_says_so(qtbot, demo_window, tmp_path) -> None:
    window = demo_window
    errors: list[str] = []
    window.controller.error.connect(errors.append)
    shown: list[str] = []
    window.panels["features"].ctx.show_error = shown.append
    window.panels["features"].restore_session({"folder": str(tmp_path / "gone")})
    assert shown and "missing" in shown[0] and window.panels["features"].folder is None


def test_searching_a_token_lists_the_features_that_fire_on_it(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel, strip = window.panels["features"], window.view("features")
    with wait_result(qtbot, c, "features"):
        panel.open(FOLDER)
    strip.search.setText("the")
    with wait_result(qtbot, c, "feature_search"):
        qtbot.keyClick(strip.search, "\r")
    found = c.results.get("feature_search")
    assert THE_FEATURE in found.feature_ids[:3].tolist()  # the card's 'the' feature
    assert strip.listed()[0][0] == int(found.feature_ids[0]) and "Features on" in strip.list_title.text()
    with wait_failed(qtbot, c, "feature_search") as failed:
        panel.search("Paris")
    assert "vocabulary" in failed.args[1]


def test_a_shipped_transcoders_feature_is_edited_on_the_mlp_output(qtbot, demo_window) -> None:
    """The demo's layer-1 transcoder: its features are read from the MLP's input and an
    ablation from the panel moves the MLP's output (the address names the MLP)."""
    from engine.interventions import FeatureEdit

    window, c = demo_window, demo_window.controller
    panel = window.panels["features"]
    folder = str(demo_model_dir().parent / "demo_saes" / "L1.mlp_transcoder")
    with wait_result(qtbot, c, "features"):
        panel.open(folder)
    assert "transcoder" in panel.shown.label and panel.shown.site_out == "blocks.1.hook_mlp_out"
    feature = int(panel.shown.top_ids[-1][0])  # the strongest feature at the last position
    assert panel.component(feature) == f"L1.mlp/transcoder:{feature}"
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT):
        panel.edit_feature(feature, "ablate")
    qtbot.waitUntil(lambda: c.last_result is not None and bool(c.last_result.interventions) and not c.pending,
                    timeout=TIMEOUT)
    expected = Engine(device="cpu").run(CLEAN, [FeatureEdit(f"L1.mlp/transcoder:{feature}", folder, "ablate")], want=(),
                                        target="Mary", foil="John")
    assert c.last_result.logit_diff == pytest.approx(expected.logit_diff, abs=1e-4)
