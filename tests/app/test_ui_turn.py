"""The engine thread takes turns with the UI (app.ui_turn): it waits until what was queued
for the UI before its turn has been handled, and never longer than its timeout."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt

from app.ui_turn import UiTurn


class _Recorder(QObject):
    """Counts the low-priority events it gets, as widgets get their repaints."""

    def __init__(self) -> None:
        super().__init__()
        self.handled = 0

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.User:
            self.handled += 1
            return True
        return super().event(event)


def test_the_turn_comes_back_after_the_ui_has_handled_what_was_queued_before(qtbot) -> None:
    turn, recorder = UiTurn(), _Recorder()
    seen_at_return: list[int] = []
    for _ in range(3):  # what the UI has to do when the engine asks (queued repaints)
        QCoreApplication.postEvent(recorder, QEvent(QEvent.Type.User), Qt.EventPriority.LowEventPriority.value)

    def engine() -> None:
        turn.wait(timeout_s=5.0)
        seen_at_return.append(recorder.handled)

    thread = threading.Thread(target=engine)
    thread.start()
    qtbot.waitUntil(lambda: bool(seen_at_return), timeout=5000)
    thread.join()
    assert seen_at_return == [3]
    assert (turn.waits, turn.timeouts) == (1, 0)


def test_a_ui_that_does_not_answer_costs_the_engine_only_the_timeout(qtbot) -> None:
    turn, took = UiTurn(), []

    def engine() -> None:
        start = time.perf_counter()
        turn.wait(timeout_s=0.05)
        took.append(time.perf_counter() - start)

    thread = threading.Thread(target=engine)
    thread.start()
    thread.join()  # the UI thread is blocked here: it never handles the turn
    assert turn.timeouts == 1 and took[0] < 1.0
    qtbot.wait(10)  # the late turn is then delivered harmlessly
