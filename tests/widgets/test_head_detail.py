"""The detail view shows one head with token labels and the attention of a chosen query."""

from __future__ import annotations

import numpy as np

from widgets.demo import causal_patterns
from widgets.head_detail import HeadDetail, token_ticks


def test_shows_pattern_labels_and_query_row(qtbot) -> None:
    detail = HeadDetail()
    qtbot.addWidget(detail)
    tokens = ["<bos>", "When", "Mary", "and", "John", "went"]
    pattern = causal_patterns(1, 1, 6)[0, 0]
    detail.set_head("L1.H3", pattern, tokens, "induction 0.80")
    assert detail.title.text().startswith("L1.H3   induction 0.80")
    np.testing.assert_array_equal(detail.image.image, pattern)
    assert [label for _, label in detail.key_axis._labels] == [f"{i} {t}" for i, t in enumerate(tokens)]
    assert detail.query == 5  # defaults to the last query
    with qtbot.waitSignal(detail.query_selected) as blocker:
        detail.set_query(2)
    assert blocker.args == [2]
    np.testing.assert_array_equal(detail.bars.opts["height"], pattern[2])


def test_long_prompts_get_thinned_and_shortened_labels() -> None:
    ticks = token_ticks([f"token_number_{i}" for i in range(200)], max_labels=50)
    assert len(ticks) == 50
    assert all(len(label.split(" ", 1)[1]) <= 12 for _, label in ticks)


def test_a_chosen_query_of_zero_survives_the_next_result(qtbot) -> None:
    detail = HeadDetail()
    qtbot.addWidget(detail)
    tokens = ["<bos>", "a", "b", "c"]
    detail.set_head("L0.H0", causal_patterns(1, 1, 4)[0, 0], tokens)
    assert detail.query == 3
    detail.set_query(0)  # the BOS attention sink is a common thing to look at
    detail.set_head("L0.H0", causal_patterns(1, 1, 4, seed=2)[0, 0], tokens)
    assert detail.query == 0
