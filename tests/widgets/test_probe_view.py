"""The probe view asks for probes on the set it names (and not without one), plots each
probe's held-out accuracy per layer beside the control and the chance level, chooses the
best layer or the one clicked, asks to steer along or project out the chosen layer's
direction from the probe chosen, describes a layer on hover, says nothing when the app sets
it up, and lays out without overlaps or clipped text docked and wide, with 12 or 30 layers."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from widgets.probe_view import (CURVES, NO_RESULT, NO_SET, TRAIN, TRAINING, WIDE_AT, ProbeView, best_layer, demo,
                                demo_result, short_component)

COMPONENTS = [f"L{layer}.resid_post" for layer in range(6)]
LOGISTIC = np.array([0.61, 0.70, 0.88, 0.97, 0.96, 0.93])
MEANS = np.array([0.55, 0.66, 0.91, 0.95, 0.90, np.nan])
SHUFFLED = np.array([0.50, 0.47, 0.55, 0.52, 0.49, 0.51])
TRAIN_ACC = np.array([0.80, 0.90, 1.00, 1.00, 1.00, 1.00])
CHANCE = 0.58
SOURCE = "IOI set · 240 prompts · labels John, Mary"


def curves() -> dict[str, np.ndarray]:
    return {"logistic": LOGISTIC, "difference_of_means": MEANS, "shuffled": SHUFFLED}


def settle(qtbot) -> None:
    for _ in range(3):
        qtbot.wait(10)


@pytest.fixture
def view(qtbot) -> ProbeView:
    """A set and a 6-layer result, shown at a docked panel's size."""
    widget = ProbeView()
    qtbot.addWidget(widget)
    widget.set_source(SOURCE)
    widget.set_result(COMPONENTS, curves(), CHANCE, TRAIN_ACC)
    widget.resize(420, 420)
    widget.show()
    qtbot.waitExposed(widget)
    settle(qtbot)
    return widget


def recorder(signal) -> list:
    out: list = []
    signal.connect(lambda *args: out.append(args[0] if len(args) == 1 else args))
    return out


def plot_pixel(view: ProbeView, x: float, fraction: float = 0.5) -> QPoint:
    """The view's viewport pixel at layer position `x`, `fraction` of the way down the plot area."""
    box = view.plot.getViewBox()
    rect = box.sceneBoundingRect()
    scene = QPointF(box.mapViewToScene(QPointF(x, 0.0)).x(), rect.top() + fraction * rect.height())
    return view.view.mapFromScene(scene)


def scene_x(view: ProbeView, x: float) -> float:
    return view.plot.getViewBox().mapViewToScene(QPointF(x, 0.0)).x()


def click(view: ProbeView, pixel: QPoint, button=Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(view.view.viewport(), button, Qt.KeyboardModifier.NoModifier, pixel)


# ---- training ----

def test_train_asks_for_the_column_and_position(qtbot, view) -> None:
    assert view.params() == {"column": "label", "position": "last"}  # the defaults
    view.column_edit.clear()
    QTest.keyClicks(view.column_edit, " sentiment ")
    view.position_box.setCurrentIndex(view.position_box.findData("mean"))
    assert view.position_box.currentText() == "mean over tokens"
    with qtbot.waitSignal(view.train_requested, timeout=1000) as blocker:
        QTest.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [{"column": "sentiment", "position": "mean"}]
    view.column_edit.clear()  # empty reads as its placeholder, 'label'
    view.position_box.setCurrentIndex(view.position_box.findData("last"))
    with qtbot.waitSignal(view.train_requested, timeout=1000) as blocker:
        QTest.keyClick(view.column_edit, Qt.Key.Key_Return)
    assert blocker.args == [{"column": "label", "position": "last"}]


def test_no_set_no_training(qtbot, view) -> None:
    assert view.source_label.text() == SOURCE and view.train_button.isEnabled()
    view.set_source(None)
    assert view.source_label.text() == NO_SET
    assert not view.train_button.isEnabled()
    requested = recorder(view.train_requested)
    QTest.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    QTest.keyClick(view.column_edit, Qt.Key.Key_Return)
    assert requested == []
    view.set_source("Sentiment set · 80 prompts · labels neg, pos")
    assert view.train_button.isEnabled() and view.source_label.text().startswith("Sentiment set")
    QTest.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    assert requested == [{"column": "label", "position": "last"}]


def test_busy_rests_the_buttons(qtbot, view) -> None:
    view.set_busy(True)
    assert view.train_button.text() == TRAINING and not view.train_button.isEnabled()
    assert not view.steer_button.isEnabled() and not view.ablate_button.isEnabled()
    steered, trained = recorder(view.steer_requested), recorder(view.train_requested)
    QTest.mouseClick(view.steer_button, Qt.MouseButton.LeftButton)
    QTest.keyClick(view.column_edit, Qt.Key.Key_Return)
    assert steered == [] and trained == []
    assert view.train_button.width() >= view.train_button.sizeHint().width()  # "Training…" whole
    view.set_busy(False)
    assert view.train_button.text() == TRAIN and view.train_button.isEnabled() and view.steer_button.isEnabled()


# ---- the plot ----

def test_curves_are_plotted_with_the_data(view) -> None:
    assert view.stack.currentWidget() is view.view
    x_expected = np.arange(6, dtype=float)
    for key, values in zip(CURVES, (LOGISTIC, MEANS, SHUFFLED)):
        line = view.lines[key]
        x, y = line.getData()
        np.testing.assert_array_equal(x, x_expected)
        np.testing.assert_array_equal(y, values)  # NaN kept: a gap
        assert line in view.plot.items and line.isVisible()
    logistic, means, shuffled = (view.lines[k] for k in CURVES)
    assert logistic.opts["symbol"] == "o" and means.opts["symbol"] == "s" and shuffled.opts["symbol"] is None
    assert shuffled.opts["pen"].style() == Qt.PenStyle.DashLine
    grey = shuffled.opts["pen"].color()
    assert grey.red() == grey.green() == grey.blue()  # grey
    colours = [logistic.opts["pen"].color().name(), means.opts["pen"].color().name(), grey.name()]
    assert len(set(colours)) == 3
    legend = view.legend.text
    for colour, name in zip(colours, ("logistic", "difference of means", "shuffled labels (control)")):
        assert name in legend and colour in legend
        assert legend.index(colour) < legend.index(name)  # each name after its colour
    (x0, x1), (y0, y1) = view.plot.getViewBox().viewRange()
    assert x0 < 0 and x1 > 5 and -0.1 < y0 < 0 and 1 < y1 < 1.1  # every layer, accuracy 0 - 1
    assert [view.layer_axis.names[i] for i in range(6)] == [f"L{i}" for i in range(6)]


def test_chance_line_and_its_label(view) -> None:
    line = view.chance_line
    assert line in view.plot.items and line.isVisible()
    assert line.value() == CHANCE and line.angle == 0
    assert line.pen.style() == Qt.PenStyle.DotLine
    label = view.chance_label
    assert label.textItem.toPlainText() == "chance 0.58"
    box = view.plot.getViewBox()
    rect = label.mapRectToScene(label.boundingRect())
    y = box.mapViewToScene(QPointF(0.0, CHANCE)).y()
    assert abs(rect.bottom() - y) <= 3 or abs(rect.top() - y) <= 3  # on the line, just above or below
    assert box.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(rect)
    view.set_result(COMPONENTS, curves(), 0.97)  # near the top: the label goes below, still inside
    rect = view.chance_label.mapRectToScene(view.chance_label.boundingRect())
    assert view.chance_line.value() == 0.97 and view.chance_label.textItem.toPlainText() == "chance 0.97"
    assert box.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(rect)


def test_the_best_difference_of_means_layer_is_chosen(view) -> None:
    assert view.chosen() == 3 == int(np.nanargmax(MEANS))  # 0.95 at L3; the logistic probe peaks there too
    assert view.cursor.isVisible() and view.cursor.value() == 3
    assert "L3.resid_post" in view.chosen_label.text() and "0.95" in view.chosen_label.text()
    other = {"logistic": LOGISTIC, "difference_of_means": np.array([0.5, 0.9, 0.6, 0.7, 0.8, 0.4]),
             "shuffled": SHUFFLED}
    view.set_result(COMPONENTS, other, CHANCE)
    assert view.chosen() == 1 and view.cursor.value() == 1  # not the logistic probe's best
    view.set_result(COMPONENTS, other, CHANCE, chosen=4)
    assert view.chosen() == 4 and view.cursor.value() == 4
    assert best_layer(np.array([np.nan, 0.2, 0.7, 0.7])) == 2 and best_layer(np.full(3, np.nan)) == 0


def test_a_click_near_a_layer_chooses_it(qtbot, view) -> None:
    chosen = recorder(view.layer_chosen)
    pitch = scene_x(view, 1.0) - scene_x(view, 0.0)
    pixel = plot_pixel(view, 1.0, 0.3)
    click(view, QPoint(pixel.x() + int(pitch * 0.3), pixel.y()))  # a little right of L1
    assert chosen == [1] and view.chosen() == 1
    assert view.cursor.value() == 1
    qtbot.wait(10)
    drawn = view.cursor.mapToScene(QPointF(0, 0)).x()  # where the cursor is on screen
    assert drawn == pytest.approx(scene_x(view, 1.0), abs=1.0)
    assert "L1.resid_post" in view.chosen_label.text()
    click(view, plot_pixel(view, 1.0))  # the chosen layer again: nothing new
    click(view, plot_pixel(view, 4.0), Qt.MouseButton.RightButton)  # only the left button
    assert chosen == [1]
    click(view, plot_pixel(view, 4.9, 0.8))
    assert chosen == [1, 5] and view.cursor.value() == 5
    assert view.nearest_layer(QPointF(-50.0, -50.0)) is None  # off the plot


def test_the_direction_buttons_carry_the_layer_and_the_probe(qtbot, view) -> None:
    with qtbot.waitSignal(view.steer_requested, timeout=1000) as blocker:
        QTest.mouseClick(view.steer_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [3, "difference_of_means"]  # the default probe
    view.direction_box.setCurrentIndex(view.direction_box.findData("logistic"))
    assert view.direction() == "logistic" and "logistic probe 0.97" in view.chosen_label.text()
    click(view, plot_pixel(view, 2.0))
    with qtbot.waitSignal(view.ablate_requested, timeout=1000) as blocker:
        QTest.mouseClick(view.ablate_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [2, "logistic"]
    view.set_chosen(4)
    with qtbot.waitSignal(view.steer_requested, timeout=1000) as blocker:
        QTest.mouseClick(view.steer_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [4, "logistic"]
    view.direction_box.setCurrentIndex(view.direction_box.findData("difference_of_means"))
    with qtbot.waitSignal(view.ablate_requested, timeout=1000) as blocker:
        QTest.mouseClick(view.ablate_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [4, "difference_of_means"]


def test_the_direction_buttons_wait_for_a_result(qtbot) -> None:
    widget = ProbeView()
    qtbot.addWidget(widget)
    widget.set_source(SOURCE)
    assert widget.chosen() is None and widget.stack.currentWidget() is widget.hint
    assert widget.hint.text() == NO_RESULT
    assert not widget.steer_button.isEnabled() and not widget.ablate_button.isEnabled()
    widget.set_result(COMPONENTS, curves(), CHANCE)
    assert widget.steer_button.isEnabled() and widget.ablate_button.isEnabled()
    widget.clear("training 3 of 12 layers…")
    assert widget.stack.currentWidget() is widget.hint and widget.hint.text() == "training 3 of 12 layers…"
    assert widget.chosen() is None and not widget.cursor.isVisible() and widget.chosen_label.text() == ""
    assert not widget.steer_button.isEnabled() and not widget.ablate_button.isEnabled()
    assert all(line.getData()[0] is None or not len(line.getData()[0]) for line in widget.lines.values())
    widget.clear()
    assert widget.hint.text() == NO_RESULT


def test_describe_layer(view) -> None:
    assert view.describe_layer(3) == "L3.resid_post: logistic 0.97 (train 1.00) · diff. of means 0.95 · control 0.52"
    assert view.describe_layer(5) == "L5.resid_post: logistic 0.93 (train 1.00) · diff. of means — · control 0.51"
    view.set_result(COMPONENTS, curves(), CHANCE)  # no training accuracy
    assert view.describe_layer(0) == "L0.resid_post: logistic 0.61 · diff. of means 0.55 · control 0.50"
    with pytest.raises(IndexError):
        view.describe_layer(6)


def test_hover_describes_the_nearest_layer(qtbot, view) -> None:
    QTest.mouseMove(view.view.viewport(), plot_pixel(view, 2.2))
    qtbot.wait(10)
    assert view.view.toolTip().startswith(view.describe_layer(2))
    x, y = view.hover_dots.getData()
    np.testing.assert_allclose(x, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(y, [LOGISTIC[2], MEANS[2], SHUFFLED[2]])


def test_bad_results_are_refused(view) -> None:
    with pytest.raises(ValueError):
        view.set_result(COMPONENTS, {"logistic": LOGISTIC, "difference_of_means": MEANS}, CHANCE)
    with pytest.raises(ValueError):
        view.set_result(COMPONENTS, {**curves(), "extra": LOGISTIC}, CHANCE)
    with pytest.raises(ValueError):
        view.set_result(COMPONENTS[:5], curves(), CHANCE)
    with pytest.raises(ValueError):
        view.set_result(COMPONENTS, curves(), CHANCE, train=np.ones(3))
    with pytest.raises(IndexError):
        view.set_result(COMPONENTS, curves(), CHANCE, chosen=6)
    with pytest.raises(IndexError):
        view.set_chosen(-1)
    assert view.chosen() == 3  # the shown result stays


def test_setters_say_nothing(qtbot, view) -> None:
    with qtbot.assertNotEmitted(view.train_requested), qtbot.assertNotEmitted(view.layer_chosen), \
            qtbot.assertNotEmitted(view.steer_requested), qtbot.assertNotEmitted(view.ablate_requested):
        view.set_source(None)
        view.set_source("another set")
        view.set_result(COMPONENTS, curves(), 0.5, TRAIN_ACC, chosen=2)
        view.set_chosen(5)
        view.set_busy(True)
        view.set_busy(False)
        view.set_status("trained 18 probes")
        view.clear("training…")
        view.set_result(COMPONENTS, curves(), CHANCE)
    assert view.chosen() == 3 and view.cursor.value() == 3


def test_status_line_hides_when_empty(view) -> None:
    view.set_status("column 'sentiment' is not in the set")
    assert view.status.isVisible() and view.status.text() == "column 'sentiment' is not in the set"
    view.set_status("")
    assert not view.status.isVisible()


def test_figure_view_is_the_plot_and_its_legend(view) -> None:
    figure = view.figure_view()
    assert figure is view.view and figure.isVisible()
    assert not figure.findChildren(QLabel) and not figure.findChildren(QPushButton)
    assert view.legend.scene() is figure.scene() and view.plot.scene() is figure.scene()


def test_short_component() -> None:
    assert short_component("L3.resid_post") == "L3"
    assert short_component("L12.resid_mid") == "L12"
    assert short_component("embed") == "embed"
    assert short_component("blocks.3.hook_resid_post") == "blocks.3.hook_resid_post"


# ---- layout ----

def rect_in(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())


def drawn_ticks(axis) -> list[tuple[QRectF, str]]:
    """(rect, text) of the tick labels the axis draws now, as pyqtgraph lays them out."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(axis.style["tickFont"] or axis.font())
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return sorted(((rect, text) for rect, _, text in texts), key=lambda t: t[0].left())


@pytest.mark.parametrize("layers", [12, 30])
@pytest.mark.parametrize("size", [(420, 420), (800, 360)])
def test_demo_lays_out_without_overlaps(qtbot, size, layers) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    if layers != 12:
        widget.set_result(**demo_result(layers, seed=1))
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    settle(qtbot)
    assert widget.size().width() == size[0] and widget.size().height() == size[1]
    hint = widget.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    parts = [widget.column_label, widget.column_edit, widget.position_label, widget.position_box,
             widget.train_button, widget.source_label, widget.stack, widget.chosen_label, widget.direction_label,
             widget.direction_box, widget.steer_button, widget.ablate_button, widget.status]
    rects = [rect_in(w, widget) for w in parts]
    whole = widget.rect()
    for w, r in zip(parts, rects):
        assert w.isVisible() and whole.contains(r), w
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            assert not rects[i].intersects(rects[j]), (parts[i], parts[j])
    for button in (widget.train_button, widget.steer_button, widget.ablate_button):
        assert button.width() >= button.sizeHint().width()  # no clipped caption
    for label in (widget.column_label, widget.position_label, widget.direction_label):
        assert label.width() >= label.sizeHint().width()
    for combo in (widget.position_box, widget.direction_box):
        assert combo.width() >= combo.sizeHint().width()  # "mean over tokens", "diff. of means" whole
    for label in (widget.source_label, widget.chosen_label):
        assert label.height() >= label.heightForWidth(label.width())  # every wrapped line
    assert not widget.status.is_elided()
    wide = size[0] >= WIDE_AT
    one_line = rect_in(widget.train_button, widget).top() == rect_in(widget.column_edit, widget).top()
    assert one_line == wide  # one row above the plot only with the width for it
    beside = rect_in(widget.steer_button, widget).top() < rect_in(widget.chosen_label, widget).bottom()
    assert beside == wide

    box = widget.plot.getViewBox().sceneBoundingRect()
    assert box.height() >= 150 and box.width() >= 300
    legend = widget.legend.mapRectToScene(widget.legend.boundingRect())
    assert legend.bottom() <= box.top() + 1  # above the plot, not over it
    assert widget.view.sceneRect().contains(legend)

    axis = widget.layer_axis
    labelled = axis.labelled_layers()
    ticks = drawn_ticks(axis)
    names = [f"L{i}" for i in range(layers)]
    assert [text for _, text in ticks] == [names[i] for i in labelled]  # none dropped by pyqtgraph
    stride = labelled[1] - labelled[0]
    assert labelled == list(range(0, layers, stride)) and (stride > 1) == (layers == 30)
    assert len(labelled) >= 6  # enough to read a layer off
    for (a, _), (b, _) in zip(ticks, ticks[1:]):
        assert a.right() + 3 <= b.left()  # never touching
    scene = widget.view.sceneRect()
    for rect, text in ticks:
        on_scene = axis.mapRectToScene(rect)
        assert scene.contains(on_scene), text  # the end labels whole
        assert abs(on_scene.center().x() - scene_x(widget, names.index(text))) <= 1  # under its layer
        assert on_scene.height() >= 8  # readable: a line of the tick font

    chance = widget.chance_label.mapRectToScene(widget.chance_label.boundingRect())
    assert box.adjusted(-1, -1, 1, 1).contains(chance)


def test_a_wide_panel_shrinks_back_to_docked(qtbot) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.resize(800, 360)
    widget.show()
    qtbot.waitExposed(widget)
    settle(qtbot)
    assert rect_in(widget.train_button, widget).top() == rect_in(widget.column_edit, widget).top()
    assert widget.minimumWidth() <= 420  # it can shrink past the switch
    widget.resize(420, 420)
    settle(qtbot)
    assert widget.width() == 420
    assert rect_in(widget.train_button, widget).top() > rect_in(widget.column_edit, widget).bottom()


def test_demo_builds(qtbot) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.chosen() is not None and widget.train_button.isEnabled() and widget.steer_button.isEnabled()
    assert all(len(line.getData()[1]) == 12 for line in widget.lines.values())
    assert widget.figure_view() is widget.view
