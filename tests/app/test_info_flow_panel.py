"""The information-flow panel in the window on the demo model: raising it computes the flow
of the prompt; on the induction prompt the route tree from the last token holds the
previous-token -> induction route; the threshold slider thins the graph at once (no job);
a clicked node is read with the live run's logit lens; a prompt edit while it shows asks
again; the threshold is kept in sessions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.app.conftest import TIMEOUT, wait_result
from tests.engine.test_info_flow import INDUCTION_PROMPT


@pytest.fixture
def shown(qtbot, demo_window):
    window, c = demo_window, demo_window.controller
    panel = window.panels["info_flow"]
    with wait_result(qtbot, c, "run"):
        c.set_prompt(INDUCTION_PROMPT)
    window.raise_panel("info_flow")
    qtbot.waitUntil(lambda: panel.flow is not None and panel.flow.prompt == INDUCTION_PROMPT, timeout=TIMEOUT)
    return window, panel


def test_the_route_holds_the_induction_route(qtbot, shown) -> None:
    window, panel = shown
    w = panel.widget
    n = len(panel.flow.tokens)
    on = w.edges[w.on_route]
    layer1 = {(int(a[1]), int(a[3])) for a, k in zip(on, w.kinds[w.on_route]) if a[0] == 2 and a[2] == 3 and k == 0}
    layer0 = {(int(a[1]), int(a[3])) for a, k in zip(on, w.kinds[w.on_route]) if a[0] == 0 and a[2] == 1 and k == 0}
    copy = 6  # the token after the last token's earlier copy (BOS + words: the copy sits at 5)
    assert (copy, n - 1) in layer1 and (copy - 1, copy) in layer0


def test_the_threshold_thins_the_graph_without_a_job(qtbot, shown, monkeypatch) -> None:
    window, panel = shown
    before = len(panel.widget.edges)
    asked = []
    monkeypatch.setattr(window.controller, "analyse", lambda *args, **kw: asked.append(args))
    panel.widget.threshold_changed.emit(0.2)
    assert len(panel.widget.edges) < before and not asked
    assert (panel.widget.weights >= 0.2 - 1e-9).all()
    data = panel.session_state()
    assert type(panel).validate_session(data, 1)["threshold"] == pytest.approx(0.2)
    with pytest.raises(ValueError):
        type(panel).validate_session({"threshold": 7}, 1)


def test_a_clicked_node_reads_through_the_lens_and_a_new_prompt_asks_again(qtbot, shown) -> None:
    window, panel = shown
    c = window.controller
    last = len(panel.flow.tokens) - 1
    panel.widget.node_clicked.emit(4, last)  # entering layer 2 = the output of this 2-layer model
    assert "reads as" in panel.widget.details.toPlainText() and c.state.focused_position == last
    longer = INDUCTION_PROMPT + " " + INDUCTION_PROMPT.split()[5]
    c.set_prompt(longer)
    qtbot.waitUntil(lambda: panel.flow.prompt == longer and len(panel.flow.tokens) == last + 2, timeout=TIMEOUT)
    assert np.isfinite(panel.flow.attn).all()
