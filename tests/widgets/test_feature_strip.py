"""The feature strip draws a dictionary's features (rows) over the prompt's tokens (columns)
as given, answers real clicks with the feature or position under the mouse, lists the
focused position's features largest first, and keeps its token labels apart at any size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton

from widgets.feature_strip import NO_DICTIONARY, FeatureStrip, demo, synthetic_features
from widgets.token_text import visible_token

DICTIONARY = "TopK SAE · blocks.0.hook_resid_post · 1536 features"


@pytest.fixture
def make(qtbot):
    def build(n_tokens: int = 15, n_features: int = 12, size: tuple[int, int] = (1000, 400),
              focus: int | None = 3) -> FeatureStrip:
        strip = FeatureStrip()
        qtbot.addWidget(strip)
        strip.set_dictionary(DICTIONARY)
        tokens, ids, values = synthetic_features(n_tokens, n_features)
        strip.set_features(tokens, ids, values, focus)
        strip.resize(*size)
        strip.show()
        qtbot.waitExposed(strip)
        settle(qtbot)
        return strip
    return build


def settle(qtbot) -> None:
    for _ in range(3):
        qtbot.wait(10)


def cell_point(strip: FeatureStrip, row: int, col: int) -> QPoint:
    """A cell's centre in the view's widget pixels."""
    scene = strip.plot.getViewBox().mapViewToScene(QPointF(col, row))
    return strip.view.mapFromScene(scene)


def axis_point(axis, x: float, y: float) -> QPoint:
    return strip_view(axis).mapFromScene(axis.mapToScene(QPointF(x, y)))


def strip_view(item):
    return item.scene().views()[0]


def click(widget, point) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=point)


def hover(qtbot, strip: FeatureStrip, point: QPoint) -> None:
    """A real mouse move over the view's viewport, delivered through the window as the platform
    would; after a pause, as pyqtgraph drops moves that follow one another within ~17 ms (60 Hz)."""
    qtbot.wait(40)
    window = strip.window()
    QTest.mouseMove(window.windowHandle(), strip.view.viewport().mapTo(window, point))


def test_image_is_the_values_with_one_row_per_feature(make) -> None:
    strip = make(15, 12)
    tokens, ids, values = synthetic_features(15, 12)
    assert strip.image.image.shape == (12, 15)
    np.testing.assert_array_equal(strip.image.image, values.T)
    np.testing.assert_array_equal(strip.feature_ids, ids)
    vb = strip.plot.getViewBox()
    assert vb.mapViewToScene(QPointF(0, 0)).y() < vb.mapViewToScene(QPointF(0, 11)).y()  # first feature on top
    for row, col in [(0, 0), (11, 14), (5, 7), (2, 13)]:
        assert strip.hit(vb.mapViewToScene(QPointF(col, row))) == ("cell", row, col)
    assert [label.text for label in strip.row_axis.label_layout()][-1] == f"#{ids[-1]}"
    assert strip.colorbar.label_text == "activation"
    assert tuple(strip.colorbar.values) == pytest.approx((0.0, values.max()))
    low, high = strip.colorbar.colorMap().map([0.0, 1.0], mode="byte")[:, :3]
    assert tuple(low) == (255, 255, 255) and high[0] > high[1] + 60 and high[0] > high[2] + 60  # white -> red
    with pytest.raises(ValueError):
        strip.set_features(tokens, ids, values.T, None)


def test_setters_emit_nothing(make, qtbot) -> None:
    strip = make()
    heard = []
    for signal in (strip.feature_chosen, strip.position_chosen, strip.open_requested):
        signal.connect(lambda *args: heard.append(args))
    tokens, ids, values = synthetic_features(20, 8, seed=3)
    strip.set_dictionary("another SAE")
    strip.set_features(tokens, ids, values, 5)
    strip.set_focus_list(5, tokens[5], [int(i) for i in ids], list(values[5]), {int(ids[0]): "a name"})
    strip.set_status("⟳ updating")
    strip.set_stale(True)
    strip.set_stale(False)
    strip.set_dictionary(None)
    settle(qtbot)
    assert heard == []
    with qtbot.waitSignal(strip.open_requested):
        strip.open_button.click()


def test_clicking_a_cell_emits_its_feature(make, qtbot) -> None:
    strip = make(15, 12)
    for row, col in [(4, 9), (0, 0), (11, 14)]:
        with qtbot.waitSignal(strip.feature_chosen) as blocker:
            click(strip.view.viewport(), cell_point(strip, row, col))
        assert blocker.args == [int(strip.feature_ids[row])]


def test_clicking_a_feature_label_emits_it(make, qtbot) -> None:
    strip = make(15, 12)
    axis = strip.row_axis
    placed = axis.label_layout()
    label = placed[len(placed) // 2]
    text_width = QFontMetrics(axis.tick_font()).horizontalAdvance(label.text)
    point = axis_point(axis, axis.boundingRect().right() - 6 - text_width / 2, label.along)  # on the text
    with qtbot.waitSignal(strip.feature_chosen) as blocker:
        click(strip.view.viewport(), point)
    assert blocker.args == [int(strip.feature_ids[int(label.value)])]
    assert label.text == f"#{strip.feature_ids[int(label.value)]}"


def test_clicking_a_token_label_emits_its_position_and_lists_it(make, qtbot) -> None:
    strip = make(15, 12, focus=3)
    labels = [(label, rect) for label, rect in strip.column_axis.label_rects() if label.value != 3]
    label, rect = labels[len(labels) // 2]
    with qtbot.waitSignal(strip.position_chosen) as blocker:
        click(strip.view.viewport(), axis_point(strip.column_axis, rect.center().x(), rect.center().y()))
    position = int(label.value)
    assert blocker.args == [position] and strip.focus == position
    assert strip.focus_marker.isVisible() and strip.focus_marker.rect().center().x() == pytest.approx(position)
    assert strip.list_title.text() == f"Features at position {position} ('{visible_token(strip.tokens[position])}')"
    row = strip.values[position]
    assert [fid for fid, _, _ in strip.listed()] == [int(strip.feature_ids[i]) for i in np.argsort(-row, kind="stable")
                                                     if row[i] > 0]


def test_side_list_is_sorted_by_value_shows_labels_and_emits(make, qtbot) -> None:
    strip = make(15, 12)
    ids = [10, 20, 30, 40, 50, 60]  # more than, and other than, the heatmap's features
    values = [0.5, 3.25, 0.0, 7.0, 1.0, 0.01]
    strip.set_focus_list(6, " mat", ids, values, {20: "cats", 40: "end of clause"})
    assert strip.focus == 6 and strip.list_title.text() == "Features at position 6 ('␣mat')"
    listed = strip.listed()
    assert [fid for fid, _, _ in listed] == [40, 20, 50, 10, 60]  # largest first, silent 30 left out
    assert [v for _, v, _ in listed] == sorted((v for v in values if v > 0), reverse=True)
    assert [label for _, _, label in listed] == ["end of clause", "cats", "", "", ""]
    top = strip.feature_list.topLevelItem(0)
    assert (top.text(0), top.text(1), top.text(2)) == ("#40", "7.00", "end of clause")
    item = strip.feature_list.topLevelItem(1)
    rect = strip.feature_list.visualItemRect(item)
    with qtbot.waitSignal(strip.feature_chosen) as blocker:
        click(strip.feature_list.viewport(), rect.center())
    assert blocker.args == [20]
    strip.set_focus_list(7, "x", [1, 2], [0.0, 0.0])
    assert strip.listed() == [] and strip.feature_list.topLevelItem(0).text(0) == "no feature active here"


def test_hovering_a_cell_names_feature_token_position_and_value(qtbot) -> None:
    strip = FeatureStrip()
    qtbot.addWidget(strip)
    tokens = ["<bos>", "I", " saw", "the", " cat"]
    values = np.zeros((5, 3))
    values[3, 1] = 4.21
    values[4, 0] = 2.0
    strip.set_dictionary(DICTIONARY)
    strip.set_features(tokens, np.array([7, 1199, 12]), values, 4)
    strip.resize(450, 350)
    strip.show()
    qtbot.waitExposed(strip)
    settle(qtbot)
    hover(qtbot, strip, cell_point(strip, 1, 3))
    qtbot.waitUntil(lambda: strip.view.toolTip() != "", timeout=1000)
    assert strip.view.toolTip() == "feature #1199 at 'the' (position 3): 4.21"
    strip.set_focus_list(4, " cat", [1199], [0.5], {1199: "articles"})
    hover(qtbot, strip, cell_point(strip, 1, 2))
    qtbot.waitUntil(lambda: "position 2" in strip.view.toolTip(), timeout=1000)
    assert strip.view.toolTip() == "feature #1199 (articles) at '␣saw' (position 2): 0.00"
    outside = strip.view.mapFromScene(strip.colorbar.sceneBoundingRect().center())
    hover(qtbot, strip, outside)
    qtbot.waitUntil(lambda: strip.view.toolTip() == "", timeout=1000)


def test_no_dictionary_shows_how_to_open_one(qtbot) -> None:
    strip = FeatureStrip()
    qtbot.addWidget(strip)
    strip.resize(450, 350)
    strip.show()
    qtbot.waitExposed(strip)
    strip.set_dictionary(None)
    assert strip.stack.currentWidget() is strip.hint and strip.hint.isVisible()
    assert strip.hint.text() == NO_DICTIONARY
    assert "Open a dictionary (SAELens or circuit-tracer folder)" in strip.hint.text()
    assert not strip.view.isVisible() and not strip.side.isVisible()
    strip.set_dictionary(DICTIONARY)
    assert strip.dictionary_label.text() == DICTIONARY and strip.hint.isVisible()  # no features yet
    strip.set_features(*synthetic_features(5, 4), 0)
    assert strip.stack.currentWidget() is strip.view and strip.view.isVisible() and strip.side.isVisible()
    strip.set_dictionary(None)
    assert strip.hint.isVisible() and strip.hint.text() == NO_DICTIONARY and strip.values is None


@pytest.mark.parametrize("size", [(1000, 400), (450, 350), (700, 230)])
def test_forty_tokens_labels_are_thinned_apart_and_hover_stays_exact(make, size) -> None:
    strip = make(42, 24, size, focus=17)
    axis = strip.column_axis
    drawn = sorted(axis.label_rects(), key=lambda pair: pair[1].left())
    assert 3 <= len(drawn) < 42  # thinned
    bounds = QRectF(0, 0, axis.size().width(), axis.size().height())
    for (_, a), (_, b) in zip(drawn, drawn[1:]):
        assert not a.intersects(b) and a.right() <= b.left(), (a, b)
    for label, rect in drawn:
        assert bounds.contains(rect), (label, rect, bounds)  # nothing cut at the ends or the bottom
        full = visible_token(strip.tokens[int(label.value)])
        assert label.text == full or (label.text.endswith("…") and full.startswith(label.text[:-1]))
    assert 17 in [label.value for label, _ in drawn]  # the focused token is always named
    rows = strip.row_axis.label_layout()
    line = QFontMetrics(strip.row_axis.tick_font()).height()
    for a, b in zip(rows, rows[1:]):
        assert abs(b.along - a.along) >= line
    vb = strip.plot.getViewBox()
    for col in range(42):  # every column, labelled or not
        assert strip.hit(vb.mapViewToScene(QPointF(col + 0.4, 5))) == ("cell", 5, col)
        assert strip.hit(vb.mapViewToScene(QPointF(col - 0.4, 5))) == ("cell", 5, col)


def darkest(image) -> int:
    """The smallest grey level in a QImage (0 black .. 255 white)."""
    return min(QColor(image.pixel(x, y)).lightness() for x in range(0, image.width(), 2)
               for y in range(0, image.height(), 2))


def test_set_stale_greys_heatmap_and_list(make, qtbot) -> None:
    strip = make(15, 12, (1000, 400))
    row, col = np.unravel_index(np.argmax(strip.values.T), strip.values.T.shape)
    point = cell_point(strip, int(row), int(col))

    def hottest() -> QColor:
        return QColor(strip.view.grab().toImage().pixel(point))

    fresh, fresh_list = hottest(), darkest(strip.feature_list.viewport().grab().toImage())
    strip.set_stale(True)
    settle(qtbot)
    stale, stale_list = hottest(), darkest(strip.feature_list.viewport().grab().toImage())
    assert strip.stale and strip.image.opacity() < 1
    assert stale.lightness() > fresh.lightness() + 40 and stale.saturation() < fresh.saturation()
    assert stale_list > fresh_list + 80  # black text turned grey
    strip.set_stale(False)
    settle(qtbot)
    assert hottest() == fresh and darkest(strip.feature_list.viewport().grab().toImage()) == fresh_list


def test_status_and_figure_view(make) -> None:
    strip = make()
    assert not strip.status.isVisible()
    strip.set_status("⟳ updating")
    assert strip.status.isVisible() and strip.status.text() == "⟳ updating"
    strip.set_status("")
    assert not strip.status.isVisible()
    figure = strip.figure_view()
    assert figure is strip.view and not figure.findChildren(QPushButton)


def test_demo_is_populated(qtbot) -> None:
    strip = demo()
    qtbot.addWidget(strip)
    strip.show()
    qtbot.waitExposed(strip)
    assert strip.values.shape == (15, 12) and len(strip.tokens) == 15
    assert strip.focus is not None and len(strip.listed()) > np.count_nonzero(strip.values[strip.focus])
    assert any(label for _, _, label in strip.listed())
    header = strip.feature_list.header()  # at 450 px the label column is elided to the list, not cut by it
    assert sum(header.sectionSize(i) for i in range(3)) <= strip.feature_list.viewport().width()
