"""The prompt-set results view shows the chosen statistic in its heatmap and names every
statistic of a cell on hover; a click on a cell asks for its drill-down, which shows the
cell's histogram (numpy's bars, the mean and its interval), the prompts sorted by value, a
bar's prompts on a click and a prompt opened on a double-click; setters say nothing, NaN
breaks nothing, and both docked sizes lay out without overlaps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget

from widgets.set_results_view import (BINS, MAX_LISTED, NO_CELL, NO_RESULT, STATISTICS, SetResultsView, bin_of,
                                      demo, number)

ROWS, COLUMNS = ("L0", "L1"), ("H0", "H1", "H2", "H3")
N = 200


def make_stats() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    mean = rng.normal(0, 0.1, (2, 4))
    mean[1, 3] = 0.82
    std = rng.uniform(0.05, 0.3, (2, 4))
    std[1, 3] = 0.12
    ci_low, ci_high = mean - rng.uniform(0.01, 0.05, (2, 4)), mean + rng.uniform(0.01, 0.08, (2, 4))
    ci_low[1, 3], ci_high[1, 3] = 0.79, 0.85
    same = rng.uniform(0.5, 1.0, (2, 4))
    same[1, 3] = 0.97
    return {"mean": mean, "std": std, "ci_low": ci_low, "ci_high": ci_high, "same_sign": same}


STATS = make_stats()
VALUES = np.random.default_rng(2).normal(0.82, 0.12, N)  # the L1 × H3 cell's effect on each prompt
PROMPTS = [f"prompt number {i}: When Mary and John went to the store, John gave a drink to" for i in range(N)]


@pytest.fixture
def view(qtbot) -> SetResultsView:
    """A 2 x 4 head result over 200 prompts, shown at a docked panel's size."""
    widget = SetResultsView()
    qtbot.addWidget(widget)
    widget.set_result(STATS, ROWS, COLUMNS, N, "Head output")
    widget.resize(520, 520)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(10)
    return widget


def recorder(signal) -> list:
    out: list = []
    signal.connect(lambda *args: out.append(args[0] if len(args) == 1 else args))
    return out


def cell_pixel(view: SetResultsView, row: int, col: int) -> QPoint:
    heat = view.heatmap
    return heat.view.mapFromScene(heat.plot.getViewBox().mapViewToScene(QPointF(col, row)))


def bar_pixel(view: SetResultsView, index: int) -> QPoint:
    """The histogram's viewport pixel in the middle of bar `index`, low down (on the bar)."""
    box = view.plot.getViewBox()
    x = (view.edges[index] + view.edges[index + 1]) / 2
    scene = box.mapViewToScene(QPointF(x, 0.0))
    scene.setY(scene.y() - 3)
    return view.histogram.mapFromScene(scene)


def item_pixel(view: SetResultsView, position: int) -> QPoint:
    tree = view.prompt_list
    return tree.visualItemRect(tree.topLevelItem(position)).center()


# ---- the heatmap ----

def test_the_heatmap_shows_the_chosen_statistic(qtbot, view) -> None:
    assert view.statistic() == "mean"
    np.testing.assert_array_equal(view.heatmap.values, STATS["mean"])
    assert view.heatmap.title.text() == "Mean effect · Head output"
    assert view.count_label.text() == "over 200 prompts"
    changed = recorder(view.statistic_changed)
    expected = {"std": STATS["std"], "same_sign": STATS["same_sign"], "ci_width": STATS["ci_high"] - STATS["ci_low"],
                "mean": STATS["mean"]}
    for name, values in expected.items():
        view.stat_box.setCurrentIndex(view.stat_box.findData(name))
        np.testing.assert_allclose(view.heatmap.values, values)
        np.testing.assert_allclose(view.shown_values(), values)
        text = dict(STATISTICS)[name]
        assert view.heatmap.title.text() == f"{text} · Head output"
        assert view.heatmap.image.image is not None
    assert changed == ["std", "same_sign", "ci_width", "mean"]
    assert [view.stat_box.itemText(i) for i in range(view.stat_box.count())] == \
        ["Mean effect", "Standard deviation", "Prompts with the mean's sign", "Width of the 95% interval"]


def test_describe_names_every_statistic(view) -> None:
    assert view.describe(1, 3) == "L1 × H3: mean +0.82 [0.79, 0.85] · std 0.12 · 97% same sign"
    view.set_statistic("std")  # whatever is shown, the hover names them all
    s = {k: v[0, 2] for k, v in STATS.items()}
    assert view.describe(0, 2) == (f"L0 × H2: mean {s['mean']:+.2f} [{s['ci_low']:.2f}, {s['ci_high']:.2f}] · "
                                   f"std {s['std']:.2f} · {100 * s['same_sign']:.0f}% same sign")


def test_hover_shows_the_composed_text(qtbot, view) -> None:
    heat = view.heatmap
    QTest.mouseMove(heat.view.viewport(), cell_pixel(view, 1, 3))
    qtbot.waitUntil(lambda: heat.hover_label.text() == view.describe(1, 3), timeout=3000)
    assert heat.view.toolTip() == view.describe(1, 3)


def test_a_cell_click_asks_for_the_cell(qtbot, view) -> None:
    chosen = recorder(view.cell_chosen)
    view.heatmap.cell_clicked.emit(0, 2)
    assert chosen == [(0, 2)]
    QTest.mouseClick(view.heatmap.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     cell_pixel(view, 1, 1))
    assert chosen == [(0, 2), (1, 1)]
    assert view.cell is None  # the app answers with show_cell; the view does not guess


# ---- the drill-down ----

def test_show_cell_draws_the_histogram_and_its_marks(view) -> None:
    assert view.drill.currentWidget() is view.drill_hint and view.drill_hint.text() == NO_CELL
    view.show_cell(1, 3, VALUES, PROMPTS)
    assert view.drill.currentWidget() is view.drill_page
    counts, edges = np.histogram(VALUES, bins=BINS)
    np.testing.assert_array_equal(view.bars.opts["height"], counts)
    np.testing.assert_allclose(view.bars.opts["x0"], edges[:-1])
    np.testing.assert_allclose(view.bars.opts["x1"], edges[1:])
    assert view.bars in view.plot.items and view.bars.isVisible()
    assert view.mean_line.isVisible() and view.mean_line.value() == pytest.approx(0.82)  # the set's mean, given
    assert view.band.isVisible() and view.band.getRegion() == pytest.approx((0.79, 0.85))
    assert view.zero_line.isVisible() and view.zero_line.value() == 0.0
    (x0, x1), _ = view.plot.getViewBox().viewRange()
    assert x0 < min(0.0, edges[0]) and x1 > edges[-1]  # 0 is within reach of these values: shown
    assert view.cell_title.text() == "L1 × H3 over 200 prompts"
    assert view.cell_summary.text() == "mean +0.82 · 95% [+0.79, +0.85]"
    marker = view.cell_marker.rect()
    assert view.cell_marker.isVisible() and (marker.center().x(), marker.center().y()) == (3.0, 1.0)


def test_the_list_is_sorted_by_value_with_set_indices(view) -> None:
    values = VALUES.copy()
    values[7] = 5.0  # the largest, whatever the draw
    view.show_cell(1, 3, values, PROMPTS)
    order = list(np.argsort(-values, kind="stable"))
    assert view.listed() == order and view.listed()[0] == 7
    first = view.prompt_list.topLevelItem(0)
    assert first.text(0) == "+5.00" and first.text(1) == PROMPTS[7]
    assert view.list_note.text() == "200 prompts, largest first"
    listed_values = [float(view.prompt_list.topLevelItem(i).text(0)) for i in range(N)]
    assert listed_values == sorted(listed_values, reverse=True)


def test_a_long_list_keeps_the_largest(view) -> None:
    values = np.random.default_rng(3).normal(size=1200)
    view.show_cell(0, 0, values, [f"p{i}\nsecond line" for i in range(1200)])
    assert view.listed() == list(np.argsort(-values)[:MAX_LISTED])
    assert view.list_note.text() == "500 largest of 1,200 prompts"
    assert view.prompt_list.topLevelItem(0).text(1).endswith("⏎second line")  # one line per prompt


def test_a_click_on_a_bar_lists_its_prompts(qtbot, view) -> None:
    view.show_cell(1, 3, VALUES, PROMPTS)
    counts, edges = np.histogram(VALUES, bins=BINS)
    bars = bin_of(VALUES, edges)
    np.testing.assert_array_equal(np.bincount(bars, minlength=BINS), counts)  # numpy's bars, prompt by prompt
    fullest = int(np.argmax(counts))
    viewport = view.histogram.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bar_pixel(view, fullest))
    inside = [i for i in np.argsort(-VALUES, kind="stable") if edges[fullest] <= VALUES[i] <= edges[fullest + 1]]
    assert view.chosen_bar == fullest and view.listed() == inside and len(inside) == counts[fullest]
    assert view.list_note.text().startswith(f"{counts[fullest]} prompts from ")
    brushes = view.bars.opts["brushes"]
    assert brushes[fullest].color() != brushes[(fullest + 1) % BINS].color()  # the chosen bar stands out
    other = next(i for i in range(BINS) if counts[i] and i != fullest)
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bar_pixel(view, other))
    assert view.chosen_bar == other and len(view.listed()) == counts[other]
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bar_pixel(view, other))
    assert view.chosen_bar is None and len(view.listed()) == N  # the same bar again: all
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bar_pixel(view, fullest))
    assert view.chosen_bar == fullest
    box = view.plot.getViewBox()
    outside = view.histogram.mapFromScene(box.mapViewToScene(QPointF(-0.02, counts.max() / 2)))  # left of every bar
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, outside)
    assert view.chosen_bar is None and len(view.listed()) == N


def test_a_double_click_opens_the_prompt(qtbot, view) -> None:
    view.show_cell(1, 3, VALUES, PROMPTS)
    target = view.listed()[2]
    viewport = view.prompt_list.viewport()
    with qtbot.waitSignal(view.prompt_opened, timeout=1000) as opened:  # a real double-click: press, release, again
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, item_pixel(view, 2))
        QTest.mouseDClick(view.prompt_list.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                          item_pixel(view, 2))
    assert opened.args == [target]
    opens = recorder(view.prompt_opened)
    QTest.mouseClick(view.prompt_list.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     item_pixel(view, 3))
    assert opens == []  # a single click only selects


def test_setters_say_nothing(qtbot, view) -> None:
    signals = [view.cell_chosen, view.prompt_opened, view.statistic_changed]
    with qtbot.assertNotEmitted(signals[0]), qtbot.assertNotEmitted(signals[1]), \
            qtbot.assertNotEmitted(signals[2]), qtbot.assertNotEmitted(view.heatmap.cell_clicked):
        view.set_statistic("ci_width")
        view.set_result(STATS, ROWS, COLUMNS, N, "again")
        view.show_cell(1, 3, VALUES, PROMPTS)
        view.set_statistic("same_sign")
        view.set_status("busy")
        view.clear("running…")
        view.set_result(STATS, ROWS, COLUMNS, N, "Head output")
    assert view.statistic() == "same_sign" and view.stat_box.currentText() == "Prompts with the mean's sign"
    np.testing.assert_array_equal(view.heatmap.values, STATS["same_sign"])  # the setter re-drew
    with pytest.raises(ValueError):
        view.set_statistic("median")


def test_nan_cells_and_values_break_nothing(qtbot, view) -> None:
    stats = {k: v.copy() for k, v in STATS.items()}
    for v in stats.values():
        v[0, 1] = np.nan
    view.set_result(stats, ROWS, COLUMNS, N, "Head output")
    assert np.isnan(view.heatmap.values[0, 1]) and view.heatmap.image.image is not None
    assert view.describe(0, 1) == "L0 × H1: mean — [—, —] · std — · — same sign"
    for name, _ in STATISTICS:
        view.set_statistic(name)
        assert np.isnan(view.heatmap.values[0, 1])
    QTest.mouseMove(view.heatmap.view.viewport(), cell_pixel(view, 0, 1))
    qtbot.waitUntil(lambda: view.heatmap.hover_label.text() == view.describe(0, 1), timeout=3000)

    values = VALUES.copy()
    values[[3, 50]] = np.nan
    view.show_cell(0, 1, values, PROMPTS)  # a NaN cell: no mean line, no band
    assert not view.mean_line.isVisible() and not view.band.isVisible()
    finite = values[np.isfinite(values)]
    np.testing.assert_array_equal(view.bars.opts["height"], np.histogram(finite, bins=BINS)[0])
    assert view.listed()[-2:] == [3, 50] and view.prompt_list.topLevelItem(N - 1).text(0) == "—"
    assert "2 prompts without a value" in view.cell_summary.text()
    view.show_cell(1, 3, np.full(N, np.nan), PROMPTS)  # nothing measured at all
    assert not view.bars.isVisible() and len(view.listed()) == N and view.bar_at(QPointF(10, 10)) is None
    assert view.mean_line.isVisible()  # the set's mean still stands
    view.set_result({k: np.full((2, 4), np.nan) for k in STATS}, ROWS, COLUMNS, 0, "nothing")
    assert view.count_label.text() == "over 0 prompts"


def test_bad_input_is_refused(view) -> None:
    with pytest.raises(ValueError):
        view.set_result({k: v for k, v in STATS.items() if k != "std"}, ROWS, COLUMNS, N, "t")
    with pytest.raises(ValueError):
        view.set_result(STATS, ROWS, COLUMNS[:3], N, "t")
    with pytest.raises(ValueError):
        view.show_cell(0, 0, VALUES, PROMPTS[:-1])


def test_a_new_result_or_clear_resets_the_drill_down(view) -> None:
    view.show_cell(1, 3, VALUES, PROMPTS)
    view.set_result(STATS, ROWS, COLUMNS, N, "another sweep")
    assert view.drill.currentWidget() is view.drill_hint and view.listed() == [] and view.cell is None
    assert not view.cell_marker.isVisible()
    view.show_cell(0, 0, VALUES, PROMPTS)
    view.clear()
    assert view.heatmap.values is None and view.heatmap.title.text() == NO_RESULT
    assert view.drill.currentWidget() is view.drill_hint and view.count_label.text() == ""
    assert view.describe(0, 0) == "" and view.shown_values() is None
    view.clear("sweeping 3 of 200…")
    assert view.heatmap.title.text() == "sweeping 3 of 200…"


def test_status_line(view) -> None:
    assert not view.status.isVisible()
    view.set_status("swept 200 prompts")
    assert view.status.isVisible() and view.status.text() == "swept 200 prompts"
    view.set_status("")
    assert not view.status.isVisible()


def test_figure_view_is_the_heatmap_labelled_with_the_statistic(view) -> None:
    figure = view.figure_view()
    assert figure is view.heatmap.view and not figure.findChildren(QLabel)
    view.set_statistic("ci_width")
    assert "CI width" in view.heatmap.colorbar.getAxis("right").labelText


def test_position_columns_are_named_like_the_axis(view) -> None:
    view.set_result(STATS, ROWS, ("0:When", "1: Mary", "2: ", "3:\n"), N, "Residual stream × position")
    assert view.describe(1, 1).startswith("L1 × 1 Mary: mean ")
    assert view.describe(0, 2).startswith("L0 × 2 ' ': mean ")
    view.show_cell(1, 3, VALUES, PROMPTS)
    assert view.cell_title.text() == "L1 × 3 '\\n' over 200 prompts"


def test_number() -> None:
    assert number(0.8234, True) == "+0.82" and number(-0.004, True) == "-0.004" and number(0.12) == "0.12"
    assert number(float("nan")) == "—" and number(12345.0) == "1.2e+04" and number(0.0, True) == "+0.00"


# ---- layout ----

def rect_in(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())


@pytest.mark.parametrize("size", [(520, 520), (900, 420)])
def test_demo_lays_out_without_overlaps(qtbot, size) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(20)
    hint = widget.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    heat = widget.heatmap
    parts = [widget.stat_box, widget.count_label, heat.title, heat.view, heat.hover_label, widget.cell_title,
             widget.cell_summary, widget.histogram, widget.list_note, widget.prompt_list, widget.status]
    rects = [rect_in(w, widget) for w in parts]
    whole = widget.rect()
    for w, r in zip(parts, rects):
        assert w.isVisible() and whole.contains(r), w
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            assert not rects[i].intersects(rects[j]), (parts[i], parts[j])
    assert widget.stat_box.width() >= widget.stat_box.sizeHint().width()  # "Prompts with the mean's sign" whole
    assert widget.count_label.width() >= widget.count_label.sizeHint().width()
    assert not widget.cell_title.is_elided() and not widget.cell_summary.is_elided()
    assert heat.title.height() >= heat.title.heightForWidth(heat.title.width())
    heat_box = heat.plot.getViewBox().sceneBoundingRect()
    hist_box = widget.plot.getViewBox().sceneBoundingRect()
    assert heat_box.width() >= 250 and heat_box.height() >= 100
    assert hist_box.width() >= 150 and hist_box.height() >= 100
    assert widget.prompt_list.viewport().height() >= 5 * widget.prompt_list.visualItemRect(
        widget.prompt_list.topLevelItem(0)).height()  # at least five prompts in view
    wide = size[0] >= 800
    drill, heat_rect = rect_in(widget.drill, widget), rect_in(heat, widget)
    assert (drill.left() > heat_rect.right()) == wide and (drill.top() > heat_rect.bottom()) == (not wide)
    hist, listing = rect_in(widget.histogram, widget), rect_in(widget.prompt_list, widget)
    assert (listing.left() > hist.right()) == (not wide) and (listing.top() > hist.bottom()) == wide


def test_demo_builds_a_populated_view(qtbot) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.heatmap.values.shape == (6, 8) and widget.cell == (4, 3)
    assert len(widget.listed()) == MAX_LISTED and widget.figure_view() is not None
    widget.heatmap.cell_clicked.emit(5, 1)  # the demo answers its own clicks
    assert widget.cell == (5, 1) and widget.cell_title.text() == "L5 × H1 over 1,000 prompts"
