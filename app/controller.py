"""The app's state and its traffic with the engine thread.

The controller owns the workspace (what the user set, observable per field, and the
newest result of every analysis), the undo stack of interventions, and the job client.
It knows two jobs by name because they are the app itself: loading a model and the live
run of the current state (with its baseline without interventions, for before -> after).
Every other technique asks `analyse(key, inputs, params)`; its result lands in
`workspace.results` under its key, stale ones (a newer job of the same key) dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine.analysis import Prompt
from engine.errors import EngineError

from . import intervention_edits as edits
from .engine_service import LoadParams, Loaded
from .jobs import CANCELLED, JobClient
from .long_lived import settle_after_load
from .undo import SetInterventions
from .workspace import DEMO_FOIL, DEMO_PROMPT, DEMO_TARGET, ViewState, Workspace

LENS_TAIL = 12
SETTLE_MS = 250  # after the last knob move, the full analyses run
STALE_AFTER_MS = 100  # a part still missing this long after an edit is greyed as stale
LIVE_LANES = ("run", "baseline")


class Controller(QObject):
    model_loaded = Signal(object)  # Loaded
    result_ready = Signal(object)  # engine.results.RunResult of the live run, complete
    partial_ready = Signal(object)  # a progressive RunResult of the newest run (numbers first, complete=False)
    pending_changed = Signal(tuple)  # readouts the newest run still owes, once late (stale_after_ms); () when done
    interventions_changed = Signal(tuple)
    state_changed = Signal()  # anything the user set that a session saves (for "unsaved changes")
    load_failed = Signal(str)
    error = Signal(str)
    status = Signal(str)
    loading = Signal(bool)
    highlight_threshold_changed = Signal(float)  # the head-score threshold every view of heads outlines by

    def __init__(self, client: JobClient | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client or JobClient(self)
        self.workspace = Workspace(self)
        self.results = self.workspace.results
        self.loaded: Loaded | None = None
        self.last_result = None
        self.baseline = None  # RunResult of the current prompt without interventions
        self._baseline_key: tuple | None = None  # (prompt, target, foil) the baseline was run with
        self._run_keys: dict[str, dict[int, tuple]] = {"run": {}, "baseline": {}}  # lane -> id -> key
        self._shown_run = 0  # id of the run result on display
        self._shown_partial = 0  # id of the run whose progressive result is on display
        self.pending: tuple[str, ...] = ()  # readouts the newest live run has still to deliver
        self._marked_pending: tuple[str, ...] = ()  # what the views were told is stale
        self.stale_after_ms = STALE_AFTER_MS
        self._stale_timer = QTimer(self, singleShot=True)
        self._stale_timer.timeout.connect(self._publish_pending)
        self._shown_key: tuple | None = None  # (prompt, target, foil) it was run with
        self._cancelled_loads: set[int] = set()
        self.undo_stack = QUndoStack(self)
        self._live = False  # inside a continuous drag: skip analyses that cost more than the forward
        self._last_run_partial = False  # the newest run request left the lens out
        self.live_readouts: dict[str, dict] = {}  # panels add {key: params} of readouts they show
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._run_if_live_was_partial)
        self.displayed_ids: list[int] = []  # ids of results published, in order (tests read it)
        self.highlight_threshold: float | None = None  # None: the views' default (not saved in sessions)
        self.client.finished.connect(self._on_finished)
        self.client.failed.connect(self._on_failed)
        self.client.progress.connect(self._on_progress)
        self.client.partial.connect(self._on_partial)
        self.client.status.connect(self.status)

    # ------------------------------------------------------------------ state
    @property
    def document(self):
        return self.workspace.active

    @property
    def state(self) -> ViewState:
        return self.workspace.active.state

    @state.setter
    def state(self, state: ViewState) -> None:
        self.workspace.active.set_state(state)

    # ------------------------------------------------------------------ user actions
    def load_model(self, source: str | None, device: str = "auto", dtype: str = "float32",
                   allow_pickle: bool = False) -> int:
        self.loading.emit(True)
        self.status.emit(f"Loading {source or 'the demo model'}…")
        return self.client.submit("load", params=LoadParams(source, device, dtype, allow_pickle))

    def cancel_load(self) -> None:
        """Drop the pending load, or discard the running one when it ends; the current model stays."""
        request_id = self.client.cancel("load")
        if request_id is not None:
            self._cancelled_loads.add(request_id)
            self.loading.emit(False)
            self.status.emit("Model loading cancelled")

    def set_prompt(self, text: str) -> None:
        self._update(prompt=text)

    def set_target(self, text: str) -> None:
        self._update(target=text if text.strip() else "")  # keep a leading space: ' Mary' is GPT-2's token

    def set_foil(self, text: str) -> None:
        self._update(foil=text if text.strip() else "")

    def set_corrupted(self, text: str) -> None:
        """A new corrupted prompt; resample ablations in force switch to it (undoably)."""
        if text == self.state.corrupted:
            return
        self.document.update(corrupted=text)
        self.state_changed.emit()
        resampled = [i.component for i in self.state.interventions if getattr(i, "method", "") == "resample"]
        if resampled:
            self.ablate(resampled, "resample")

    def set_interventions(self, interventions: tuple) -> None:
        """Replace the intervention list (no undo entry: undo/redo and file loading use this)."""
        new = tuple(interventions)
        if new != self.state.interventions:
            self._update(interventions=new)
            self.interventions_changed.emit(new)

    # ---- edits with undo: what the component graph asks for
    def ablate(self, names: list[str], method: str = "zero", positions: tuple[int, ...] | None = None,
               text: str = "") -> None:
        self.edit(lambda i: edits.ablate(i, names, method, self.state.corrupted, positions),
                   text or f"{method}-ablate {_who(names)}")

    def scale(self, names: list[str], factor: float) -> None:
        """A knob move: runs live (without an expensive logit lens), then in full once the knob rests."""
        self.live_edit(lambda i: edits.scale(i, names, factor), f"scale {_who(names)}", ("scale", tuple(names)))

    def live_edit(self, change, text: str, merge_key: object) -> None:
        """An edit made by dragging (a knob, a strength slider): each move runs live without
        the expensive logit lens, the full analyses run once the drag rests, and the moves of
        one drag (same merge_key) are one undo step."""
        self._live = True
        try:
            self.edit(change, text, merge_key=merge_key)
        finally:
            self._live = False
        self._settle.start()

    def restore(self, names: list[str]) -> None:
        self.edit(lambda i: edits.restore(i, names), f"restore {_who(names)}")

    def restore_all(self) -> None:
        self.edit(lambda i: (), "restore all")

    def edit(self, change, text: str, merge_key: object | None = None) -> None:
        """Any technique's undoable change of the intervention list: `change(before) -> after`
        (an EngineError it raises becomes a message); `text` names it in Edit → Undo."""
        before = self.state.interventions
        try:
            after = change(before)
        except EngineError as exc:
            self.error.emit(str(exc))
            return
        if after != before:
            self.undo_stack.push(SetInterventions(self.set_interventions, before, after, text, merge_key))

    def focus_head(self, layer: int, head: int) -> None:
        self.document.update(focused_head=(layer, head))

    def set_score_key(self, key: str) -> None:
        self.document.update(score_key=key)

    def set_highlight_threshold(self, value: float) -> None:
        """Share the highlight threshold, so the head grid and the head finder outline the
        same heads (the score key is shared through the document's score_key)."""
        if value != self.highlight_threshold:
            self.highlight_threshold = value
            self.highlight_threshold_changed.emit(value)

    def focus_position(self, position: int) -> None:
        """Focus a prompt position; re-run when the last lens was not computed there."""
        self.document.update(focused_position=position)
        lens = self.last_result.logit_lens if self.last_result is not None else None
        if lens is not None and position not in lens.positions:
            self.request_run()

    # ------------------------------------------------------------------ analyses (any registered key)
    def analyse(self, key: str, inputs: Any = None, params: dict | None = None) -> int | None:
        """Run a registered analysis on the engine thread; its result arrives in
        `results` under `key` (a newer request of the same key supersedes this one)."""
        if self.loaded is None:
            return None
        return self.client.submit(key, inputs, params or {})  # its lane is its key

    def cancel(self, key: str, message: str = "") -> None:
        """Stop the newest job of `key` (running or waiting); whatever it still sends is stale."""
        if self.client.cancel(key) is not None:
            self.results.failed.emit(key, message or f"{key.replace('_', ' ').capitalize()} was {CANCELLED}")

    def stop_analyses(self, message: str) -> None:
        """Cancel every running analysis and clear every result (a new model)."""
        for lane in self.client.lanes():
            if lane not in ("load", "resolve", *LIVE_LANES):
                self.cancel(lane, message)
        for key in self.results.keys():
            self.results.clear(key)

    # ------------------------------------------------------------------ the live run
    def request_run(self) -> int | None:
        """Run the current state (the newest request supersedes any pending run)."""
        if self.loaded is None:
            return None
        s = self.state
        lens_positions = self._lens_positions()
        skip_lens = self._live and lens_positions is not None  # an expensive lens waits for the knob to rest
        self._last_run_partial = skip_lens
        want = ["patterns"] if skip_lens else ["patterns", "logit_lens"]
        if s.target and s.foil:
            want.append("dla")
        params = {"want": tuple(want), "lens_positions": lens_positions, "readouts": dict(self.live_readouts) or None}
        key = (s.prompt, s.target, s.foil)
        if s.interventions and key != self._baseline_key:
            baseline = self.client.submit("run", Prompt(s.prompt, s.target or None, s.foil or None), params,
                                          lane="baseline")
            self._run_keys["baseline"][baseline] = key
        request_id = self.client.submit("run", Prompt(s.prompt, s.target or None, s.foil or None, s.interventions),
                                        params)
        self._run_keys["run"][request_id] = key
        self._set_pending(("prediction", *want))
        return request_id

    def _set_pending(self, pending: tuple[str, ...]) -> None:
        """`pending` is always the truth; the views hear of it (and grey what is stale) only
        when a part is still missing after `stale_after_ms`: a drop whose numbers arrive
        sooner paints no stale marks at all, and none of their painting competes with the
        engine thread in the few milliseconds that matter."""
        self.pending = pending
        if pending and not self._marked_pending and self.stale_after_ms > 0:
            if not self._stale_timer.isActive():
                self._stale_timer.start(self.stale_after_ms)
            return
        self._stale_timer.stop()
        self._publish_pending()

    def _publish_pending(self) -> None:
        if self.pending != self._marked_pending:
            self._marked_pending = self.pending
            self.pending_changed.emit(self.pending)

    def _on_partial(self, request_id: int, lane: str, key: str, payload: object) -> None:
        """A progressive result of a live run: shown when it is of the current prompt and no
        older than what is on display (the numbers paint before the lens is computed). An
        analysis that streams (token by token, row by row) puts its partial results in
        `results` under its key, like its final one, while it is the newest of its lane."""
        if lane not in LIVE_LANES and lane not in ("load", "resolve"):
            if key == lane and not self.is_stale(request_id, lane):
                self.results.put(lane, payload)
            return
        if lane != "run" or key != "run":
            return
        run_key = self._run_keys["run"].get(request_id)
        if not self._shows_run(request_id, lane, run_key) or request_id < self._shown_partial:
            return
        self._shown_partial = request_id
        if request_id == self.client.latest("run"):
            self._set_pending(tuple(payload.pending))
        self.partial_ready.emit(payload)

    def ensure_run(self) -> None:
        """Run now unless the result on display is already this state's or a run is on its
        way (Enter on an unchanged or empty prompt must say something, not nothing)."""
        if not self.result_is_current() and not self.client.running("run"):
            self.request_run()

    def _run_if_live_was_partial(self) -> None:
        if self._last_run_partial:
            self.request_run()

    def _lens_positions(self) -> tuple[int, ...] | None:
        """All positions when the lens costs less than a forward pass; else the last
        LENS_TAIL positions and the focused one (GPT-2 small: the full lens is ~4 forwards)."""
        info = self.loaded.info
        lens_per_token = (info.n_layers + 1) * info.vocab_size
        forward_per_token = 12 * info.n_layers * info.d_model + info.vocab_size
        if lens_per_token <= forward_per_token:
            return None
        tail = tuple(range(-LENS_TAIL, 0))
        focus = self.state.focused_position
        return tail if focus is None else (focus, *tail)

    # ------------------------------------------------------------------ internals
    def _update(self, **changes) -> None:
        if self.document.update(before_notify=self.request_run, **changes):
            self.state_changed.emit()

    def is_stale(self, request_id: int, lane: str) -> bool:
        return self.client.is_stale(request_id, lane)

    def _take_key(self, request_id: int, lane: str) -> tuple | None:
        """The (prompt, target, foil) a run was asked with; older entries of the lane are
        dropped too (they were superseded in the mailbox or have finished)."""
        keys = self._run_keys.get(lane)
        if keys is None:
            return None
        for old in [i for i in keys if i < request_id]:
            del keys[old]
        return keys.pop(request_id, None)

    def _shows_run(self, request_id: int, lane: str, key: tuple | None) -> bool:
        """Runs display progressively: a result for the current prompt that is newer than
        the one on display is shown even if a newer request is pending (a knob drag whose
        runs are slower than the moves would otherwise show nothing until it stops).
        Results for an earlier prompt, or older than what is shown, never are."""
        if lane == "baseline":
            return not self.is_stale(request_id, lane)
        s = self.state
        return key == (s.prompt, s.target, s.foil) and request_id > self._shown_run

    def _on_finished(self, request_id: int, lane: str, payload: object) -> None:
        if lane == "resolve":
            return
        if lane == "load":
            self._on_loaded(request_id, payload)
        elif lane in LIVE_LANES:
            key = self._take_key(request_id, lane)
            if self._shows_run(request_id, lane, key):
                self._show_run(request_id, lane, key, payload)
        elif not self.is_stale(request_id, lane):
            self.results.put(lane, payload)

    def _on_loaded(self, request_id: int, payload: Loaded) -> None:
        accepted = request_id not in self._cancelled_loads and not self.is_stale(request_id, "load")
        self.client.submit("resolve", params=accepted)  # tell the engine thread to keep this model or go back
        if not accepted:
            return
        self.loaded, self.last_result, self.baseline = payload, None, None
        self.stop_analyses("A new model was loaded: the job was stopped")
        self._baseline_key = None
        self.undo_stack.clear()
        self.set_interventions(())
        # heads and positions of the previous model may not exist in this one
        self.document.update(focused_head=None, focused_position=None)
        self.loading.emit(False)
        self.model_loaded.emit(payload)
        settle_after_load()  # after the panels have rebuilt for the new model
        self.status.emit(f"Loaded {Path(payload.info.source).name or payload.info.source} "
                         f"in {payload.elapsed_ms / 1000:.1f} s")
        self.request_run()

    def result_is_current(self) -> bool:
        """Is the live result on display the run of the state as it is now (same prompt,
        answer and interventions)? A save stores only such a result's numbers."""
        s, r = self.state, self.last_result
        return r is not None and self._shown_key == (s.prompt, s.target, s.foil) and r.interventions == s.interventions

    def _show_run(self, request_id: int, lane: str, key: tuple | None, payload) -> None:
        if lane == "run":
            self.last_result, self._shown_run, self._shown_key = payload, request_id, key
            if request_id == self.client.latest("run"):
                self._set_pending(())
            focus = self.state.focused_position
            if focus is not None and focus >= len(payload.tokens):  # the prompt got shorter: follow its last token
                self.document.update(focused_position=None)
            if not payload.interventions:
                self.baseline, self._baseline_key = payload, key
            self.displayed_ids.append(request_id)
            self.results.put("run", payload)
            self.result_ready.emit(payload)
        else:
            self.baseline, self._baseline_key = payload, key
            self.results.put("baseline", payload)

    def _on_progress(self, request_id: int, lane: str, done: int, total: int) -> None:
        if lane not in LIVE_LANES and not self.is_stale(request_id, lane):
            self.results.progress.emit(lane, done, total)

    def _on_failed(self, request_id: int, lane: str, message: str) -> None:
        self._take_key(request_id, lane)
        if self.is_stale(request_id, lane):
            return
        if lane == "load":
            self.loading.emit(False)
            message = f"Could not open the model: {message}"
            self.error.emit(message)
            self.load_failed.emit(message)  # after error, so a more specific message can follow it
            return
        if lane not in LIVE_LANES:
            self.results.failed.emit(lane, message)
            if CANCELLED in message:
                return
        elif lane == "run":
            self._set_pending(())
            if self.last_result is not None:
                message += "  (The panels still show the last run that worked.)"
        self.error.emit(message)

    def shutdown(self) -> None:
        """Stop the engine thread; whatever it still had queued must not reach views being
        deleted (a head-score result after a batch export closed its window did), so the
        client, the controller and the workspace go silent."""
        self.client.shutdown()
        for source in (self.client, self, self.workspace, self.results, *self.workspace.documents):
            source.blockSignals(True)


def _who(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} components"


__all__ = ["Controller", "DEMO_FOIL", "DEMO_PROMPT", "DEMO_TARGET", "LENS_TAIL", "ViewState"]
