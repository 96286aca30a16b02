"""Regression tests for what a careful first-time user, a random-action run, fault injection
and a session fuzz hit (issue 16). Each test names its item; window bugs go through the
window (a fake job client where the engine is beside the point, the real thread where not)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from app.controller import Controller
from app.engine_service import describe_failure
from app.main_window import MainWindow
from app.session_file import SessionError, parse_session
from app.settings import Settings
from engine import Ablation
from tests.app.conftest import IOI_PROMPT, TIMEOUT_MS
from tests.app.fakes import FakeClient
from tests.app.test_controller import fake_result
from tests.app.test_session_fuzz import VALID

ROOT = Path(__file__).resolve().parents[2]
from tests.app.conftest import FAKE_PROMPT as PROMPT  # noqa: E402




def finish_run(client: FakeClient, prompt: str, interventions: tuple = (), lane: str = "run", **kwargs) -> None:
    job = max(i for i, r in client.jobs.items() if r.key == "run" and r.lane == lane)
    client.finish(job, fake_result(prompt, interventions, **kwargs))


# ---- 2. unknown words are refused (answers) or marked (prompt)
def test_2_an_answer_outside_the_vocabulary_is_refused_with_the_nearest_tokens() -> None:
    from engine import Engine, UnknownTokenError

    demo = Engine(device="cpu")
    with pytest.raises(UnknownTokenError, match="not in this model's vocabulary"):
        demo.token_id("Xyzzy")
    with pytest.raises(UnknownTokenError, match="nearest vocabulary tokens: 'Mary'"):
        demo.token_id("Maryy")


def test_2_unknown_prompt_words_are_marked_on_their_chips_and_named(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT_MS):
        c.set_prompt("the cat sat on the mat")
    assert c.last_result.unknown_words == ("sat", "on", "mat")
    assert window.view("prompt").unknown_positions() == list(c.last_result.unknown_positions)
    assert any("'sat', 'on', 'mat'" in m for m in messages)
    with qtbot.waitSignal(c.error, timeout=TIMEOUT_MS) as error:
        c.set_target("Xyzzy")
    assert "not in this model's vocabulary" in error.args[0]


# ---- 3. the focus follows the last token when the prompt gets shorter
def test_3_a_focus_beyond_a_shorter_prompt_follows_its_last_token(fake_window) -> None:
    window, client = fake_window
    c = window.controller
    c.focus_position(6)
    assert window.view("detail").query == 6
    c.set_prompt("When Mary went")
    finish_run(client, "When Mary went")
    assert c.state.focused_position is None
    assert window.view("detail").query == 2 and window.view("attention_text").focus == 2


# ---- 4. a result is shown against the baseline of its own state
def test_4_a_result_is_never_summarised_against_another_answers_baseline(fake_window) -> None:
    window, client = fake_window
    c = window.controller
    c.set_foil("")
    finish_run(client, PROMPT, logit_diff=None)  # the clean run without a foil becomes the baseline
    c.ablate(["L1.H2"])
    finish_run(client, PROMPT, (Ablation("L1.H2"),), logit_diff=None)
    c.set_foil("John")  # a run and a new baseline are submitted; the run finishes first
    finish_run(client, PROMPT, (Ablation("L1.H2"),), logit_diff=-2.0)
    assert "Internal display error" not in window.error_label.text()
    summary = window.view("graph").summary.text()
    assert "-2.00" in summary and "→" not in summary  # no before -> after until its own baseline arrives
    finish_run(client, PROMPT, lane="baseline", logit_diff=3.0)
    assert "+3.00 → <b>-2.00" in window.view("graph").summary.text()


# ---- 5. session verdicts judge the session's own state, and stay visible
def test_5a_a_save_right_after_an_edit_stores_no_stale_numbers(fake_window) -> None:
    window, client = fake_window
    assert window.files.sessions.snapshot().results is not None  # the shown run is this state's
    window.controller.set_foil("")
    assert window.files.sessions.snapshot().results is None  # its run has not arrived: no wrong digest
    finish_run(client, PROMPT, logit_diff=None)
    assert window.files.sessions.snapshot().results is not None


def test_5b_5c_a_failing_session_run_clears_its_verdict_and_a_verdict_stays_visible(qtbot, tiny_window,
                                                                                    tmp_path) -> None:
    window, c = tiny_window, tiny_window.controller
    path = tmp_path / "s.microtome"
    assert window.files._save_to(path)
    data = json.loads(path.read_text())
    data["results"]["logit_diff"] += 1.0  # as if saved on other weights
    path.write_text(json.dumps(data))
    with qtbot.waitSignal(window.files.sessions.verdict, timeout=TIMEOUT_MS) as verdict:
        window.files.open(str(path))
    assert verdict.args[1] is False and "does not reproduce" in window.verdict_label.text()
    c.focus_head(0, 1)  # not a change of state: the verdict still describes what is shown
    assert "does not reproduce" in window.verdict_label.text()

    data["prompt"] = "the " * 100  # over the tiny model's context: the session's own run fails
    path.write_text(json.dumps(data))
    with qtbot.waitSignal(window.files.sessions.verdict, timeout=TIMEOUT_MS) as verdict:
        window.files.open(str(path))
    assert verdict.args[1] is False and "run failed" in verdict.args[0]
    verdicts = []
    window.files.sessions.verdict.connect(lambda *args: verdicts.append(args))
    with qtbot.waitSignal(c.result_ready, timeout=TIMEOUT_MS):
        c.set_prompt("the store gave")
    assert verdicts == []  # no later run is judged against the failed session


# ---- 6. pickle checkpoints can be allowed from the picker and the command line
def test_6_pickles_can_be_allowed_in_the_picker_and_the_cli(qtbot, fake_window) -> None:
    from app.__main__ import parse_args
    from app.model_picker import ModelPicker

    assert parse_args(["some/folder", "--allow-pickle"]).allow_pickle is True
    assert parse_args(["some/folder"]).allow_pickle is False
    window, client = fake_window
    picker = ModelPicker([], window)
    qtbot.addWidget(picker)
    assert not picker.pickle_allowed
    picker.allow_pickle.setChecked(True)
    assert picker.pickle_allowed and "code" in picker.allow_pickle.toolTip()
    window.controller.load_model("some/folder", "cpu", "float32", picker.pickle_allowed)
    assert client.last("load")[1].params.allow_pickle is True


# ---- 7. opening a model asks before it drops work
def test_7_opening_a_model_asks_before_dropping_interventions(fake_window) -> None:
    window, client = fake_window
    asked = []
    window.files.ask = lambda title, text, buttons: asked.append(text) or QMessageBox.StandardButton.Cancel
    assert window.confirm_model_change() and asked == []  # nothing to lose: no question
    window.controller.ablate(["L0.H1"])
    assert not window.confirm_model_change() and "1 intervention" in asked[-1]
    window.files.ask = lambda *a: QMessageBox.StandardButton.Open
    assert window.confirm_model_change()


# ---- 8. a bad model or session on the command line opens the demo model, saying why
def test_8_a_model_that_cannot_be_opened_at_start_falls_back_to_the_demo_model(qtbot, tmp_path) -> None:
    from app.fallback import open_demo_if_nothing_opens

    window = MainWindow(Controller(), Settings())
    qtbot.addWidget(window)
    open_demo_if_nothing_opens(window, "cpu")
    with qtbot.waitSignal(window.controller.result_ready, timeout=TIMEOUT_MS):
        window.controller.load_model(str(tmp_path / "missing"), "cpu")
    assert window.controller.loaded.is_demo
    assert "not found" in window.verdict_label.text() and "demo model was opened instead" in window.verdict_label.text()
    window.close()


# ---- 9. Enter on an empty prompt says so every time; stale panels are called stale
def test_9_enter_on_an_empty_prompt_always_answers(qtbot, tiny_window) -> None:
    window, c = tiny_window, tiny_window.controller
    panel = window.view("prompt")
    for _ in range(2):
        panel.prompt_edit.setText("")
        with qtbot.waitSignal(c.error, timeout=TIMEOUT_MS) as error:
            panel.prompt_edit.returnPressed.emit()
        assert "empty" in error.args[0] and "still show the last run" in error.args[0]
    assert "empty" in window.error_label.text()


# ---- 11 and 19. right-click selects the node it acts on, and leaves no menu behind
def test_11_19_right_click_selects_its_node_and_leaves_no_menu(qtbot, fake_window) -> None:
    window, _ = fake_window
    graph = window.view("graph")
    graph.nodes["L0.H1"].setSelected(True)

    def close_menu() -> None:
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
    for _ in range(3):
        QTimer.singleShot(50, close_menu)
        graph.show_menu(graph.nodes["L1.H2"], graph.mapToGlobal(graph.rect().center()))
    QApplication.sendPostedEvents(None, 0)
    assert graph.selected_names() == ["L1.H2"]
    qtbot.waitUntil(lambda: not graph.findChildren(QMenu), timeout=2000)


def test_19_the_model_picker_is_not_left_behind(qtbot, fake_window, monkeypatch) -> None:
    from app.model_picker import ModelPicker

    window, _ = fake_window
    monkeypatch.setattr(ModelPicker, "exec", lambda self: 0)
    for _ in range(3):
        window.pick_model()
    qtbot.waitUntil(lambda: not window.findChildren(ModelPicker), timeout=2000)


# ---- 12. applying a denoising cell says how the graph's number relates to the cell's
def test_12_an_applied_cell_says_which_direction_the_graph_runs() -> None:
    from app.panels.patching import direction_note
    from engine.results import PatchingResult

    grid = PatchingResult("head", np.array([[0.6]]), ("L0",), ("H3",), 2.0, -1.0, "denoise", np.array([[0.8]]))
    assert "opposite patch" in direction_note(grid, 0, 0) and "+0.60" in direction_note(grid, 0, 0)
    noise = PatchingResult("head", np.array([[0.6]]), ("L0",), ("H3",), 2.0, -1.0, "noise", np.array([[0.8]]))
    assert "exactly this noising patch" in direction_note(noise, 0, 0)


# ---- 13. file dialogs start in the last folder used
def test_13_the_save_dialog_starts_where_the_last_save_went(fake_window, tmp_path, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog

    window, _ = fake_window
    starts = []

    def dialog(parent, title, start, filters):
        starts.append(start)
        return str(tmp_path / f"s{len(starts)}.microtome"), filters
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    assert window.files.save_as() and window.files.save_as()
    assert starts[0] == "untitled.microtome" and starts[1] == str(tmp_path / "untitled.microtome")


# ---- 14. quitting with a read-only or full config folder still stops the engine and closes
def test_14_quitting_survives_unwritable_settings_and_recovery(fake_window, monkeypatch, tmp_path) -> None:
    import app.file_actions
    import app.main_window

    window, client = fake_window
    stopped = []
    monkeypatch.setattr(client, "shutdown", lambda: stopped.append(True))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(app.main_window, "save_settings", full)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr(app.file_actions, "recovery_path", lambda: blocker / "recovery.microtome")
    window.files.sessions.dirty = False
    assert window.close()
    assert stopped == [True] and not window.isVisible()


# ---- 15. autosave soon after a change
def test_15_a_change_is_autosaved_within_seconds(qtbot, fake_window) -> None:
    from app.file_actions import recovery_path

    window, _ = fake_window
    window.files.autosave.setInterval(200)
    recovery_path().unlink(missing_ok=True)
    window.controller.ablate(["L1.H2"])
    qtbot.waitUntil(recovery_path().exists, timeout=3000)
    assert parse_session(recovery_path().read_text()).intervention_objects() == (Ablation("L1.H2"),)


# ---- 16 and 17. damaged or oversized fields are refused by the loader, naming the field
@pytest.mark.parametrize("change, field", [
    (lambda d: d["view"].update(window_state="!!not base64!!"), "window_state"),
    (lambda d: d["interventions"][0].update(component="L01.H04"), "component name"),
    (lambda d: d["interventions"][0].update(component="L١.H4"), "component name"),
    (lambda d: d.update(target="x" * 10_000_000), "target"),
    (lambda d: d.update(prompt="y" * 200_000), "prompt"),
    (lambda d: d["results"].update(logit_diff=1e308), "logit_diff"),
    (lambda d: d.update(analyses={"patching": {"version": 1, "data": {
        "clean": "a", "corrupted": "b", "target": "c", "foil": "d", "sweep": "head",
        "main": {"method": "activation", "sweep": "head", "mode": "denoise", "row_labels": ["L0"],
                 "column_labels": ["H0"], "values": [[1e308]], "clean_metric": 1.0, "corrupted_metric": 0.0}}}}),
     "values"),
])
def test_16_17_damaged_or_oversized_fields_are_refused_naming_the_field(change, field) -> None:
    data = json.loads(json.dumps(VALID))
    change(data)
    with pytest.raises(SessionError, match=field):
        parse_session(json.dumps(data))


def test_17_the_prompt_box_is_bounded() -> None:
    from app.session_file import MAX_PROMPT_CHARS
    from widgets.prompt_panel import PromptPanel

    panel = PromptPanel()
    assert panel.prompt_edit.maxLength() == MAX_PROMPT_CHARS == panel.corrupted_edit.maxLength()
    panel.deleteLater()


# ---- 18. batch export of a session whose run fails: a message and a non-zero exit, no files
@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(prompt=""), "empty"),
    (lambda d: d.update(target="Mary John"), "one token"),
])
def test_18_batch_export_of_a_failing_session_exits_at_once(tmp_path, change, message) -> None:
    data = json.loads(json.dumps(VALID))
    data.update(prompt=IOI_PROMPT, interventions=[], results=None, model={**VALID["model"], "weights_digest": None})
    data["view"]["focused_head"] = None
    change(data)
    session = tmp_path / "s.microtome"
    session.write_text(json.dumps(data))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "app", "export", str(session), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={"QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                               "MICROTOME_CONFIG_DIR": str(tmp_path / "cfg")})
    said = f"exit {proc.returncode}\nstdout: {proc.stdout[-1500:]}\nstderr: {proc.stderr[-3000:]}"
    assert proc.returncode == 2, said
    assert message in proc.stderr and "Traceback" not in proc.stderr, said
    assert not out.exists() or not any(out.iterdir()), said


# ---- 20. out-of-memory and damaged weights get their own messages
def test_20_cpu_out_of_memory_and_damaged_weights_are_named(tmp_path) -> None:
    assert describe_failure(MemoryError()).startswith("Out of memory")
    oom = RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
    assert describe_failure(oom).startswith("Out of memory")
    from safetensors import safe_open
    from safetensors.torch import save_file
    import torch

    path = tmp_path / "w.safetensors"
    save_file({"w": torch.zeros(1000)}, str(path))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(Exception) as damaged:
        with safe_open(str(path), "pt") as f:
            f.get_tensor("w")
    message = describe_failure(damaged.value)
    assert "damaged or truncated" in message and not message.startswith("Internal error")


# ---- 21. opening a session without a sweep clears the one on screen
def test_21_a_session_without_a_sweep_clears_the_heatmap(qtbot, fake_window, tmp_path) -> None:
    from app.patching_record import ShownSweep
    from engine.results import PatchingResult

    window, _ = fake_window
    session = window.files.sessions.snapshot()
    assert session.analysis("patching") is None
    grid = PatchingResult("head", np.ones((2, 4)), ("L0", "L1"), ("H0", "H1", "H2", "H3"), 1.0, 0.0, "noise")
    window.panels["patching"].show(ShownSweep(PROMPT, PROMPT, "Mary", "John", {"sweep": "head"}, grid))
    assert window.view("patching").main.values is not None
    window.files.sessions.open_session(session)
    assert window.panels["patching"].shown is None and window.view("patching").main.values is None
