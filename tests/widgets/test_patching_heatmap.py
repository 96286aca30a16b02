"""The patching heatmap: symmetric diverging levels (0 is white), labelled axes, hover text
and clicks that name the right cell."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from widgets.patching_heatmap import DIVERGING, PatchingHeatmap, thinned


def shown(qtbot) -> PatchingHeatmap:
    heat = PatchingHeatmap()
    qtbot.addWidget(heat)
    values = np.zeros((2, 8))
    values[0, 3], values[1, 4] = 0.9, -0.3
    heat.set_result(values, ("L0", "L1"), tuple(f"H{h}" for h in range(8)), "Head output", raw=values * 10)
    heat.resize(600, 300)
    heat.show()
    qtbot.waitExposed(heat)
    return heat


def widget_point(heat: PatchingHeatmap, row: int, col: int):
    return heat.view.mapFromScene(heat.plot.getViewBox().mapViewToScene(QPointF(col, row)))


def test_levels_are_symmetric_so_zero_is_the_middle_colour(qtbot) -> None:
    heat = shown(qtbot)
    low, high = heat.image.getLevels()
    assert low == -high == -0.9
    middle = DIVERGING.map(0.5, mode="byte")[:3]
    assert min(middle) > 200  # CET-D1's centre is near white


def test_hover_reads_and_click_names_the_cell(qtbot) -> None:
    heat = shown(qtbot)
    QTest.mouseMove(heat.view.viewport(), widget_point(heat, 0, 3))
    qtbot.waitUntil(lambda: "L0 × H3" in heat.hover_label.text(), timeout=3000)
    assert "+0.900" in heat.hover_label.text() and "logit diff +9.000" in heat.hover_label.text()
    with qtbot.waitSignal(heat.cell_clicked, timeout=3000) as clicked:
        QTest.mouseClick(heat.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         widget_point(heat, 1, 4))
    assert clicked.args == [1, 4]


def test_position_labels_are_shortened_and_thinned() -> None:
    labels = tuple(f"{i}:token{i}" for i in range(200))
    ticks = thinned(labels, max_labels=48)
    assert len(ticks) <= 48 and ticks[0] == (0, "0 token0") and all(len(t) <= 12 for _, t in ticks)


def test_small_grids_print_their_values_and_rows_of_other_units_get_their_own_scale(qtbot) -> None:
    from widgets.patching_heatmap import ANNOTATED_CELLS, PatchingHeatmap

    w = PatchingHeatmap()
    qtbot.addWidget(w)
    values = np.array([[18.0, 0.5, -17.5], [1.0, 0.0, -1.0], [0.02, 0.01, -0.01]])
    w.set_result(values, ("logit diff", "P(target)", "accuracy"), ("plain", "edited", "effect"), "effects", per_row=True)
    texts = sorted(item.toPlainText() for item in w.cell_texts)
    assert len(texts) == 9 and "+18.0" in texts and "-0.010" in texts
    share = w.image.image / w.image.getLevels()[1]  # where each cell sits on the colour scale
    np.testing.assert_allclose(np.abs(share).max(axis=1), 1.0)  # every row reaches the end of the scale
    assert share[2, 0] == 1.0  # 0.02 is its row's largest, coloured like 18.0 is in its own
    w.set_result(values, ("a", "b", "c"), ("x", "y", "z"), "one scale")
    assert abs(w.image.image[2, 0] / w.image.getLevels()[1]) < 0.01  # on one scale 0.02 is white beside 18
    big = np.zeros((ANNOTATED_CELLS + 1, 1))
    w.set_result(big, tuple(map(str, range(len(big)))), ("x",), "big")
    assert not w.cell_texts


def test_printed_values_hide_when_the_cells_are_too_narrow(qtbot) -> None:
    from widgets.patching_heatmap import PatchingHeatmap

    w = PatchingHeatmap()
    qtbot.addWidget(w)
    w.resize(900, 300)
    w.show()
    w.set_result(np.full((2, 8), 0.123456), ("L0", "L1"), tuple(f"H{h}" for h in range(8)), "wide")
    qtbot.waitUntil(lambda: all(t.isVisible() for t in w.cell_texts), timeout=2000)
    w.resize(250, 300)
    qtbot.waitUntil(lambda: not any(t.isVisible() for t in w.cell_texts), timeout=2000)
