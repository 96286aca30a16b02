"""The generation view asks for a generation with the controls' values (or to stop while
busy), shows the prompt and each column's tokens verbatim (escaped, newlines as breaks),
marks from the parting token on in both columns, says where the columns part, describes
a hovered token's probability and alternatives, follows the text while it streams, and
never emits anything from a setter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QFont, QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip

from widgets.generation_view import (APPLY_CHOICES, NO_EDITS, WITH, WITHOUT, Column, GenerationView, demo,
                                     prob_text, quoted)

PROMPT = "When Mary and John went to the store, John gave a drink to"


def column(tokens: list[str], p: float = 0.5) -> Column:
    """Each token with probability p; its alternatives ' x' and ' y' after it."""
    return Column(tuple(tokens), [p] * len(tokens), [[t, " x", " y"] for t in tokens],
                  [[p, 0.25, 0.125] for _ in tokens])


PLAIN = column([" Mary", ".", " She", " thanked", " him"])
EDITED = column([" Mary", ".", " John", " gave", " a", " drink"])


@pytest.fixture
def view(qtbot) -> GenerationView:
    widget = GenerationView()
    qtbot.addWidget(widget)
    widget.resize(700, 360)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def said(view) -> list[tuple]:
    """Every signal the view emits, in order."""
    out: list[tuple] = []
    view.generate_requested.connect(lambda params: out.append(("generate", params)))
    view.stop_requested.connect(lambda: out.append(("stop",)))
    return out


def centre_of(view: GenerationView, col: int, index: int) -> QPoint:
    """The viewport pixel in the middle of the first character of a token."""
    start, _ = view.token_span(col, index)
    browser = view.browsers[col]
    cursor = QTextCursor(browser.document())
    cursor.setPosition(start)
    left = browser.cursorRect(cursor)
    cursor.setPosition(start + 1)
    right = browser.cursorRect(cursor)
    return QPoint((left.left() + right.left()) // 2, left.center().y())


def test_generate_emits_the_controls_values(view, said, qtbot) -> None:
    qtbot.mouseClick(view.generate_button, Qt.MouseButton.LeftButton)
    assert said == [("generate", {"n_new": 24, "temperature": 0.0, "top_p": 1.0, "seed": 0, "apply_to": "all"})]
    view.n_new.setValue(40)
    view.temperature.setValue(0.7)
    view.top_p.setValue(0.9)
    view.seed.setValue(1234)
    view.apply_to.setCurrentIndex(view.apply_to.findData("prompt"))
    qtbot.mouseClick(view.generate_button, Qt.MouseButton.LeftButton)
    assert said[-1] == ("generate", {"n_new": 40, "temperature": 0.7, "top_p": 0.9, "seed": 1234,
                                     "apply_to": "prompt"})
    assert said[-1][1] == view.params()


def test_control_ranges_and_choices(view) -> None:
    assert (view.n_new.minimum(), view.n_new.maximum()) == (1, 512)
    assert (view.temperature.minimum(), view.temperature.maximum(), view.temperature.singleStep()) == (0.0, 5.0, 0.1)
    assert view.temperature.text() == "greedy"
    assert (view.top_p.minimum(), view.top_p.maximum()) == (0.05, 1.0)
    assert (view.seed.minimum(), view.seed.maximum()) == (0, 2**31 - 1)
    assert [(view.apply_to.itemData(i), view.apply_to.itemText(i)) for i in range(view.apply_to.count())] == \
        list(APPLY_CHOICES) == [("all", "prompt and new tokens"), ("prompt", "prompt only"),
                                ("new", "new tokens only")]


def test_sampling_controls_only_when_sampling(view) -> None:
    assert not view.more_button.isEnabled()  # greedy: top-p and seed do nothing
    view.temperature.setValue(0.3)
    assert view.more_button.isEnabled() and "seed 0" in view.more_button.toolTip()
    view.temperature.setValue(0.0)
    assert not view.more_button.isEnabled()


def test_busy_reads_stop_and_a_click_says_stop(view, said, qtbot) -> None:
    view.set_busy(True)
    assert view.generate_button.text() == "Stop" and said == []
    qtbot.mouseClick(view.generate_button, Qt.MouseButton.LeftButton)
    assert said == [("stop",)]
    view.set_busy(False)
    assert view.generate_button.text() == "Generate"
    qtbot.mouseClick(view.generate_button, Qt.MouseButton.LeftButton)
    assert [s[0] for s in said] == ["stop", "generate"]


def test_setters_emit_nothing(view, said) -> None:
    view.set_params({"n_new": 5, "temperature": 1.5, "seed": 3, "apply_to": "new"})
    view.set_generation(PROMPT, PLAIN, EDITED, 2, True)
    view.set_busy(True)
    view.set_busy(False)
    view.set_status("working")
    view.clear("gone")
    assert said == []


def test_set_params_round_trips_and_ignores_unknown_keys(view) -> None:
    params = {"n_new": 100, "temperature": 1.2, "top_p": 0.85, "seed": 2**31 - 1, "apply_to": "new"}
    view.set_params({**params, "stop_at_end": False, "colour": "red"})
    assert view.params() == params
    view.set_params({"seed": 7})  # the others keep their values
    assert view.params() == {**params, "seed": 7}
    view.set_params({"apply_to": "nonsense"})
    assert view.params()["apply_to"] == "new"
    fresh = GenerationView()
    fresh.set_params(view.params())
    assert fresh.params() == view.params()
    fresh.deleteLater()


def test_columns_show_the_prompt_then_the_tokens(view) -> None:
    view.set_generation(PROMPT, PLAIN, EDITED, 2, True)
    assert view.column_text(WITHOUT) == PROMPT + " Mary. She thanked him"
    assert view.column_text(WITH) == PROMPT + " Mary. John gave a drink"
    browser = view.browsers[WITHOUT]
    cursor = QTextCursor(browser.document())
    cursor.setPosition(3)  # inside the prompt: grey
    prompt_grey = cursor.charFormat().foreground().color()
    start, _ = view.token_span(WITHOUT, 0)
    cursor.setPosition(start + 1)
    token_black = cursor.charFormat().foreground().color()
    assert prompt_grey.lightness() > 90 and token_black.lightness() < 10


def test_the_parting_token_and_all_after_it_are_marked_in_both_columns(view) -> None:
    view.set_generation(PROMPT, PLAIN, EDITED, 2, True)
    assert view.marked(WITHOUT) == [2, 3, 4]
    assert view.marked(WITH) == [2, 3, 4, 5]
    assert view.parting_shown(WITHOUT) == view.parting_shown(WITH) == 2
    view.set_generation(PROMPT, PLAIN, EDITED, 0, True)  # marks move with diverges_at
    assert view.marked(WITHOUT) == [0, 1, 2, 3, 4] and view.parting_shown(WITH) == 0
    same = column([" Mary", ".", " She"])
    view.set_generation(PROMPT, same, same, None, True)
    assert view.marked(WITHOUT) == view.marked(WITH) == []
    assert view.parting_shown(WITHOUT) is None


def test_summary_says_where_the_columns_part_or_that_they_agree(view) -> None:
    view.set_generation(PROMPT, PLAIN, EDITED, 2, False)
    assert view.summary.text() == "The columns part at token 3 (' She' vs ' John')"
    same = column([" Mary", ".", " She"])
    view.set_generation(PROMPT, same, same, None, False)
    assert view.summary.text() == "Identical so far (3 tokens)"
    view.set_generation(PROMPT, same, same, None, True)
    assert view.summary.text() == "Identical: the interventions did not change these 3 tokens"
    view.set_generation(PROMPT, same, column([" Mary", ".", " She", " left"]), 3, True)
    assert view.summary.text() == "The columns part at token 4 (the end vs ' left')"
    view.set_generation(PROMPT, same, None, None, True)
    assert view.summary.text() == "3 tokens without interventions; none to compare"
    view.set_generation(PROMPT, None, None, None, False)
    assert view.summary.text() == ""


def test_without_an_edited_column_the_note_stands_in(view) -> None:
    view.set_generation(PROMPT, PLAIN, EDITED, 2, True)
    assert view.browsers[WITH].isVisible() and not view.note.isVisible()
    view.set_generation(PROMPT, PLAIN, None, None, True)
    assert view.note.isVisible() and view.note.text() == NO_EDITS == "No interventions: add some to compare"
    assert not view.browsers[WITH].isVisible()
    assert "color" in view.headers[WITH].styleSheet()  # greyed
    assert view.token_at_point(WITH, QPoint(20, 10)) is None
    view.set_generation(PROMPT, PLAIN, EDITED, 2, True)
    assert view.browsers[WITH].isVisible() and view.headers[WITH].styleSheet() == ""
    view.set_generation(PROMPT, None, None, None, False)  # nothing generated yet: no note either
    assert not view.note.isVisible() and view.column_text(WITH) == PROMPT


def test_describe_gives_probability_and_alternatives(view) -> None:
    plain = Column((" Mary", " and"), [0.82, 0.003], [[" Mary", " John", " the"], [" and", ".", ","]],
                   [[0.82, 0.11, 0.02], [0.003, 0.9, 0.05]])
    edited = Column((" John",), [0.6], [[" John", " Mary"]], [[0.6, 0.3]])
    view.set_generation(PROMPT, plain, edited, 0, True)
    text = view.describe(WITHOUT, 0)
    assert "' Mary'" in text and "p = 0.82" in text
    assert "' Mary' 0.82, ' John' 0.11, ' the' 0.02" in text
    assert "with interventions: ' John' (p = 0.11 here)" in text
    assert "p = 0.003" in view.describe(WITHOUT, 1) and "' .' 0.90" not in view.describe(WITHOUT, 1)
    assert "'.' 0.90" in view.describe(WITHOUT, 1) and "had ended" in view.describe(WITHOUT, 1)
    assert "without interventions: ' Mary' (p = 0.30 here)" in view.describe(WITH, 0)
    with pytest.raises(IndexError):
        view.describe(WITH, 1)
    assert [prob_text(p) for p in (0.82, 1.0, 0.0034, 0.0)] == ["0.82", "1.00", "0.0034", "0.00"]
    assert quoted(".\n") == "'.↵'" and quoted(" a\tb") == "' a→b'"


def test_tokens_are_shown_verbatim_not_as_markup(view) -> None:
    tokens = ["<b>", " &", " <", "amp;", " <i>x</i>", "  two spaces"]
    view.set_generation("1 < 2 & <b>", column(tokens), None, None, True)
    assert view.column_text(WITHOUT) == "1 < 2 & <b>" + "".join(tokens)
    cursor = QTextCursor(view.browsers[WITHOUT].document())
    for position in range(1, view.browsers[WITHOUT].document().characterCount()):
        cursor.setPosition(position)
        assert cursor.charFormat().fontWeight() < QFont.Weight.Bold and not cursor.charFormat().fontItalic()


def test_newlines_break_lines_and_whitespace_tokens_can_be_hovered(view) -> None:
    tokens = [" Mary", ".", "\n", "\n", "The", " ", " end", ""]
    view.set_generation("Hi", column(tokens), None, None, True)
    assert view.column_text(WITHOUT) == "Hi Mary.\n\nThe  end"  # ↵ and ∅ marks are not text
    browser = view.browsers[WITHOUT]
    lines = browser.document().firstBlock().layout().lineCount()
    assert lines >= 3  # the two newlines broke the line twice
    for index in range(len(tokens)):  # each token, even "\n", " " and "", has a place to hover
        assert view.token_at_point(WITHOUT, centre_of(view, WITHOUT, index)) == index, tokens[index]
    start, end = view.token_span(WITHOUT, 5)
    assert end - start == 1 and view.token_at(WITHOUT, start) == 5
    assert view.token_at(WITHOUT, 0) is None  # the prompt


def test_hovering_a_token_shows_its_tooltip(view, qtbot) -> None:
    view.set_generation(PROMPT, PLAIN, EDITED, 2, True)
    viewport = view.browsers[WITH].viewport()
    point = centre_of(view, WITH, 2)
    assert view.token_at_point(WITH, point) == 2
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, point, viewport.mapToGlobal(point)))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=1000)
    assert QToolTip.text() == view.describe(WITH, 2)
    assert "' John'" in QToolTip.text() and "p = 0.50" in QToolTip.text() and "' x' 0.25" in QToolTip.text()
    QToolTip.hideText()
    far = QPoint(viewport.width() - 5, viewport.height() - 5)  # below the text
    assert view.token_at_point(WITH, far) is None


def test_streaming_appends_and_follows_the_end_unless_scrolled_up(qtbot) -> None:
    view = GenerationView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    tokens = [f" word{i}" for i in range(200)]
    full_plain, full_edited = column(tokens), column(tokens[:50] + [" other"] + tokens[51:])

    def stream(n: int) -> None:
        cut = [Column(c.tokens[:n], c.probs[:n], c.top_tokens[:n], c.top_probs[:n]) for c in (full_plain, full_edited)]
        view.set_generation(PROMPT, cut[0], cut[1], 50 if n > 50 else None, n == 200)
        QApplication.processEvents()

    bar = view.browsers[WITHOUT].verticalScrollBar()
    for n in range(1, 121):
        stream(n)
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.setValue(0)  # the user scrolls up: the text stops following
    for n in range(121, 201):
        stream(n)
    assert bar.value() == 0
    assert view.column_text(WITHOUT) == PROMPT + "".join(tokens)
    assert view.marked(WITH) == list(range(50, 200)) and view.parting_shown(WITHOUT) == 50
    fresh = GenerationView()  # the streamed document is the one drawn at once
    qtbot.addWidget(fresh)
    fresh.set_generation(PROMPT, full_plain, full_edited, 50, True)
    for col in (WITHOUT, WITH):
        assert fresh.column_text(col) == view.column_text(col)
        assert [fresh.token_span(col, i) for i in range(200)] == [view.token_span(col, i) for i in range(200)]


def test_a_changed_earlier_token_redraws_from_there(view) -> None:
    view.set_generation(PROMPT, column([" a", " b", " c"]), None, None, False)
    view.set_generation(PROMPT, column([" a", " X", " c", " d"]), None, None, False)
    assert view.column_text(WITHOUT) == PROMPT + " a X c d"
    view.set_generation("Other prompt", column([" z"]), None, None, True)
    assert view.column_text(WITHOUT) == "Other prompt z"
    assert view.token_at(WITHOUT, len("Other prompt")) == 0


def test_clear_empties_the_columns_and_says_why(view) -> None:
    view.set_generation(PROMPT, PLAIN, EDITED, 2, True)
    view.clear("The model changed: generate again")
    assert view.column_text(WITHOUT) == view.column_text(WITH) == ""
    assert view.status.isVisible() and view.status.text() == "The model changed: generate again"
    assert view.summary.text() == "" and view.marked(WITHOUT) == []
    view.set_status("")
    assert not view.status.isVisible()


def test_figure_view_holds_the_columns_and_summary(view) -> None:
    figure = view.figure_view()
    for part in (*view.browsers, view.summary, *view.headers):
        assert figure.isAncestorOf(part)
    assert not figure.isAncestorOf(view.generate_button)


@pytest.mark.parametrize("size", [(500, 300), (900, 360)])
def test_the_controls_fit_a_docked_panel(qtbot, size: tuple[int, int]) -> None:
    view = demo()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    for _ in range(3):
        qtbot.wait(10)  # the label shown at the resize is laid out
    assert view.width() == size[0]
    controls = [view.generate_button, view.n_new, view.temperature, view.more_button, view.apply_to]
    if view.apply_label.isVisible():
        controls.insert(4, view.apply_label)
    rects = [c.geometry() for c in controls]
    for rect in rects:
        assert view.rect().contains(rect)
    for a, b in zip(rects, rects[1:]):
        assert a.right() < b.left()  # in a row, none overlapping
    assert view.apply_to.width() >= view.apply_to.sizeHint().width()  # its text is not cut
    assert view.apply_label.isVisible() == (size[0] >= 900)


def test_demo_builds_a_populated_view(qtbot) -> None:
    view = demo()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    assert view.summary.text().startswith("The columns part at token 3")
    assert view.marked(WITHOUT)[0] == view.marked(WITH)[0] == 2
    assert view.figure_view() is not None
