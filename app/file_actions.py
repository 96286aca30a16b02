"""The File menu's session and export actions, autosave and crash recovery, and the
question on closing with unsaved changes. Kept apart from the window's layout code."""

from __future__ import annotations

import base64
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMenu, QMessageBox

from .export import export_data, widget_png, widget_svg
from .figures import figure_png, figure_svg, header_for
from .session_file import SUFFIX, SessionError, load_session
from .session_manager import SessionManager
from .settings import MAX_RECENT, config_dir

AUTOSAVE_DELAY_MS = 3_000  # after the last change; Settings.autosave_seconds overrides it
FILTER = f"Microtome sessions (*{SUFFIX});;All files (*)"


def recovery_path() -> Path:
    return config_dir() / f"recovery{SUFFIX}"


class FileActions:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.sessions = SessionManager(window.controller, window.panels, window)
        self.sessions.failed.connect(window.show_error)
        self.sessions.failed.connect(self._offer_model_pick)
        self.sessions.verdict.connect(self._on_verdict)
        self.sessions.opened.connect(self._on_opened)
        # debounced: a few seconds after each change, so a crash loses at most that much
        self.autosave = QTimer(window, singleShot=True)
        self.autosave.setInterval(int(window.settings.autosave_seconds * 1000) if window.settings.autosave_seconds
                                  else AUTOSAVE_DELAY_MS)
        self.autosave.timeout.connect(self.write_recovery)
        window.controller.state_changed.connect(self.autosave.start)
        self.ask = self._ask  # replaced in tests: (title, text, buttons) -> button

    # ------------------------------------------------------------------ menu
    def add_to(self, menu: QMenu) -> None:
        w = self.window
        for text, keys, slot in (("Open session…", "Ctrl+Shift+O", self.open_dialog),
                                 ("Save session", "Ctrl+S", self.save),
                                 ("Save session as…", "Ctrl+Shift+S", self.save_as)):
            action = QAction(text, w, shortcut=QKeySequence(keys))
            action.triggered.connect(slot)
            menu.addAction(action)
        self.recent_menu = menu.addMenu("Recent sessions")
        self.fill_recent()
        export = menu.addMenu("Export")
        for key, dock in w.docks.items():
            dock.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click a panel to export it
            title = dock.windowTitle()
            for fmt in ("png", "svg"):
                action = QAction(f"{title} as {fmt.upper()}…", w)
                action.triggered.connect(lambda checked=False, k=key, f=fmt: self.export_panel_dialog(k, f))
                export.addAction(action)
                dock.addAction(action)  # also on the panel's right-click menu
        export.addSeparator()
        whole = QAction("Whole window as PNG…", w)
        whole.triggered.connect(lambda: self.export_panel_dialog(None, "png"))
        export.addAction(whole)
        data = QAction("Data (CSV and NPZ)…", w)
        data.triggered.connect(self.export_data_dialog)
        export.addAction(data)

    def fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.window.settings.recent_sessions:
            self.recent_menu.addAction(path).triggered.connect(lambda checked=False, p=path: self.open(p))

    # ------------------------------------------------------------------ sessions
    def window_state(self) -> str:
        return base64.b64encode(bytes(self.window.saveState())).decode()

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", self.start_in(""), FILTER)
        if path:
            self.remember_folder(path)
            self.open(path)

    def open(self, path: str) -> None:
        if self.sessions.open(path) is not None:
            self._remember(path)

    def save(self) -> bool:
        if self.sessions.path is None:
            return self.save_as()
        return self._save_to(self.sessions.path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session", self.start_in(f"untitled{SUFFIX}"), FILTER)
        if not path:
            return False
        self.remember_folder(path)
        return self._save_to(Path(path if path.endswith(SUFFIX) else path + SUFFIX))

    def _save_to(self, path: Path) -> bool:
        try:
            self.sessions.save(path, self.window_state())
        except (SessionError, OSError) as exc:
            self.window.show_error(f"Could not save the session: {exc}")
            return False
        self._remember(str(path))
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        self.drop_recovery()
        return True

    def start_in(self, name: str) -> str:
        """Where a file dialog opens: the folder last used (not the working directory)."""
        folder = self.window.settings.last_folder
        return str(Path(folder) / name) if folder and Path(folder).is_dir() else name

    def remember_folder(self, path: str) -> None:
        self.window.settings.last_folder = str(Path(path).parent)

    def _remember(self, path: str) -> None:
        s = self.window.settings
        s.recent_sessions = [path] + [p for p in s.recent_sessions if p != path][: MAX_RECENT - 1]
        self.fill_recent()

    def _offer_model_pick(self, message: str) -> None:
        """The session's model is missing: offer to pick it, then apply the session to it."""
        session = self.sessions.unresolved
        if session is None:
            return
        answer = self.ask("Model not found", f"{message}\n\nPick the model now?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        from .model_picker import ModelPicker

        picker = ModelPicker(self.window.settings.recent_models, self.window)
        if picker.exec():
            source, _device, _dtype = picker.choice()
            moved = session.model.model_copy(update={"source": source})
            self.sessions.open_session(session.model_copy(update={"model": moved}))

    def _on_opened(self, session) -> None:
        w = self.window
        if session.view.window_state:
            w.restore_window_state(session.view.window_state)
        w.setWindowTitle(f"Microtome — {self.sessions.path.name if self.sessions.path else 'session'}")

    def _on_verdict(self, message: str, reproduced: bool) -> None:
        self.window.show_verdict(message, reproduced)
        self.window.session_verdict = message

    # ------------------------------------------------------------------ autosave and closing
    def write_recovery(self) -> None:
        if self.sessions.dirty and self.window.controller.loaded is not None:
            try:
                self.sessions.save(recovery_path(), self.window_state(), mark_clean=False)
            except (SessionError, OSError) as exc:  # autosave must never disturb the user beyond a line
                self.window.show_status(f"Autosave failed: {exc}", 10000)

    def offer_recovery(self) -> None:
        """At start-up: a recovery file means the last run ended with unsaved work."""
        path = recovery_path()
        if not path.exists():
            return
        answer = self.ask("Restore unsaved work?", "Microtome closed with unsaved changes last time. Restore them?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            path.unlink(missing_ok=True)
            return
        try:
            session = load_session(path)
        except SessionError as exc:
            self.window.show_error(f"The unsaved work could not be restored: {exc}")
            return
        # unsaved work with no file of its own: Ctrl+S asks where; the recovery file stays
        # until the work is saved or discarded (a second crash must not lose it)
        self.sessions.open_session(session, None, recovered=True)

    @staticmethod
    def drop_recovery() -> None:
        try:
            recovery_path().unlink(missing_ok=True)
        except OSError:
            pass  # a read-only config folder: the file (if any) is offered again next time, nothing worse

    def may_close(self) -> bool:
        """Ask about unsaved changes; False keeps the window open."""
        if not self.sessions.dirty or self.window.controller.loaded is None:
            self.drop_recovery()
            return True
        answer = self.ask("Unsaved changes", "Save this session before closing?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Cancel or (answer == QMessageBox.StandardButton.Save and not self.save()):
            return False
        self.drop_recovery()
        return True

    def _ask(self, title: str, text: str, buttons) -> QMessageBox.StandardButton:
        return QMessageBox.question(self.window, title, text, buttons)

    # ------------------------------------------------------------------ export
    def export_panel_dialog(self, key: str | None, fmt: str) -> None:
        name = key or "window"
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export {name} as {fmt.upper()}", self.start_in(f"{name}.{fmt}"),
                                              f"{fmt.upper()} (*.{fmt})")
        if not path:
            return
        self.remember_folder(path)
        scale = 2.0
        if fmt == "png":
            scale, ok = QInputDialog.getDouble(self.window, "PNG scale", "Scale (1 = screen pixels, 2 = 192 dpi):",
                                               2.0, 0.5, 8.0, 1)
            if not ok:
                return
        self.export_panel(key, path, fmt, scale)

    def export_panel(self, key: str | None, path: str, fmt: str, scale: float = 2.0) -> None:
        """A panel as a figure (its plot under a header naming model and prompt); the whole
        window as it looks (key None)."""
        try:
            if key is None:
                widget_png(self.window, path, scale) if fmt == "png" else widget_svg(self.window, path, "Microtome window")
                return
            dock = self.window.docks[key]
            header = header_for(dock.windowTitle(), **self._figure_context())
            figure_png(dock.widget(), header, path, scale) if fmt == "png" else figure_svg(dock.widget(), header, path)
        except OSError as exc:
            self.window.show_error(f"Could not export: {exc}")

    def _figure_context(self) -> dict:
        c = self.window.controller
        s = c.state
        model = "demo model" if c.loaded is None or c.loaded.is_demo else Path(c.loaded.info.source).name
        return {"model": model, "prompt": s.prompt, "target": s.target or None, "foil": s.foil or None}

    def provenance(self) -> dict[str, str]:
        """What every exported table carries, so a file found later says what made it."""
        from .version import __version__

        c = self.window.controller
        s, loaded = c.state, c.loaded
        meta = {"microtome_version": __version__,
                "model": "demo model" if loaded is None or loaded.is_demo else loaded.info.source,
                "weights_sha256": (loaded.weights_digest or "") if loaded is not None else "",
                "prompt": s.prompt, "target": s.target or "", "foil": s.foil or ""}
        if getattr(s, "corrupted", None):
            meta["corrupted"] = s.corrupted
        meta["interventions"] = "; ".join(f"{i.kind} {i.component}" for i in s.interventions) or "none"
        return meta

    def export_data_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export data to folder", self.start_in(""))
        if folder:
            self.remember_folder(str(Path(folder) / "x"))
            self.export_all_data(folder, ("csv", "npz"))

    def export_all_data(self, folder: str, formats: tuple[str, ...]) -> list[Path]:
        c = self.window.controller
        if c.last_result is None:
            self.window.show_error("Nothing to export yet: run a prompt first")
            return []
        result, base = c.last_result, c.baseline
        if base is not None and (base.prompt, base.target_id, base.foil_id) != (result.prompt, result.target_id, result.foil_id):
            base = None  # a baseline of another prompt or answer is no "before"
        extra = {}
        for panel in self.window.panels.values():
            extra.update(panel.export_tables())
        try:
            written = export_data(result, base, c.state.target, folder, formats, extra, self.provenance())
            for panel in self.window.panels.values():
                written += panel.export_files(Path(folder))
            return written
        except OSError as exc:
            self.window.show_error(f"Could not export: {exc}")
            return []
