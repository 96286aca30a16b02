"""Undo/redo over the intervention list with Qt's QUndoStack.

A command swaps the whole list (cheap, exact). Consecutive scale changes of the same
components merge into one command, so a slider drag is one undo step, not hundreds."""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QUndoCommand

MERGE_ID = 1


class SetInterventions(QUndoCommand):
    def __init__(self, apply: Callable[[tuple], None], before: tuple, after: tuple, text: str,
                 merge_key: object | None = None) -> None:
        super().__init__(text)
        self._apply, self.before, self.after, self.merge_key = apply, before, after, merge_key

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)

    def id(self) -> int:  # noqa: A003 (Qt API)
        return MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt API)
        if not isinstance(other, SetInterventions) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True
