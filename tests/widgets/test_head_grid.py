"""The head grid shows each head's pattern, describes heads on hover, opens them on click,
and stays usable on a tall model: zoom, pan within limits, a layer range, labels thinned
to what fits, frames visible at any zoom, clicks that survive a small mouse move. Layers
run as rows or columns (auto: the larger tiles); everything follows that placement."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QFontMetrics, QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from widgets.colors import GAP_INDEX, to_lut8_indices
from widgets.demo import causal_patterns
from widgets.head_grid import HeadGrid

BOTH = ("rows", "columns")


def view_point(grid: HeadGrid, x: float, y: float) -> QPoint:
    """Widget coordinates (of the graphics view's viewport) of a point in mosaic coordinates."""
    scene = grid.plot.getViewBox().mapViewToScene(QPointF(x, y))
    return grid.view.mapFromScene(scene)


def shown_grid(qtbot, shape: tuple[int, int, int], size: tuple[int, int] = (700, 500),
               orientation: str = "auto") -> HeadGrid:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_orientation(orientation)
    grid.resize(*size)
    grid.show()
    qtbot.waitExposed(grid)
    grid.set_patterns(causal_patterns(*shape), [f"t{i}" for i in range(shape[2])])
    QApplication.processEvents()
    return grid


def tile_centre(grid: HeadGrid, layer: int, head: int, query: float | None = None, key: float | None = None) -> QPoint:
    """Viewport pixel of a cell (default: the centre) of a head's tile, wherever it is placed."""
    seq, step, first = grid._shape[2], grid._step(), grid.layer_range[0]
    along, across = (layer - first) * step, head * step
    x0, y0 = (across, along) if grid.orientation == "rows" else (along, across)
    return view_point(grid, x0 + (seq / 2 if key is None else key + 0.5), y0 + (seq / 2 if query is None else query + 0.5))


def mouse(grid: HeadGrid, kind: QEvent.Type, pos: QPoint, buttons: Qt.MouseButton) -> None:
    """A real mouse event on the viewport (QTest.mouseMove carries no pressed button)."""
    event = QMouseEvent(kind, QPointF(pos), grid.view.viewport().mapToGlobal(QPointF(pos)), Qt.MouseButton.LeftButton,
                        buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid.view.viewport(), event)


def wheel(grid: HeadGrid, pos: QPoint, clicks: int) -> None:
    event = QWheelEvent(QPointF(pos), grid.view.viewport().mapToGlobal(QPointF(pos)), QPoint(), QPoint(0, 120 * clicks),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(grid.view.viewport(), event)
    QApplication.processEvents()


def assert_labels_apart(grid: HeadGrid, name: str) -> None:
    """No two labels of an axis overlap: their spacing in pixels exceeds the text's extent."""
    axis = grid.plot.getAxis(name)
    metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
    labels = grid.tick_labels(name)
    assert labels, f"no {name} labels"
    for (a, text_a), (b, text_b) in zip(labels, labels[1:]):
        needed = metrics.height() if name == "left" else (metrics.horizontalAdvance(text_a) + metrics.horizontalAdvance(text_b)) / 2
        assert b - a >= needed, f"{text_a} and {text_b} are {b - a:.0f} px apart, need {needed:.0f}"


@pytest.mark.parametrize("orientation", BOTH)
def test_tiles_hold_the_patterns(qtbot, orientation: str) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_orientation(orientation)
    patterns = causal_patterns(3, 5, 9)
    grid.set_patterns(patterns)
    assert grid.grid_shape == (3, 5) and grid.orientation == orientation
    step = 9 + grid._gap
    assert grid.shown_image.shape == ((3 * step - grid._gap, 5 * step - grid._gap) if orientation == "rows"
                                      else (5 * step - grid._gap, 3 * step - grid._gap))
    for l in range(3):
        for h in range(5):
            np.testing.assert_array_equal(grid.tile(l, h), patterns[l, h])
            # what is drawn is the colour-map index of exactly that data, never transposed: first query on top
            row, col = (l, h) if orientation == "rows" else (h, l)
            shown = grid.shown_image[row * step:row * step + 9, col * step:col * step + 9]
            np.testing.assert_array_equal(shown, to_lut8_indices(patterns[l, h]))
    assert grid.shown_image[9, 0] == GAP_INDEX and grid.shown_image[0, 9] == GAP_INDEX


@pytest.mark.parametrize("orientation", BOTH)
def test_new_patterns_replace_old_ones(qtbot, orientation: str) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_orientation(orientation)
    grid.set_patterns(causal_patterns(2, 3, 6, seed=1))
    newer = causal_patterns(2, 3, 11, seed=2)
    grid.set_patterns(newer)
    grid.set_patterns(newer[:, :, ::-1, ::-1].copy())  # same shape: only the pixels change
    grid.set_patterns(newer)
    np.testing.assert_array_equal(grid.tile(1, 2), newer[1, 2])
    step = 11 + grid._gap
    row, col = (1, 2) if orientation == "rows" else (2, 1)
    np.testing.assert_array_equal(grid.shown_image[row * step:row * step + 11, col * step:col * step + 11],
                                  to_lut8_indices(newer[1, 2]))


def test_click_on_a_tile_emits_its_head_and_hover_describes_it(qtbot) -> None:
    grid = shown_grid(qtbot, (3, 4, 10))
    patterns = grid._patterns
    grid.set_scores({"induction": np.arange(12, dtype=float).reshape(3, 4) / 12})
    step = 10 + grid._gap
    point = view_point(grid, 2 * step + 7.5, 1 * step + 8.5)  # layer 1, head 2, query 8, key 7
    with qtbot.waitSignal(grid.head_clicked) as blocker:
        QTest.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [1, 2]
    scene = grid.view.mapToScene(point)
    assert grid.cell_at(scene) == (1, 2, 8, 7)
    text = grid.describe(1, 2, 8, 7)
    assert "L1.H2" in text and "induction 0.50" in text and "'t8'" in text and f"{patterns[1, 2, 8, 7]:.3f}" in text


def test_a_click_that_moves_three_pixels_still_opens_the_head(qtbot) -> None:
    """pyqtgraph turns a press-move-release of a few pixels into a drag and drops the click."""
    grid = shown_grid(qtbot, (48, 25, 16), (560, 850))
    step = 16 + grid._gap
    start = view_point(grid, 7 * step + 8, 30 * step + 8)  # L30.H7, centre
    end = start + QPoint(3, 3)
    clicked = []
    grid.head_clicked.connect(lambda l, h: clicked.append((l, h)))
    mouse(grid, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    for i in (1, 2, 3):
        mouse(grid, QEvent.Type.MouseMove, start + QPoint(i, i), Qt.MouseButton.LeftButton)
    mouse(grid, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
    assert clicked == [(30, 7)]
    # a real drag pans and opens nothing
    mouse(grid, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    for i in range(1, 8):
        mouse(grid, QEvent.Type.MouseMove, start + QPoint(0, 6 * i), Qt.MouseButton.LeftButton)
    mouse(grid, QEvent.Type.MouseButtonRelease, start + QPoint(0, 42), Qt.MouseButton.NoButton)
    assert clicked == [(30, 7)]


@pytest.mark.parametrize(("dx", "dy", "expected"), [(0.3, 0.5, (2, 3)), (0.7, 0.5, (2, 4)), (0.5, 0.2, (2, 3)),
                                                    (0.5, 0.8, (3, 3))])
def test_a_click_in_the_gap_opens_the_nearest_tile(qtbot, dx: float, dy: float, expected: tuple[int, int]) -> None:
    grid = shown_grid(qtbot, (5, 6, 24))  # gap of 4 cells
    seq, gap = 24, grid._gap
    step = seq + gap
    x = 3 * step + seq + dx * gap if dx != 0.5 else 3 * step + seq / 2  # right of H3 / or inside it
    y = 2 * step + seq + dy * gap if dx == 0.5 else 2 * step + seq / 2  # below L2 / or inside it
    point = view_point(grid, x, y)
    assert grid.cell_at(grid.view.mapToScene(point)) is None  # really in a gap
    with qtbot.waitSignal(grid.head_clicked) as blocker:
        QTest.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert tuple(blocker.args) == expected


def test_a_tall_grid_fits_every_layer_and_thins_its_labels(qtbot) -> None:
    grid = shown_grid(qtbot, (48, 25, 64), (500, 800))
    (x0, x1), (y0, y1) = grid.plot.getViewBox().viewRange()
    height, width = grid.shown_image.shape
    assert y0 <= 0 and y1 >= height and x0 <= 0 and x1 >= width  # all 48 layers, whole
    left = [text for _, text in grid.tick_labels("left")]
    top = [text for _, text in grid.tick_labels("top")]
    assert 4 <= len(left) < 48 and "L0" in left and 3 <= len(top) < 25
    assert_labels_apart(grid, "left")
    assert_labels_apart(grid, "top")


def test_zooming_changes_the_range_and_brings_back_every_label(qtbot) -> None:
    grid = shown_grid(qtbot, (48, 25, 64), (500, 800))
    vb = grid.plot.getViewBox()
    before = vb.viewRange()
    fitted_left = len(grid.tick_labels("left"))
    step = 64 + grid._gap
    centre = view_point(grid, 2 * step, 3 * step)
    for _ in range(6):
        wheel(grid, centre, 1)
    after = vb.viewRange()
    assert after[1][1] - after[1][0] < (before[1][1] - before[1][0]) / 2  # zoomed in
    shown = grid.tick_labels("left")
    layers = [int(text[1:]) for _, text in shown]
    assert layers == list(range(layers[0], layers[0] + len(layers)))  # every layer in view is labelled
    assert len(shown) < fitted_left or len(shown) < 10
    assert_labels_apart(grid, "left")
    assert_labels_apart(grid, "top")
    grid.fit_button.click()
    assert vb.viewRange()[1][1] - vb.viewRange()[1][0] == pytest.approx(before[1][1] - before[1][0], rel=0.01)
    assert len(grid.tick_labels("left")) == fitted_left


def test_panning_stops_at_the_mosaic(qtbot) -> None:
    grid = shown_grid(qtbot, (48, 25, 16), (500, 800))
    vb = grid.plot.getViewBox()
    step = 16 + grid._gap
    wheel(grid, view_point(grid, step, step), 4)
    start = view_point(grid, 3 * step, 3 * step)
    mouse(grid, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    for i in range(1, 30):  # drag down-right a long way: the view would go above/left of the mosaic
        mouse(grid, QEvent.Type.MouseMove, start + QPoint(20 * i, 20 * i), Qt.MouseButton.LeftButton)
    mouse(grid, QEvent.Type.MouseButtonRelease, start + QPoint(580, 580), Qt.MouseButton.NoButton)
    (x0, x1), (y0, _) = vb.viewRange()
    spare = 0.01 * max(grid.shown_image.shape) + 0.5  # the limits' 1 % margin
    assert -grid._gap - spare <= x0 < 0 and -grid._gap - spare <= y0 < 0  # stopped at the top-left corner
    for _ in range(20):
        wheel(grid, view_point(grid, step, step), -1)  # zoom far out: no further than the fitted view
    (x0, x1), (y0, y1) = vb.viewRange()
    assert y1 - y0 <= (grid.shown_image.shape[0] + 2 * grid._gap) * 1.011  # the fitted height and 1 %


def test_a_layer_range_shows_only_those_layers(qtbot) -> None:
    grid = shown_grid(qtbot, (12, 4, 8))
    patterns = grid._patterns
    grid.set_scores({"induction": np.eye(12, 4)})
    grid.select_score_key("induction")
    grid.last_layer.setValue(9)
    grid.first_layer.setValue(8)
    assert grid.layer_range == (8, 9)
    step = 8 + grid._gap
    assert grid.shown_image.shape[0] == 2 * step - grid._gap
    np.testing.assert_array_equal(grid.shown_image[step:step + 8, :8], to_lut8_indices(patterns[9, 0]))
    assert [text for _, text in grid.tick_labels("left")] == ["L8", "L9"]
    # highlighted() is every layer's; frames only for the shown ones (none of L0-L3 here)
    assert grid.highlighted() == [(0, 0), (1, 1), (2, 2), (3, 3)] and grid._frames == []
    with qtbot.waitSignal(grid.head_clicked) as blocker:
        QTest.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=view_point(grid, 4, step + 4))
    assert blocker.args == [9, 0]
    grid.set_patterns(causal_patterns(12, 4, 8, seed=3))  # a live run keeps the range
    assert grid.layer_range == (8, 9)


def test_highlight_outlines_the_top_heads(qtbot) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_patterns(causal_patterns(4, 4, 6))
    scores = np.zeros((4, 4))
    scores[2, 3] = 0.9
    grid.set_scores({"induction": scores})
    grid.select_score_key("induction")
    assert grid._frames == [(2, 3)] and not grid.frame_item.path().isEmpty()
    assert grid.frame_item.pen().isCosmetic() and grid.frame_item.pen().widthF() >= 1.5  # visible at any zoom
    grid.select_score_key("none")
    assert grid._frames == [] and grid.frame_item.path().isEmpty()


def test_highlight_frames_every_head_above_a_movable_threshold(qtbot) -> None:
    """Not a fixed top-N: three induction heads of 0.61-0.66 among 16 (the demo model's L1.H2,
    H4, H7) are all framed; raising the threshold drops the weaker ones; DLA is relative."""
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_patterns(causal_patterns(2, 8, 6))
    scores = np.zeros((2, 8))
    scores[1, [2, 4, 7]] = [0.61, 0.66, 0.61]
    scores[1, 0] = 0.13
    grid.set_scores({"induction": scores, "DLA": np.array([[0.0] * 8, [-4.0, 0, 1.0, 0, 0, 0, 0, 0]])})
    grid.select_score_key("induction")
    assert grid.highlighted() == [(1, 2), (1, 4), (1, 7)] and len(grid._frames) == 3
    assert grid.count_label.text() == "3 heads"
    with qtbot.waitSignal(grid.threshold_changed):
        grid.threshold.setValue(0.65)
    assert grid.highlighted() == [(1, 4)] and len(grid._frames) == 1
    grid.select_score_key("DLA")
    grid.threshold.setValue(0.2)
    assert grid.highlighted() == [(1, 0), (1, 2)]  # |-4| and |1| are 100 % and 25 % of the largest


def test_marked_heads_get_a_veil_and_a_label(qtbot) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_patterns(causal_patterns(2, 3, 6))
    grid.set_marked({(1, 2): "✕ zero", (0, 0): "×0.50", (5, 5): "ignored"})
    assert grid.marks == {(1, 2): "✕ zero", (0, 0): "×0.50"}
    veil = grid._mark_items[(0, 0)][0]
    grid.set_marked({(1, 2): "✕ zero", (0, 0): "×0.40"})  # a knob move: same items, new label
    assert grid.marks[(0, 0)] == "×0.40" and grid._mark_items[(0, 0)][0] is veil
    grid.set_patterns(causal_patterns(2, 3, 9))  # a new prompt length: veils follow the tiles
    assert grid._mark_items[(0, 0)][0] is not veil and grid.marks[(1, 2)] == "✕ zero"
    grid.set_marked({})
    assert grid.marks == {}


def test_the_figure_view_is_the_plot_alone(qtbot) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    figure = grid.figure_view()
    assert figure is grid.view
    for control in (grid.score_box, grid.threshold, grid.first_layer, grid.fit_button, grid.hover_label):
        assert not figure.isAncestorOf(control)


# ---------------------------------------------------------------------- orientation
@pytest.mark.parametrize("orientation", BOTH)
def test_a_click_opens_the_tiles_head_in_either_orientation(qtbot, orientation: str) -> None:
    grid = shown_grid(qtbot, (5, 3, 10), (600, 600), orientation)
    assert grid.orientation == orientation
    assert grid.layer_axis == ("left" if orientation == "rows" else "top")
    clicked = []
    grid.head_clicked.connect(lambda l, h: clicked.append((l, h)))
    heads = [(0, 0), (4, 0), (0, 2), (3, 1), (4, 2)]
    for layer, head in heads:
        QTest.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=tile_centre(grid, layer, head))
        point = tile_centre(grid, layer, head, query=7, key=2)
        assert grid.cell_at(grid.view.mapToScene(point)) == (layer, head, 7, 2)  # query down, key across
        assert grid.head_at(grid.view.mapToScene(point)) == (layer, head)
    assert clicked == heads


@pytest.mark.parametrize(("shape", "size", "expected"), [((30, 9, 14), (800, 330), "columns"),
                                                         ((30, 9, 14), (560, 800), "rows"),
                                                         ((48, 25, 64), (500, 800), "rows"),
                                                         ((2, 8, 10), (500, 800), None)])
def test_auto_lays_out_for_the_larger_tiles(qtbot, shape, size, expected: str | None) -> None:
    """SmolLM2 (30 x 9) in a wide, short dock: layers across; in a tall one, down."""
    grid = shown_grid(qtbot, shape, size)
    other = "rows" if grid.orientation == "columns" else "columns"
    assert grid.fitted_tile_px(grid.orientation) >= grid.fitted_tile_px(other) > 0
    if expected is not None:
        assert grid.orientation == expected
    assert grid.orientation_mode == "auto"
    patterns = grid._patterns
    for layer, head in ((0, 0), (shape[0] - 1, shape[1] - 1)):
        np.testing.assert_array_equal(grid.tile(layer, head), patterns[layer, head])


def test_the_wide_smollm2_dock_gets_big_tiles(qtbot) -> None:
    grid = shown_grid(qtbot, (30, 9, 14), (800, 330))
    assert grid.orientation == "columns"
    assert grid.fitted_tile_px("columns") > 2 * grid.fitted_tile_px("rows")
    (x0, x1), (y0, y1) = grid.plot.getViewBox().viewRange()
    height, width = grid.shown_image.shape
    assert x0 <= 0 and x1 >= width and y0 <= 0 and y1 >= height  # every layer, whole
    assert width > height  # 30 layers across


@pytest.mark.parametrize("orientation", BOTH)
@pytest.mark.parametrize(("shape", "size"), [((30, 9, 14), (800, 330)), ((48, 25, 32), (560, 800)),
                                             ((48, 25, 32), (800, 330))])
def test_labels_name_layers_and_heads_and_never_overlap(qtbot, orientation: str, shape, size) -> None:
    grid = shown_grid(qtbot, shape, size, orientation)
    layer_axis = grid.layer_axis
    head_axis = "top" if layer_axis == "left" else "left"
    layers = [text for _, text in grid.tick_labels(layer_axis)]
    heads = [text for _, text in grid.tick_labels(head_axis)]
    assert layers[0] == "L0" and all(t.startswith("L") for t in layers) and len(layers) >= 4
    assert heads[0] == "H0" and all(t.startswith("H") for t in heads) and len(heads) >= 2
    assert_labels_apart(grid, "left")
    assert_labels_apart(grid, "top")
    # each label sits by its tiles: L<n>'s label at the middle of layer n's tiles
    _, text = grid.tick_labels(layer_axis)[1]
    position = dict((t, p) for p, t in grid.tick_labels(layer_axis))[text]
    centre = tile_centre(grid, int(text[1:]), 0)
    assert position == pytest.approx(centre.y() if layer_axis == "left" else centre.x(), abs=2)


def test_the_toggle_forces_an_orientation_and_auto_follows_the_dock(qtbot) -> None:
    grid = shown_grid(qtbot, (30, 9, 14), (800, 330))
    assert grid.orientation == "columns" and "→" in grid.orientation_button.text()
    grid.orientation_actions["rows"].trigger()
    assert grid.orientation == "rows" and grid.orientation_mode == "rows" and "↓" in grid.orientation_button.text()
    assert grid.shown_image.shape[0] > grid.shown_image.shape[1]  # 30 layers down
    np.testing.assert_array_equal(grid.tile(12, 5), grid._patterns[12, 5])
    with qtbot.waitSignal(grid.head_clicked) as blocker:
        QTest.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=tile_centre(grid, 12, 5))
    assert blocker.args == [12, 5]
    grid.resize(560, 900)  # forced: a tall dock keeps rows, a wide one too
    QApplication.processEvents()
    grid.resize(800, 330)
    QApplication.processEvents()
    assert grid.orientation == "rows"
    grid.orientation_actions["auto"].trigger()
    assert grid.orientation == "columns" and grid.orientation_mode == "auto"
    grid.resize(560, 900)  # auto: a tall dock turns the layers down again
    QApplication.processEvents()
    assert grid.orientation == "rows"
    assert grid.fitted_tile_px("rows") >= grid.fitted_tile_px("columns")
    assert_labels_apart(grid, "left")
    with pytest.raises(ValueError):
        grid.set_orientation("diagonal")


def test_a_zoomed_view_keeps_its_orientation_through_a_resize(qtbot) -> None:
    """Auto re-lays out only a fitted view: a user's zoom is not thrown away."""
    grid = shown_grid(qtbot, (30, 9, 14), (800, 330))
    wheel(grid, tile_centre(grid, 3, 3), 3)
    grid.resize(560, 900)
    QApplication.processEvents()
    assert grid.orientation == "columns"
    grid.fit_button.click()  # fit: the larger tiles again
    assert grid.orientation == "rows"


def test_a_layer_range_runs_across_in_columns(qtbot) -> None:
    grid = shown_grid(qtbot, (12, 4, 8), orientation="columns")
    patterns = grid._patterns
    grid.set_scores({"induction": np.eye(12, 4)})
    grid.select_score_key("induction")
    grid.set_layer_range(2, 5)
    step, gap = 8 + grid._gap, grid._gap
    assert grid.shown_image.shape == (4 * step - gap, 4 * step - gap)
    np.testing.assert_array_equal(grid.shown_image[3 * step:3 * step + 8, step:step + 8],
                                  to_lut8_indices(patterns[3, 3]))  # L3 is the 2nd column, H3 the 4th row
    assert [text for _, text in grid.tick_labels("top")] == ["L2", "L3", "L4", "L5"]
    assert [text for _, text in grid.tick_labels("left")] == ["H0", "H1", "H2", "H3"]
    assert grid._frames == [(2, 2), (3, 3)]
    rects = sorted((r.x(), r.y()) for r in (grid.frame_item.path().toSubpathPolygons()[i].boundingRect()
                                             for i in range(2)))
    assert rects == [(-gap / 2, 2 * step - gap / 2), (step - gap / 2, 3 * step - gap / 2)]
    with qtbot.waitSignal(grid.head_clicked) as blocker:
        QTest.mouseClick(grid.view.viewport(), Qt.MouseButton.LeftButton, pos=view_point(grid, step + 4, 2 * step + 4))
    assert blocker.args == [3, 2]


def test_veils_follow_the_orientation(qtbot) -> None:
    grid = shown_grid(qtbot, (6, 3, 9), orientation="rows")
    grid.set_marked({(4, 1): "✕ zero"})
    step = 9 + grid._gap
    veil, text = grid._mark_items[(4, 1)]
    assert (veil.rect().x(), veil.rect().y()) == (step, 4 * step)
    grid.set_orientation("columns")
    veil, text = grid._mark_items[(4, 1)]
    assert (veil.rect().x(), veil.rect().y()) == (4 * step, step)
    assert (text.pos().x(), text.pos().y()) == (4 * step + 4.5, step + 4.5)
    assert grid.marks == {(4, 1): "✕ zero"}


def test_a_new_shape_gets_fresh_gaps_even_when_the_buffer_size_repeats(qtbot) -> None:
    """2 x 2 heads of 21 tokens and 4 x 4 of 11 both make a 48 x 48 buffer; the old tiles must
    not show through the new gaps."""
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_orientation("rows")
    grid.set_patterns(np.ones((2, 2, 21, 21), dtype=np.float32))
    grid.set_patterns(causal_patterns(4, 4, 11))
    step = 11 + grid._gap
    assert (grid.shown_image[11:step, :] == GAP_INDEX).all() and (grid.shown_image[:, 11:step] == GAP_INDEX).all()
