"""The head grid shows each head's pattern, describes heads on hover, opens them on click."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from widgets.demo import causal_patterns
from widgets.colors import to_lut_indices
from widgets.head_grid import HeadGrid


def view_point(grid: HeadGrid, x: float, y: float) -> QPoint:
    """Widget coordinates (of the graphics view's viewport) of a point in mosaic coordinates."""
    scene = grid.plot.getViewBox().mapViewToScene(QPointF(x, y))
    return grid.view.mapFromScene(scene)


def test_tiles_hold_the_patterns(qtbot) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    patterns = causal_patterns(3, 5, 9)
    grid.set_patterns(patterns)
    assert grid.grid_shape == (3, 5)
    for l in range(3):
        for h in range(5):
            np.testing.assert_array_equal(grid.tile(l, h), patterns[l, h])
    # what is drawn is the colour-map index of exactly that data
    np.testing.assert_array_equal(grid.image.image, to_lut_indices(grid._mosaic))


def test_new_patterns_replace_old_ones(qtbot) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_patterns(causal_patterns(2, 2, 6, seed=1))
    newer = causal_patterns(2, 2, 11, seed=2)
    grid.set_patterns(newer)
    np.testing.assert_array_equal(grid.tile(1, 1), newer[1, 1])


def test_click_on_a_tile_emits_its_head_and_hover_describes_it(qtbot) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.resize(700, 500)
    grid.show()
    qtbot.waitExposed(grid)
    patterns = causal_patterns(3, 4, 10)
    grid.set_patterns(patterns, [f"t{i}" for i in range(10)])
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


def test_highlight_outlines_the_top_heads(qtbot) -> None:
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_patterns(causal_patterns(4, 4, 6))
    scores = np.zeros((4, 4))
    scores[2, 3] = 0.9
    grid.set_scores({"induction": scores})
    grid.select_score_key("induction")
    assert len(grid._frames) == 1
    grid.select_score_key("none")
    assert grid._frames == []


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
