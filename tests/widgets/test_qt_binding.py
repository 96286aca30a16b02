"""Guards against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 drops a reference to True on every Signal.emit. On Python 3.11, where
True is not immortal, a few thousand emissions (mouse moves, results) later the process
aborts with "bool_dealloc: deallocating True". pyproject pins below 6.12; this test
fails if a release with the same bug is installed."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(object)
    pinged = Signal()


def test_signal_emission_keeps_bool_reference_counts(qtbot) -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.changed.connect(received.append)
    emitter.pinged.connect(lambda: received.append(None))
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(200):
        emitter.changed.emit(i)
        emitter.pinged.emit()
    assert len(received) == 400
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert abs(after[0] - before[0]) < 20 and abs(after[1] - before[1]) < 20, (before, after)
