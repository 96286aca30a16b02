"""The main window: a shell of menus, docks and a status bar around the registered panels.

Every dock comes from the panel registry (app/panels); the window knows no technique. It
offers the panels their services (show an error or a status message, raise a panel) and
tells them when a model is loaded; everything else they take from the workspace."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

from .controller import DEMO_FOIL, DEMO_PROMPT, DEMO_TARGET, Controller
from .file_actions import FileActions
from .model_picker import ModelPicker
from .panels import Panel, PanelContext, panel_classes
from .panels.base import AREAS
from .presentation import Presentation
from .settings import Settings, save_settings

log = logging.getLogger(__name__)
SPLITS = {"split-h": Qt.Orientation.Horizontal, "split-v": Qt.Orientation.Vertical}


class MainWindow(QMainWindow):
    def __init__(self, controller: Controller, settings: Settings) -> None:
        super().__init__()
        self.controller, self.settings = controller, settings
        self.setWindowTitle("Microtome")
        self.setObjectName("MicrotomeMainWindow")
        self.setDockNestingEnabled(True)
        # the right column (head detail, component graph) runs down to the bottom edge: a graph
        # of 30-48 layers needs the height more than the lens needs the full width
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.model_label, self.device_label, self.time_label = QLabel("no model"), QLabel(""), QLabel("")
        self.fidelity_label = QLabel("")
        self.verdict_label = QLabel("")  # a reopened session's verdict: stays until the user changes something
        self.verdict_label.setWordWrap(True)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error_label.setWordWrap(True)
        status = self.statusBar()
        status.addWidget(self.verdict_label)
        status.addWidget(self.error_label, 1)
        for label in (self.model_label, self.fidelity_label, self.device_label, self.time_label):
            status.addPermanentWidget(label)

        context = PanelContext(controller, self.show_error, self.show_status, self.raise_panel,
                               lambda: self.presentation.active)
        self.panels: dict[str, Panel] = {cls.key: cls(context) for cls in panel_classes()}
        self.docks: dict[str, QDockWidget] = {}
        for panel in self.panels.values():
            self._add_dock(panel)
        self._shown_once = False
        self._default_layout()
        self._default_state = self.saveState()

        self.presentation = Presentation(self)
        self.session_verdict = ""
        # panels hear of a new model before a session waiting for it is applied (FileActions)
        controller.model_loaded.connect(self._on_model_loaded)
        self.files = FileActions(self)
        self._build_actions()
        self._wire()  # before the panels: a new result clears old errors, then panels may report theirs
        for panel in self.panels.values():
            panel.connect()
        self._restore_layout()

    # ------------------------------------------------------------------ panels and their services
    def view(self, key: str) -> QWidget:
        """The widget of the panel `key` (what its dock shows)."""
        return self.panels[key].widget

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setToolTip(message)

    def show_verdict(self, message: str, reproduced: bool) -> None:
        """Whether a reopened session reproduces: green or red, kept beside later errors and
        results until the user changes the state (then it no longer describes what is shown)."""
        self.verdict_label.setText(("✓ " if reproduced else "⚠ ") + message)
        self.verdict_label.setToolTip(message)
        self.verdict_label.setStyleSheet(f"color: {'#1b7f3b' if reproduced else '#b00020'}; font-weight: bold;")

    def show_status(self, message: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    def raise_panel(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock is not None:
            dock.show()
            dock.raise_()

    # ------------------------------------------------------------------ construction
    def _add_dock(self, panel: Panel) -> None:
        dock = QDockWidget(panel.title, self)
        dock.setObjectName(f"dock-{panel.key}")
        dock.setWidget(panel.widget)
        self.addDockWidget(AREAS[panel.area], dock)
        self.docks[panel.key] = dock

    def _default_layout(self) -> None:
        """Each panel's placement hint relative to another, then the sizes of the main areas."""
        for key, panel in self.panels.items():
            if panel.beside is None or panel.beside[1] not in self.docks:
                continue
            how, other = panel.beside
            if how == "tab":
                self.tabifyDockWidget(self.docks[other], self.docks[key])
            else:
                self.splitDockWidget(self.docks[other], self.docks[key], SPLITS[how])
        for key, panel in self.panels.items():
            if panel.front:
                self.docks[key].raise_()
        self._size_areas()

    def _size_areas(self) -> None:
        """The default split of the window between the main areas (prompt, views, lens)."""
        present = [k for k in ("heads", "detail") if k in self.docks]
        if len(present) == 2:
            self.resizeDocks([self.docks[k] for k in present], [700, 500], Qt.Orientation.Horizontal)
        column = [self.docks[k] for k in ("prompt", "heads", "lens") if k in self.docks]
        self.resizeDocks(column, [230, 330, 300][: len(column)], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """On the first show without a saved layout, split the window at its real size: sizes
        given while it was still at its size hint would leave the lens at its minimum."""
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self.settings.window_geometry:
                # before the first show the docks' size hints hold the window above 950 px
                QTimer.singleShot(0, lambda: self.resize(1400, 950))
            if not self.settings.window_state:
                QTimer.singleShot(0, self._size_areas)

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open model…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.pick_model)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Recent models")
        self._fill_recent_menu()
        file_menu.addSeparator()
        self.files.add_to(file_menu)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        run_menu = self.menuBar().addMenu("&Run")
        self.run_action = QAction("&Run prompt", self, shortcut=QKeySequence("Ctrl+R"))
        self.run_action.triggered.connect(self.controller.request_run)
        run_menu.addAction(self.run_action)
        self.cancel_action = QAction("&Cancel model loading", self, enabled=False)
        self.cancel_action.triggered.connect(self.controller.cancel_load)
        run_menu.addAction(self.cancel_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        undo = self.controller.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts([QKeySequence("Ctrl+Z")])
        redo = self.controller.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action, self.redo_action = undo, redo
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        edit_menu.addSeparator()
        for text, keys, slot in (
            ("Ablate selected components", "Del", lambda: self._selected(self.controller.ablate)),
            ("Restore selected components", "Backspace", lambda: self._selected(self.controller.restore)),
            ("Restore all components", "Ctrl+Shift+Backspace", self.controller.restore_all),
        ):
            action = QAction(text, self, shortcut=QKeySequence(keys))
            action.triggered.connect(slot)
            edit_menu.addAction(action)

        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        reset = QAction("Reset layout", self)
        reset.triggered.connect(lambda: self.restoreState(self._default_state))
        view_menu.addAction(reset)
        view_menu.addAction(self.presentation.action)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("About Microtome", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "Microtome", "Microtome: visual model dissection.\nMechanistic interpretability by point and click."))
        help_menu.addAction(about)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar-main")
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.run_action)
        toolbar.addAction(self.cancel_action)
        toolbar.addSeparator()
        toolbar.addAction(undo)
        toolbar.addAction(redo)
        toolbar.addAction(self.presentation.action)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        demo = self.recent_menu.addAction("Demo model")
        demo.triggered.connect(lambda: self.confirm_model_change() and self.controller.load_model(None))
        for source in self.settings.recent_models:
            action = self.recent_menu.addAction(source)
            action.triggered.connect(lambda checked=False, s=source: self.confirm_model_change()
                                     and self.controller.load_model(s))

    def _wire(self) -> None:
        c = self.controller
        c.result_ready.connect(self._on_result)
        c.pending_changed.connect(self._on_pending)
        c.state_changed.connect(lambda: self.verdict_label.setText(""))
        c.error.connect(self.show_error)
        c.status.connect(lambda text: self.statusBar().showMessage(text, 5000))
        c.loading.connect(self._on_loading)

    # ------------------------------------------------------------------ actions
    def pick_model(self) -> None:
        picker = ModelPicker(self.settings.recent_models, self)
        try:
            if picker.exec() and self.confirm_model_change():
                source, device, dtype = picker.choice()
                self.controller.load_model(source, device, dtype, picker.pickle_allowed)
        finally:
            picker.deleteLater()  # one dialog per Open: none may be left behind

    def confirm_model_change(self) -> bool:
        """Opening a model clears the interventions and every result: ask first when that
        drops work the user made (interventions, a sweep, unsaved changes)."""
        c = self.controller
        work = [f"{len(c.state.interventions)} intervention(s)"] if c.state.interventions else []
        work += [key for key in c.results.keys() if key not in ("run", "baseline", "head_scores")]
        if not work and not self.files.sessions.dirty:
            return True
        what = ", ".join(work) or "unsaved changes"
        answer = self.files.ask("Open another model?", f"Opening a model clears {what} (no undo). "
                                "Save the session first with File → Save session. Open the model anyway?",
                                QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Open

    def _selected(self, action) -> None:
        """Edit-menu actions act on the nodes selected in the component graph, when it exists."""
        graph = self.panels.get("graph")
        names = graph.selected_names() if graph is not None else []
        if names:
            action(names)

    def focus_position(self, position: int) -> None:
        self.controller.focus_position(position)

    def show_head(self, layer: int, head: int) -> None:
        self.controller.focus_head(layer, head)

    # ------------------------------------------------------------------ results in
    def _on_loading(self, busy: bool) -> None:
        self.cancel_action.setEnabled(busy)
        if busy:
            self.error_label.setText("")

    def _on_model_loaded(self, loaded) -> None:
        info = loaded.info
        self.model_label.setText(f"{'demo model' if loaded.is_demo else short_source(info.source)} · {info.family} · "
                                 f"{info.n_layers}×{info.n_heads} heads" + (f" · {short_note(info.note)}" if info.note else ""))
        self.model_label.setToolTip(info.source + (f"\n{info.note}" if info.note else ""))
        self.device_label.setText(f"{info.device} · {info.dtype}")
        self._show_fidelity(loaded)
        for panel in self.panels.values():
            panel.on_model_loaded(loaded)
        self.error_label.setText("")
        if loaded.is_demo and not self.controller.state.prompt:
            self.controller.set_prompt(DEMO_PROMPT)
        if not loaded.is_demo:
            self.settings.add_recent(info.source)
            self._fill_recent_menu()
        self.setWindowTitle(f"Microtome — {'demo model' if loaded.is_demo else info.source}")

    def _show_fidelity(self, loaded) -> None:
        """The badge: does the hooked engine give the plain Hugging Face model's logits?"""
        if loaded.fidelity_ok is None:
            self.fidelity_label.setText("")
            return
        diff = f"Δ {loaded.fidelity_diff:.1g}" if loaded.fidelity_diff is not None else ""
        if loaded.fidelity_ok:
            self.fidelity_label.setText(f"✓ matches HF {diff}")
            self.fidelity_label.setStyleSheet("color: #1b7f3b; font-weight: bold;")
        else:
            self.fidelity_label.setText(f"⚠ differs from HF {diff}")
            self.fidelity_label.setStyleSheet("color: #b00020; font-weight: bold;")
            self.statusBar().showMessage(f"Warning: {loaded.fidelity}. Numbers in the panels may not be the model's.",
                                         30000)
        self.fidelity_label.setToolTip(loaded.fidelity + " (hooked engine vs a plain Hugging Face forward, "
                                       "max |Δ logit| on a probe prompt)")

    def _on_result(self, result) -> None:
        self.error_label.setText("")
        self.time_label.setText(f"run {result.elapsed_ms:.0f} ms")
        self.time_label.setStyleSheet("")
        self._on_pending(self.controller.pending)  # a newer run may still be on its way

    def _on_pending(self, pending: tuple) -> None:
        """While a run is on its way the status bar says what is still coming."""
        if pending:
            self.time_label.setText("⟳ updating: " + ", ".join(p.replace("_", " ") for p in pending))
            self.time_label.setStyleSheet("color: #b36b00; font-weight: bold;")

    # ------------------------------------------------------------------ layout persistence
    def restore_window_state(self, text: str) -> bool:
        """Restore a dock layout saved as base64; False (and nothing changed) when it is not one."""
        try:
            state = QByteArray(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            return False
        return bool(self.restoreState(state))

    def _restore_layout(self) -> None:
        try:
            if self.settings.window_geometry:
                self.restoreGeometry(QByteArray(base64.b64decode(self.settings.window_geometry)))
            else:
                self.resize(1400, 950)
        except (binascii.Error, ValueError):
            self.resize(1400, 950)
        if self.settings.window_state:
            self.restore_window_state(self.settings.window_state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        try:
            if not self.files.may_close():
                event.ignore()
                return
        except Exception:  # noqa: BLE001 - a failing question or file must never abort the exit
            log.exception("asking about unsaved work failed; closing anyway")
        try:
            self.files.autosave.stop()
            self.settings.window_geometry = base64.b64encode(bytes(self.saveGeometry())).decode()
            self.settings.window_state = base64.b64encode(bytes(self.saveState())).decode()
            save_settings(self.settings)
        except Exception as exc:  # noqa: BLE001 - never lose the exit over settings (read-only or full disk)
            log.warning("could not save settings: %s", exc)
        finally:
            self.controller.shutdown()  # a running engine thread at exit aborts the process; queued results go silent
        super().closeEvent(event)


__all__ = ["MainWindow", "DEMO_PROMPT", "DEMO_TARGET", "DEMO_FOIL"]


def short_source(source: str) -> str:
    """A local folder or file by its name (the full path is in the tooltip); a hub id as it is."""
    path = Path(source)
    return path.name if path.is_absolute() and path.exists() else source


def short_note(note: str) -> str:
    """The status bar's few words for a model note ('dequantised Q4_1'); the whole note is in
    the tooltip (a long one pushed the status messages off the bar)."""
    quant = re.search(r"\b(Q\d\w*|I?Q\d\w*|F16|BF16)\b", note)
    if "dequantised" in note and quant:
        return f"dequantised {quant.group(1)}"
    return note if len(note) <= 32 else note[:31] + "…"
