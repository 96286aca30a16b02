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
