"""Saving and reopening sessions: snapshot the workspace and every panel's own data, restore
them (loading the session's model first when needed), then check the recomputed numbers
against the stored digest and say "reproduced" or what differs.

A file that cannot be used changes nothing: it is validated completely (format, model,
components, every panel's data) before any state is touched. The verdict judges only the
run of the session's own state; a failed run of it clears the pending verdict."""

from __future__ import annotations

import logging

from pathlib import Path
from typing import Mapping

from PySide6.QtCore import QObject, Signal

from engine.addresses import parse_ablatable, parse_address
from engine.errors import InterventionError

from .controller import Controller
from .session_file import (SCHEMA_VERSION, AnalysisEntry, ModelRef, ResultsDigest, Session, SessionError,
                           SessionView, differences, digest_of, load_session, save_session)
from .version import __version__
from .workspace import ViewState

APP_NAME = f"microtome {__version__}"


log = logging.getLogger(__name__)

class SessionManager(QObject):
    opened = Signal(object)  # Session, once its state is applied (the window restores its layout)
    verdict = Signal(str, bool)  # message, reproduced?
    failed = Signal(str)

    def __init__(self, controller: Controller, panels: Mapping[str, object] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.panels = panels if panels is not None else {}
        self.path: Path | None = None
        self.dirty = False
        self._pending: Session | None = None
        self._pending_path: Path | None = None
        self._recovered = False  # the session being opened is crash-recovered work
        self.unresolved: Session | None = None  # a session whose model could not be opened
        self._expect: tuple[ResultsDigest | None, list[str]] | None = None
        controller.state_changed.connect(self._mark_dirty)
        controller.model_loaded.connect(self._on_model_loaded)
        controller.load_failed.connect(self._on_load_failed)
        controller.loading.connect(lambda busy: busy or self._drop_pending_if_cancelled())
        controller.result_ready.connect(self._on_result)
        controller.error.connect(self._on_run_error)

    def _mark_dirty(self) -> None:
        if self._pending is None:
            self.dirty = True

    # ------------------------------------------------------------------ save
    def snapshot(self, window_state: str = "") -> Session:
        c = self.controller
        if c.loaded is None:
            raise SessionError("Open a model before saving a session")
        info, s = c.loaded.info, c.state
        # the numbers on screen may be an older state's (saved right after an edit): then the
        # file holds no digest rather than a wrong one, and reopening says it had none to compare
        result = c.last_result if c.result_is_current() else None
        analyses = {}
        for key, panel in self.panels.items():
            data = panel.session_state()
            if data is not None:
                analyses[key] = AnalysisEntry(version=panel.session_version, data=data)
        return Session(
            schema_version=SCHEMA_VERSION, saved_by=APP_NAME,
            model=ModelRef(source=None if c.loaded.is_demo else info.source, weights_digest=c.loaded.weights_digest,
                           family=info.family, n_layers=info.n_layers, n_heads=info.n_heads),
            prompt=s.prompt, corrupted=s.corrupted, target=s.target, foil=s.foil,
            interventions=[i.to_dict() for i in s.interventions],
            view=SessionView(focused_head=s.focused_head, focused_position=s.focused_position, score_key=s.score_key,
                             window_state=window_state),
            results=digest_of(result) if result is not None else None, analyses=analyses)

    def save(self, path: str | Path, window_state: str = "", mark_clean: bool = True) -> None:
        save_session(path, self.snapshot(window_state))
        if mark_clean:
            self.path, self.dirty = Path(path), False

    # ------------------------------------------------------------------ open
    def open(self, path: str | Path) -> Session | None:
        """Validate the file, load its model if it is not the current one, then apply it."""
        try:
            session = load_session(path)
        except SessionError as exc:
            self.failed.emit(str(exc))
            return None
        self.open_session(session, Path(path))
        return session

    def open_session(self, session: Session, path: Path | None = None, recovered: bool = False) -> None:
        """Apply an already validated session (loading its model first when needed). The
        file becomes the one Ctrl+S writes only once the session is applied; recovered work
        has no file and stays unsaved."""
        self.unresolved = None
        self._pending_path, self._recovered = path, recovered
        loaded = self.controller.loaded
        if loaded is not None and self._same_model(session.model):
            self._apply(session)
        else:
            self._pending = session
            self.controller.load_model(session.model.source)

    def _same_model(self, ref: ModelRef) -> bool:
        loaded = self.controller.loaded
        return (ref.source is None) == loaded.is_demo and (ref.source is None or ref.source == loaded.info.source)

    def _on_model_loaded(self, _loaded) -> None:
        if self._pending is not None:
            session, self._pending = self._pending, None
            self._apply(session)

    def _drop_pending_if_cancelled(self) -> None:
        """A load that ends without a model (cancelled) must not apply the session later."""
        if self._pending is not None and self.controller.client.latest("load") is None:  # cancel forgets it
            self._pending = None

    def _on_load_failed(self, message: str) -> None:
        if self._pending is not None:
            self.unresolved, self._pending = self._pending, None
            self.failed.emit(f"The session's model could not be opened ({message}). Pick the model with "
                             "File → Open model, then open the session again. Nothing was changed.")

    def _apply(self, session: Session) -> None:
        info = self.controller.loaded.info
        notes = []
        if (session.model.n_layers, session.model.n_heads) != (info.n_layers, info.n_heads):
            notes.append(f"the model has {info.n_layers}×{info.n_heads} heads, the session "
                         f"{session.model.n_layers}×{session.model.n_heads}")
        try:
            interventions = session.intervention_objects()
            for item in interventions:
                if item.kind == "feature":
                    parse_address(item.component, info.n_layers, info.n_heads)  # its layer exists here
                else:
                    parse_ablatable(item.component, info.n_layers, info.n_heads)
        except InterventionError as exc:
            self.failed.emit(f"The session does not fit this model: {exc}. Nothing was changed.")
            return
        weights = self.controller.loaded.weights_digest
        if session.model.weights_digest and weights and session.model.weights_digest != weights:
            notes.append("different weights: the session was saved on an earlier version of the bundled demo model, "
                         "retrained since; its numbers are recomputed on this one" if self.controller.loaded.is_demo else
                         "different weights (the model files changed since the session was saved)")
        c = self.controller
        c.undo_stack.clear()
        v = session.view
        head = v.focused_head
        if head is not None and not (0 <= head[0] < info.n_layers and 0 <= head[1] < info.n_heads):
            head = None  # a view detail that does not fit this model is dropped, not fatal
        c.state = ViewState(prompt=session.prompt, corrupted=session.corrupted, target=session.target,
                            foil=session.foil, interventions=interventions, focused_head=head,
                            focused_position=v.focused_position, score_key=v.score_key)
        c.interventions_changed.emit(interventions)
        for key, panel in self.panels.items():
            try:
                panel.restore_session(session.analysis(key))
            except Exception as exc:  # noqa: BLE001 - one panel's bad part must not leave the session half-open
                log.exception("panel %s could not restore its session part", key)
                notes.append(f"the {getattr(panel, 'title', key)} panel's part could not be shown "
                             f"({type(exc).__name__}: {exc})")
        self._expect = (session.results, notes)
        self.path, self.dirty = (None, True) if self._recovered else (self._pending_path, False)
        self.opened.emit(session)
        c.request_run()

    def _on_run_error(self, message: str) -> None:
        """The session's own run failed: there is nothing to judge, and no later run may be
        judged against this session's numbers."""
        if self._expect is not None:
            self._expect = None
            self.verdict.emit(f"Session opened, but its run failed: {message}", False)

    def _on_result(self, result) -> None:
        state = self.controller.state
        if self._expect is None or result.prompt != state.prompt or result.interventions != state.interventions:
            return  # judge only the run of the session's own state
        stored, notes = self._expect
        self._expect = None
        diffs = notes + (differences(stored, digest_of(result)) if stored is not None else [])
        if stored is None and not notes:
            self.verdict.emit("Session opened (it held no results to compare)", True)
        elif diffs:
            self.verdict.emit("Session does not reproduce: " + "; ".join(diffs), False)
        else:
            self.verdict.emit("Session reproduced: same predictions and numbers as when it was saved", True)
