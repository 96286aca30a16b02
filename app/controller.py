"""The app's state and its traffic with the engine thread.

Holds what the user set (model, prompt, target/foil, corrupted prompt, interventions,
focused head and position), sends requests, and publishes only the newest results:
a result whose id is older than the latest request of its kind is stale and dropped."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine.errors import EngineError

from . import intervention_edits as edits
from .engine_thread import EngineBridge
from .patch_cells import cell_patch
from .requests import ComputeHeadScores, LoadModel, Loaded, ResolveLoad, RunBaseline, RunPatching, RunPrompt
from .undo import SetInterventions

DEMO_PROMPT = "When Mary and John went to the store , John gave a drink to"
DEMO_TARGET, DEMO_FOIL = "Mary", "John"
LENS_TAIL = 12
SETTLE_MS = 250  # after the last knob move, the full analyses run


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


class Controller(QObject):
    model_loaded = Signal(object)  # Loaded
    result_ready = Signal(object)  # engine.results.RunResult
    scores_ready = Signal(object)  # engine.results.HeadScores
    baseline_ready = Signal(object)  # RunResult without interventions, for before -> after
    interventions_changed = Signal(tuple)
    state_changed = Signal()  # anything the user set (for "unsaved changes")
    load_failed = Signal(str)
    patching_ready = Signal(object)  # requests.PatchingDone
    patching_progress = Signal(int, int)  # done, total
    patching_failed = Signal(str)
    error = Signal(str)
    status = Signal(str)
    loading = Signal(bool)

    def __init__(self, bridge: EngineBridge | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge or EngineBridge(self)
        self.state = ViewState()
        self.loaded: Loaded | None = None
        self.last_result = None
        self.baseline = None  # RunResult of the current prompt without interventions
        self._baseline_key: tuple | None = None  # (prompt, target, foil) the baseline was run with
        self._request_keys: dict[str, dict[int, tuple]] = {"run": {}, "baseline": {}}  # kind -> id -> key
        self._shown_run = 0  # id of the run result on display
        self._cancelled_loads: set[int] = set()
        self.head_scores = None
        self.patching = None  # requests.PatchingDone on display (also restored from a session)
        self.undo_stack = QUndoStack(self)
        self._live = False  # inside a continuous drag: skip analyses that cost more than the forward
        self._last_run_partial = False  # the newest run request left the lens out
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._run_if_live_was_partial)
        self._latest: dict[str, int] = {}
        self.displayed_ids: list[int] = []  # ids of results published, in order (tests read it)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.failed.connect(self._on_failed)
        self.bridge.progress.connect(self.status)
        self.bridge.steps.connect(self._on_steps)

    # ------------------------------------------------------------------ user actions
    def load_model(self, source: str | None, device: str = "auto", dtype: str = "float32") -> int:
        self.loading.emit(True)
        self.status.emit(f"Loading {source or 'the demo model'}…")
        return self._submit(LoadModel(source, device, dtype))

    def cancel_load(self) -> None:
        """Drop the pending load, or discard the running one when it ends; the current model stays."""
        if "load" in self._latest:
            request_id = self._latest.pop("load")
            self._cancelled_loads.add(request_id)
            self.bridge.cancel_load(request_id)
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
        self.state = replace(self.state, corrupted=text)
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
    def ablate(self, names: list[str], method: str = "zero") -> None:
        self._edit(lambda i: edits.ablate(i, names, method, self.state.corrupted), f"{method}-ablate {_who(names)}")

    def scale(self, names: list[str], factor: float) -> None:
        """A knob move: runs live (without an expensive logit lens), then in full once the knob rests."""
        self._live = True
        try:
            self._edit(lambda i: edits.scale(i, names, factor), f"scale {_who(names)}", merge_key=("scale", tuple(names)))
        finally:
            self._live = False
        self._settle.start()

    def restore(self, names: list[str]) -> None:
        self._edit(lambda i: edits.restore(i, names), f"restore {_who(names)}")

    def restore_all(self) -> None:
        self._edit(lambda i: (), "restore all")

    def _edit(self, change, text: str, merge_key: object | None = None) -> None:
        before = self.state.interventions
        try:
            after = change(before)
        except EngineError as exc:
            self.error.emit(str(exc))
            return
        if after != before:
            self.undo_stack.push(SetInterventions(self.set_interventions, before, after, text, merge_key))

    # ---- patching sweeps
    def run_patching(self, spec) -> int | None:
        """Run a sweep (widgets.patching_panel.PatchingSpec) on the clean/corrupted pair."""
        if self.loaded is None:
            return None
        s = self.state
        return self._submit(RunPatching(s.prompt, s.corrupted, s.target, s.foil, spec.sweep, spec.mode,
                                        spec.attribution, spec.receiver, spec.receiver_input))

    def cancel_patching(self, message: str = "Patching was cancelled") -> None:
        """Stop the newest sweep (running or waiting); whatever it still sends is stale."""
        request_id = self._latest.pop("patching", None)
        if request_id is not None:
            self.bridge.cancel_sweep(request_id)
            self.patching_failed.emit(message)

    def show_patching(self, done) -> None:
        """Display sweep results (from the engine, or restored from a session file)."""
        self.patching = done
        self.state_changed.emit()
        self.patching_ready.emit(done)

    def apply_patch_cell(self, result, row: int, col: int) -> None:
        """Apply a heatmap cell in the component graph as a resample ablation (undoable)."""
        done, s = self.patching, self.state
        if done is None or self.loaded is None:
            self.error.emit("No sweep for this model: run one first")
            return
        if (done.request.clean, done.request.corrupted) != (s.prompt, s.corrupted):
            self.error.emit("This sweep was run on another clean/corrupted pair: run it again to apply its cells")
            return
        try:
            patch = cell_patch(result, row, col, self.loaded.info.n_heads)
        except ValueError as exc:
            self.error.emit(str(exc))
            return
        self._edit(lambda i: edits.ablate(i, list(patch.names), "resample", self.state.corrupted, patch.positions),
                   f"patch {_who(list(patch.names))}")
        self.status.emit(patch.note)

    def _on_steps(self, request_id: int, done: int, total: int) -> None:
        if not self.is_stale(request_id, "patching"):
            self.patching_progress.emit(done, total)

    def focus_head(self, layer: int, head: int) -> None:
        self.state = replace(self.state, focused_head=(layer, head))

    def set_score_key(self, key: str) -> None:
        self.state = replace(self.state, score_key=key)

    def focus_position(self, position: int) -> None:
        """Focus a prompt position; re-run when the last lens was not computed there."""
        self.state = replace(self.state, focused_position=position)
        lens = self.last_result.logit_lens if self.last_result is not None else None
        if lens is not None and position not in lens.positions:
            self.request_run()

    def request_run(self) -> int | None:
        """Run the current state (the newest request supersedes any pending run)."""
        if self.loaded is None:
            return None
        s = self.state
        lens_positions = self._lens_positions()
        skip_lens = self._live and lens_positions is not None  # an expensive lens waits for the knob to rest
        self._last_run_partial = skip_lens
        want = ({"patterns"} if skip_lens else {"patterns", "logit_lens"}) | ({"dla"} if s.target and s.foil else set())
        args = (s.target or None, s.foil or None, frozenset(want), lens_positions)
        key = (s.prompt, s.target, s.foil)
        if s.interventions and key != self._baseline_key:
            self._request_keys["baseline"][self._submit(RunBaseline(s.prompt, (), *args))] = key
        request_id = self._submit(RunPrompt(s.prompt, s.interventions, *args))
        self._request_keys["run"][request_id] = key
        return request_id

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
        new = replace(self.state, **changes)
        if new != self.state:
            self.state = new
            self.state_changed.emit()
            self.request_run()

    def _submit(self, request) -> int:
        request_id = self.bridge.submit(request)
        self._latest[request.kind] = request_id
        return request_id

    def is_stale(self, request_id: int, kind: str) -> bool:
        return request_id != self._latest.get(kind)

    def _take_key(self, request_id: int, kind: str) -> tuple | None:
        """The (prompt, target, foil) a run was asked with; older entries of the kind are
        dropped too (they were superseded in the mailbox or have finished)."""
        keys = self._request_keys.get(kind)
        if keys is None:
            return None
        for old in [i for i in keys if i < request_id]:
            del keys[old]
        return keys.pop(request_id, None)

    def _shows(self, request_id: int, kind: str, key: tuple | None) -> bool:
        """Runs display progressively: a result for the current prompt that is newer than
        the one on display is shown even if a newer request is pending (a knob drag whose
        runs are slower than the moves would otherwise show nothing until it stops).
        Results for an earlier prompt, or older than what is shown, never are."""
        if kind != "run":
            return not self.is_stale(request_id, kind)
        s = self.state
        return key == (s.prompt, s.target, s.foil) and request_id > self._shown_run

    def _on_finished(self, request_id: int, kind: str, payload: object) -> None:
        if kind == "resolve":
            return
        if kind == "load":  # tell the engine thread whether to keep this model or go back
            accepted = request_id not in self._cancelled_loads and not self.is_stale(request_id, kind)
            self.bridge.submit(ResolveLoad(accepted))
        key = self._take_key(request_id, kind)
        if not self._shows(request_id, kind, key):
            return
        if kind == "load":
            self.loaded, self.last_result, self.baseline, self.head_scores = payload, None, None, None
            self.cancel_patching("A new model was loaded: the sweep was stopped")
            self.patching = None
            self._baseline_key = None
            self.undo_stack.clear()
            self.set_interventions(())
            # heads and positions of the previous model may not exist in this one
            self.state = replace(self.state, focused_head=None, focused_position=None)
            self.loading.emit(False)
            self.model_loaded.emit(payload)
            self.status.emit(f"Loaded {payload.info.source} in {payload.elapsed_ms / 1000:.1f} s")
            self._submit(ComputeHeadScores())
            self.request_run()
        elif kind == "run":
            self.last_result, self._shown_run = payload, request_id
            if not payload.interventions:
                self.baseline, self._baseline_key = payload, key
            self.displayed_ids.append(request_id)
            self.result_ready.emit(payload)
        elif kind == "baseline":
            self.baseline, self._baseline_key = payload, key
            self.baseline_ready.emit(payload)
        elif kind == "scores":
            self.head_scores = payload
            self.scores_ready.emit(payload)
        elif kind == "patching":
            self.show_patching(payload)

    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        self._take_key(request_id, kind)
        if self.is_stale(request_id, kind):
            return
        if kind == "load":
            self.loading.emit(False)
            message = f"Could not open the model: {message}"
            self.error.emit(message)
            self.load_failed.emit(message)  # after error, so a more specific message can follow it
            return
        if kind == "patching":
            self.patching_failed.emit(message)
            if "cancelled" in message:
                return
        self.error.emit(message)

    def shutdown(self) -> None:
        self.bridge.shutdown()


def _who(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} components"
