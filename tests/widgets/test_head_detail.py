"""The detail view shows one head with token labels and the attention of a chosen query;
labels stay readable (visible tokens, no overlaps) and the title is never clipped."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QComboBox, QLabel

from widgets.demo import causal_patterns
from widgets.head_detail import HeadDetail, token_ticks

WORDS = ["<bos>", " When", " Mary", " and", " John", "\xa0", " went", "\n", " to", " the", " store", "Ġword", ",",
         " John"]


@pytest.fixture
def shown(qtbot):
    def build(n: int, size: tuple[int, int], subtitle: str = "induction 0.42") -> HeadDetail:
        detail = HeadDetail()
        qtbot.addWidget(detail)
        tokens = (WORDS * 5)[:n]
        detail.set_head("L12.H7", causal_patterns(1, 1, n)[0, 0], tokens, subtitle)
        detail.resize(*size)
        detail.show()
        qtbot.waitExposed(detail)
        for _ in range(3):
            qtbot.wait(10)
        return detail
    return build


def test_shows_pattern_labels_and_query_row(qtbot) -> None:
    detail = HeadDetail()
    qtbot.addWidget(detail)
    tokens = ["<bos>", "When", " Mary", "and", "John", "\xa0"]
    pattern = causal_patterns(1, 1, 6)[0, 0]
    detail.set_head("L1.H3", pattern, tokens, "induction 0.80")
    assert detail.title.text().startswith("L1.H3   induction 0.80")
    np.testing.assert_array_equal(detail.image.image, pattern)
    assert [label for _, label in detail.key_axis._labels] == \
        ["0 <bos>", "1 When", "2 ␣Mary", "3 and", "4 John", "5 <nbsp>"]
    assert detail.query == 5  # defaults to the last query
    with qtbot.waitSignal(detail.query_selected) as blocker:
        detail.set_query(2)
    assert blocker.args == [2]
    np.testing.assert_array_equal(detail.bars.opts["height"], pattern[2])


def test_long_tokens_get_shortened_labels() -> None:
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


def no_overlaps(axis) -> list:
    placed = axis.label_layout()
    for a, b in zip(placed, placed[1:]):
        assert min(a.end, b.end) <= max(a.start, b.start), (a, b)
    return placed


def test_14_tokens_every_label_on_both_axes(shown) -> None:
    detail = shown(14, (700, 800))
    for axis in (detail.key_axis, detail.query_axis):
        placed = no_overlaps(axis)
        assert [p.value for p in placed] == list(range(14))
    assert [p.text for p in detail.query_axis.label_layout()][5] == "5 <nbsp>"


@pytest.mark.parametrize("size", [(700, 800), (380, 460)])
def test_64_tokens_thinned_without_overlap(shown, size) -> None:
    detail = shown(64, size)
    for axis in (detail.key_axis, detail.query_axis):
        placed = no_overlaps(axis)
        assert 4 <= len(placed) < 64 and placed[-1].value == 63  # the last token stays labelled
    assert all(p.rotated for p in detail.key_axis.label_layout())


def test_flat_key_labels_when_they_fit(shown) -> None:
    detail = shown(4, (900, 700))
    placed = no_overlaps(detail.key_axis)
    assert len(placed) == 4 and not any(p.rotated for p in placed)


def test_title_fits_or_is_elided_with_a_tooltip(shown) -> None:
    long = "induction 0.42  previous-token 0.03  duplicate 0.11  successor 0.01  copying 0.5"
    detail = shown(14, (380, 460), long)
    title = detail.title
    assert title.fontMetrics().horizontalAdvance(title.shown_text()) <= title.contentsRect().width()
    assert title.is_elided() and title.toolTip() == title.text() and title.text().startswith("L12.H7")
    assert title.width() <= detail.width()
    detail.resize(1600, 800)
    detail.set_head("L1.H2", causal_patterns(1, 1, 14)[0, 0], (WORDS * 2)[:14], "short")
    assert not title.is_elided() and title.toolTip() == ""


def test_figure_view_holds_only_the_plots(shown) -> None:
    detail = shown(6, (500, 500))
    figure = detail.figure_view()
    assert figure is detail.view and not figure.findChildren(QLabel) and not figure.findChildren(QComboBox)
