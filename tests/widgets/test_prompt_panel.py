"""The prompt panel runs on Enter and (debounced) while typing, and shows tokens as chips."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from widgets.prompt_panel import PromptPanel


def test_enter_emits_the_prompt(qtbot) -> None:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_prompt("When Mary")
    with qtbot.waitSignal(panel.prompt_changed, timeout=1000) as blocker:
        QTest.keyClick(panel.prompt_edit, Qt.Key.Key_Return)
    assert blocker.args == ["When Mary"]


def test_typing_is_debounced_to_one_emission(qtbot) -> None:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    emitted: list[str] = []
    panel.prompt_changed.connect(emitted.append)
    QTest.keyClicks(panel.prompt_edit, "John gave")
    qtbot.waitUntil(lambda: len(emitted) > 0, timeout=3000)
    qtbot.wait(400)
    assert emitted == ["John gave"]


def test_chips_show_tokens_with_positions_and_emit_clicks(qtbot) -> None:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_tokens(["<bos>", "When", " Mary"])
    assert panel.chips.count() == 3
    assert panel.chips.item(2).text() == "␣Mary\n2"
    with qtbot.waitSignal(panel.position_clicked) as blocker:
        panel.chips.itemClicked.emit(panel.chips.item(1))
    assert blocker.args == [1]


def test_target_completion_and_predictions(qtbot) -> None:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_vocabulary(["Mary", "Mark", "John"])
    completer = panel.target_edit.completer()
    completer.setCompletionPrefix("ma")  # case-insensitive prefix match
    assert completer.completionCount() == 2
    panel.set_predictions(["Mary", "John"], [0.75, 0.2], "logit diff +1.00")
    assert panel.predictions.item(0, 0).text() == "'Mary'" and panel.predictions.item(0, 1).text() == "0.750"
    assert panel.summary.text() == "logit diff +1.00"
