"""The generation panel in the window: both columns stream in, the edited one follows the
interventions in force, a stop keeps what was written, an edit regenerates once the edits
rest, and exports carry the text, the JSON and the interventions that made it."""

from __future__ import annotations

import json

from engine import Ablation, Engine
from engine.analysis import Prompt, get, params_from_dict
from tests.app.conftest import TIMEOUT, wait_result
from tests.demo_facts import INDUCTION_HEADS

REPEAT = "the cat sat on the mat . the cat sat on the mat . the cat"


def test_both_columns_arrive_and_match_the_engine(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["generation"]
    c.set_prompt(REPEAT)
    c.ablate(list(INDUCTION_HEADS))
    seen: list = []
    c.results.ready.connect(lambda key, value: key == "generation" and seen.append(value))
    with wait_result(qtbot, c, "generation"):
        panel.generate({"n_new": 10, "temperature": 0.0, "top_p": 1.0, "seed": 0, "apply_to": "all"})
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.complete, timeout=TIMEOUT)
    assert len(seen) >= 2 and not seen[0].complete  # streamed: partial results came first
    analysis = get("generation")
    expected = analysis.run(Engine(device="cpu").handle, Prompt(REPEAT, interventions=tuple(Ablation(h) for h in INDUCTION_HEADS)),
                            params_from_dict(analysis.Params, {"n_new": 10}))
    assert panel.shown.plain.token_ids.tolist() == expected.plain.token_ids.tolist()
    assert panel.shown.edited.token_ids.tolist() == expected.edited.token_ids.tolist()
    assert panel.widget.column_text(0).endswith(expected.plain.text)


def test_an_edit_regenerates_once_the_edits_rest(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["generation"]
    c.set_prompt(REPEAT)
    with wait_result(qtbot, c, "generation"):
        panel.generate({"n_new": 6})
    qtbot.waitUntil(lambda: panel.shown.complete, timeout=TIMEOUT)
    assert panel.shown.edited is None
    c.ablate(list(INDUCTION_HEADS))
    qtbot.waitUntil(lambda: panel.shown.edited is not None and panel.shown.complete, timeout=TIMEOUT)
    assert panel.shown.interventions and panel.shown.interventions[0]["component"] in INDUCTION_HEADS


def test_export_writes_json_and_text_with_the_interventions(qtbot, demo_window, tmp_path) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["generation"]
    c.set_prompt(REPEAT)
    c.ablate([INDUCTION_HEADS[0]])
    with wait_result(qtbot, c, "generation"):
        panel.generate({"n_new": 5})
    qtbot.waitUntil(lambda: panel.shown.complete, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: c.last_result is not None, timeout=TIMEOUT)
    written = window.files.export_all_data(str(tmp_path), ("csv",))
    assert tmp_path / "generation.json" in written and (tmp_path / "generation.csv").is_file()
    data = json.loads((tmp_path / "generation.json").read_text())
    assert data["interventions"][0]["component"] == INDUCTION_HEADS[0]
    assert data["without_interventions"]["text"] == panel.shown.plain.text
    assert REPEAT in (tmp_path / "generation.txt").read_text()


def test_stop_keeps_what_was_written_and_the_session_keeps_the_settings(qtbot, demo_window) -> None:
    panel = demo_window.panels["generation"]
    panel.generate({"n_new": 512, "temperature": 0.8, "top_p": 0.9, "seed": 3, "apply_to": "new"})
    qtbot.waitUntil(lambda: panel.shown is not None, timeout=TIMEOUT)
    panel.stop()
    qtbot.waitUntil(lambda: "stopped" in panel.widget.status.text(), timeout=TIMEOUT)
    assert panel.shown is not None and len(panel.shown.plain.tokens) < 512
    state = panel.session_state()
    assert state["params"]["seed"] == 3 and state["params"]["apply_to"] == "new"
    restored = type(panel).validate_session(state, 1)
    panel.restore_session(restored)
    assert panel.widget.params()["top_p"] == 0.9
