"""The main window: dockable panels around the engine, menus, toolbar and status bar."""

from __future__ import annotations

import base64

import numpy as np
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

from widgets.head_detail import HeadDetail
from widgets.head_grid import HeadGrid
from widgets.logit_lens_table import LensData, LogitLensTable
from widgets.prompt_panel import PromptPanel

from .controller import DEMO_FOIL, DEMO_PROMPT, DEMO_TARGET, Controller
from .model_picker import ModelPicker
from .settings import Settings, save_settings

SCORE_FIELDS = {"induction": "induction", "previous-token": "previous_token", "duplicate-token": "duplicate_token"}


class MainWindow(QMainWindow):
    def __init__(self, controller: Controller, settings: Settings) -> None:
        super().__init__()
        self.controller, self.settings = controller, settings
        self.setWindowTitle("Microtome")
        self.setObjectName("MicrotomeMainWindow")
        self.setDockNestingEnabled(True)

        self.prompt_panel = PromptPanel()
        self.head_grid = HeadGrid()
        self.head_detail = HeadDetail()
        self.logit_lens = LogitLensTable()
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("prompt", "Prompt", self.prompt_panel, Qt.DockWidgetArea.TopDockWidgetArea)
        self._add_dock("heads", "Attention heads", self.head_grid, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("detail", "Head detail", self.head_detail, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("lens", "Logit lens", self.logit_lens, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.docks["heads"], self.docks["detail"], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["heads"], self.docks["detail"]], [700, 500], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["prompt"], self.docks["heads"], self.docks["lens"]], [200, 500, 240],
                         Qt.Orientation.Vertical)
        self._default_state = self.saveState()

        self.model_label, self.device_label, self.time_label = QLabel("no model"), QLabel(""), QLabel("")
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error_label.setWordWrap(True)
        status = self.statusBar()
        status.addWidget(self.error_label, 1)
        for label in (self.model_label, self.device_label, self.time_label):
            status.addPermanentWidget(label)
        self._build_actions()
        self._wire()
        self.prompt_panel.set_prompt(controller.state.prompt)
        self.prompt_panel.set_answer(controller.state.target, controller.state.foil)
        self.head_grid.select_score_key(controller.state.score_key)
        self._restore_layout()

    # ------------------------------------------------------------------ construction
    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open model…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.pick_model)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Recent models")
        self._fill_recent_menu()
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

        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        reset = QAction("Reset layout", self)
        reset.triggered.connect(lambda: self.restoreState(self._default_state))
        view_menu.addAction(reset)

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

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        demo = self.recent_menu.addAction("Demo model")
        demo.triggered.connect(lambda: self.controller.load_model(None))
        for source in self.settings.recent_models:
            action = self.recent_menu.addAction(source)
            action.triggered.connect(lambda checked=False, s=source: self.controller.load_model(s))

    def _wire(self) -> None:
        c, p = self.controller, self.prompt_panel
        p.prompt_changed.connect(c.set_prompt)
        p.target_changed.connect(c.set_target)
        p.foil_changed.connect(c.set_foil)
        p.corrupted_changed.connect(c.set_corrupted)
        p.position_clicked.connect(self.focus_position)
        self.logit_lens.position_clicked.connect(self.focus_position)
        self.head_grid.head_clicked.connect(self.show_head)
        self.head_grid.score_key_changed.connect(c.set_score_key)
        c.model_loaded.connect(self._on_model_loaded)
        c.result_ready.connect(self._on_result)
        c.scores_ready.connect(lambda _: self._refresh_scores())
        c.error.connect(self._on_error)
        c.status.connect(lambda text: self.statusBar().showMessage(text, 5000))
        c.loading.connect(self._on_loading)

    # ------------------------------------------------------------------ actions
    def pick_model(self) -> None:
        picker = ModelPicker(self.settings.recent_models, self)
        if picker.exec():
            source, device = picker.choice()
            self.controller.load_model(source, device)

    def focus_position(self, position: int) -> None:
        self.controller.focus_position(position)
        self.prompt_panel.focus_position(position)
        self.logit_lens.set_focus(position)
        self.head_detail.set_query(position)

    def show_head(self, layer: int, head: int) -> None:
        self.controller.focus_head(layer, head)
        result = self.controller.last_result
        if result is None or result.patterns is None:
            return
        self.head_detail.set_head(f"L{layer}.H{head}", result.patterns[layer, head], list(result.tokens),
                                  self.head_grid.describe(layer, head).partition("   ")[2])

    # ------------------------------------------------------------------ results in
    def _on_loading(self, busy: bool) -> None:
        self.cancel_action.setEnabled(busy)
        if busy:
            self.error_label.setText("")

    def _on_model_loaded(self, loaded) -> None:
        info = loaded.info
        self.model_label.setText(f"{'demo model' if loaded.is_demo else info.source} · {info.family} · "
                                 f"{info.n_layers}×{info.n_heads} heads")
        self.device_label.setText(f"{info.device} · {info.dtype}")
        self.prompt_panel.set_vocabulary(list(loaded.vocabulary))
        self.error_label.setText("")
        if loaded.is_demo and not self.controller.state.prompt:
            self.controller.set_prompt(DEMO_PROMPT)
        if not loaded.is_demo:
            self.settings.add_recent(info.source)
            self._fill_recent_menu()
        self.setWindowTitle(f"Microtome — {'demo model' if loaded.is_demo else info.source}")

    def _on_result(self, result) -> None:
        self.error_label.setText("")
        self.time_label.setText(f"run {result.elapsed_ms:.0f} ms")
        tokens = list(result.tokens)
        self.prompt_panel.set_tokens(tokens)
        summary = ""
        if result.logit_diff is not None:
            summary = (f"logit diff {self.controller.state.target!r} − {self.controller.state.foil!r}: "
                       f"{result.logit_diff:+.3f}    P({self.controller.state.target!r}) = {result.target_prob:.3f}")
        self.prompt_panel.set_predictions(list(result.top_tokens), result.top_probs.tolist(), summary)
        self.head_grid.set_patterns(result.patterns, tokens)
        self._refresh_scores()
        lens = result.logit_lens
        self.logit_lens.set_lens(LensData(lens.layer_labels, tuple(tokens), tuple(int(p) for p in lens.positions),
                                          lens.top_tokens, lens.top_probs,
                                          self.controller.state.target if lens.target_id is not None else None,
                                          lens.target_probs, lens.target_ranks))
        layer, head = self.controller.state.focused_head or self._default_head()
        self.show_head(layer, head)

    def _default_head(self) -> tuple[int, int]:
        scores = self.controller.head_scores
        if scores is None:
            return 0, 0
        layer, head = np.unravel_index(np.argmax(scores.induction), scores.induction.shape)
        return int(layer), int(head)

    def _refresh_scores(self) -> None:
        scores: dict[str, np.ndarray] = {}
        if self.controller.head_scores is not None:
            scores = {key: getattr(self.controller.head_scores, field) for key, field in SCORE_FIELDS.items()}
        result = self.controller.last_result
        if result is not None and result.dla is not None:
            scores["DLA"] = result.dla.heads
        self.head_grid.set_scores(scores)

    def _on_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setToolTip(message)

    # ------------------------------------------------------------------ layout persistence
    def _restore_layout(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray(base64.b64decode(self.settings.window_geometry)))
        else:
            self.resize(1400, 950)
        if self.settings.window_state:
            self.restoreState(QByteArray(base64.b64decode(self.settings.window_state)))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.settings.window_geometry = base64.b64encode(bytes(self.saveGeometry())).decode()
        self.settings.window_state = base64.b64encode(bytes(self.saveState())).decode()
        try:
            save_settings(self.settings)
        except OSError as exc:  # never lose the exit over settings
            self.statusBar().showMessage(f"Could not save settings: {exc}")
        self.controller.shutdown()
        super().closeEvent(event)


__all__ = ["MainWindow", "DEMO_PROMPT", "DEMO_TARGET", "DEMO_FOIL"]
