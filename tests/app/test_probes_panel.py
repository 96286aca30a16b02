"""The probes panel in the window: probes trained on the prompt set in use, and the causal
check: steering along the last layer's probe direction moves the model's answer towards
that class; projecting it out is an undoable intervention."""

from __future__ import annotations

from tests.app.conftest import TIMEOUT, wait_result
from tests.engine.test_probes import answer_set


def test_probes_on_the_set_in_use_and_steering_along_one(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    sets, probes = window.panels["prompt_set"], window.panels["probes"]
    with wait_result(qtbot, c, "set_check"):
        sets.show_set(answer_set(), None)
    assert probes.prompt_set is not None and len(probes.prompt_set) == 240
    with wait_result(qtbot, c, "probes"):
        probes.train({"column": "label", "position": "last"})
    result = probes.shown
    last = len(result.components) - 1
    assert result.difference_of_means[last] >= 0.95 and result.classes == ("John", "Mary")
    c.set_prompt("When John and Anna went to the store , Anna gave a drink to")
    c.set_target("Mary")
    c.set_foil("John")
    qtbot.waitUntil(lambda: c.last_result is not None and not c.pending and c.result_is_current(), timeout=TIMEOUT)
    before = c.last_result.logit_diff  # Mary - John: the model answers John
    probes.use(last, "difference_of_means", "add")  # towards class 1 = Mary, by the classes' separation
    qtbot.waitUntil(lambda: bool(c.last_result.interventions) and not c.pending and c.result_is_current(), timeout=TIMEOUT)
    assert c.last_result.logit_diff > before + 2
    steer = next(i for i in c.state.interventions if i.kind == "steer")
    assert steer.component == result.components[last] and "probe" in steer.source
    c.undo_stack.undo()
    probes.use(last, "difference_of_means", "remove")
    assert next(i for i in c.state.interventions if i.kind == "steer").mode == "remove"
    rows, header, arrays = probes.export_tables()["probes"]
    assert header[:3] == ("component", "logistic", "difference_of_means") and len(rows) == len(result.components)
