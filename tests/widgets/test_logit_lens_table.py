"""The logit-lens table shows top-1 tokens and probabilities, top-k in tooltips, the target column."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from widgets.logit_lens_table import LensData, LogitLensTable


def make_data() -> LensData:
    tokens = np.array([[["the", "a"], ["Mary", "John"], ["to", "at"]],
                       [["John", "Mary"], ["Mary", "the"], ["Mary", "John"]]])
    probs = np.array([[[0.5, 0.2], [0.4, 0.3], [0.6, 0.1]], [[0.7, 0.1], [0.8, 0.1], [0.9, 0.05]]])
    return LensData(("embed", "L0"), ("<bos>", "When", "Mary"), (0, 1, 2), tokens, probs, "Mary",
                    np.array([[0.01, 0.4, 0.02], [0.1, 0.8, 0.9]]), np.array([[5, 0, 7], [1, 0, 0]]))


def test_cells_show_top_token_probability_and_tooltip(qtbot) -> None:
    table = LogitLensTable()
    qtbot.addWidget(table)
    table.set_lens(make_data())
    model = table.model
    assert (model.rowCount(), model.columnCount()) == (2, 4)
    assert model.data(model.index(1, 2)) == "Mary\n0.90"
    assert model.headerData(0, Qt.Orientation.Vertical) == "embed"
    tooltip = model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    assert "'Mary'  0.400" in tooltip and "'John'  0.300" in tooltip and "rank 1" in tooltip


def test_target_column_follows_the_focused_position(qtbot) -> None:
    table = LogitLensTable()
    qtbot.addWidget(table)
    table.set_lens(make_data())
    model = table.model
    assert model.data(model.index(0, 3)) == "0.020\nrank 8"  # last position by default
    table.set_focus(1)
    assert model.data(model.index(0, 3)) == "0.400\nrank 1"
    assert model.headerData(3, Qt.Orientation.Horizontal).endswith("@ 1")


def test_clicking_a_cell_emits_its_position(qtbot) -> None:
    table = LogitLensTable()
    qtbot.addWidget(table)
    table.set_lens(make_data())
    with qtbot.waitSignal(table.position_clicked) as blocker:
        table._on_clicked(table.model.index(0, 1))
    assert blocker.args == [1]


def test_lens_on_some_positions_maps_columns_to_positions(qtbot) -> None:
    full = make_data()
    part = LensData(full.layer_labels, ("<bos>", "When", "Mary", "and"), (1, 3), full.top_tokens[:, 1:],
                    full.top_probs[:, 1:], "Mary", full.target_probs[:, 1:], full.target_ranks[:, 1:])
    table = LogitLensTable()
    qtbot.addWidget(table)
    table.set_lens(part)
    model = table.model
    assert model.columnCount() == 3
    assert model.headerData(1, Qt.Orientation.Horizontal) == "3\nand"
    assert model.focus == 3
    table.set_focus(2)  # not computed there: focus stays
    assert model.focus == 3
    with qtbot.waitSignal(table.position_clicked) as blocker:
        table._on_clicked(model.index(0, 0))
    assert blocker.args == [1] and model.data(model.index(0, 2)).startswith("0.400")
