"""The main window: dockable panels around the engine, menus, toolbar and status bar."""

from __future__ import annotations

import base64
import logging

import numpy as np
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

from widgets.component_graph import ComponentGraph
from widgets.head_detail import HeadDetail
from widgets.head_grid import HeadGrid
from widgets.logit_lens_table import LensData, LogitLensTable
from widgets.patching_panel import PatchingPanel, PatchingSpec
from widgets.prompt_panel import PromptPanel

from .controller import DEMO_FOIL, DEMO_PROMPT, DEMO_TARGET, Controller
from .file_actions import FileActions
from .intervention_edits import as_node_state
from .model_picker import ModelPicker
from .presentation import Presentation
from .settings import Settings, save_settings

log = logging.getLogger(__name__)
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
        self.graph = ComponentGraph()
        self.patching = PatchingPanel()
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("prompt", "Prompt", self.prompt_panel, Qt.DockWidgetArea.TopDockWidgetArea)
        self._add_dock("heads", "Attention heads", self.head_grid, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("detail", "Head detail", self.head_detail, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("lens", "Logit lens", self.logit_lens, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._add_dock("graph", "Components (drag to ablate)", self.graph, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("patching", "Patching", self.patching, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.splitDockWidget(self.docks["heads"], self.docks["detail"], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.docks["detail"], self.docks["graph"])
        self.docks["graph"].raise_()
        self.tabifyDockWidget(self.docks["heads"], self.docks["patching"])  # both want the big area
        self.docks["heads"].raise_()
        self.resizeDocks([self.docks["heads"], self.docks["detail"]], [700, 500], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["prompt"], self.docks["heads"], self.docks["lens"]], [200, 500, 240],
                         Qt.Orientation.Vertical)
        self._default_state = self.saveState()

        self.model_label, self.device_label, self.time_label = QLabel("no model"), QLabel(""), QLabel("")
        self.fidelity_label = QLabel("")
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error_label.setWordWrap(True)
        status = self.statusBar()
        status.addWidget(self.error_label, 1)
        for label in (self.model_label, self.fidelity_label, self.device_label, self.time_label):
            status.addPermanentWidget(label)
        self.presentation = Presentation(self)
        self.session_verdict = ""
        self.files = FileActions(self)
        self._build_actions()
        self._wire()
        self.prompt_panel.set_prompt(controller.state.prompt)
        self.prompt_panel.corrupted_edit.setText(controller.state.corrupted)
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
        c.baseline_ready.connect(lambda _: self._update_graph())
        c.interventions_changed.connect(self._show_interventions)
        self.graph.ablate_requested.connect(c.ablate)
        self.graph.restore_requested.connect(c.restore)
        self.graph.scale_requested.connect(c.scale)
        self.graph.restore_all_requested.connect(c.restore_all)
        self.patching.run_requested.connect(self._run_patching)
        self.patching.cancel_requested.connect(c.cancel_patching)
        self.patching.cell_clicked.connect(c.apply_patch_cell)
        c.patching_progress.connect(self.patching.set_progress)
        c.patching_ready.connect(self._show_patching)
        c.patching_failed.connect(self.patching.show_message)
        c.error.connect(self._on_error)
        c.status.connect(lambda text: self.statusBar().showMessage(text, 5000))
        c.loading.connect(self._on_loading)

    # ------------------------------------------------------------------ actions
    def pick_model(self) -> None:
        picker = ModelPicker(self.settings.recent_models, self)
        if picker.exec():
            source, device, dtype = picker.choice()
            self.controller.load_model(source, device, dtype)

    def _run_patching(self, spec) -> None:
        if self.controller.run_patching(spec) is not None:
            self.patching.set_running(True)
            self.docks["patching"].raise_()

    def _show_patching(self, done) -> None:
        r = done.request
        if done.restored:  # from a session: show the settings it was run with
            self.patching.set_spec(PatchingSpec(r.sweep, r.mode, r.attribution, r.receiver, r.receiver_input))
        self.patching.set_results(done.main, done.estimate, done.correlation, done.elapsed_ms)

    def _show_interventions(self, items: tuple) -> None:
        state = as_node_state(items)
        self.graph.set_interventions(state)
        marks = {}
        for name, (method, factor) in state.items():
            if ".H" in name:
                layer, head = (int(part[1:]) for part in name.split("."))
                marks[(layer, head)] = f"×{factor:.2f}" if method == "scale" else f"✕ {method}"
        self.head_grid.set_marked(marks)

    def _selected(self, action) -> None:
        names = self.graph.selected_names()
        if names:
            action(names)

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
        self._show_fidelity(loaded)
        self.prompt_panel.set_vocabulary(list(loaded.vocabulary))
        self.graph.set_shape(info.n_layers, info.n_heads)
        self.patching.set_model(info.n_layers, info.n_heads)
        self.patching.clear_results("Set a corrupted prompt of the same length, then run a sweep.")
        self._show_interventions(self.controller.state.interventions)
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
        """Every panel shows the new result; a display failure is reported, never half-silent."""
        try:
            self._show_result(result)
        except Exception as exc:  # noqa: BLE001 - a Qt slot must not raise; say what broke instead
            log.exception("displaying a result failed")
            self._on_error(f"Internal display error: {type(exc).__name__}: {exc}")

    def _show_result(self, result) -> None:
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
        self.logit_lens.set_stale(lens is None)
        if lens is not None:
            self.logit_lens.set_lens(LensData(lens.layer_labels, tuple(tokens), tuple(int(p) for p in lens.positions),
                                              lens.top_tokens, lens.top_probs,
                                              self.controller.state.target if lens.target_id is not None else None,
                                              lens.target_probs, lens.target_ranks),
                                      self.controller.state.focused_position)
        layer, head = self.controller.state.focused_head or self._default_head()
        self.show_head(layer, head)
        self._update_graph()

    def _update_graph(self) -> None:
        """Node colours = DLA of the current run; deltas and the summary against the baseline."""
        result, base = self.controller.last_result, self.controller.baseline
        if result is None:
            return
        state = self.controller.state
        after = _graph_values(result)
        before = _graph_values(base) if base is not None and base.prompt == result.prompt else None
        deltas = None
        if before is not None and result.interventions:
            deltas = {name: after.get(name, 0.0) - value for name, value in before.items()}
        self.graph.set_attribution(after, deltas)
        self.graph.set_summary(_summary_html(state.target, base if before is not None else None, result))

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
        if not self.files.may_close():
            event.ignore()
            return
        self.files.autosave.stop()
        self.settings.window_geometry = base64.b64encode(bytes(self.saveGeometry())).decode()
        self.settings.window_state = base64.b64encode(bytes(self.saveState())).decode()
        try:
            save_settings(self.settings)
        except OSError as exc:  # never lose the exit over settings
            self.statusBar().showMessage(f"Could not save settings: {exc}")
        self.controller.shutdown()
        self.controller.blockSignals(True)  # results still queued must not reach widgets being deleted
        super().closeEvent(event)


def _graph_values(result) -> dict[str, float]:
    """Per-node values for the graph: DLA of heads, MLPs, embeddings; empty without DLA."""
    if result is None or result.dla is None:
        return {}
    parts = result.dla.as_dict()
    values = {name: value for name, value in parts.items() if name.startswith("L") and "bias" not in name}
    values["embed"] = parts.get("embed", 0.0) + parts.get("pos_embed", 0.0)
    values["unembed"] = parts.get("final_bias", 0.0)
    return values


def _summary_html(target: str, before, after) -> str:
    """'logit diff 3.21 → 0.45   P(target) 0.83 → 0.12' (only 'after' without a baseline)."""
    if after.logit_diff is None:
        top = after.top_tokens[0]
        return f"Top prediction <b>{top!r}</b> ({after.top_probs[0]:.2f}). Set a target and foil to colour nodes by attribution."
    if before is None or not after.interventions:
        return (f"<b>logit diff</b> {after.logit_diff:+.2f} &nbsp;&nbsp; <b>P({target!r})</b> {after.target_prob:.3f}"
                " &nbsp;&nbsp; <i>drag a head or MLP onto the bin to ablate it</i>")
    return (f"<b>logit diff</b> {before.logit_diff:+.2f} → <b>{after.logit_diff:+.2f}</b> &nbsp;&nbsp; "
            f"<b>P({target!r})</b> {before.target_prob:.3f} → <b>{after.target_prob:.3f}</b> &nbsp;&nbsp; "
            f"({len(after.interventions)} intervention{'s' if len(after.interventions) != 1 else ''})")


__all__ = ["MainWindow", "DEMO_PROMPT", "DEMO_TARGET", "DEMO_FOIL"]
