"""What a panel is, what it may use, and the registry the main window builds its docks from.

A panel is one technique's face in the window: it makes its widget, listens to the
workspace (the fields it shows, the results it reads), asks the controller for its
analysis, and saves what it needs in sessions. Panels never import each other; what
they share goes through the workspace (a clicked head focuses it everywhere) and the
services in `PanelContext` (errors, status, raising another panel's dock)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)
AREAS = {"top": Qt.DockWidgetArea.TopDockWidgetArea, "left": Qt.DockWidgetArea.LeftDockWidgetArea,
         "right": Qt.DockWidgetArea.RightDockWidgetArea, "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}


@dataclass
class PanelContext:
    """What a panel may use. `controller` holds the state, the undo stack and the job client;
    the callables are the window's public services."""

    controller: Any  # app.controller.Controller
    show_error: Callable[[str], None]
    show_status: Callable[[str, int], None]
    raise_panel: Callable[[str], None]
    is_presenting: Callable[[], bool] = lambda: False

    @property
    def document(self):
        return self.controller.document

    @property
    def results(self):
        return self.controller.results


class Panel:
    """Base of every panel. Subclasses set the class attributes and override `create` and
    `connect`; the optional hooks have do-nothing defaults."""

    key: ClassVar[str]  # dock object name 'dock-<key>', View menu, sessions
    title: ClassVar[str]
    area: ClassVar[str] = "right"  # a key of AREAS
    # where the default layout puts the dock relative to another panel: ("tab", key),
    # ("split-h", key) or ("split-v", key); None = just its area
    beside: ClassVar[tuple[str, str] | None] = None
    front: ClassVar[bool] = False  # raised in its tab group in the default layout
    order: ClassVar[int] = 50  # docks are added in this order
    session_version: ClassVar[int] = 1

    def __init__(self, ctx: PanelContext) -> None:
        self.ctx = ctx
        self.controller = ctx.controller
        self.widget: QWidget = self.create()

    def create(self) -> QWidget:
        raise NotImplementedError

    def connect(self) -> None:
        """Wire the widget to the controller and the workspace (called once, after every
        panel exists, so a panel may rely on its own dock being in place)."""

    def guard(self, slot: Callable[..., Any]) -> Callable[..., None]:
        """A slot that reports its own failure in the status bar instead of raising into Qt
        (a display bug in one panel must not leave the others half-updated or silent)."""
        def guarded(*args: Any) -> None:
            try:
                slot(*args)
            except Exception as exc:  # noqa: BLE001 - a Qt slot must not raise; say what broke instead
                log.exception("panel %s failed to display", self.key)
                self.ctx.show_error(f"Internal display error ({self.title}): {type(exc).__name__}: {exc}")
        return guarded

    # ---- optional hooks
    def on_model_loaded(self, loaded: Any) -> None:
        """A new model is in (called before its first run)."""

    def session_state(self) -> dict | None:
        """What this panel keeps in a session file (JSON-able), or None."""
        return None

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        """Check (and migrate from `version`) what `session_state` wrote; raise ValueError
        with a message naming the field when it cannot be used. Returns the checked data."""
        return data

    def restore_session(self, data: Any | None) -> None:
        """Show what a session held (None: the session held nothing for this panel)."""

    def set_presenting(self, presenting: bool) -> None:
        """Presentation mode on/off (large text)."""

    def export_tables(self) -> dict[str, Any]:
        """Extra data for File → Export → Data: {name: object with .values etc.}."""
        return {}

    def export_files(self, folder: Path) -> list[Path]:
        """Files of its own for File → Export → Data (e.g. a generation as JSON and text),
        beside the tables; returns what it wrote."""
        return []


_PANELS: dict[str, type[Panel]] = {}


def register_panel(cls: type[Panel]) -> type[Panel]:
    if cls.key in _PANELS and _PANELS[cls.key] is not cls:
        raise ValueError(f"two panels are registered as '{cls.key}'")
    _PANELS[cls.key] = cls
    return cls


def panel_classes() -> list[type[Panel]]:
    """Every registered panel, in dock order."""
    from . import builtin  # noqa: F401 - the shipped panels register themselves on import

    return sorted(_PANELS.values(), key=lambda cls: cls.order)


def panel_class(key: str) -> type[Panel] | None:
    panel_classes()
    return _PANELS.get(key)
