"""Panels without a model or a thread: the window built from the panel registry, each panel
showing what the workspace holds, and the worked example (attention over text) following
the focused head and position."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from app.controller import Controller
from app.main_window import MainWindow
from app.panels import Panel, panel_classes, register_panel
from app.panels import base as panels_base
from app.settings import Settings
from tests.app.fakes import FakeClient
from tests.app.test_controller import fake_result

from tests.app.conftest import FAKE_PROMPT as PROMPT  # noqa: E402




def test_the_window_has_a_dock_per_registered_panel(fake_window) -> None:
    window, _ = fake_window
    assert set(window.docks) == {cls.key for cls in panel_classes()}
    assert {"prompt", "heads", "detail", "lens", "graph", "patching", "attention_text"} <= set(window.docks)
    for key, dock in window.docks.items():
        assert dock.objectName() == f"dock-{key}" and dock.widget() is window.view(key)


def test_a_new_panel_needs_only_its_registration(qtbot) -> None:
    """A technique's panel registered from outside gets its dock, View-menu entry and session
    slot with no edit to the window or the controller."""
    @register_panel
    class NotesPanel(Panel):
        key, title, area, order = "notes_test", "Notes", "bottom", 99

        def create(self):
            return QLabel("notes")

        def session_state(self):
            return {"text": self.widget.text()}

    try:
        controller = Controller(FakeClient())
        window = MainWindow(controller, Settings())
        qtbot.addWidget(window)
        assert window.view("notes_test").text() == "notes"
        view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
        assert any(a.text() == "Notes" for a in view_menu.actions())
        window.close()
    finally:
        panels_base._PANELS.pop("notes_test")


def test_panels_show_the_run_and_follow_the_focus(fake_window) -> None:
    window, _ = fake_window
    c = window.controller
    result = c.last_result
    np.testing.assert_allclose(window.view("heads").tile(1, 2), result.patterns[1, 2])
    c.focus_head(1, 2)
    assert window.view("detail").title.text().startswith("L1.H2")
    text = window.view("attention_text")
    np.testing.assert_allclose(text.weights(), result.patterns[1, 2][-1])  # from the last query by default
    c.focus_position(3)
    np.testing.assert_allclose(text.weights(), result.patterns[1, 2][3])
    text.set_mode("key")
    c.focus_position(1)
    np.testing.assert_allclose(text.weights(), result.patterns[1, 2][:, 1])
    assert window.view("prompt").chips.count() == len(PROMPT.split())


def test_clicking_a_token_in_attention_over_text_focuses_it_everywhere(qtbot, fake_window) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window, _ = fake_window
    text = window.view("attention_text")
    window.raise_panel("attention_text")
    qtbot.waitExposed(text)
    QTest.mouseClick(text.canvas, Qt.MouseButton.LeftButton, pos=text.chip_rect(2).center())
    assert window.controller.state.focused_position == 2
    assert window.view("prompt").chips.currentRow() == 2


def test_attention_over_text_mode_travels_with_the_session(fake_window) -> None:
    window, _ = fake_window
    window.view("attention_text").set_mode("key")
    session = window.files.sessions.snapshot()
    assert session.analysis("attention_text") == {"mode": "key"}
    window.view("attention_text").set_mode("query")
    window.files.sessions.open_session(session)
    assert window.view("attention_text").mode() == "key"


def test_a_display_failure_in_one_panel_is_reported_and_the_others_still_update(fake_window, monkeypatch) -> None:
    window, client = fake_window
    c = window.controller

    def broken(*args, **kwargs):
        raise ValueError("simulated widget failure")
    monkeypatch.setattr(window.view("heads"), "set_patterns", broken)
    c.set_prompt("When John and Mary went")
    run, _ = client.last("run")
    client.finish(run, fake_result("When John and Mary went", seed=1))
    assert "Internal display error (Attention heads)" in window.error_label.text()
    assert window.view("prompt").chips.count() == 5  # the prompt panel still showed the new run


def test_11_clicking_a_head_raises_the_detail_dock_it_opens_in(qtbot, fake_window) -> None:
    """Issue 16, item 11: the detail view is tabbed behind the component graph by default."""
    window, _ = fake_window
    window.raise_panel("graph")
    qtbot.waitExposed(window.view("graph"))
    assert window.view("detail").visibleRegion().isEmpty()
    window.view("heads").head_clicked.emit(1, 3)
    qtbot.waitUntil(lambda: not window.view("detail").visibleRegion().isEmpty(), timeout=2000)
    assert window.view("detail").title.text().startswith("L1.H3")


def test_the_head_finder_lists_scores_marks_the_grids_heads_and_opens_a_head(qtbot, fake_window) -> None:
    from engine.results import HeadScores, PatchingResult, PatchingRun
    from widgets.head_finder import COLUMNS

    window, client = fake_window
    c, finder, grid = window.controller, window.view("finder"), window.view("heads")
    assert finder.model.rowCount() == 8  # 2 layers x 4 heads, before any score
    job, _ = client.last("head_scores")
    induction = np.array([[0.1, 0.7, 0.2, 0.0], [0.9, 0.3, 0.5, 0.05]])
    client.finish(job, HeadScores(induction / 2, induction, induction / 3, 4, 2))
    finder.table.sortByColumn(COLUMNS.index("induction"), Qt.SortOrder.DescendingOrder)
    assert finder.shown_heads()[:3] == [(1, 0), (0, 1), (1, 2)]
    # one key and threshold for both views, whichever view sets them
    grid.select_score_key("induction")
    assert finder.score_box.currentText() == "induction"
    finder.threshold.setValue(0.45)
    assert grid.threshold.value() == 0.45 and finder.highlighted() == grid.highlighted() == [(0, 1), (1, 0), (1, 2)]
    grid.threshold.setValue(0.8)
    assert finder.threshold.value() == 0.8 and finder.highlighted() == grid.highlighted() == [(1, 0)]
    # a head-output patching sweep fills the patching column
    values = np.array([[0.0, 0.25, 0.0, 0.0], [0.5, 0.0, 0.0, -0.125]])
    c.results.put("patching", PatchingRun(PatchingResult("head", values, ("L0", "L1"), ("H0", "H1", "H2", "H3"),
                                                         2.0, 0.0, "denoise")))
    row = finder.shown_heads().index((1, 3))
    assert finder.model.index(row, COLUMNS.index("patching")).data() == "-0.125"
    # a row click focuses the head and raises the detail view
    window.raise_panel("finder")
    qtbot.waitExposed(finder)
    finder.filter_box.setText("L0.H1")
    with qtbot.waitSignal(c.document.changed):
        QTest.mouseClick(finder.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=finder.table.visualRect(finder.model.index(0, 1)).center())
    assert c.state.focused_head == (0, 1)
    qtbot.waitUntil(lambda: not window.view("detail").visibleRegion().isEmpty(), timeout=2000)
