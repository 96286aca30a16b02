"""The training timeline plots one curve per measure against the checkpoints' steps, marks
the chosen checkpoint in every plot, and says `checkpoint_chosen` only for the user's picks
(slider release, a click or key on it, ◀ / ▶, a click on a plot), never for a setter."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QFontMetrics, QPainterPath
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton, QStyle, QStyleOptionSlider

from widgets.training_timeline import NO_CHECKPOINTS, NOT_MEASURED, TrainingTimeline, demo

STEPS = [0, 500, 1000, 1500, 2000, 2500, 3000, 4000, 6000]


def curves(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    copy_loss = 6.0 - np.linspace(0, 5.5, len(STEPS)) + rng.normal(0, 0.1, len(STEPS))
    copy_loss[[3, 6]] = np.nan  # not measured: two gaps
    return {"best induction score": rng.uniform(0, 1, len(STEPS)),
            "copy loss (nats)": copy_loss,
            "logit diff (target − foil)": np.linspace(0, 15, len(STEPS)) + rng.normal(0, 0.5, len(STEPS))}


@pytest.fixture
def timeline(qtbot):
    """Nine checkpoints and three curves, shown at a docked panel's size."""
    widget = TrainingTimeline()
    qtbot.addWidget(widget)
    widget.set_checkpoints(STEPS)
    widget.set_curves(curves())
    widget.resize(420, 360)
    widget.show()
    qtbot.waitExposed(widget)
    for _ in range(3):
        qtbot.wait(10)
    return widget


@pytest.fixture
def chosen(timeline) -> list[int]:
    """Every index checkpoint_chosen says, in order."""
    out: list[int] = []
    timeline.checkpoint_chosen.connect(out.append)
    return out


def handle_centre(timeline: TrainingTimeline) -> QPoint:
    option = QStyleOptionSlider()
    timeline.slider.initStyleOption(option)
    return timeline.slider.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, timeline.slider).center()


def plot_point(timeline: TrainingTimeline, plot: int, step: float, dx: float = 0.0) -> QPoint:
    """Widget (viewport) pixel of `step` at mid-height of a plot, dx pixels to the right."""
    box = timeline.plots[plot].getViewBox()
    scene = box.mapViewToScene(QPointF(step, 0.0))
    scene = QPointF(scene.x() + dx, box.sceneBoundingRect().center().y())
    return timeline.view.mapFromScene(scene)


def test_setters_never_say_checkpoint_chosen(timeline, chosen) -> None:
    timeline.set_current(3)
    assert timeline.slider.value() == 3 and timeline.current == 3
    timeline.set_current(None)
    timeline.set_current(8)
    timeline.set_curves(curves(seed=1))
    timeline.set_status("measuring 3 of 9…")
    timeline.set_checkpoints(STEPS[:5], [f"checkpoint-{s}" for s in STEPS[:5]])
    timeline.set_current(4)
    timeline.set_checkpoints([])
    assert chosen == []
    assert timeline.status.text() == "measuring 3 of 9…"


def test_position_label_names_the_step_and_its_place(timeline) -> None:
    timeline.set_current(5)
    assert timeline.position.text() == "step 2,500  (6 of 9)"
    timeline.set_current(0)
    assert timeline.position.text() == "step 0  (1 of 9)"
    timeline.set_current(None)
    assert "none" in timeline.position.text()


def test_releasing_a_dragged_slider_says_its_index_once(qtbot, timeline, chosen) -> None:
    timeline.set_current(0)
    slider = timeline.slider
    start = handle_centre(timeline)
    end = QPoint(start.x() + round(slider.width() * 0.55), start.y())
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert slider.isSliderDown()
    for x in np.linspace(start.x(), end.x(), 6)[1:]:
        QTest.mouseMove(slider, QPoint(int(x), start.y()))
    dragged_to = slider.value()
    assert dragged_to >= 3 and chosen == []  # the values passed while dragging say nothing
    assert timeline.position.text().startswith(f"step {STEPS[dragged_to]:,}")  # but show where it is
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert chosen == [dragged_to]


def test_release_and_keys_on_the_slider(timeline, chosen) -> None:
    """The release (from a programmatic drag) and each arrow key pick; a release where it was chosen does not."""
    timeline.set_current(2)
    slider = timeline.slider
    slider.setSliderDown(True)
    slider.setValue(6)
    slider.setValue(7)
    assert chosen == []
    slider.setSliderDown(False)  # emits sliderReleased
    assert chosen == [7]
    slider.setSliderDown(True)
    slider.setSliderDown(False)  # pressed and released without moving: still 7, nothing new
    assert chosen == [7]
    slider.setFocus()
    QTest.keyClick(slider, Qt.Key.Key_Left)
    QTest.keyClick(slider, Qt.Key.Key_Left)
    assert chosen == [7, 6, 5]


def test_step_buttons_pick_neighbours_and_stop_at_the_ends(timeline, chosen) -> None:
    timeline.set_current(1)
    back, forward = timeline.back_button, timeline.forward_button
    QTest.mouseClick(back, Qt.MouseButton.LeftButton)
    assert chosen == [0] and timeline.slider.value() == 0
    assert not back.isEnabled()
    QTest.mouseClick(back, Qt.MouseButton.LeftButton)
    assert chosen == [0]
    for _ in range(len(STEPS) + 2):  # past the last one
        QTest.mouseClick(forward, Qt.MouseButton.LeftButton)
    assert chosen == list(range(len(STEPS)))
    assert not forward.isEnabled() and back.isEnabled()
    assert [c.value() for c in timeline.cursors] == [STEPS[-1]] * 3


def test_one_plot_per_curve_with_the_values_at_the_steps(timeline) -> None:
    data = curves()
    assert [p.titleLabel.text for p in timeline.plots] == list(data)
    for line, values in zip(timeline.lines, data.values()):
        x, y = line.getData()
        np.testing.assert_array_equal(x, STEPS)
        np.testing.assert_array_equal(y, values)  # NaN where NaN
    x, y = timeline.lines[1].getData()
    assert np.isnan(y[[3, 6]]).all()
    path: QPainterPath = timeline.lines[1].curve.getPath()
    elements = [path.elementAt(i) for i in range(path.elementCount())]
    moves = [e for e in elements if e.type == QPainterPath.ElementType.MoveToElement]
    assert len(moves) == 3  # three runs of measured checkpoints: the line breaks at each NaN
    assert not {e.x for e in elements} & {STEPS[3], STEPS[6]}
    assert timeline.plots[-1].getAxis("bottom").labelText == "training step"
    assert all(not p.getAxis("bottom").labelText for p in timeline.plots[:-1])


def test_set_curves_again_replaces_the_plots(timeline) -> None:
    old = list(timeline.plots)
    timeline.set_curves({"a": np.arange(9.0), "b": np.ones(9)})
    assert [p.titleLabel.text for p in timeline.plots] == ["a", "b"]
    assert not any(p in timeline.view.ci.items for p in old)
    assert len(timeline.view.ci.items) == 2
    with pytest.raises(ValueError):
        timeline.set_curves({"short": np.ones(3)})


def test_cursor_at_the_current_step_in_every_plot_and_hidden_for_none(qtbot, timeline) -> None:
    timeline.set_current(5)
    qtbot.wait(10)
    assert len(timeline.cursors) == 3
    for plot, cursor in zip(timeline.plots, timeline.cursors):
        assert cursor in plot.items and cursor.isVisible() and cursor.value() == STEPS[5]
    xs = {plot_point(timeline, i, STEPS[5]).x() for i in range(3)}
    assert len(xs) == 1  # one vertical line through the stack: the plots' x axes line up
    timeline.set_curves({"fraction": np.linspace(0, 1, 9), "loss": np.linspace(-12000, 150000, 9)})
    timeline.set_current(5)
    qtbot.wait(10)
    boxes = [plot.getViewBox() for plot in timeline.plots]  # tick labels '0.5' above '100000'
    assert boxes[0].sceneBoundingRect().left() == boxes[1].sceneBoundingRect().left()
    for box in boxes:  # x-linked plots of unequal width would cut the first checkpoints off one of them
        lo, hi = box.viewRange()[0]
        assert lo < STEPS[0] and hi > STEPS[-1]
    timeline.set_curves(curves())
    timeline.set_current(None)
    assert not any(c.isVisible() for c in timeline.cursors)
    timeline.set_current(7)
    assert all(c.isVisible() and c.value() == 4000 for c in timeline.cursors)


def test_no_checkpoints_disables_the_slider_and_shows_the_hint(qtbot) -> None:
    widget = TrainingTimeline()
    qtbot.addWidget(widget)
    widget.resize(400, 350)
    widget.show()
    qtbot.waitExposed(widget)
    assert not widget.slider.isEnabled() and not widget.compute_button.isEnabled()
    assert not widget.back_button.isEnabled() and not widget.forward_button.isEnabled()
    assert widget.hint.isVisible() and widget.hint.text() == NO_CHECKPOINTS
    assert not widget.figure_view().isVisible()
    widget.set_checkpoints(STEPS)
    assert widget.slider.isEnabled() and widget.slider.maximum() == len(STEPS) - 1
    assert widget.hint.isVisible() and widget.hint.text() == NOT_MEASURED
    widget.set_curves(curves())
    assert not widget.hint.isVisible() and widget.figure_view().isVisible()
    widget.set_checkpoints([])
    assert not widget.slider.isEnabled() and widget.hint.text() == NO_CHECKPOINTS and widget.plots == []


def test_clicking_a_plot_near_a_step_picks_that_checkpoint(qtbot, timeline, chosen) -> None:
    timeline.set_current(0)
    QTest.mouseClick(timeline.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     plot_point(timeline, 1, STEPS[2], dx=5))
    assert chosen == [2]
    assert timeline.slider.value() == 2 and all(c.value() == STEPS[2] for c in timeline.cursors)
    QTest.mouseClick(timeline.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     plot_point(timeline, 2, 5000))  # halfway between 4,000 and 6,000: near no checkpoint
    QTest.mouseClick(timeline.view.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                     plot_point(timeline, 0, STEPS[6]))
    assert chosen == [2]
    QTest.mouseClick(timeline.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     plot_point(timeline, 0, STEPS[8], dx=-4))
    assert chosen == [2, 8]


def test_buttons_ask_to_open_and_to_measure(qtbot, timeline) -> None:
    with qtbot.waitSignal(timeline.open_requested, timeout=1000):
        QTest.mouseClick(timeline.open_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(timeline.compute_requested, timeout=1000):
        QTest.mouseClick(timeline.compute_button, Qt.MouseButton.LeftButton)


def test_readable_in_a_small_dock(qtbot) -> None:
    """At 400 x 350 every plot keeps room for its line, its y values stay a line of text apart
    and the panel asks for no more than the dock has."""
    widget = demo()
    qtbot.addWidget(widget)
    widget.resize(400, 350)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(20)
    hint = widget.minimumSizeHint()
    assert hint.width() <= 400 and hint.height() <= 350
    for plot in widget.plots:
        box = plot.getViewBox().sceneBoundingRect()
        assert box.height() >= 40 and box.width() >= 250
        axis = plot.getAxis("left")
        line = QFontMetrics(axis.style["tickFont"] or axis.font()).height()
        (lo, hi), height = plot.getViewBox().viewRange()[1], box.height()
        values = [v for _, ticks in axis.tickValues(lo, hi, height) for v in ticks]
        assert 2 <= len(values) <= 4
        gaps = np.diff(sorted(values)) / (hi - lo) * height
        assert (gaps >= line).all()
        assert plot.titleLabel.boundingRect().height() <= line + 10  # not pyqtgraph's 30 px title row
    assert widget.position.text() == "step 2,500  (6 of 9)"
    assert widget.position.width() >= widget.position.fontMetrics().horizontalAdvance(widget.position.text())


def test_figure_view_holds_only_the_plots(timeline) -> None:
    figure = timeline.figure_view()
    assert figure is timeline.view
    assert not figure.findChildren(QLabel) and not figure.findChildren(QPushButton)


def test_step_axis_writes_steps_short(timeline) -> None:
    axis = timeline.plots[-1].getAxis("bottom")
    assert axis.tickStrings([0, 2000, 12500], 1.0, 2500) == ["0", "2k", "12.5k"]
    assert axis.tickStrings([0, 250, 500], 1.0, 250) == ["0", "250", "500"]
    assert axis.tickStrings([1_000_000, 1_500_000], 1.0, 500_000) == ["1M", "1.5M"]
