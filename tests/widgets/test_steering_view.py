"""The steering view turns typed contrast pairs into a vector request (or says why not),
streams the strength while the slider is dragged and commits it when the gesture ends,
plots a sweep with its flip and the current strength, sets the strength from a click on the
plot, and says nothing when the app sets it up."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton, QStyle, QStyleOptionSlider, QWidget

from widgets.steering_view import (NO_PROMPTS, NO_SITE, NO_SWEEP, NO_VECTOR, NOTHING_MEASURED, SteeringView, demo,
                                   flip_strength, pack_lines, pairs_problem, vector_text, words_list)

SITES = [f"L{layer}.{place}" for layer in range(4) for place in ("resid_pre", "resid_mid", "resid_post")]
STRENGTHS = np.linspace(-4.0, 4.0, 9)
LOGIT_DIFF = np.array([3.0, 2.5, 2.0, 1.2, 0.4, -0.3, -1.1, -2.0, -2.6])
WORDS = np.array([-6.0, -5.8, -5.5, -5.0, -4.1, -3.2, -2.5, -2.2, -2.1])
TOP = [" Mary", " Mary", " Mary", " Mary", " the", " John", " John", " John", "\n"]


@pytest.fixture
def view(qtbot) -> SteeringView:
    """Sites, a vector and a 9-point sweep, shown at a docked panel's size."""
    widget = SteeringView()
    qtbot.addWidget(widget)
    widget.set_sites(SITES, "L2.resid_pre")
    widget.set_vector("2 contrast pairs at L2.resid_pre (last token)", 5.0, 20.0)
    widget.set_sweep(STRENGTHS, {"logit diff (Mary − John)": LOGIT_DIFF, "log P(words)": WORDS}, 1.0, TOP)
    widget.resize(420, 560)
    widget.show()
    qtbot.waitExposed(widget)
    for _ in range(3):
        qtbot.wait(10)
    return widget


def recorder(signal) -> list:
    out: list = []
    signal.connect(lambda *args: out.append(args[0] if len(args) == 1 else args))
    return out


def handle_centre(slider) -> QPoint:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    return slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle,
                                         slider).center()


def plot_pixel(view: SteeringView, strength: float, fraction: float = 0.5) -> QPoint:
    """The view's viewport pixel at `strength`, `fraction` of the way down the plot area."""
    box = view.plot.getViewBox()
    rect = box.sceneBoundingRect()
    scene = QPointF(box.mapViewToScene(QPointF(strength, 0.0)).x(), rect.top() + fraction * rect.height())
    return view.view.mapFromScene(scene)


# ---- vectors from pairs ----

def test_make_from_pairs_asks_for_the_vector(qtbot, view) -> None:
    view.positives_edit.setFocus()
    QTest.keyClicks(view.positives_edit, "When Mary and John went out, John gave it to")
    QTest.keyClick(view.positives_edit, Qt.Key.Key_Return)
    QTest.keyClick(view.positives_edit, Qt.Key.Key_Return)  # a blank line between
    QTest.keyClicks(view.positives_edit, "The cat sat on the ")
    view.negatives_edit.setPlainText("When Mary and John went out, Mary gave it to\nThe dog sat on the ")
    view.position_box.setCurrentIndex(view.position_box.findData("mean"))
    view.site_box.setCurrentText("L3.resid_post")
    with qtbot.waitSignal(view.vector_requested, timeout=1000) as blocker:
        QTest.mouseClick(view.make_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [{
        "component": "L3.resid_post",
        "positives": ["When Mary and John went out, John gave it to", "The cat sat on the "],  # blank line skipped
        "negatives": ["When Mary and John went out, Mary gave it to", "The dog sat on the "],
        "position": "mean"}]
    assert view.pairs()[2] == "mean" and view.component() == "L3.resid_post"


def test_unequal_or_missing_pairs_ask_nothing_and_say_why(qtbot, view) -> None:
    requested = recorder(view.vector_requested)
    view.set_pairs(["a", "b"], ["c", "d", "e"])
    QTest.mouseClick(view.make_button, Qt.MouseButton.LeftButton)
    assert requested == []
    assert view.status.isVisible() and view.status.text() == "2 prompts with the behaviour but 3 without: give pairs"
    view.set_pairs(["a"], [])
    QTest.mouseClick(view.make_button, Qt.MouseButton.LeftButton)
    assert requested == [] and view.status.text() == NO_PROMPTS
    view.set_pairs(["a"], ["c"])
    view.set_sites([])
    QTest.mouseClick(view.make_button, Qt.MouseButton.LeftButton)
    assert requested == [] and view.status.text() == NO_SITE
    view.set_sites(SITES, "L0.resid_mid")
    QTest.mouseClick(view.make_button, Qt.MouseButton.LeftButton)
    assert requested == [{"component": "L0.resid_mid", "positives": ["a"], "negatives": ["c"], "position": "last"}]
    assert not view.status.isVisible()  # the complaint went with the problem


def test_pairs_helpers() -> None:
    assert pairs_problem(["a"], ["b", "c", "d"]) == "1 prompt with the behaviour but 3 without: give pairs"
    assert pairs_problem(["a", "b"], ["c", "d"]) is None
    assert pairs_problem([], []) == NO_PROMPTS
    assert words_list(" love,  great ,, wonderful ") == ["love", "great", "wonderful"]
    assert words_list("  ") == []


def test_set_sites_shows_them_as_given_and_keeps_the_choice(view) -> None:
    assert [view.site_box.itemText(i) for i in range(view.site_box.count())] == SITES
    assert view.component() == "L2.resid_pre"
    view.set_sites(SITES[:9])  # still listed: kept
    assert view.component() == "L2.resid_pre"
    view.set_sites(SITES[:3])  # gone: the first
    assert view.component() == "L0.resid_pre"


# ---- the vector's buttons ----

def test_save_and_steering_need_a_vector(qtbot, view) -> None:
    assert view.save_button.isEnabled() and view.enabled_button.isEnabled() and view.sweep_button.isEnabled()
    view.set_enabled_state(True)
    view.set_vector(None)
    assert view.vector_label.text() == NO_VECTOR
    assert not view.save_button.isEnabled() and not view.enabled_button.isEnabled()
    assert not view.sweep_button.isEnabled()
    assert not view.enabled_button.isChecked()  # nothing to steer with
    assert view.load_button.isEnabled() and view.make_button.isEnabled()
    view.set_vector("feature #12's decoder row (TopK SAE)", 1.0)
    assert view.save_button.isEnabled() and view.enabled_button.isEnabled()
    with qtbot.waitSignal(view.save_requested, timeout=1000):
        QTest.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.load_requested, timeout=1000):
        QTest.mouseClick(view.load_button, Qt.MouseButton.LeftButton)


def test_vector_label_names_the_source_norm_and_scale(view) -> None:
    text = view.vector_label.text()
    assert text.startswith("2 contrast pairs at L2.resid_pre (last token)")
    assert "|v|\u00a05" in text and "typical |resid| here 20" in text and "strength 4 adds" in text
    assert vector_text("file v.npy", 3.25, 0.0) == "file v.npy · |v|\u00a03.25"
    assert vector_text(None, 3.0, 10.0) == NO_VECTOR


def test_steering_switch_says_on_and_off(qtbot, view) -> None:
    toggled = recorder(view.enabled_changed)
    QTest.mouseClick(view.enabled_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(view.enabled_button, Qt.MouseButton.LeftButton)
    assert toggled == [True, False]


# ---- strength ----

def test_dragging_the_slider_streams_the_strength_and_moves_the_cursor(qtbot, view) -> None:
    changed, committed = recorder(view.strength_changed), recorder(view.strength_committed)
    slider = view.slider
    start = handle_centre(slider)
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert slider.isSliderDown()
    for x in np.linspace(start.x(), start.x() + slider.width() * 0.3, 5)[1:]:
        QTest.mouseMove(slider, QPoint(int(x), start.y()))
        assert view.cursor.value() == pytest.approx(view.strength())  # the cursor follows the drag
    assert len(changed) >= 3 and committed == []  # live values, nothing final yet
    assert changed[-1] == view.strength() == slider.value() / 100 > 2.0
    assert view.strength_box.value() == pytest.approx(view.strength())
    assert all(round(v, 2) == v for v in changed)  # two decimals
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(int(start.x() + slider.width() * 0.3), start.y()))
    assert committed == [changed[-1]]
    qtbot.wait(10)
    box = view.plot.getViewBox()
    drawn = view.cursor.mapToScene(QPointF(0, 0)).x()  # where the cursor line is on screen
    assert drawn == pytest.approx(box.mapViewToScene(QPointF(view.strength(), 0)).x(), abs=1.0)


def test_release_without_a_move_and_keys(qtbot, view) -> None:
    view.set_strength(1.5)
    changed, committed = recorder(view.strength_changed), recorder(view.strength_committed)
    view.slider.setSliderDown(True)
    view.slider.setSliderDown(False)  # pressed and released where it was told: nothing new
    assert changed == [] and committed == []
    view.slider.setFocus()
    QTest.keyClick(view.slider, Qt.Key.Key_Right)  # one step: 1% of the 20-wide range
    assert changed == [1.7] and committed == [1.7]


def test_typing_a_strength_commits_it(qtbot, view) -> None:
    changed, committed = recorder(view.strength_changed), recorder(view.strength_committed)
    box = view.strength_box
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "-2.345")
    assert committed == []  # not while typing
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert committed == [-2.35] or committed == [-2.34]
    assert changed == committed and view.slider.value() == round(committed[0] * 100)
    assert view.cursor.value() == committed[0]


def test_strength_range_and_set_strength(view) -> None:
    view.set_strength_range(-3, 5)
    assert (view.slider.minimum(), view.slider.maximum()) == (-300, 500)
    assert (view.strength_box.minimum(), view.strength_box.maximum()) == (-3.0, 5.0)
    view.set_strength(2.25)
    assert view.strength() == 2.25 and view.slider.value() == 225 and view.cursor.value() == 2.25
    view.set_strength(8.0)  # outside: the range grows to hold it
    assert view.strength() == 8.0 and view.slider.maximum() == 800
    view.set_strength_range(-1, 1)  # the strength is clipped into a smaller range
    assert view.strength() == 1.0 and view.cursor.value() == 1.0
    with pytest.raises(ValueError):
        view.set_strength_range(2, 2)


def test_setters_say_nothing(qtbot, view) -> None:
    signals = [view.vector_requested, view.load_requested, view.save_requested, view.strength_changed,
               view.strength_committed, view.mode_changed, view.enabled_changed, view.sweep_requested]
    with qtbot.assertNotEmitted(signals[0]), qtbot.assertNotEmitted(signals[1]), \
            qtbot.assertNotEmitted(signals[2]), qtbot.assertNotEmitted(signals[3]), \
            qtbot.assertNotEmitted(signals[4]), qtbot.assertNotEmitted(signals[5]), \
            qtbot.assertNotEmitted(signals[6]), qtbot.assertNotEmitted(signals[7]):
        view.set_sites(SITES[3:], "L1.resid_post")
        view.set_vector("file v.safetensors", 3.0)
        view.set_strength_range(-5, 5)
        view.set_strength(-4.5)
        view.set_strength(12.0)
        view.set_mode("cap")
        view.set_mode("remove")
        view.set_mode("add")
        view.set_enabled_state(True)
        view.set_enabled_state(False)
        view.set_pairs(["x", "y"], ["z", "w"], "mean")
        view.set_sweep(STRENGTHS, {"p": np.linspace(0, 1, 9)}, None, None)
        view.clear_sweep("running…")
        view.set_status("busy")
        view.set_vector(None)
        view.set_strength_range(-2, 2)
    assert view.mode() == "add" and view.pairs() == (["x", "y"], ["z", "w"], "mean")
    assert view.component() == "L1.resid_post" and view.strength() == 2.0


def test_modes(qtbot, view) -> None:
    modes = recorder(view.mode_changed)
    view.mode_box.setCurrentIndex(view.mode_box.findData("cap"))
    view.mode_box.setCurrentIndex(view.mode_box.findData("remove"))
    assert modes == ["cap", "remove"] and view.mode() == "remove"
    assert view.mode_box.currentText() == "project the direction out"
    assert not view.slider.isEnabled() and not view.strength_box.isEnabled()  # removing needs no strength
    assert not view.sweep_button.isEnabled()
    view.set_mode("add")
    assert view.slider.isEnabled() and view.sweep_button.isEnabled()
    with pytest.raises(ValueError):
        view.set_mode("multiply")


# ---- the sweep ----

def test_sweep_request_carries_the_range_points_and_words(qtbot, view) -> None:
    view.set_strength_range(-6, 8)
    QTest.keyClicks(view.words_edit, " Paris,London , ")
    with qtbot.waitSignal(view.sweep_requested, timeout=1000) as blocker:
        QTest.mouseClick(view.sweep_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [{"low": -6.0, "high": 8.0, "n": 21, "words": ["Paris", "London"]}]
    view.points_box.setValue(11)
    view.words_edit.clear()
    with qtbot.waitSignal(view.sweep_requested, timeout=1000) as blocker:
        QTest.keyClick(view.words_edit, Qt.Key.Key_Return)
    assert blocker.args == [{"low": -6.0, "high": 8.0, "n": 11, "words": []}]


def test_sweep_plots_each_curve_the_zero_line_and_the_flip(view) -> None:
    assert view.stack.currentWidget() is view.view
    assert len(view.curves) == 2
    for line, values in zip(view.curves, (LOGIT_DIFF, WORDS)):
        x, y = line.getData()
        np.testing.assert_array_equal(x, STRENGTHS)
        np.testing.assert_array_equal(y, values)
        assert line in view.plot.items
    colours = {line.opts["pen"].color().name() for line in view.curves}
    assert len(colours) == 2  # told apart
    legend = view.legend.text
    assert "logit diff (Mary − John)" in legend and "log P(words)" in legend
    assert all(colour in legend for colour in colours)  # each name next to its colour
    assert view.zero_line.isVisible() and view.zero_line.value() == 0.0  # the logit diff crosses 0
    assert view.flip_line.isVisible() and view.flip_line.value() == 1.0
    assert view.flip_label.isVisible() and view.flip_label.textItem.toPlainText() == "flips at 1.00"
    assert view.flip_label.pos().x() == 1.0
    box = view.plot.getViewBox()
    label = view.flip_label.mapRectToScene(view.flip_label.boundingRect())
    points = zip(np.r_[STRENGTHS, STRENGTHS], np.r_[LOGIT_DIFF, WORDS])
    highest = min(box.mapViewToScene(QPointF(x, y)).y() for x, y in points)
    assert label.bottom() <= highest + 1  # in a strip of its own above the curves
    assert box.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(label)
    (x0, x1), (y0, y1) = view.plot.getViewBox().viewRange()
    assert x0 < -4 and x1 > 4 and y0 < WORDS.min() and y1 > LOGIT_DIFF.max()

    view.set_sweep([0.0, 0.5, 1.0], {"P(target)": [0.2, np.nan, 0.6], "logit diff": None}, None, None)
    assert len(view.curves) == 1 and [c for c in view.plot.items if c in view.curves]
    x, y = view.curves[0].getData()
    np.testing.assert_array_equal(y, [0.2, np.nan, 0.6])
    assert not view.zero_line.isVisible() and not view.flip_line.isVisible() and not view.flip_label.isVisible()
    assert "logit diff" not in view.legend.text


def test_clear_and_empty_sweeps_show_a_hint(view) -> None:
    view.clear_sweep("sweeping 3 of 21…")
    assert view.stack.currentWidget() is view.hint and view.hint.text() == "sweeping 3 of 21…"
    assert view.curves == [] and not any(type(i).__name__ == "PlotDataItem" for i in view.plot.items)
    view.clear_sweep()
    assert view.hint.text() == NO_SWEEP
    view.set_sweep(STRENGTHS, {"logit diff": None})
    assert view.stack.currentWidget() is view.hint and view.hint.text() == NOTHING_MEASURED
    with pytest.raises(ValueError):
        view.set_sweep(STRENGTHS, {"short": np.ones(3)})
    with pytest.raises(ValueError):
        view.set_sweep(STRENGTHS, {"ok": np.ones(9)}, None, ["a"])


def test_describe_point_names_the_values_and_top_token(view) -> None:
    assert view.describe_point(5) == ("strength 1.00\nlogit diff (Mary − John): -0.30\nlog P(words): -3.20\n"
                                      "top token: '␣John'")
    assert view.describe_point(8).endswith("top token: '↵'")
    view.set_sweep([0.0, 1.0], {"P": [np.nan, 0.004]})
    assert view.describe_point(0) == "strength 0.00\nP: —"
    assert view.describe_point(1) == "strength 1.00\nP: 0.004"
    with pytest.raises(IndexError):
        view.describe_point(2)


def test_hover_describes_the_nearest_point(qtbot, view) -> None:
    QTest.mouseMove(view.view.viewport(), plot_pixel(view, 1.9))  # nearest: 2.0, index 6
    qtbot.wait(10)
    assert view.view.toolTip().startswith(view.describe_point(6))
    x, y = view.hover_dots.getData()
    np.testing.assert_allclose(x, [2.0, 2.0])
    np.testing.assert_allclose(y, [LOGIT_DIFF[6], WORDS[6]])
    scene = view.view.mapToScene(plot_pixel(view, -3.1))
    assert view.nearest_point(QPointF(scene)) == 1


def test_cursor_follows_the_strength_however_set(view) -> None:
    view.set_strength(-2.5)
    assert view.cursor.value() == -2.5 and view.cursor in view.plot.items
    view.slider.setValue(150)
    assert view.cursor.value() == 1.5


def test_a_click_on_the_plot_steers_at_that_strength(qtbot, view) -> None:
    changed, committed = recorder(view.strength_changed), recorder(view.strength_committed)
    QTest.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     plot_pixel(view, 2.6, 0.3))
    assert len(committed) == 1 and committed[0] == pytest.approx(2.6, abs=0.06)
    assert changed == committed and view.strength() == committed[0]
    assert view.cursor.value() == committed[0] and view.slider.value() == round(committed[0] * 100)
    QTest.mouseClick(view.view.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                     plot_pixel(view, -3.0))
    assert len(committed) == 1  # only the left button
    scene = QPointF(view.view.mapToScene(plot_pixel(view, -1.234)))
    assert view.strength_at(scene) == pytest.approx(-1.23, abs=0.05)
    assert view.strength_at(QPointF(-50.0, -50.0)) is None  # off the plot


def test_a_click_beyond_the_range_is_clipped(qtbot, view) -> None:
    view.set_strength_range(-2, 2)
    committed = recorder(view.strength_committed)
    QTest.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     plot_pixel(view, 3.5))
    assert committed == [2.0]


def test_figure_view_is_the_plot_and_its_legend(view) -> None:
    figure = view.figure_view()
    assert figure is view.view and view.view.isVisible()
    assert not figure.findChildren(QLabel) and not figure.findChildren(QPushButton)
    assert view.legend.scene() is figure.scene() and view.plot.scene() is figure.scene()


# ---- layout ----

def test_flip_strength_and_legend_packing() -> None:
    assert flip_strength(STRENGTHS, LOGIT_DIFF) == 1.0
    assert flip_strength(STRENGTHS, np.ones(9)) is None
    assert pack_lines([100, 100, 100], 250, 10) == [[0, 1], [2]]
    assert pack_lines([300, 50], 250, 10) == [[0], [1]]


def rect_in(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())


@pytest.mark.parametrize("size", [(420, 520), (420, 560), (700, 420)])
def test_demo_lays_out_without_overlaps(qtbot, size) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(20)
    hint = widget.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    parts = [widget.site_box, widget.position_box, widget.positives_label, widget.negatives_label,
             widget.positives_edit, widget.negatives_edit, widget.make_button, widget.load_button, widget.save_button,
             widget.vector_label, widget.mode_box, widget.enabled_button, widget.slider, widget.strength_box,
             widget.words_edit, widget.points_box, widget.sweep_button, widget.stack, widget.status]
    rects = [rect_in(w, widget) for w in parts]
    whole = widget.rect()
    for w, r in zip(parts, rects):
        assert w.isVisible() and whole.contains(r), w
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            assert not rects[i].intersects(rects[j]), (parts[i], parts[j])
    for button in (widget.make_button, widget.load_button, widget.save_button, widget.enabled_button,
                   widget.sweep_button):
        assert button.width() >= button.sizeHint().width()  # no clipped caption
    label = widget.vector_label
    assert label.height() >= label.heightForWidth(label.width())  # both lines of the description
    edit = widget.positives_edit
    assert edit.verticalScrollBar().maximum() == 0  # the demo's three pairs fit
    words = widget.words_edit
    words.clear()  # its placeholder says what to type: readable whole
    assert words.fontMetrics().horizontalAdvance(words.placeholderText()) <= words.width() - 8
    box = widget.plot.getViewBox().sceneBoundingRect()
    assert box.height() >= 100 and box.width() >= 250
    wide = size[0] >= 700
    beside = rect_in(widget.stack, widget).left() > rect_in(widget.positives_edit, widget).right()
    assert beside == wide  # the sweep sits beside the vector only when there is width for it
