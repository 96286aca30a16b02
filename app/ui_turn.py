"""Taking turns with the UI thread for the CPU.

On a CPU machine the engine's matrix products use every core. When the UI thread paints at
the same time, one of torch's threads is descheduled and the others spin at the next
barrier: measured on SmolLM2 (2 cores), a run took ~1.5x as long while the UI restyled the
graph for the edit, and the UI painted the numbers ~3x slower while the engine went on to
the logit lens. So the engine thread waits for its turn at two points: before a job starts
(the UI first finishes reacting to the edit that asked for it) and after it hands over a
progressive result (the UI paints it before the engine goes on). Each wait is bounded, so a
busy or absent event loop only costs `WAIT_S`.

"The UI has finished" = a low-priority event posted after the UI's work was posted has been
delivered: Qt posts widget repaints (UpdateRequest) at low priority too, and events of one
priority are delivered in order, so the turn comes back after those repaints."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal

WAIT_S = 0.15  # the longest the engine waits for the UI (a blocked UI must not stall it)
_TURN = QEvent.Type(QEvent.registerEventType())


class UiTurn(QObject):
    """Lives on the UI thread; `wait()` is called on the engine thread."""

    _asked = Signal()  # engine thread -> UI thread (queued)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._done = threading.Event()
        self._done.set()
        self.waits = 0  # how many turns were waited for (tests)
        self.timeouts = 0  # how many of them the UI did not give back in time
        self._asked.connect(self._post_turn, Qt.ConnectionType.QueuedConnection)

    def wait(self, timeout_s: float = WAIT_S) -> None:
        """Block the calling (engine) thread until the UI has processed what is queued for it."""
        if QCoreApplication.instance() is None:
            return
        self._done.clear()
        self._asked.emit()
        self.waits += 1
        if not self._done.wait(timeout_s):
            self.timeouts += 1

    def _post_turn(self) -> None:
        QCoreApplication.postEvent(self, QEvent(_TURN), Qt.EventPriority.LowEventPriority.value)

    def event(self, event: QEvent) -> bool:
        if event.type() == _TURN:
            self._done.set()
            return True
        return super().event(event)
