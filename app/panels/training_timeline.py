"""The training timeline: scrub through a model's checkpoints and watch its circuits form.

A folder of checkpoints of one model (the demo model ships its own; any step_<N> folders,
e.g. Pythia's revisions saved locally) is measured once (analysis 'training_timeline':
best induction score, copy loss, the prompt's logit difference per checkpoint). Choosing a
checkpoint loads it as the model: the prompt stays, the interventions in force are put
back, and every panel re-runs on that checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

from engine.analysis import Prompt
from engine.checkpoints import Checkpoint, find_checkpoints, index_of, timeline_folder
from engine.errors import EngineError
from widgets.training_timeline import TrainingTimeline

from .base import Panel, register_panel

KEY = "training_timeline"


@register_panel
class TimelinePanel(Panel):
    key, title, area, order = "timeline", "Training timeline", "left", 65
    beside = ("tab", "heads")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.folder: Path | None = None
        self.checkpoints: list[Checkpoint] = []
        self.shown = None  # the measured TrainingTimeline on display
        self._carry: tuple | None = None  # interventions to put back once the chosen checkpoint is in

    def create(self) -> QWidget:
        return TrainingTimeline()

    def connect(self) -> None:
        w, results = self.widget, self.ctx.results
        w.open_requested.connect(self._ask_folder)
        w.compute_requested.connect(self.measure)
        w.checkpoint_chosen.connect(self.choose)
        results.on(KEY, self.guard(self._arrived))
        results.progress.connect(lambda key, done, total: key == KEY and w.set_status(
            f"measuring checkpoint {min(done + 1, total)} of {total}…" if done < total else "done"))
        results.failed.connect(lambda key, message: key == KEY and w.set_status(message))
        # a checkpoint that failed to load: the cursor goes back to the model still loaded
        self.controller.loading.connect(lambda busy: not busy and self._show_current())

    # ------------------------------------------------------------------ folders
    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.widget, "Folder of checkpoints (step_<N> sub-folders)")
        if folder:
            self.open(Path(folder))

    def open(self, folder: Path, quiet: bool = False) -> bool:
        """Show the timeline in `folder`; a folder that is not one says why (quietly: in the panel only)."""
        try:
            checkpoints = find_checkpoints(folder)
        except EngineError as exc:
            self.widget.set_status(str(exc))
            if not quiet:
                self.ctx.show_error(str(exc))
            return False
        self.folder, self.checkpoints, self.shown = Path(folder), checkpoints, None
        self.widget.set_checkpoints([c.step for c in checkpoints], [c.label for c in checkpoints])
        self.widget.set_curves({})
        self._show_current()
        self.widget.set_status(f"{len(checkpoints)} checkpoints in {Path(folder).name}: "
                               "choose one to load it, or measure them all")
        return True

    def on_model_loaded(self, loaded) -> None:
        source = loaded.info.source
        if self.checkpoints and index_of(self.checkpoints, source) is not None:
            self._show_current()
            if self._carry:
                self.controller.set_interventions(self._carry)
        else:
            folder = timeline_folder(source)
            if folder is not None and (self.folder is None or folder.resolve() != self.folder.resolve()):
                self.open(folder, quiet=True)
            else:
                self._show_current()
        self._carry = None
        if self.shown is not None:
            self.widget.set_curves(self.shown.curves())

    def _show_current(self) -> None:
        loaded = self.controller.loaded
        self.widget.set_current(index_of(self.checkpoints, loaded.info.source)
                                if loaded is not None and self.checkpoints else None)

    # ------------------------------------------------------------------ measuring and choosing
    def measure(self) -> int | None:
        if self.folder is None:
            self.widget.set_status("Open a folder of checkpoints first")
            return None
        s = self.controller.state
        job = self.controller.analyse(KEY, Prompt(s.prompt, s.target or None, s.foil or None), {"folder": str(self.folder)})
        if job is not None:
            self.widget.set_status(f"measuring {len(self.checkpoints)} checkpoints…")
        return job

    def _arrived(self, timeline) -> None:
        if self.folder is None or Path(timeline.folder).resolve() != self.folder.resolve():
            return
        self.shown = timeline
        self.widget.set_curves(timeline.curves())
        best = timeline.induction.max(axis=(1, 2))
        jump = int(abs(best[1:] - best[:-1]).argmax()) if len(best) > 1 else 0
        note = (f"; the induction score rises most between step {timeline.steps[jump]:,} and "
                f"{timeline.steps[jump + 1]:,}") if len(best) > 1 else ""
        self.widget.set_status(f"measured {len(timeline.steps)} checkpoints{note}")

    def choose(self, index: int) -> None:
        """Load checkpoint `index` as the model, keeping the prompt and the interventions."""
        if not 0 <= index < len(self.checkpoints):
            return
        loaded = self.controller.loaded
        self._carry = tuple(self.controller.state.interventions) or None
        device = loaded.info.device if loaded is not None else "auto"
        self.controller.load_model(str(self.checkpoints[index].path), device=device)
        self.widget.set_status(f"loading {self.checkpoints[index].label}…")

    # ------------------------------------------------------------------ sessions and export
    def session_state(self) -> dict | None:
        return {"folder": str(self.folder)} if self.folder is not None else None

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("folder"), str):
            raise ValueError("timeline: 'folder' must be a path")
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is None:
            return
        if Path(data["folder"]).is_dir():
            self.open(Path(data["folder"]), quiet=True)
        else:
            self.widget.set_status(f"The session's checkpoints {data['folder']} are not there any more")

    def export_tables(self) -> dict[str, Any]:
        """One row per checkpoint (step and each curve); the NPZ also holds every head's scores."""
        import numpy as np

        t = self.shown
        if t is None:
            return {}
        curves = t.curves()
        rows = [(step, *(float(v[i]) for v in curves.values())) for i, step in enumerate(t.steps)]
        arrays = {"steps": np.array(t.steps), "induction": t.induction, "previous_token": t.previous_token,
                  "duplicate_token": t.duplicate_token, "copy_loss": t.copy_loss}
        if t.logit_diff is not None:
            arrays.update(logit_diff=t.logit_diff, target_prob=t.target_prob)
        return {"training_timeline": (rows, ("step", *curves), arrays)}
