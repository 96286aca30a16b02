"""The prompt set editor asks for a set made from what the template fields and the fillers
table say (leaving out, and naming, slot rows it cannot use), previews a set's rows with
their problems tinted and told, filters them, opens a double-clicked row by its index in
the set, runs or stops an analysis over the set only when there is one, says nothing when
the app sets it up, and keeps its controls whole and apart in a docked panel."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from widgets.prompt_set_editor import (COLUMNS, NO_SET, NO_TEMPLATE, PROBLEM_FILL, PROBLEM_TEXT, SAME_PROMPT,
                                       PromptSetEditor, cell_text, changed_part, demo, filler_values, showing_text,
                                       slot_name, template_slots)

TEMPLATE = ("When {A} and {B} went to the {P} , {B} gave a {O} to",
            "When {A} and {B} went to the {P} , {A} gave a {O} to", " {A}", " {B}")
FILLERS = {"A": ["Mary", "John", "Tom"], "B": ["Mary", "John", "Tom"], "P": ["store", "park"], "O": ["drink"]}
ANALYSES = [("head", "Head patching (layer × head)"), ("resid", "Residual stream (layer × position)"),
            ("mlp_out", "MLP output (layer × position)")]


def ioi_row(index: int, a: str, b: str, place: str = "store", label: str = "") -> dict:
    return {"index": index, "prompt": f"When {a} and {b} went to the {place} , {b} gave a drink to",
            "corrupted": f"When {a} and {b} went to the {place} , {a} gave a drink to",
            "target": f" {a}", "foil": f" {b}", "label": label}


# the set's rows 10..14 of 50; rows 11 and 13 have problems
ROWS = [ioi_row(10, "Mary", "John"), ioi_row(11, "Hermione", "John", label="odd"), ioi_row(12, "Tom", "Mary"),
        ioi_row(13, "John", "Tom", "park"), ioi_row(14, "Mary", "Tom", "park")]
PROBLEMS = {11: ["' Hermione' is not one token", "the prompt has 16 tokens, the set's others 15"],
            13: ["unknown words: park"], 99: ["a row not previewed"]}


@pytest.fixture
def editor(qtbot) -> PromptSetEditor:
    """A template with its fillers, three analyses, no set yet, shown at a docked panel's size."""
    widget = PromptSetEditor()
    qtbot.addWidget(widget)
    widget.set_template(*TEMPLATE)
    widget.set_fillers(FILLERS)
    widget.set_analyses(ANALYSES)
    widget.resize(460, 560)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def shown(editor) -> PromptSetEditor:
    """The editor previewing ROWS of a 50-prompt set."""
    editor.set_preview(ROWS, PROBLEMS, 50)
    return editor


def recorder(signal) -> list:
    out: list = []
    signal.connect(lambda *args: out.append(args[0] if len(args) == 1 else args))
    return out


def cell_editor(editor: PromptSetEditor) -> QLineEdit:
    """The line edit open on a cell of the fillers table."""
    edits = [e for e in editor.fillers.viewport().findChildren(QLineEdit) if e.isVisible()]
    assert len(edits) == 1, "one cell editor open"
    return edits[0]


def double_click(table, pos: QPoint) -> None:
    """A double-click as the mouse makes one: a click, then the second press (a lone
    double-click event is ignored by item views: they track the pressed cell)."""
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QTest.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


def type_in_cell(qtbot, editor: PromptSetEditor, text: str, finish: Qt.Key) -> None:
    edit = cell_editor(editor)
    edit.selectAll()
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, finish)
    qtbot.wait(5)


# ---- making a set from a template ----

def test_make_set_carries_the_typed_fields_and_the_fillers(qtbot, editor) -> None:
    for edit in (editor.target_edit, editor.foil_edit):
        edit.clear()
    QTest.keyClicks(editor.target_edit, " {B}")
    QTest.keyClicks(editor.foil_edit, " {A}")
    QTest.keyClicks(editor.label_edit, "ioi-{P}")
    editor.limit_box.setValue(250)
    editor.seed_box.setValue(7)
    # change P's values in place, as a user does: open the cell, type, Enter
    editor.fillers.setFocus()
    editor.fillers.editItem(editor.fillers.item(2, 1))
    type_in_cell(qtbot, editor, "office , market,, station ", Qt.Key.Key_Return)
    # a new slot row with "+": the editor opens on its name; Tab moves on to its values
    QTest.mouseClick(editor.add_slot_button, Qt.MouseButton.LeftButton)
    assert editor.fillers.rowCount() == 5 and editor.fillers.currentRow() == 4
    type_in_cell(qtbot, editor, "C", Qt.Key.Key_Tab)
    type_in_cell(qtbot, editor, "Anna, Sarah", Qt.Key.Key_Return)
    assert editor.filler_rows()[4] == ("C", "Anna, Sarah")
    with qtbot.waitSignal(editor.template_requested, timeout=1000) as blocker:
        QTest.mouseClick(editor.make_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [{
        "template": TEMPLATE[0], "corrupted": TEMPLATE[1], "target": " {B}", "foil": " {A}", "label": "ioi-{P}",
        "fillers": {"A": ["Mary", "John", "Tom"], "B": ["Mary", "John", "Tom"],
                    "P": ["office", "market", "station"], "O": ["drink"], "C": ["Anna", "Sarah"]},
        "limit": 250, "seed": 7}]
    assert blocker.args[0] == editor.template_params()
    assert not editor.status.isVisible()  # nothing left out, nothing said


def test_enter_in_a_template_field_makes_the_set(qtbot, editor) -> None:
    with qtbot.waitSignal(editor.template_requested, timeout=1000) as blocker:
        QTest.keyClick(editor.corrupted_edit, Qt.Key.Key_Return)
    assert blocker.args[0]["fillers"] == FILLERS and blocker.args[0]["limit"] == 1000
    assert blocker.args[0]["target"] == " {A}"  # the leading space kept


def test_plus_names_the_next_slot_the_templates_lack(qtbot, editor) -> None:
    editor.set_fillers({"A": ["Mary", "John"]})
    editor.template_edit.setText("When {A} and {B} went to the {P} , {B} gave it to")
    QTest.mouseClick(editor.add_slot_button, Qt.MouseButton.LeftButton)
    assert editor.filler_rows()[1] == ("B", "")
    assert editor.fillers.currentColumn() == 1  # named: its values are what to type
    type_in_cell(qtbot, editor, "Tom, Anna", Qt.Key.Key_Return)
    QTest.mouseClick(editor.add_slot_button, Qt.MouseButton.LeftButton)
    assert editor.filler_rows()[2] == ("P", "")
    editor.fillers.setCurrentCell(0, 0)
    QTest.mouseClick(editor.remove_slot_button, Qt.MouseButton.LeftButton)
    assert [slot for slot, _ in editor.filler_rows()] == ["B", "P"]
    assert editor.template_params()["fillers"] == {"B": ["Tom", "Anna"], "P": []}


def test_bad_and_nameless_slot_rows_are_left_out_and_named(qtbot, editor) -> None:
    editor.set_fillers({"A": ["Mary", "John"], "{B}": ["Tom"], "1st": ["x"], "": ["y", "z"], "A ": ["again"],
                        "my slot": ["w"]})
    editor.set_template("When {A} and {B} left", "", " {A}", " {B}")  # no slot lacks a row: "+" adds a nameless one
    QTest.mouseClick(editor.add_slot_button, Qt.MouseButton.LeftButton)  # left blank: no complaint
    QTest.keyClick(cell_editor(editor), Qt.Key.Key_Escape)
    requested = recorder(editor.template_requested)
    QTest.mouseClick(editor.make_button, Qt.MouseButton.LeftButton)
    assert requested[0]["fillers"] == {"A": ["Mary", "John"], "B": ["Tom"]}  # {B} reads as B
    text = editor.status.text()
    assert editor.status.isVisible()
    assert "slot row 3" in text and "'1st'" in text and "slot row 4" in text and "no slot name" in text
    assert "slot row 5" in text and "A is named above" in text and "'my slot'" in text
    assert "row 7" not in text
    bad = editor.fillers.item(2, 0)
    assert bad.background().color() == PROBLEM_FILL and "Not a slot name" in bad.toolTip()
    assert editor.fillers.item(0, 0).background().style() == Qt.BrushStyle.NoBrush
    editor.set_fillers({"A": ["Mary", "John"]})
    assert editor.template_params()["fillers"] == {"A": ["Mary", "John"]}
    assert not editor.status.isVisible()  # the complaint went with the problem
    editor.set_status("made 2 prompts")
    editor.template_params()
    assert editor.status.text() == "made 2 prompts"  # the app's own line stays


def test_make_set_without_a_template_says_why(qtbot, editor) -> None:
    requested = recorder(editor.template_requested)
    editor.template_edit.setText("   ")
    QTest.mouseClick(editor.make_button, Qt.MouseButton.LeftButton)
    assert requested == [] and editor.status.isVisible() and editor.status.text() == NO_TEMPLATE


def test_file_and_history_buttons(qtbot, editor) -> None:
    with qtbot.waitSignal(editor.load_requested, timeout=1000):
        QTest.mouseClick(editor.open_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(editor.history_requested, timeout=1000):
        QTest.mouseClick(editor.history_button, Qt.MouseButton.LeftButton)


# ---- the preview ----

def test_preview_shows_the_rows_and_tints_the_problem_ones(shown) -> None:
    table = shown.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == list(COLUMNS)
    assert shown.shown_rows() == [10, 11, 12, 13, 14]
    assert [table.item(r, 0).text() for r in range(5)] == ["11", "12", "13", "14", "15"]  # counted from 1
    assert table.item(0, 1).text() == ROWS[0]["prompt"]
    assert table.item(0, 1).toolTip() == ROWS[0]["prompt"]
    assert table.item(0, 2).text() == "…Mary…"  # what the corrupted prompt changes: John gave -> Mary gave
    assert table.item(0, 2).toolTip() == ROWS[0]["corrupted"]  # the whole on hover
    assert table.item(0, 3).text() == "␣Mary" and table.item(0, 4).text() == "␣John"  # the space shows
    assert table.item(1, 5).text() == "odd"
    for r, index in enumerate(shown.shown_rows()):
        tinted = index in PROBLEMS
        for c in range(len(COLUMNS)):
            item = table.item(r, c)
            if tinted:
                assert item.background().color() == PROBLEM_FILL, (index, c)
                for message in PROBLEMS[index]:
                    assert message in item.toolTip()
            else:
                assert item.background().style() == Qt.BrushStyle.NoBrush, (index, c)
                assert "token" not in item.toolTip()
        number = table.item(r, 0)
        assert (number.foreground().color() == PROBLEM_TEXT) == tinted
        assert number.font().bold() == tinted
    assert table.item(1, 0).toolTip() == "\n".join(PROBLEMS[11])


def test_preview_says_how_many_it_shows(shown) -> None:
    assert shown.counter.text() == "showing 5 of 50" and shown.counter.isVisible()
    shown.set_preview(ROWS, {}, 5)
    assert shown.counter.text() == "showing all 5"
    shown.set_preview([ioi_row(i, "Mary", "John") for i in range(200)], {}, 1000)
    assert shown.counter.text() == "showing 200 of 1,000" and shown.table.rowCount() == 200
    assert showing_text(3, 200, 1000, True) == "showing 3 of 1,000 (problems only)"
    assert showing_text(0, 0, 0, False) == ""


def test_the_filter_shows_only_rows_with_problems(qtbot, shown) -> None:
    QTest.mouseClick(shown.problems_only, Qt.MouseButton.LeftButton)
    assert shown.problems_only.isChecked()
    assert shown.shown_rows() == [11, 13]
    assert [r for r in range(5) if not shown.table.isRowHidden(r)] == [1, 3]
    assert shown.counter.text() == "showing 2 of 50 (problems only)"
    shown.set_preview(ROWS, {10: ["no target and foil"]}, 50)  # the filter holds for a new preview
    assert shown.shown_rows() == [10]
    QTest.mouseClick(shown.problems_only, Qt.MouseButton.LeftButton)
    assert shown.shown_rows() == [10, 11, 12, 13, 14] and shown.counter.text() == "showing 5 of 50"


def test_double_click_opens_the_row_by_its_set_index(qtbot, shown) -> None:
    table = shown.table
    opened = recorder(shown.row_opened)
    double_click(table, table.visualItemRect(table.item(2, 1)).center())
    assert opened == [12]
    shown.problems_only.setChecked(True)
    qtbot.wait(5)
    double_click(table, table.visualItemRect(table.item(3, 3)).center())  # the second row shown: index 13
    assert opened == [12, 13]


def test_rows_without_an_index_count_from_zero(shown) -> None:
    shown.set_preview([{"prompt": "a b"}, {"prompt": "c d", "corrupted": "c e"}], {1: ["x"]}, 2)
    assert shown.shown_rows() == [0, 1]
    assert shown.table.item(0, 2).text() == "" and shown.table.item(1, 2).text() == "…e"


def test_clear_preview_says_the_message_and_forgets_the_set(shown) -> None:
    shown.set_summary("50 prompts · all 15 tokens · 2 problems", warning=True)
    shown.clear_preview("Reading ioi.jsonl…")
    assert shown.stack.currentWidget() is shown.hint and shown.hint.text() == "Reading ioi.jsonl…"
    assert shown.shown_rows() == [] and shown.table.rowCount() == 0
    assert not shown.summary.isVisible() and not shown.counter.isVisible()
    shown.clear_preview()
    assert shown.hint.text() == NO_SET
    shown.set_preview([], {}, 0)
    assert shown.stack.currentWidget() is shown.hint and not shown.has_set()


def test_summary_warns_in_the_problem_colour(shown) -> None:
    shown.set_summary("1,000 prompts · all 15 tokens · 0 problems")
    assert shown.summary.isVisible() and shown.summary.text() == "1,000 prompts · all 15 tokens · 0 problems"
    plain = shown.summary.palette().color(shown.summary.foregroundRole())
    assert "b00020" not in shown.summary.styleSheet()
    shown.set_summary("1,000 prompts · lengths 14–17 · 12 problems", warning=True)
    shown.summary.ensurePolished()
    warned = shown.summary.palette().color(shown.summary.foregroundRole())
    assert warned == PROBLEM_TEXT and warned != plain
    shown.set_summary("")
    assert not shown.summary.isVisible()


# ---- running over the set ----

def test_run_asks_with_the_analysis_and_mode_then_stops_while_busy(qtbot, shown) -> None:
    said: list = []
    shown.run_requested.connect(lambda params: said.append(("run", params)))
    shown.stop_requested.connect(lambda: said.append(("stop",)))
    assert shown.run_button.isEnabled() and shown.run_button.text() == "Run over the set"
    QTest.mouseClick(shown.run_button, Qt.MouseButton.LeftButton)
    assert said == [("run", {"analysis": "head", "mode": "denoise"})]
    shown.analysis_box.setCurrentIndex(1)
    shown.mode_box.setCurrentIndex(shown.mode_box.findData("noise"))
    QTest.mouseClick(shown.run_button, Qt.MouseButton.LeftButton)
    assert said[-1] == ("run", {"analysis": "resid", "mode": "noise"}) and said[-1][1] == shown.run_params()
    shown.set_busy(True)
    assert shown.busy and shown.run_button.text() == "Stop" and shown.run_button.isEnabled()
    assert not shown.analysis_box.isEnabled() and not shown.mode_box.isEnabled()
    QTest.mouseClick(shown.run_button, Qt.MouseButton.LeftButton)
    assert said[-1] == ("stop",) and len(said) == 3
    shown.set_busy(False)
    assert shown.run_button.text() == "Run over the set" and shown.analysis_box.isEnabled()
    assert shown.run_button.width() >= shown.run_button.sizeHint().width()


def test_save_and_run_need_a_set(qtbot, editor) -> None:
    saved, ran = recorder(editor.save_requested), recorder(editor.run_requested)
    assert not editor.has_set()
    assert not editor.save_button.isEnabled() and not editor.run_button.isEnabled()
    editor.tabs.setCurrentWidget(editor.file_page)
    QTest.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(editor.run_button, Qt.MouseButton.LeftButton)
    assert saved == [] and ran == []
    assert editor.stack.currentWidget() is editor.hint and editor.hint.text() == NO_SET
    editor.set_preview(ROWS, {}, 50)
    assert editor.save_button.isEnabled() and editor.run_button.isEnabled()
    QTest.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert len(saved) == 1
    editor.set_analyses([])  # a set but nothing to run
    assert not editor.run_button.isEnabled() and editor.run_params()["analysis"] == ""
    editor.set_analyses(ANALYSES)
    editor.clear_preview()
    assert not editor.save_button.isEnabled() and not editor.run_button.isEnabled()


def test_set_analyses_keeps_the_choice(editor) -> None:
    assert [editor.analysis_box.itemText(i) for i in range(3)] == [label for _, label in ANALYSES]
    editor.set_analyses(ANALYSES, "mlp_out")
    assert editor.run_params()["analysis"] == "mlp_out"
    editor.set_analyses(ANALYSES[1:])  # still listed: kept
    assert editor.run_params()["analysis"] == "mlp_out"
    editor.set_analyses(ANALYSES[:2])  # gone: the first
    assert editor.run_params()["analysis"] == "head"


def test_setters_say_nothing(qtbot, shown) -> None:
    signals = [shown.template_requested, shown.load_requested, shown.save_requested, shown.history_requested,
               shown.run_requested, shown.stop_requested, shown.row_opened]
    with qtbot.assertNotEmitted(signals[0]), qtbot.assertNotEmitted(signals[1]), \
            qtbot.assertNotEmitted(signals[2]), qtbot.assertNotEmitted(signals[3]), \
            qtbot.assertNotEmitted(signals[4]), qtbot.assertNotEmitted(signals[5]), \
            qtbot.assertNotEmitted(signals[6]):
        shown.set_template("The {X} sat", "The {Y} sat", " on", " in", "cats")
        shown.set_fillers({"X": ["cat", "dog"], "Y": ["rat"], "bad name": ["x"]})
        shown.set_preview(ROWS[:2], {10: ["x"]}, 2)
        shown.set_summary("2 prompts", warning=True)
        shown.set_analyses(ANALYSES, "resid")
        shown.set_busy(True)
        shown.set_busy(False)
        shown.set_status("checking…")
        shown.template_params()
        shown.run_params()
        shown.clear_preview("gone")
        shown.set_preview(ROWS, PROBLEMS, 50)
    assert shown.template_params()["template"] == "The {X} sat" and shown.run_params()["analysis"] == "resid"


# ---- helpers ----

def test_helpers() -> None:
    assert slot_name(" A ") == "A" and slot_name("{name_2}") == "name_2" and slot_name("_x") == "_x"
    assert slot_name("") is None and slot_name("2b") is None and slot_name("my slot") is None
    assert slot_name("{}") is None and slot_name("é") is None  # the engine reads ASCII slots only
    assert filler_values(" Mary, John ,, Tom ") == ["Mary", "John", "Tom"] and filler_values(" ") == []
    assert template_slots("{A} and {B}", "{B} {C} {bad slot}", "{A}") == ["A", "B", "C"]
    assert changed_part("When Mary and John went , John gave", "When Mary and John went , Mary gave") == "…Mary…"
    assert changed_part("a b c", "x b c") == "x…" and changed_part("a b c", "a b y") == "…y"
    assert changed_part("a b", "x y") == "x y" and changed_part("a b", "a b") == SAME_PROMPT
    assert changed_part("a b c", "a c") == "…∅…" and changed_part("a", "") == ""
    assert cell_text("target", " Mary") == "␣Mary" and cell_text("label", " x ") == " x "
    assert cell_text("prompt", "line\nnext ") == "line↵next␣"


# ---- layout ----

def rect_in(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())


def visible_parts(widget: PromptSetEditor, page: QWidget) -> list[QWidget]:
    """The controls and labels to keep apart: those of the shown tab and of the set section."""
    own = [w for w in page.findChildren(QWidget) if isinstance(w, (QAbstractButton, QLabel, QLineEdit))
           or w in (widget.fillers, widget.limit_box, widget.seed_box)]
    own = [w for w in own if w.isVisible() and not isinstance(w.parent(), type(widget.limit_box))
           and w.parent() is not widget.fillers.viewport()]
    rest = [widget.summary, widget.problems_only, widget.counter, widget.stack, widget.analysis_label,
            widget.analysis_box, widget.mode_label, widget.mode_box, widget.run_button, widget.status]
    return own + [w for w in rest if w.isVisible()]


@pytest.mark.parametrize("size", [(460, 560), (900, 420)])
@pytest.mark.parametrize("tab", [0, 1, 2])
def test_demo_lays_out_without_overlaps_or_clipped_captions(qtbot, size, tab) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.tabs.setCurrentIndex(tab)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(20)
    hint = widget.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    page = widget.tabs.currentWidget()
    parts = visible_parts(widget, page)
    assert widget.make_button in parts if tab == 0 else widget.open_button in parts if tab == 1 \
        else widget.history_button in parts
    rects = [rect_in(w, widget) for w in parts]
    whole = widget.rect()
    for w, r in zip(parts, rects):
        assert whole.contains(r), (w, r)
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            assert not rects[i].intersects(rects[j]), (parts[i], parts[j], rects[i], rects[j])
    for w in parts:
        if isinstance(w, QAbstractButton):
            assert w.width() >= w.sizeHint().width(), w.text()  # no clipped caption
        elif isinstance(w, QLabel) and not w.wordWrap() and w is not widget.status:
            assert w.width() >= w.sizeHint().width(), w.text()
        elif isinstance(w, QLabel) and w.wordWrap():
            assert w.height() >= w.heightForWidth(w.width()), w.text()  # every wrapped line shows
    tab_bar = widget.tabs.tabBar()
    for i in range(tab_bar.count()):
        assert tab_bar.tabRect(i).width() >= tab_bar.fontMetrics().horizontalAdvance(tab_bar.tabText(i))
    table = widget.table
    rows_shown = table.viewport().height() // table.verticalHeader().defaultSectionSize()
    assert rows_shown >= (6 if tab == 0 or size[1] < 500 else 12)
    if size[0] >= 780:  # room for the analysis's whole name
        box = widget.analysis_box
        assert box.width() >= box.fontMetrics().horizontalAdvance(box.currentText()) + 30
    header = table.horizontalHeader()
    for c, title in enumerate(COLUMNS):  # every title reads whole
        assert header.sectionSize(c) >= header.fontMetrics().horizontalAdvance(title) + 6, title
    assert header.sectionSize(1) >= 0.3 * table.viewport().width()  # the prompt keeps a fair share
    wide = size[0] >= 780
    beside = rect_in(widget.stack, widget).left() > rect_in(widget.tabs, widget).right()
    assert beside == wide  # the preview sits beside the tabs only when there is width for it


def test_long_short_columns_leave_the_prompt_its_share(qtbot, editor) -> None:
    rows = [{"index": i, "prompt": "The cat sat on the mat and looked at the dog", "corrupted": "A different prompt "
             "altogether, nothing shared", "target": " mat", "foil": " floor", "label": "a rather long label " * 3}
            for i in range(20)]
    editor.set_preview(rows, {}, 20)
    qtbot.wait(10)
    table, header = editor.table, editor.table.horizontalHeader()
    assert header.sectionSize(1) >= 0.3 * table.viewport().width()
    assert sum(header.sectionSize(c) for c in range(len(COLUMNS))) <= table.viewport().width()  # no side scroll
    editor.resize(900, 560)
    qtbot.wait(10)
    assert header.sectionSize(1) >= 0.3 * table.viewport().width()


def test_the_mode_label_shows_only_with_room_to_spare(qtbot, editor) -> None:
    assert not editor.mode_label.isVisible()  # 460 px: the analysis's name gets the room
    assert editor.mode_box.isVisible() and editor.mode_box.currentText() == "denoise"
    editor.resize(1300, 420)
    qtbot.wait(10)
    assert editor.mode_label.isVisible()
    box = editor.analysis_box
    longest = max(box.fontMetrics().horizontalAdvance(box.itemText(i)) for i in range(box.count()))
    assert box.width() >= longest + 30  # even beside the label, every name reads whole


def test_a_short_tab_leaves_the_preview_more_room(qtbot) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(10)
    tall = widget.stack.height()
    widget.tabs.setCurrentWidget(widget.history_page)
    qtbot.wait(10)
    assert widget.stack.height() > tall + 80


def test_demo_is_populated(qtbot) -> None:
    widget = demo()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.table.rowCount() == 200 and widget.counter.text() == "showing 200 of 1,000"
    assert widget.summary.property("warning") and widget.run_button.isEnabled()
    tinted = [r for r in range(200) if widget.table.item(r, 1).background().style() != Qt.BrushStyle.NoBrush]
    assert 0 < len(tinted) < 40
    assert widget.template_params()["fillers"]["P"] == ["store", "park", "office", "station", "market"]
    assert QFont(widget.table.item(tinted[0], 0).font()).bold()
