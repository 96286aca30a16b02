"""The circuit panel in the window on the demo model's IOI pair: Find circuit shows a circuit
that carries the model card's IOI heads with its curve and a live faithfulness matching an
independent evaluation; hand edits move the meter (taking the IOI heads out drops it,
back to the found circuit restores it); a clicked edge focuses its sender head and gets its
exact single-edge effect; the circuit survives a session and is exported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import Engine
from engine.analysis import PromptPair
from tests.app.conftest import CLEAN, CORRUPT, TIMEOUT, wait_result
from tests.demo_facts import IOI_HEADS


@pytest.fixture
def found(qtbot, demo_window):
    window, c = demo_window, demo_window.controller
    panel = window.panels["circuits"]
    with wait_result(qtbot, c, "circuit_eval"):
        with wait_result(qtbot, c, "circuit"):
            panel.find()
    return window, panel


def test_find_shows_the_ioi_circuit_and_its_faithfulness(qtbot, found) -> None:
    window, panel = found
    assert set(IOI_HEADS) <= set(panel.view.drawn_nodes())
    mask = panel.circuit()
    reference = Engine(device="cpu").analyse("circuit_eval", PromptPair(CLEAN, CORRUPT, "Mary", "John"),
                                             {"circuits": (tuple(int(e) for e in np.flatnonzero(mask)),)})
    assert panel.last_faithfulness == pytest.approx(float(reference.faithfulness[0]), abs=1e-5)
    assert panel.last_faithfulness >= 0.8


def test_hand_edits_move_the_meter_and_reset_restores_it(qtbot, found) -> None:
    window, panel = found
    c = window.controller
    before = panel.last_faithfulness
    for head in IOI_HEADS:
        with wait_result(qtbot, c, "circuit_eval"):
            panel.view.node_toggled.emit(head)
    assert panel.removed and panel.last_faithfulness < before - 0.3
    with wait_result(qtbot, c, "circuit_eval"):
        panel.view.reset_requested.emit()
    assert panel.last_faithfulness == pytest.approx(before, abs=1e-6)


def test_a_clicked_edge_focuses_its_sender_and_gets_its_exact_effect(qtbot, found) -> None:
    window, panel = found
    c = window.controller
    g = panel.found.graph
    u, _ = g.edges
    index = next(i for i, e in enumerate(panel.drawn) if g.sources[u[e]] in IOI_HEADS)
    with wait_result(qtbot, c, "circuit_eval"):
        panel.view.edge_clicked.emit(index)
    sender = g.sources[u[panel.drawn[index]]]
    assert c.state.focused_head == tuple(int(x[1:]) for x in sender.split("."))
    qtbot.waitUntil(lambda: "exactly" in panel.view.details.toPlainText(), timeout=TIMEOUT)


def test_the_circuit_survives_a_session_and_is_exported(qtbot, found, tmp_path) -> None:
    window, panel = found
    data = json.loads(json.dumps(panel.session_state()))
    checked = type(panel).validate_session(data, 1)
    edges_before = panel.circuit().copy()
    panel.restore_session(checked)
    assert (panel.circuit() == edges_before).all()
    written = panel.export_files(tmp_path)
    saved = json.loads(written[0].read_text())
    assert saved["circuit"] and all("->" in name for name in saved["circuit"])
    with pytest.raises(ValueError, match="shape"):
        type(panel).validate_session({**data, "shape": [2, 0, 1]}, 1)


def test_a_session_restores_the_circuit_as_found_not_re_picked(qtbot, found, monkeypatch) -> None:
    import app.panels.circuits as circuits

    window, panel = found
    monkeypatch.setattr(circuits, "SESSION_SCORES", 3)  # far fewer kept scores than the circuit's greedy walk saw
    panel.set_size(40)
    qtbot.waitUntil(lambda: not panel.settle.isActive(), timeout=TIMEOUT)
    saved = panel.circuit().copy()
    data = type(panel).validate_session(json.loads(json.dumps(panel.session_state())), 1)
    panel.restore_session(data)
    assert (panel.circuit() == saved).all()


def test_a_session_from_another_model_or_a_bad_shape_is_refused_plainly(qtbot, found) -> None:
    window, panel = found
    data = json.loads(json.dumps(panel.session_state()))
    for shape in ([3000, 3000, 3000], [2, 8, 3], [2, "8", 8]):
        with pytest.raises(ValueError, match="shape"):
            type(panel).validate_session({**data, "shape": shape}, 1)
    with pytest.raises(ValueError, match="numbers"):
        type(panel).validate_session({**data, "size": "x"}, 1)
    before = panel.found
    other = {**data, "shape": [3, 8, 8], "scores": {}, "added": [], "removed": [], "base": []}
    panel.restore_session(type(panel).validate_session(other, 1))
    assert panel.found is before and "find the circuit again" in panel.view.details.toPlainText()


def test_a_slider_drag_measures_once_it_rests(qtbot, found, monkeypatch) -> None:
    window, panel = found
    asked = []
    monkeypatch.setattr(window.controller, "analyse", lambda key, *a, **k: asked.append(key))
    for n in (5, 6, 7, 8, 9):
        panel.view.edge_count_changed.emit(n)
    assert not asked
    qtbot.waitUntil(lambda: asked == ["circuit_eval"], timeout=TIMEOUT)
    assert panel.size == 9
