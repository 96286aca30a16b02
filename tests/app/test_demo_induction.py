"""On the demo model, ablating the induction heads from the graph visibly breaks the
induction prediction: the probability the panels show for the copied token collapses."""

from __future__ import annotations

import re

import numpy as np

from app.controller import ViewState
from tests.app.conftest import TIMEOUT, shown_window
from tests.widgets.test_component_graph import drag
from training.demo_data import POOL, VOCAB, repeated_sequences


def shown_probability(text: str, token: str) -> float:
    """The P('token') a panel displays; with 'before → after', the after value."""
    tail = re.sub(r"<[^>]+>", "", text.split(f"P({token!r})")[-1])
    return float(re.findall(r"\d+\.\d+", tail)[-1])


def test_ablating_induction_heads_from_the_graph_breaks_copying(qtbot) -> None:
    ids = repeated_sequences(1, 13, np.random.default_rng(21), prefix_len=5)[0]
    vocab = {i: w for w, i in VOCAB.items()}
    words = [vocab[int(i)] for i in ids[1:]]
    prompt, target = " ".join(words[:-1]), words[-1]
    foil = next(w for w in POOL if w not in words)

    window = shown_window(qtbot, ViewState(prompt=prompt, target=target, foil=foil), None)
    controller = window.controller
    qtbot.waitUntil(lambda: controller.results.get("head_scores") is not None, timeout=TIMEOUT)
    window.docks["graph"].raise_()
    qtbot.waitExposed(window.view("graph"))
    before = shown_probability(window.view("prompt").summary.text(), target)
    assert before > 0.5  # the model copies the token that followed last time

    scores = controller.results.get("head_scores").induction
    heads = [f"L{l}.H{h}" for l, h in zip(*np.nonzero(scores > 0.3)) if l > 0]
    assert heads
    for name in heads:
        window.view("graph").nodes[name].setSelected(True)
    drag(window.view("graph"), window.view("graph").node_scene_center(heads[0]), window.view("graph").bin_scene_center())
    qtbot.waitUntil(lambda: len(controller.last_result.interventions) == len(heads), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "→" in window.view("graph").summary.text(), timeout=TIMEOUT)
    after = shown_probability(window.view("prompt").summary.text(), target)
    assert after < 0.2 and after < before / 4, (before, after, heads)
    assert shown_probability(window.view("graph").summary.text(), target) == after
    assert controller.last_result.logit_diff < controller.baseline.logit_diff - 2
    window.close()
