"""The prompt set panels in the window: a template set is checked by the model's tokenizer,
run over (head patching), its mean and spread shown with the drill-down, a prompt opened in
the single-prompt views, and the set and its summary kept in the session."""

from __future__ import annotations

import numpy as np

from engine import Engine
from engine.analysis import get, params_from_dict
from engine.prompt_sets import PromptSet, SetRow
from tests.app.conftest import TIMEOUT, wait_result
from tests.demo_facts import IOI_HEAD, IOI_HEADS

NAMES = ["Mary", "John", "Anna", "Ruby", "Hugo", "James"]
TEMPLATE = {"template": "When {A} and {B} went to the store , {B} gave a drink to",
            "corrupted": "When {A} and {B} went to the store , {A} gave a drink to",
            "target": " {A}", "foil": " {B}", "label": "", "fillers": {"A": NAMES, "B": NAMES}, "limit": 20, "seed": 0}


def make_set(qtbot, window):
    c, panel = window.controller, window.panels["prompt_set"]
    with wait_result(qtbot, c, "set_check"):
        panel.make_from_template(dict(TEMPLATE))
    qtbot.waitUntil(lambda: panel.checked is not None, timeout=TIMEOUT)
    return panel


def test_a_template_set_is_checked_run_and_drilled_into(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_set(qtbot, window)
    assert len(panel.prompt_set) == 20 and panel.checked.check.ok and "20 prompts" in panel.checked.summary()
    with wait_result(qtbot, c, "set_patching"):
        panel.run({"analysis": "head", "mode": "denoise"})
    results = window.panels["set_results"]
    qtbot.waitUntil(lambda: results.shown is not None, timeout=TIMEOUT)
    analysis = get("set_patching")
    expected = analysis.run(Engine(device="cpu").handle, panel.prompt_set, params_from_dict(analysis.Params, {}))
    np.testing.assert_allclose(results.shown.stats.mean, expected.stats.mean, atol=1e-5)
    layer, head = (int(x[1:]) for x in IOI_HEAD.split("."))
    assert results.cell == (layer, head)  # the drill-down starts on the strongest cell: the card's IOI head
    results.widget.prompt_opened.emit(3)
    row = panel.prompt_set.rows[3]
    assert (c.state.prompt, c.state.corrupted, c.state.target) == (row.prompt, row.corrupted, row.target)
    rows, header, arrays = results.export_tables()["set_patching"]
    assert header[2:5] == ("mean", "std", "ci_low") and arrays["per_prompt"].shape == (20, 2, 8)


def test_bad_rows_are_named_and_sessions_keep_the_set(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["prompt_set"]
    bad = PromptSet((SetRow("When Mary and John went", "When Mary went", " Mary", " Johnny"),
                     SetRow("When Mary and John went", "When John and Mary went", " Mary", " John")))
    with wait_result(qtbot, c, "set_check"):
        panel.show_set(bad, None)
    qtbot.waitUntil(lambda: panel.checked is not None, timeout=TIMEOUT)
    messages = [p.message for p in panel.checked.check.problems]
    assert any("tokens, the prompt" in m for m in messages) and any("Johnny" in m for m in messages)
    assert all(p.row == 0 for p in panel.checked.check.problems)
    state = panel.session_state()
    restored = type(panel).validate_session(state, 1)
    panel.prompt_set = None
    panel.restore_session(restored)
    assert panel.prompt_set.digest == bad.digest


def test_the_session_history_becomes_a_set(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["prompt_set"]
    for text in ("When Mary and John went to the store , John gave a drink to", "Then Anna and Ruby went home"):
        c.set_prompt(text)
    with wait_result(qtbot, c, "set_check"):
        panel.from_history()
    assert [r.prompt for r in panel.prompt_set.rows][-2:] == ["When Mary and John went to the store , John gave a drink to",
                                                               "Then Anna and Ruby went home"]


def test_a_tall_grid_lies_on_its_side_and_clicks_map_back(qtbot, demo_window) -> None:
    """30 layers x 9 heads would be 30 thin rows in a docked heatmap: it is shown transposed,
    and a click on (head, layer) drills into (layer, head)."""
    from types import SimpleNamespace

    from engine.set_stats import spread

    panel = demo_window.panels["set_results"]
    per_prompt = np.random.default_rng(0).normal(size=(5, 30, 9))
    result = SimpleNamespace(stats=spread(per_prompt, n_boot=50), row_labels=tuple(f"L{i}" for i in range(30)),
                             column_labels=tuple(f"H{i}" for i in range(9)), n=5, sweep="head", mode="denoise",
                             per_prompt=per_prompt, prompts=tuple(f"p{i}" for i in range(5)), prompt_set=None)
    panel.show(result)
    assert panel.transposed and panel.widget.heatmap.values.shape == (9, 30)
    panel.widget.cell_chosen.emit(2, 17)  # head 2, layer 17 as shown
    assert panel.cell == (17, 2)


def test_dla_over_the_set_from_the_editor(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_set(qtbot, window)
    results = window.panels["set_results"]
    with wait_result(qtbot, c, "set_dla"):
        panel.run({"analysis": "dla", "mode": "denoise"})
    qtbot.waitUntil(lambda: results.shown is not None and results.shown.sweep == "dla", timeout=TIMEOUT)
    assert results.shown.per_prompt.shape == (20, 2, 9)
    assert "direct logit attribution" in results.widget.heatmap.title.text()
    assert "set_dla" in results.export_tables()


def test_attribution_over_the_set_from_the_editor(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_set(qtbot, window)
    results = window.panels["set_results"]
    with wait_result(qtbot, c, "set_attribution"):
        panel.run({"analysis": "attribution", "mode": "denoise"})
    qtbot.waitUntil(lambda: results.shown is not None and results.shown.mode == "attribution", timeout=TIMEOUT)
    assert "set_attribution" in results.export_tables() and results.shown.per_prompt.shape == (20, 2, 8)


def test_the_effect_of_the_interventions_in_force_over_the_set(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_set(qtbot, window)
    c.ablate([IOI_HEADS[1]])  # the smoke check's head: the answer flips
    results = window.panels["set_results"]
    with wait_result(qtbot, c, "set_effects"):
        panel.run({"analysis": "effects", "mode": "denoise"})
    qtbot.waitUntil(lambda: results.shown is not None and results.shown.sweep == "effects", timeout=TIMEOUT)
    shown = results.shown
    assert shown.per_prompt.shape == (20, 4, 3) and IOI_HEADS[1] in shown.what
    accuracy = list(shown.row_labels).index("accuracy")
    assert shown.stats.mean[accuracy, 0] == 1.0 and shown.stats.mean[accuracy, 1] < 0.5
    assert "set_effects" in results.export_tables()


def test_the_set_becomes_the_reference_of_mean_and_resample_ablations(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_set(qtbot, window)
    c.ablate([IOI_HEADS[0]], "mean")
    c.ablate([IOI_HEADS[1]], "resample")
    with wait_result(qtbot, c, "set_reference"):
        panel.run({"analysis": "reference", "mode": "denoise"})
    qtbot.waitUntil(lambda: all(getattr(i, "reference", "") for i in c.state.interventions), timeout=TIMEOUT)
    mean, resample = c.state.interventions
    assert mean.reference == resample.reference and "20 prompts" in mean.reference
    assert resample.source_prompt in [r.prompt for r in panel.prompt_set.rows]
    qtbot.waitUntil(lambda: not c.pending and c.result_is_current(), timeout=TIMEOUT)
    assert c.last_result is not None and c.last_result.interventions == c.state.interventions
    node = window.panels["graph"].widget.nodes[IOI_HEADS[0]]
    assert "over" in node.tooltip_text() and mean.reference in node.tooltip_text()
    in_force = c.state.interventions
    with wait_result(qtbot, c, "set_reference"):  # a reopened session: the set's means are computed again
        panel.restore_session(panel.session_state())
    qtbot.waitUntil(lambda: not c.pending and c.result_is_current(), timeout=TIMEOUT)
    assert c.state.interventions == in_force  # and nothing is rewritten (the resample source stays)
    c.undo_stack.undo()
    assert not any(getattr(i, "reference", "") for i in c.state.interventions)


def test_a_head_score_on_the_sets_tokens_from_the_editor(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_set(qtbot, window)
    results = window.panels["set_results"]
    with wait_result(qtbot, c, "set_head_scores"):
        panel.run({"analysis": "score:duplicate_token", "mode": "denoise"})
    qtbot.waitUntil(lambda: results.shown is not None and results.shown.sweep == "head_scores", timeout=TIMEOUT)
    assert results.shown.per_prompt.shape == (20, 2, 8) and "duplicate-token" in results.shown.what
    assert "set_head_scores" in results.export_tables()


def test_patching_with_the_probability_metric_from_the_editor(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    panel = make_set(qtbot, window)
    results = window.panels["set_results"]
    with wait_result(qtbot, c, "set_patching"):
        panel.run({"analysis": "head_prob", "mode": "denoise"})
    qtbot.waitUntil(lambda: results.shown is not None and "P(target)" in results.shown.what, timeout=TIMEOUT)
    assert np.all(results.shown.clean_metric <= 1.0) and "P(target)" in results.widget.heatmap.title.text()


def test_a_session_whose_set_file_went_bad_keeps_its_own_rows_and_says_so(qtbot, demo_window, tmp_path) -> None:
    window, c = demo_window, demo_window.controller
    panel = window.panels["prompt_set"]
    path = tmp_path / "set.csv"
    path.write_text("prompt,corrupted,target,foil\nWhen Mary and John went,When John and Mary went, Mary, John\n")
    with wait_result(qtbot, c, "set_check"):
        assert panel.load(str(path))
    state = type(panel).validate_session(panel.session_state(), 1)
    path.write_text("not,a,prompt,set\n")  # no 'prompt' column any more
    with wait_result(qtbot, c, "set_check"):
        panel.restore_session(state)
    assert panel.prompt_set.rows[0].prompt == "When Mary and John went"
    assert "cannot be read now" in panel.widget.status.text()
