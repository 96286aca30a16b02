"""The workspace: what the user set, and every analysis's latest result, observable per field.

napari's evented model in small: a `Document` holds one frozen `ViewState` and emits
`changed(field, value)` for each field that a change touched, so a panel listens to the
fields it shows (`doc.on("focused_position", slot)`) instead of to everything. `Results`
keeps the newest result of each analysis key and announces arrivals, progress, failures
and clearing per key. A `Workspace` holds documents (one today; two prompts or two models
side by side later) and which one is active."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

DEMO_PROMPT = "When Mary and John went to the store , John gave a drink to"
DEMO_TARGET, DEMO_FOIL = "Mary", "John"


@dataclass(frozen=True)
class ViewState:
    """What the user has set; replaced whole on every change (easy to compare and save)."""

    prompt: str = DEMO_PROMPT
    target: str = DEMO_TARGET
    foil: str = DEMO_FOIL
    corrupted: str = ""
    interventions: tuple = ()
    focused_head: tuple[int, int] | None = None
    focused_position: int | None = None
    score_key: str = "induction"


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ViewState))


class Document(QObject):
    """One prompt (pair) with its interventions and focus."""

    changed = Signal(str, object)  # field name, new value

    def __init__(self, state: ViewState | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state or ViewState()

    @property
    def state(self) -> ViewState:
        return self._state

    def update(self, before_notify: Callable[[], Any] | None = None, **changes: Any) -> tuple[str, ...]:
        """Apply changes; emit `changed` once per field whose value changed; return those fields.
        `before_notify` runs (when something changed) after the new state is in and before
        any view hears of it: the controller submits the run first, so the engine computes
        while the views restyle for the edit."""
        new = replace(self._state, **changes)
        touched = tuple(name for name in FIELDS if getattr(new, name) != getattr(self._state, name))
        self._state = new
        if touched and before_notify is not None:
            before_notify()
        for name in touched:
            self.changed.emit(name, getattr(new, name))
        return touched

    def set_state(self, state: ViewState) -> tuple[str, ...]:
        return self.update(**{name: getattr(state, name) for name in FIELDS})

    def on(self, name: str, slot: Callable[[Any], None]) -> None:
        """Call slot(value) whenever field `name` changes."""
        if name not in FIELDS:
            raise ValueError(f"no field '{name}' (fields: {', '.join(FIELDS)})")
        self.changed.connect(lambda field, value: slot(value) if field == name else None)


class Results(QObject):
    """The newest result per analysis key (stale ones never reach it)."""

    ready = Signal(str, object)  # key, result
    progress = Signal(str, int, int)  # key, done, total
    failed = Signal(str, str)  # key, message
    cleared = Signal(str)  # key

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self._latest.get(key)

    def keys(self) -> list[str]:
        return list(self._latest)

    def put(self, key: str, result: Any) -> None:
        self._latest[key] = result
        self.ready.emit(key, result)

    def clear(self, key: str) -> None:
        if self._latest.pop(key, None) is not None:
            self.cleared.emit(key)

    def on(self, key: str, slot: Callable[[Any], None]) -> None:
        """Call slot(result) whenever a result of `key` arrives."""
        self.ready.connect(lambda k, result: slot(result) if k == key else None)


class Workspace(QObject):
    """The documents open in the window and the results computed for them."""

    active_changed = Signal(object)  # Document

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.documents: list[Document] = [Document(parent=self)]
        self.active: Document = self.documents[0]
        self.results = Results(self)


__all__ = ["DEMO_FOIL", "DEMO_PROMPT", "DEMO_TARGET", "Document", "FIELDS", "Results", "ViewState", "Workspace"]
