"""Attention over text colours each token by one head's row (from a query) or column (to a key),
marks causally masked positions apart from zero attention, and reports clicks on chips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from widgets.attention_text import AttentionText, demo, display_text


def random_causal(n: int, seed: int = 0) -> np.ndarray:
    """Row-stochastic over keys up to the query, exact zeros above the diagonal."""
    rng = np.random.default_rng(seed)
    logits = np.where(np.tril(np.ones((n, n))) > 0, rng.normal(size=(n, n)) * 2, -np.inf)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


TOKENS = ["<bos>", "When", " Mary", " and", " John", " went", " to", " the", " store", ","]


@pytest.fixture
def view(qtbot) -> AttentionText:
    widget = AttentionText()
    qtbot.addWidget(widget)
    widget.resize(600, 240)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_query_mode_shows_the_focused_row_and_follows_the_focus(view: AttentionText) -> None:
    pattern = random_causal(len(TOKENS))
    view.set_data("L1.H4", pattern, TOKENS)
    assert view.mode() == "query" and view.focus == len(TOKENS) - 1  # None focuses the last position
    np.testing.assert_array_equal(view.weights(), pattern[-1])
    view.set_focus(3)
    np.testing.assert_array_equal(view.weights(), pattern[3])
    assert view.title.text() == "L1.H4 · from query 3 ' and'"
    view.set_data("L1.H4", pattern, TOKENS, focus=5)
    np.testing.assert_array_equal(view.weights(), pattern[5])


def test_key_mode_shows_the_focused_column(view: AttentionText) -> None:
    pattern = random_causal(len(TOKENS), seed=1)
    view.set_data("L0.H1", pattern, TOKENS, focus=2)
    view.set_mode("key")
    assert view.mode() == "key"
    np.testing.assert_array_equal(view.weights(), pattern[:, 2])
    assert not np.allclose(view.weights(), pattern[2])  # a column, not the row
    view.set_focus(6)
    np.testing.assert_array_equal(view.weights(), pattern[:, 6])
    assert view.title.text().startswith("L0.H1 · to key 6")


def test_the_mode_toggle_emits_and_recolours(qtbot, view: AttentionText) -> None:
    pattern = random_causal(len(TOKENS), seed=2)
    view.set_data("L0.H0", pattern, TOKENS, focus=4)
    with qtbot.waitSignal(view.mode_changed, timeout=1000) as blocker:
        qtbot.mouseClick(view.key_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["key"]
    np.testing.assert_array_equal(view.weights(), pattern[:, 4])
    with qtbot.waitSignal(view.mode_changed, timeout=1000) as blocker:
        qtbot.mouseClick(view.query_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["query"]
    np.testing.assert_array_equal(view.weights(), pattern[4])
    with qtbot.assertNotEmitted(view.mode_changed):
        view.set_mode("query")  # already there
    with pytest.raises(ValueError, match="mode"):
        view.set_mode("row")


def test_clicking_a_chip_emits_its_position(qtbot, view: AttentionText) -> None:
    view.set_data("L0.H0", random_causal(len(TOKENS)), TOKENS)
    for position in (0, 4, len(TOKENS) - 1):
        rect = view.chip_rect(position)
        assert view.canvas.rect().contains(rect)
        with qtbot.waitSignal(view.position_clicked, timeout=1000) as blocker:
            qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=rect.center())
        assert blocker.args == [position]
        assert view.focus == position
    with qtbot.assertNotEmitted(view.position_clicked):  # the gap between two chips is no chip
        gap = view.chip_rect(1).topRight()
        gap.setX(gap.x() + 2)
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=gap)


def test_chips_flow_like_a_paragraph_without_overlapping(view: AttentionText) -> None:
    tokens = ["x" * 400] + [f" word{i}" for i in range(60)] + ["\n", "after"]  # one token wider than the view
    view.set_data("L0.H0", random_causal(len(tokens)), tokens)
    rects = [view.chip_rect(i) for i in range(len(tokens))]
    assert len({r.top() for r in rects}) > 2  # wrapped onto several lines
    assert all(r.right() < view.canvas.width() for r in rects)
    for a, b in zip(rects, rects[1:]):
        assert not a.intersects(b)
    assert rects[-1].left() < rects[-2].left() and rects[-1].top() > rects[-2].top()  # newline breaks the line
    assert view.canvas.height() >= rects[-1].bottom()  # the scroll area sees all of it


def test_masked_positions_differ_from_zero_attention(view: AttentionText) -> None:
    pattern = random_causal(len(TOKENS))
    pattern[5, 1] = 0.0  # visible but ignored
    pattern[5] /= pattern[5].sum()
    view.set_data("L0.H0", pattern, TOKENS, focus=5)
    assert [view.is_masked(i) for i in range(len(TOKENS))] == [i > 5 for i in range(len(TOKENS))]
    assert not view.is_masked(1) and view.weights()[1] == 0.0
    assert "masked" in view.tooltip(7) and "weight 0.000" in view.tooltip(1)
    view.set_mode("key")  # queries before the key cannot see it
    assert [view.is_masked(i) for i in range(len(TOKENS))] == [i < 5 for i in range(len(TOKENS))]
    bidirectional = np.full((len(TOKENS), len(TOKENS)), 1.0 / len(TOKENS), dtype=np.float32)
    view.set_data("enc", bidirectional, TOKENS, focus=2)
    assert not any(view.is_masked(i) for i in range(len(TOKENS)))


def test_tooltip_names_position_token_and_weight(view: AttentionText) -> None:
    pattern = random_causal(len(TOKENS))
    view.set_data("L0.H0", pattern, TOKENS, focus=8)
    assert view.tooltip(2) == f"pos 2 ' Mary'  weight {pattern[8, 2]:.3f}"


def test_bad_input_is_refused_or_clamped(view: AttentionText) -> None:
    with pytest.raises(ValueError, match=r"len\(tokens\) = 10.*\(9, 9\)"):
        view.set_data("L0.H0", random_causal(9), TOKENS)
    with pytest.raises(ValueError, match="shape"):
        view.set_data("L0.H0", np.ones((10, 9)), TOKENS)
    with pytest.raises(ValueError, match="shape"):
        view.set_data("L0.H0", np.ones(10), TOKENS)
    pattern = random_causal(len(TOKENS))
    view.set_data("L0.H0", pattern, TOKENS, focus=99)
    assert view.focus == len(TOKENS) - 1
    view.set_focus(-3)
    assert view.focus == len(TOKENS) - 1
    np.testing.assert_array_equal(view.weights(), pattern[-1])


def test_clear_shows_a_message_and_no_weights(view: AttentionText) -> None:
    view.set_data("L0.H0", random_causal(len(TOKENS)), TOKENS)
    view.clear("Run a prompt first")
    assert view.weights().shape == (0,)
    assert view.canvas.message == "Run a prompt first" and view.title.text() == ""
    view.set_focus(3)  # no data: nothing to focus, nothing raised
    view.grab()


def test_512_tokens_render(view: AttentionText) -> None:
    n = 512
    tokens = [f" t{i}" for i in range(n)]
    pattern = random_causal(n, seed=3)
    view.set_data("L5.H7", pattern, tokens, focus=300)
    image = view.grab().toImage()
    assert not image.isNull() and image.width() > 0
    view.set_focus(511)
    view.set_mode("key")
    np.testing.assert_array_equal(view.weights(), pattern[:, 511])
    assert view.scroll.verticalScrollBar().maximum() > 0  # more lines than fit: it scrolls
    view.grab()


def test_grab_to_png(view: AttentionText, tmp_path: Path) -> None:
    view.set_data("L0.H0", random_causal(len(TOKENS)), TOKENS, focus=6)
    path = tmp_path / "attention_text.png"
    assert view.grab().save(str(path))
    assert path.stat().st_size > 0
    image = QImage(str(path))
    assert image.width() == view.width() and image.height() == view.height()
    # the strongest-weighted chip is painted in a saturated colour, not left white
    rect = view.chip_rect(int(np.argmax(view.weights())))
    inside = view.canvas.mapTo(view, rect.topLeft()) + QPoint(3, rect.height() // 2)  # padding left of the text
    pixel = image.pixelColor(inside)
    assert pixel.blue() > pixel.red() + 40, pixel.name()


def test_whitespace_tokens_get_visible_marks() -> None:
    assert display_text("\n") == "⏎"
    assert display_text("\xa0") == "⍽"
    assert display_text("\t") == "⇥"
    assert display_text(" ") == "␣"
    assert display_text("  \n") == "␣␣⏎"
    assert display_text(" Mary") == " Mary"  # spaces inside words stay spaces
    assert display_text("a\nb") == "a⏎b"


def test_demo_is_populated(qtbot) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.weights().shape == (20,)
    assert abs(float(widget.weights().sum()) - 1.0) < 1e-5
