"""The head finder lists every head with its scores, sorts by any of them, filters by name,
marks the same heads as the head grid's outline, and opens a head on a row click."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from widgets.demo import causal_patterns
from widgets.head_finder import COLUMNS, HeadFinder, parse_filter
from widgets.head_grid import HeadGrid


def scores(layers: int = 6, heads: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"induction": rng.random((layers, heads)) ** 3, "previous-token": rng.random((layers, heads)),
            "duplicate-token": rng.random((layers, heads)), "DLA": rng.normal(size=(layers, heads))}


def finder_with(qtbot, values: dict[str, np.ndarray], patching: np.ndarray | None = None) -> HeadFinder:
    finder = HeadFinder()
    qtbot.addWidget(finder)
    finder.resize(560, 850)
    finder.set_scores(values, patching=patching)
    return finder


def column_values(finder: HeadFinder, name: str) -> list[str]:
    col = COLUMNS.index(name)
    return [finder.model.index(r, col).data() for r in range(finder.model.rowCount())]


def test_every_head_is_a_row_with_its_scores(qtbot) -> None:
    values = scores()
    finder = finder_with(qtbot, values)
    assert finder.model.rowCount() == 30
    row = finder.shown_heads().index((4, 3))
    assert finder.model.index(row, 0).data() == "L4.H3"
    assert finder.model.index(row, COLUMNS.index("induction")).data() == f"{values['induction'][4, 3]:.3f}"
    assert finder.model.index(row, COLUMNS.index("DLA")).data() == f"{values['DLA'][4, 3]:+.3f}"
    assert finder.model.index(row, COLUMNS.index("patching")).data() == ""  # no sweep yet: blank


def test_sorting_orders_rows_by_score_with_blanks_last(qtbot) -> None:
    values = scores()
    patching = np.full((6, 5), np.nan)
    patching[2:4] = np.arange(10).reshape(2, 5) / 10  # path patching: only some layers have cells
    finder = finder_with(qtbot, values, patching)
    finder.table.sortByColumn(COLUMNS.index("previous-token"), Qt.SortOrder.DescendingOrder)
    shown = [values["previous-token"][l, h] for l, h in finder.shown_heads()]
    assert shown == sorted(shown, reverse=True)
    finder.table.sortByColumn(COLUMNS.index("DLA"), Qt.SortOrder.AscendingOrder)
    shown = [values["DLA"][l, h] for l, h in finder.shown_heads()]
    assert shown == sorted(shown)
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        finder.table.sortByColumn(COLUMNS.index("patching"), order)
        cells = column_values(finder, "patching")
        assert all(cells[:10]) and not any(cells[10:])  # the 20 blanks at the bottom either way
        numbers = [float(c) for c in cells[:10]]
        assert numbers == sorted(numbers, reverse=order == Qt.SortOrder.DescendingOrder)
    finder.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert finder.shown_heads()[:6] == [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0)]


def test_the_marked_heads_are_the_grids_highlighted_heads(qtbot) -> None:
    values = scores(6, 5)
    finder = finder_with(qtbot, values)
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.set_patterns(causal_patterns(6, 5, 8))
    grid.set_scores(values)
    for key, threshold in (("induction", 0.3), ("induction", 0.05), ("previous-token", 0.7), ("DLA", 0.4)):
        finder.select_score_key(key)
        finder.set_threshold(threshold)
        grid.select_score_key(key)
        grid.set_threshold(threshold)
        assert finder.highlighted() == grid.highlighted() != []
        marked_rows = {finder.model.head(r) for r in range(finder.model.rowCount())
                       if finder.model.index(r, 0).data(Qt.ItemDataRole.BackgroundRole) is not None}
        assert marked_rows == set(grid.highlighted())
        assert finder.count_label.text().startswith(f"{len(grid.highlighted())} marked")
    finder.marked_only.setChecked(True)
    assert sorted(finder.shown_heads()) == sorted(grid.highlighted())


def test_the_threshold_and_key_announce_themselves(qtbot) -> None:
    finder = finder_with(qtbot, scores())
    with qtbot.waitSignal(finder.threshold_changed) as blocker:
        finder.threshold.setValue(0.55)
    assert blocker.args == [0.55]
    with qtbot.waitSignal(finder.score_key_changed) as blocker:
        finder.score_box.setCurrentText("DLA")
    assert blocker.args == ["DLA"]


def test_the_filter_keeps_matching_heads(qtbot) -> None:
    finder = finder_with(qtbot, scores(24, 5))
    finder.filter_box.setText("L2")
    assert {l for l, _ in finder.shown_heads()} == {2}  # layer 2, not 20-23
    finder.filter_box.setText("H3")
    assert {h for _, h in finder.shown_heads()} == {3} and len(finder.shown_heads()) == 24
    finder.filter_box.setText("l2.h3, L21")
    assert sorted(finder.shown_heads()) == [(2, 3)] + [(21, h) for h in range(5)]
    finder.filter_box.setText("L2 nonsense")  # not a term: the last good filter stays, the box says so
    assert sorted(finder.shown_heads()) == [(2, 3)] + [(21, h) for h in range(5)]
    assert finder.filter_box.styleSheet() != ""
    finder.filter_box.setText("")
    assert len(finder.shown_heads()) == 120 and finder.filter_box.styleSheet() == ""
    assert parse_filter("L3.H2 H1") == [(3, 2), (None, 1)] and parse_filter("x") is None


def test_clicking_a_row_emits_its_head(qtbot) -> None:
    values = scores()
    finder = finder_with(qtbot, values)
    finder.show()
    qtbot.waitExposed(finder)
    finder.filter_box.setText("L5")
    finder.table.sortByColumn(COLUMNS.index("DLA"), Qt.SortOrder.DescendingOrder)
    expected = (5, int(np.argmax(values["DLA"][5])))
    rect = finder.table.visualRect(finder.model.index(0, 2))
    with qtbot.waitSignal(finder.head_chosen) as blocker:
        QTest.mouseClick(finder.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tuple(blocker.args) == expected


def test_no_scores_yet_still_lists_the_heads(qtbot) -> None:
    finder = HeadFinder()
    qtbot.addWidget(finder)
    finder.set_scores({}, 3, 4)
    assert finder.model.rowCount() == 12 and column_values(finder, "induction") == [""] * 12
    assert finder.highlighted() == []
