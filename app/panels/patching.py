"""The patching panel: run a sweep on the clean/corrupted pair (analysis 'patching'), show
its heatmaps, apply a clicked cell in the component graph, keep the sweep in sessions."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from engine.analysis import PromptPair
from widgets.patching_panel import PatchingPanel, PatchingSpec

from ..export import patching_tables
from ..patch_cells import cell_patch
from ..patching_record import PARAM_NAMES, ShownSweep, fits, from_record, record_from_data, to_record
from .base import Panel, register_panel

KEY = "patching"
READY_MESSAGE = "Set a corrupted prompt of the same length, then run a sweep."


@register_panel
class PatchingDock(Panel):
    key, title, area, order = KEY, "Patching", "left", 60
    beside = ("tab", "heads")  # both want the big area

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.shown: ShownSweep | None = None  # the sweep on display
        self._asked: tuple[PromptPair, dict] | None = None  # what the newest run was asked with

    def create(self) -> QWidget:
        return PatchingPanel()

    def connect(self) -> None:
        w, results = self.widget, self.ctx.results
        w.run_requested.connect(self.run)
        w.cancel_requested.connect(lambda: self.controller.cancel(KEY, "Patching was cancelled"))
        w.cell_clicked.connect(self.apply_cell)
        results.on(KEY, self._arrived)
        results.progress.connect(lambda key, done, total: key == KEY and w.set_progress(done, total))
        results.failed.connect(lambda key, message: key == KEY and w.show_message(message))
        results.cleared.connect(lambda key: key == KEY and self._clear(READY_MESSAGE))

    def on_model_loaded(self, loaded) -> None:
        self.widget.set_model(loaded.info.n_layers, loaded.info.n_heads)
        self._clear(READY_MESSAGE)

    # ------------------------------------------------------------------ running
    def run(self, spec: PatchingSpec) -> int | None:
        s = self.controller.state
        pair = PromptPair(s.prompt, s.corrupted, s.target, s.foil)
        params = {name: getattr(spec, name) for name in PARAM_NAMES}
        job = self.controller.analyse(KEY, pair, params)
        if job is not None:
            self._asked = (pair, params)
            self.widget.set_running(True)
            self.ctx.raise_panel(KEY)
        return job

    def _arrived(self, run) -> None:
        if self._asked is None:
            return
        pair, params = self._asked
        self.show(ShownSweep(pair.clean, pair.corrupted, pair.target or "", pair.foil or "", params, run.main,
                             run.estimate, run.correlation, run.elapsed_ms))

    def show(self, shown: ShownSweep) -> None:
        self.shown = shown
        if shown.restored:  # from a session: show the settings it was run with
            self.widget.set_spec(PatchingSpec(**shown.params))
        self.widget.set_results(shown.main, shown.estimate, shown.correlation, shown.elapsed_ms)
        self.controller.state_changed.emit()

    def _clear(self, message: str) -> None:
        self.shown = None
        self.widget.clear_results(message)

    # ------------------------------------------------------------------ applying a cell
    def apply_cell(self, result, row: int, col: int) -> None:
        """Apply a heatmap cell in the component graph as a resample ablation (undoable)."""
        c, shown, s = self.controller, self.shown, self.controller.state
        if shown is None or c.loaded is None or result is None:
            c.error.emit("No sweep for this model: run one first")
            return
        if (shown.clean, shown.corrupted) != (s.prompt, s.corrupted):
            c.error.emit("This sweep was run on another clean/corrupted pair: run it again to apply its cells")
            return
        try:
            patch = cell_patch(result, row, col, c.loaded.info.n_heads)
        except ValueError as exc:
            c.error.emit(str(exc))
            return
        c.ablate(list(patch.names), "resample", patch.positions, text=f"patch {', '.join(patch.names)}")
        c.status.emit(patch.note)
        self.widget.summary.setText(f"{patch.note}. {direction_note(result, row, col)}")

    # ------------------------------------------------------------------ sessions and export
    def session_state(self) -> dict | None:
        return to_record(self.shown).model_dump(mode="json") if self.shown is not None else None

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        return record_from_data(data)

    def restore_session(self, record) -> None:
        self.controller.cancel(KEY, "A session was opened: the running sweep was stopped")
        info = self.controller.loaded.info if self.controller.loaded is not None else None
        if record is None or info is None or not fits(record, info.n_layers, info.n_heads):
            self._clear(READY_MESSAGE)
            return
        self.show(from_record(record))

    def export_tables(self) -> dict[str, Any]:
        return {"patching": patching_tables(self.shown)} if self.shown is not None else {}


def direction_note(result, row: int, col: int) -> str:
    """How the number the graph now shows relates to the cell's (the graph runs the clean prompt)."""
    value = result.values[row, col]
    if result.mode == "noise":
        return (f"The cell ({value:+.2f}) measured exactly this noising patch: the graph's logit difference is the "
                "cell's own raw value.")
    return (f"The cell ({value:+.2f}) measured denoising (clean activation into the corrupted run); the graph runs "
            "the clean prompt, so it applies the opposite patch (the corrupted activation into the clean run) and "
            "shows that noising effect, not the cell's number. Run the sweep in noise mode to read the same numbers.")
