"""Sessions save and reopen exactly, say when they do not reproduce, reject bad files
without touching the current state, and survive a crash during a save."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.controller import Controller, ViewState
from app.main_window import MainWindow
from app.session_file import SCHEMA_VERSION, load_session, save_session
from app.settings import Settings
from engine import Ablation

PROMPT = "When Mary and John went to the store , John gave a drink to"
TIMEOUT = 120_000


def make_window(qtbot, source: str | None) -> MainWindow:
    controller = Controller()
    controller.state = ViewState(prompt=PROMPT, target="Mary", foil="John")
    window = MainWindow(controller, Settings())
    qtbot.addWidget(window)
    window.show()
    if source is not None:
        with qtbot.waitSignal(controller.result_ready, timeout=TIMEOUT):
            controller.load_model(source, "cpu")
    return window


def open_and_wait(qtbot, window: MainWindow, path: Path) -> tuple[str, bool]:
    with qtbot.waitSignal(window.files.sessions.verdict, timeout=TIMEOUT) as blocker:
        window.files.open(str(path))
    return tuple(blocker.args)


def test_round_trip_reopens_the_same_state_and_numbers(qtbot, tiny_gpt2_dir, tmp_path) -> None:
    first = make_window(qtbot, str(tiny_gpt2_dir))
    c = first.controller
    c.set_corrupted("When Mary and John went to the park , Mary gave a drink to")
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT):
        c.ablate(["L1.H2"], "resample")
    c.focus_head(1, 2)
    path = tmp_path / "work.microtome"
    assert first.files._save_to(path)
    assert not first.files.sessions.dirty
    saved_state, saved_result = c.state, c.last_result

    second = make_window(qtbot, None)
    message, reproduced = open_and_wait(qtbot, second, path)
    assert reproduced, message
    assert "reproduced" in message
    c2 = second.controller
    assert c2.state == saved_state
    assert c2.last_result.logit_diff == pytest.approx(saved_result.logit_diff, abs=1e-6)
    assert (c2.last_result.patterns == saved_result.patterns).all()
    assert second.view("prompt").corrupted_edit.text() == saved_state.corrupted
    assert second.view("graph").nodes["L1.H2"].state == ("resample", None)


def test_changed_weights_are_detected(qtbot, tiny_gpt2_dir, tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_gpt2_dir, model_dir)
    window = make_window(qtbot, str(model_dir))
    path = tmp_path / "s.microtome"
    window.files._save_to(path)
    weights = load_file(model_dir / "model.safetensors")
    key = next(k for k in weights if k.endswith("attn.c_proj.weight"))
    weights[key] = weights[key] * 3.0
    save_file(weights, model_dir / "model.safetensors", metadata={"format": "pt"})

    other = make_window(qtbot, None)
    message, reproduced = open_and_wait(qtbot, other, path)
    assert not reproduced
    assert "different weights" in message


@pytest.mark.parametrize("mutate, reason", [
    (lambda d: "{not json", "invalid JSON"),
    (lambda d: json.dumps({**d, "schema_version": SCHEMA_VERSION + 1}), "newer Microtome"),
    (lambda d: json.dumps({k: v for k, v in d.items() if k != "prompt"}), "prompt"),
    (lambda d: json.dumps({**d, "interventions": [{"kind": "ablation", "component": "L0.X"}]}), "not a component"),
    (lambda d: json.dumps({**d, "interventions": [{"kind": "ablation", "component": "L7.H0"}]}), "does not fit"),
    (lambda d: json.dumps({**d, "model": {**d["model"], "source": "/nowhere/model"}}), "could not be opened"),
])
def test_bad_files_get_a_clear_message_and_change_nothing(qtbot, tiny_gpt2_dir, tmp_path, mutate, reason) -> None:
    window = make_window(qtbot, str(tiny_gpt2_dir))
    c = window.controller
    good = tmp_path / "good.microtome"
    window.files._save_to(good)
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT):
        c.ablate(["L0.H0"])
    before_state, before_model = c.state, c.loaded
    bad = tmp_path / "bad.microtome"
    bad.write_text(mutate(json.loads(good.read_text())), encoding="utf-8")
    with qtbot.waitSignal(window.files.sessions.failed, timeout=TIMEOUT) as blocker:
        window.files.open(str(bad))
    assert reason in blocker.args[0]
    assert reason in window.error_label.text()
    assert c.state == before_state and c.loaded is before_model


def test_a_crash_during_save_leaves_the_previous_file_intact(qtbot, tiny_gpt2_dir, tmp_path, monkeypatch) -> None:
    window = make_window(qtbot, str(tiny_gpt2_dir))
    path = tmp_path / "keep.microtome"
    window.files._save_to(path)
    original = path.read_bytes()
    session = load_session(path)

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        save_session(path, session.model_copy(update={"prompt": "something else"}))
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["keep.microtome"]  # no temp file left behind


def test_unsaved_changes_are_autosaved_and_recovered(qtbot, tiny_gpt2_dir) -> None:
    from app.file_actions import recovery_path

    window = make_window(qtbot, str(tiny_gpt2_dir))
    with qtbot.waitSignal(window.controller.result_ready, timeout=TIMEOUT):
        window.controller.ablate(["L1.mlp"], "mean")
    window.files.write_recovery()
    assert recovery_path().exists()
    assert load_session(recovery_path()).intervention_objects() == (Ablation("L1.mlp", "mean"),)

    fresh = make_window(qtbot, str(tiny_gpt2_dir))
    from PySide6.QtWidgets import QMessageBox

    fresh.files.ask = lambda *a: QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(fresh.files.sessions.verdict, timeout=TIMEOUT):
        fresh.files.offer_recovery()
    assert fresh.controller.state.interventions == (Ablation("L1.mlp", "mean"),)
    # recovered work is unsaved and has no file of its own: Ctrl+S asks where (issue 16, item 15);
    # the recovery file stays until the work is saved or discarded, so a second crash loses nothing
    assert fresh.files.sessions.dirty and fresh.files.sessions.path is None and recovery_path().exists()


def test_closing_with_unsaved_changes_asks_and_can_cancel(qtbot, tiny_gpt2_dir) -> None:
    from PySide6.QtWidgets import QMessageBox

    window = make_window(qtbot, str(tiny_gpt2_dir))
    window.controller.set_target("John")
    asked = []
    window.files.ask = lambda title, text, buttons: asked.append(title) or QMessageBox.StandardButton.Cancel
    window.close()
    assert asked == ["Unsaved changes"] and window.isVisible()
    window.files.ask = lambda *a: QMessageBox.StandardButton.Discard
    window.close()
    assert not window.isVisible()


def test_missing_model_offers_to_pick_it_and_then_applies_the_session(qtbot, tiny_gpt2_dir, tmp_path, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    moved = tmp_path / "moved_model"
    shutil.copytree(tiny_gpt2_dir, moved)
    window = make_window(qtbot, str(moved))
    with qtbot.waitSignal(window.controller.result_ready, timeout=TIMEOUT):
        window.controller.ablate(["L0.H3"])
    path = tmp_path / "s.microtome"
    window.files._save_to(path)
    shutil.rmtree(moved)

    other = make_window(qtbot, None)
    other.files.ask = lambda *a: QMessageBox.StandardButton.Yes
    monkeypatch.setattr("app.model_picker.ModelPicker.exec", lambda self: 1)
    monkeypatch.setattr("app.model_picker.ModelPicker.choice", lambda self: (str(tiny_gpt2_dir), "cpu", "float32"))
    with qtbot.waitSignal(other.files.sessions.verdict, timeout=TIMEOUT) as blocker:
        other.files.open(str(path))
    assert blocker.args[1], blocker.args[0]
    assert other.controller.state.interventions == (Ablation("L0.H3"),)


def test_a_session_whose_model_fails_does_not_become_the_save_target(qtbot, tiny_gpt2_dir, tmp_path) -> None:
    window = make_window(qtbot, str(tiny_gpt2_dir))
    path = tmp_path / "elsewhere.microtome"
    data = json.loads(window.files.sessions.snapshot().model_dump_json())
    data["model"]["source"] = str(tmp_path / "gone")
    path.write_text(json.dumps(data), encoding="utf-8")
    with qtbot.waitSignal(window.files.sessions.failed, timeout=TIMEOUT):
        window.files.open(str(path))
    assert window.files.sessions.path is None  # Ctrl+S will ask where, not overwrite that file
    assert window.controller.state.prompt == PROMPT


def test_a_session_saved_by_the_previous_version_on_the_old_demo_model_opens_and_says_why_it_differs(qtbot, tmp_path) -> None:
    """tests/app/data/v2_demo_session.microtome was written by the version before the panel
    registry (schema 2: the sweep in a top-level `patching` field, L1.H2 ablated, head
    L1.H4 focused) on the demo model before its retraining (issue 17). It opens, says the
    weights are an earlier version of the demo model's (not a failure), and its view,
    interventions and sweep are back."""
    import json
    import shutil

    source = Path(__file__).parent / "data" / "v2_demo_session.microtome"
    stored = json.loads(source.read_text())
    assert stored["schema_version"] == 2 and stored["patching"]["sweep"] == "head"
    path = tmp_path / "old.microtome"
    shutil.copy(source, path)
    window = make_window(qtbot, None)
    message, reproduced = open_and_wait(qtbot, window, path)
    assert not reproduced and "earlier version of the bundled demo model" in message, message
    c = window.controller
    assert c.state.interventions == (Ablation("L1.H2"),) and c.state.focused_head == (1, 4)
    shown = window.panels["patching"].shown
    assert shown is not None and shown.restored and shown.params["sweep"] == "head"
    np.testing.assert_allclose(shown.main.values, stored["patching"]["main"]["values"], atol=1e-12)
    np.testing.assert_allclose(window.view("patching").main.values, shown.main.values)
    window.files.sessions.dirty = False
    window.close()
