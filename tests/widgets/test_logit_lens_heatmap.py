"""The logit-lens heatmap shows every layer of a real-sized model, in the right orientation,
with readable labels, cell text only where it fits, tooltips and a clickable focus."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QPushButton

from widgets.lens_data import LensData, synthetic_lens
from widgets.logit_lens_heatmap import MIN_CELL_WIDTH, LogitLensHeatmap
from widgets.token_text import visible_token


@pytest.fixture
def make(qtbot):
    def build(data: LensData, size: tuple[int, int] = (1000, 420)) -> LogitLensHeatmap:
        heat = LogitLensHeatmap()
        qtbot.addWidget(heat)
        heat.set_lens(data)
        heat.resize(*size)
        heat.show()
        qtbot.waitExposed(heat)
        settle(qtbot)
        return heat
    return build


def settle(qtbot) -> None:
    for _ in range(3):
        qtbot.wait(10)


def scene_point(heat: LogitLensHeatmap, row: float, col: float) -> QPointF:
    return heat.plot.getViewBox().mapViewToScene(QPointF(col, row))


def test_image_holds_top1_probabilities_with_embed_at_the_bottom(make) -> None:
    data = synthetic_lens(49, 64)
    heat = make(data)
    np.testing.assert_array_equal(heat.image.image, data.top_probs[..., 0])
    assert scene_point(heat, 0, 0).y() > scene_point(heat, 48, 0).y()  # embed below the final layer
    for row, col in [(0, 0), (48, 63), (10, 40), (30, 3)]:
        assert heat.cell_at(scene_point(heat, row, col)) == (row, col)
    assert heat.colorbar.axis.labelText == "top-1 probability"


def test_rank_mode_shows_log_rank_and_only_with_a_target(make) -> None:
    data = synthetic_lens(13, 8)
    heat = make(data)
    assert [heat.quantity_box.itemData(i) for i in range(heat.quantity_box.count())] == \
        ["top1", "target_prob", "target_rank"]
    heat.set_quantity("target_rank")
    np.testing.assert_allclose(heat.image.image, np.log10(data.target_ranks + 1.0))
    assert heat.levels[0] == 0 and heat.levels[1] >= np.log10(data.target_ranks.max() + 1)
    assert "rank" in heat.colorbar.axis.labelText
    heat.set_quantity("target_prob")
    np.testing.assert_array_equal(heat.image.image, data.target_probs)
    no_target = LensData(data.layer_labels, data.prompt_tokens, data.positions, data.top_tokens, data.top_probs)
    heat.set_lens(no_target)
    assert heat.quantity_box.count() == 1 and heat.quantity == "top1"
    np.testing.assert_array_equal(heat.image.image, data.top_probs[..., 0])


@pytest.mark.parametrize("size", [(1000, 420), (1400, 600)])
def test_all_49_rows_and_64_columns_fit(make, size) -> None:
    heat = make(synthetic_lens(49, 64), size)
    (x0, x1), (y0, y1) = heat.plot.getViewBox().viewRange()
    assert all(y0 <= r - 0.5 and r + 0.5 <= y1 for r in range(49))
    assert all(x0 <= c - 0.5 and c + 0.5 <= x1 for c in range(64))
    heat.plot.getViewBox().setRange(xRange=(10, 14), yRange=(10, 14), padding=0)
    heat.fit_button.click()
    assert heat.plot.getViewBox().viewRange()[1] == pytest.approx([-0.5, 48.5], abs=1e-6)


def test_cell_text_only_in_cells_wide_enough(make) -> None:
    data = synthetic_lens(49, 64)
    heat = make(data)
    assert heat.cell_pixels()[0] < MIN_CELL_WIDTH and heat.cell_labels() == []
    heat.plot.getViewBox().setRange(xRange=(19.5, 25.5), yRange=(29.5, 35.5), padding=0)
    labels = heat.cell_labels()
    width, height = heat.cell_pixels()
    assert width >= MIN_CELL_WIDTH and height >= QFontMetrics(heat.cell_font).height()
    assert {(r, c) for r, c, _, _ in labels} == {(r, c) for r in range(30, 36) for c in range(20, 26)}
    metrics = QFontMetrics(heat.cell_font)
    for r, c, text, _ in labels:
        full = visible_token(str(data.top_tokens[r, c, 0]))
        assert text == full or (text.endswith("…") and full.startswith(text[:-1]))
        assert metrics.horizontalAdvance(text) <= width


def test_tooltip_names_layer_position_and_top_tokens(make) -> None:
    data = synthetic_lens(13, 10)
    heat = make(data)
    heat.view.scene().sigMouseMoved.emit(scene_point(heat, 3, 5))
    tip = heat.view.toolTip()
    assert tip.startswith(f"L2, position 5 {visible_token(data.prompt_tokens[5])}")
    for token, prob in zip(data.top_tokens[3, 5], data.top_probs[3, 5]):
        assert f"{visible_token(str(token))}  {prob:.3f}" in tip
    assert f"rank {int(data.target_ranks[3, 5]) + 1}" in tip and "\xa0" not in tip
    heat.view.scene().sigMouseMoved.emit(scene_point(heat, 0, 0) + QPointF(-200, 0))  # off the heatmap
    assert heat.view.toolTip() == ""


def test_clicking_a_column_emits_its_position_and_focuses_it(qtbot, make) -> None:
    full = synthetic_lens(13, 10)
    cols = (1, 4, 6, 9)
    part = LensData(full.layer_labels, full.prompt_tokens, cols, full.top_tokens[:, cols], full.top_probs[:, cols],
                    full.target, full.target_probs[:, cols], full.target_ranks[:, cols])
    heat = make(part)
    assert heat.focus == 9  # the last computed position by default
    pos = heat.view.mapFromScene(scene_point(heat, 7, 2))
    with qtbot.waitSignal(heat.position_clicked) as blocker:
        QTest.mouseClick(heat.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [6] and heat.focus == 6
    rect = heat.focus_marker.rect()
    assert (rect.left(), rect.right()) == (1.5, 2.5)
    np.testing.assert_allclose(heat.side_curve.getData()[0], part.target_probs[:, 2])
    heat.set_focus(5)  # not computed there: focus stays
    assert heat.focus == 6


def test_side_plot_rows_line_up_with_the_heatmap(make) -> None:
    heat = make(synthetic_lens(31, 20))
    main, side = heat.plot.getViewBox().sceneBoundingRect(), heat.side.getViewBox().sceneBoundingRect()
    assert abs(main.top() - side.top()) < 1.5 and abs(main.bottom() - side.bottom()) < 1.5
    np.testing.assert_array_equal(heat.side_curve.getData()[1], np.arange(31))


@pytest.mark.parametrize("size", [(1000, 420), (1400, 600), (500, 300)])
def test_axis_labels_never_overlap(make, size) -> None:
    data = synthetic_lens(49, 64)
    heat = make(data, size)
    for axis in (heat.row_axis, heat.column_axis):
        placed = axis.label_layout()
        assert len(placed) >= 3
        for a, b in zip(placed, placed[1:]):
            assert min(a.end, b.end) <= max(a.start, b.start), (a, b)
    assert heat.row_axis.label_layout()[-1].text == "L47"  # the final layer is always labelled
    assert "\xa0" not in "".join(p.text for p in heat.column_axis.label_layout())


def test_live_update_keeps_the_zoom(make) -> None:
    data = synthetic_lens(13, 10)
    heat = make(data)
    heat.plot.getViewBox().setRange(xRange=(2, 5), yRange=(2, 5), padding=0)
    zoom = heat.plot.getViewBox().viewRange()
    heat.set_lens(replace(data, top_probs=data.top_probs * 0.5))  # same rows and columns, new numbers
    assert heat.plot.getViewBox().viewRange() == zoom
    np.testing.assert_array_equal(heat.image.image, data.top_probs[..., 0] * 0.5)


def test_stale_and_figure_view(make) -> None:
    heat = make(synthetic_lens(5, 4))
    heat.set_stale(True)
    assert "paused" in heat.caption.text() and heat.image.opacity() < 1
    heat.set_stale(False)
    assert heat.image.opacity() == 1
    figure = heat.figure_view()
    assert figure is heat.view and not figure.findChildren(QComboBox) and not figure.findChildren(QPushButton)


SHORT = (1400, 250)  # the lens dock at the bottom of a 1400x950 window


def drawn_tick_values(axis) -> list[tuple[float, str]]:
    """(centre y, text) of the tick values an AxisItem draws now, as pyqtgraph lays them out."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(axis.style["tickFont"] or axis.font())
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return sorted((rect.center().y(), text) for rect, _, text in texts)


def test_heatmap_gets_most_of_a_short_panel(make) -> None:
    """Docked at the bottom (~250 px), titles and rotated labels used to leave the heatmap ~50 px."""
    heat = make(synthetic_lens(31, 14), SHORT)
    image = heat.image.sceneBoundingRect()
    assert image.height() >= 0.6 * heat.height(), (image.height(), heat.height())
    assert heat.view.sceneRect().contains(image)  # all of it on screen
    assert not heat.plot.titleLabel.isVisible() and not heat.side.titleLabel.isVisible()
    assert heat.column_axis.compact and not any(label.rotated for label in heat.column_axis.label_layout())


@pytest.mark.parametrize("size", [SHORT, (1400, 330), (1000, 420), (500, 200)])
@pytest.mark.parametrize("quantity", ["top1", "target_rank"])
def test_colour_bar_values_never_overlap(make, size, quantity) -> None:
    heat = make(synthetic_lens(31, 14), size)
    heat.set_quantity(quantity)
    heat.colorbar.fit()
    axis = heat.colorbar.axis
    line = QFontMetrics(heat.colorbar.tick_font()).height()
    drawn = drawn_tick_values(axis)
    assert len(drawn) >= 2, drawn
    for (a, _), (b, _) in zip(drawn, drawn[1:]):
        assert b - a >= line, drawn
    if axis.label.isVisible():  # the name is elided to the bar's height, or dropped
        assert QFontMetrics(axis.label.font()).horizontalAdvance(axis.labelText) <= axis.height()


def test_colour_bar_name_is_shortened_or_dropped_when_the_bar_is_short(make) -> None:
    heat = make(synthetic_lens(13, 8), (1000, 420))
    heat.set_quantity("target_prob")
    assert heat.colorbar.axis.labelText == heat.colorbar.label_text == "target probability of ␣Mary"
    heat.resize(1000, 200)
    heat.colorbar.fit()
    shown = heat.colorbar.axis.labelText
    assert shown == "" or (shown.endswith("…") and heat.colorbar.label_text.startswith(shown[:-1]))


@pytest.mark.parametrize("data", [synthetic_lens(31, 14), synthetic_lens(49, 64)])
def test_short_panel_labels_never_overlap(make, data) -> None:
    heat = make(data, SHORT)
    line = QFontMetrics(heat.row_axis.tick_font()).height()
    rows = heat.row_axis.label_layout()
    assert len(rows) >= 3 and rows[-1].text == data.layer_labels[-1]
    for a, b in zip(rows, rows[1:]):
        assert abs(b.along - a.along) >= line, (a, b)
    columns = heat.column_axis.label_layout()
    assert len(columns) >= 3 and columns[-1].value == len(data.positions) - 1
    width = heat.column_axis.size().width()
    for a, b in zip(columns, columns[1:]):
        assert a.end <= b.start, (a, b)
    assert columns[0].start >= 0 and columns[-1].end <= width  # none cut at the ends


def test_side_plot_names_the_position_without_a_title(make) -> None:
    data = synthetic_lens(31, 14)
    heat = make(data, SHORT)
    main, side = heat.plot.getViewBox().sceneBoundingRect(), heat.side.getViewBox().sceneBoundingRect()
    assert abs(main.top() - side.top()) < 1.5 and abs(main.bottom() - side.bottom()) < 1.5
    axis = heat.side.getAxis("bottom")
    assert axis.labelText.startswith("p(target) at 13")
    assert QFontMetrics(axis.label.font()).horizontalAdvance(axis.labelText) <= heat.side.width()
    assert heat.side_description() == f"p(target) by layer at position 13 '{visible_token(data.prompt_tokens[13])}'"
    heat.view.scene().sigMouseMoved.emit(side.center())
    assert heat.view.toolTip() == heat.side_description()
