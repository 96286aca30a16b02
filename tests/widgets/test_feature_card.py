"""The feature card draws one feature's dashboard as given: context lines whose tokens are
shaded by activation on one scale (checked on the painted pixels) with the strongest bold
and always visible, histogram bars equal to the counts, output tokens in the order given;
its label box says label_changed once per edit and never for set_label."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from widgets.feature_card import (HPAD, OUTPUTS_SHOWN, FeatureCard, demo, density_text, signed_text)
from widgets.feature_strip import colour_for
from widgets.token_text import visible_token

CONTEXTS = [
    (["The", " cat", " sat", " on", " the", " mat"], [0.0, 1.0, 2.0, 4.0, 3.0, 0.5]),
    (["\n", "A", " dog", " ran"], [0.0, 2.0, 0.0, 1.0]),  # its max (2.0) is half the card's
]
COUNTS = np.array([50, 20, 7, 0, 3])
EDGES = np.linspace(0.0, 5.0, 6)
PROMOTED = [(" Paris", 1.5), (" France", 1.2), (" Lyon", 0.4)]
SUPPRESSED = [(" Berlin", -0.9), (" the", -0.3)]


@pytest.fixture
def make(qtbot):
    def build(contexts=CONTEXTS, size=(900, 600), promoted=PROMOTED, suppressed=SUPPRESSED) -> FeatureCard:
        card = FeatureCard()
        qtbot.addWidget(card)
        card.set_card(1199, "TopK SAE · blocks.6.hook_resid_post", contexts, (COUNTS, EDGES), 0.042,
                      promoted, suppressed, "10,240 tokens")
        card.resize(*size)
        card.show()
        qtbot.waitExposed(card)
        for _ in range(3):
            qtbot.wait(10)
        return card
    return build


def pixel(image, x: float, y: float) -> QColor:
    return image.pixelColor(int(x), int(y))


def close(a: QColor, b: QColor, tol: int = 3) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a.getRgb()[:3], b.getRgb()[:3]))


def test_header_says_which_feature_and_how_often(make) -> None:
    card = make()
    assert card.feature_label.text() == "Feature #1199"
    assert card.title_label.text() == "TopK SAE · blocks.6.hook_resid_post"
    assert card.density_label.text() == "fires on 4.2% of 10,240 tokens"
    assert [density_text(d) for d in (0.42, 0.042, 0.00013, 0.0)] == ["42%", "4.2%", "0.013%", "0%"]


def test_context_tokens_in_order_shaded_by_activation_on_one_scale(make) -> None:
    card = make()
    rows = card.contexts
    image = rows.grab().toImage()
    ratio = image.devicePixelRatio()
    for r, (tokens, values) in enumerate(CONTEXTS):
        boxes = rows.boxes(r)
        assert [b.index for b in boxes] == list(range(len(tokens)))  # all shown, in order, left to right
        assert [b.text for b in boxes] == [visible_token(t) for t in tokens]
        assert all(a.rect.right() <= b.rect.left() for a, b in zip(boxes, boxes[1:]))
        for box, value in zip(boxes, values):
            painted = pixel(image, (box.rect.left() + 1) * ratio, (box.rect.top() + 1) * ratio)  # the box's padding
            assert close(painted, colour_for(value, 4.0)), (r, box.text, painted.getRgb(), value)
    # darker (less light) with every larger activation, white where silent
    first = sorted(rows.boxes(0), key=lambda b: b.value)
    light = [sum(pixel(image, (b.rect.left() + 1) * ratio, (b.rect.top() + 1) * ratio).getRgb()[:3]) for b in first]
    assert light[0] == 3 * 255
    assert all(a > b for a, b in zip(light, light[1:])), light
    # one scale for every line: the second line's max (2.0) is as light as the first line's 2.0, not darkest
    assert close(rows.boxes(1)[1].colour, rows.boxes(0)[2].colour, 0)
    assert not close(rows.boxes(1)[1].colour, rows.boxes(0)[3].colour)
    # each line's max value at its left
    assert [rows.line_value_text(r) for r in range(2)] == ["4.00", "2.00"]


def test_the_strongest_token_of_each_line_is_bold(make) -> None:
    card = make()
    rows = card.contexts
    assert [[b.bold for b in rows.boxes(r)] for r in range(2)] == [
        [False, False, False, True, False, False], [False, True, False, False]]
    bold = QFont(rows.font())
    bold.setBold(True)
    box = rows.boxes(0)[3]
    assert box.rect.width() == QFontMetrics(bold).horizontalAdvance(box.text) + 2 * HPAD  # laid out (drawn) bold
    assert box.rect.width() > QFontMetrics(rows.font()).horizontalAdvance(box.text) + 2 * HPAD


def test_hover_tells_the_tokens_value(make, qtbot) -> None:
    card = make()
    rows = card.contexts
    box = rows.boxes(0)[4]
    centre = box.rect.center().toPoint()
    assert rows.token_at(centre) == (0, 4)
    assert rows.token_at(QPoint(2, int(box.rect.center().y()))) is None  # on the value column
    QApplication.sendEvent(rows, QHelpEvent(QEvent.Type.ToolTip, centre, rows.mapToGlobal(centre)))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=1000)
    assert "3.00" in QToolTip.text() and "␣the" in QToolTip.text()
    QToolTip.hideText()


@pytest.mark.parametrize("peak", [2, 45, 59])
def test_a_long_context_keeps_its_strongest_token_visible(make, peak: int) -> None:
    tokens = [f" word{i}" for i in range(60)]
    values = [0.1] * 60
    values[peak] = 9.0
    card = make(contexts=[(tokens, values)], size=(450, 400))
    rows = card.contexts
    boxes = rows.boxes(0)
    shown = [b.index for b in boxes]
    assert peak in shown and shown == list(range(shown[0], shown[-1] + 1))
    assert len(shown) < 60
    strongest = next(b for b in boxes if b.index == peak)
    assert strongest.bold and strongest.text == visible_token(tokens[peak])
    assert 0 <= strongest.rect.left() and strongest.rect.right() <= rows.width()
    assert boxes[-1].rect.right() <= rows.width()
    if peak == 59:  # cut on the left only
        assert shown[0] > 0 and shown[-1] == 59
    elif peak == 45:  # cut on the left first, then what follows the peak
        assert shown[0] > 0 and shown[-1] > peak
    else:  # little on the left to cut: the right goes instead
        assert shown[0] == 0 and shown[-1] < 59


def test_long_tokens_give_way_to_the_strongest(make) -> None:
    """Even the few tokens kept before the strongest go when they leave it no room."""
    tokens = [f" internationalisation{i}" for i in range(30)]
    values = [0.2] * 30
    values[20] = 5.0
    tokens[25] = " " + "x" * 300  # wider than the card: elided, not overflowing
    values[25] = 0.3
    card = make(contexts=[(tokens, values), ([" y", tokens[25]], [0.1, 1.0])], size=(450, 400))
    rows = card.contexts
    boxes = rows.boxes(0)
    strongest = next(b for b in boxes if b.index == 20)
    assert strongest.bold and strongest.text == visible_token(tokens[20])
    assert all(b.rect.right() <= rows.width() for b in boxes)
    alone = next(b for b in rows.boxes(1) if b.bold)  # a strongest token too wide for any line: elided
    assert alone.text.endswith("…") and alone.rect.right() <= rows.width()


def test_histogram_bars_are_the_counts(make) -> None:
    card = make()
    np.testing.assert_array_equal(card.bars.opts["height"], COUNTS)
    np.testing.assert_array_equal(card.bars.opts["x0"], EDGES[:-1])
    np.testing.assert_array_equal(card.bars.opts["x1"], EDGES[1:])
    assert card.plot.getAxis("bottom").labelText == "activation"
    assert card.plot.getAxis("left").labelText == "tokens"
    with pytest.raises(ValueError):
        card.set_card(1, "", CONTEXTS, (COUNTS, EDGES[:-1]), 0.1, [], [], "")


def test_output_tokens_in_the_order_given_at_most_eight(make) -> None:
    promoted = [(f" up{i}", 2.0 - 0.1 * i) for i in range(10)]
    suppressed = [(" b", -0.2), (" a", -0.9), ("\n", -0.5)]  # not sorted: the caller's order stands
    card = make(promoted=promoted, suppressed=suppressed)
    assert card.promotes.shown() == [(visible_token(t), signed_text(v)) for t, v in promoted[:OUTPUTS_SHOWN]]
    assert card.suppresses.shown() == [("␣b", "−0.20"), ("␣a", "−0.90"), ("↵", "−0.50")]
    assert card.promotes.shown()[0] == ("␣up0", "+2.00")


def test_label_edit_says_once_and_set_label_says_nothing(make, qtbot) -> None:
    card = make()
    said: list[tuple[int, str]] = []
    card.label_changed.connect(lambda f, t: said.append((f, t)))
    card.set_label("French cities")
    assert said == [] and card.label_edit.text() == "French cities"
    card.label_edit.setFocus()
    card.label_edit.selectAll()
    qtbot.keyClicks(card.label_edit, "place names")
    qtbot.keyClick(card.label_edit, Qt.Key.Key_Return)
    card.label_edit.clearFocus()
    qtbot.keyClick(card.label_edit, Qt.Key.Key_Return)  # unchanged: nothing new to say
    assert said == [(1199, "place names")]


def test_clear_shows_only_the_message(make) -> None:
    card = make()
    assert card.figure_view().isVisible() and card.hint.isHidden()
    card.set_status("computing over 10,240 tokens…")
    card.set_busy(True)
    assert card.status_bar.isVisible() and card.busy.isVisible()
    card.set_busy(False)
    card.clear("Pick a feature")
    assert card.hint.isVisible() and card.hint.text() == "Pick a feature"
    for section in (card.figure_view(), card.header, card.scroll, card.histogram_view, card.promotes, card.status_bar):
        assert not section.isVisible()
    assert card.feature is None and card.contexts.tokens == []


@pytest.mark.parametrize("size", [(450, 400), (900, 600)])
def test_demo_fits_docked_and_wide(qtbot, size) -> None:
    card = demo()
    qtbot.addWidget(card)
    card.resize(*size)
    card.show()
    qtbot.waitExposed(card)
    qtbot.wait(20)
    figure = card.figure_view()
    assert card.label_edit.text() == "French cities" and len(card.contexts.tokens) == 8
    assert len(card.promotes.shown()) == len(card.suppresses.shown()) == OUTPUTS_SHOWN
    for widget in (card.histogram_view, card.promotes.token_labels[-1], card.suppresses.value_labels[-1],
                   card.scroll):
        corner = widget.mapTo(figure, QPoint(widget.width(), widget.height()))
        assert widget.isVisible() and corner.x() <= figure.width() and corner.y() <= figure.height(), widget
    assert card.histogram_view.height() >= 100
    assert card.scroll.height() >= 3 * card.contexts.row_height()  # several lines before it scrolls
    for r in range(8):  # every line shows its strongest token whole
        boxes = card.contexts.boxes(r)
        strongest = next(b for b in boxes if b.bold)
        assert strongest.text == visible_token(card.contexts.tokens[r][strongest.index])
        assert boxes[-1].rect.right() <= card.contexts.width()
