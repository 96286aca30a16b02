"""The prompt set panel: make a set of prompts (a template with slots, a CSV/JSONL file, or
the prompts typed in this session), see it checked by the model's tokenizer row by row, and
run an analysis over it (the set results panel shows the means and the drill-down).

The set is the panel's own document: sessions keep its rows (or, when made from a file, the
file's path and digest as well), the template it came from and the prompt history."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from engine.errors import EngineError
from engine.interventions import Ablation
from engine.prompt_sets import EditedSet, PromptSet, SetRow, from_file, from_template, reference_name, write_jsonl
from widgets.prompt_set_editor import PromptSetEditor

from .base import Panel, register_panel

CHECK, RUN, REFERENCE = "set_check", "set_patching", "set_reference"
SET_RUNS = (RUN, "set_dla", "set_attribution", "set_effects", "set_head_scores", REFERENCE)  # what "Run over the set" may start
PREVIEW_ROWS = 200
MAX_HISTORY = 500
SWEEP_LABELS = [("head", "Head patching (layer × head)"), ("head_prob", "Head patching, P(target) as the metric"),
                ("attribution", "Attribution patching, heads (fast estimate)"),
                ("dla", "Direct logit attribution (layer × head)"),
                ("effects", "Effect of the current interventions (every metric)"),
                ("reference", "Make it the reference of mean / resample ablations"),
                ("score:induction", "Induction score on the set's tokens"),
                ("score:duplicate_token", "Duplicate-token score on the set's tokens"),
                ("score:previous_token", "Previous-token score on the set's tokens"), ("head_pos", "Head × position"),
                ("resid", "Residual stream (layer × position)"), ("attn_out", "Attention output (layer × position)"),
                ("mlp_out", "MLP output (layer × position)"), ("head_q", "Head query (layer × head)"),
                ("head_k", "Head key (layer × key/value head)"), ("head_v", "Head value (layer × key/value head)")]
DEMO_FILLERS = {
    "A": "Mary John Anna Ruby Hugo Victor James Jane Rose Ella Grace Sam".split(),
    "B": "Mary John Anna Ruby Hugo Victor James Jane Rose Ella Grace Sam".split(),
    "P": "store park school house office garden".split(),
    "O": "drink ball book ring letter flower".split(),
}
DEMO_TEMPLATE = ("When {A} and {B} went to the {P} , {B} gave a {O} to",
                 "When {A} and {B} went to the {P} , {A} gave a {O} to", " {A}", " {B}")


@register_panel
class PromptSetPanel(Panel):
    key, title, area, order = "prompt_set", "Prompt set", "left", 68
    beside = ("tab", "heads")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.prompt_set: PromptSet | None = None
        self.checked = None  # the SetCheck of the set shown
        self._quiet_reference = False  # the set's means are being computed again for a reopened session
        self.file: str | None = None  # the file the set came from
        self.history: list[dict[str, str]] = []  # prompts typed in this session, oldest first

    def create(self) -> QWidget:
        return PromptSetEditor()

    def connect(self) -> None:
        w, results, doc = self.widget, self.ctx.results, self.ctx.document
        w.template_requested.connect(self.make_from_template)
        w.load_requested.connect(self._ask_file)
        w.save_requested.connect(self._ask_save)
        w.history_requested.connect(self.from_history)
        w.run_requested.connect(self.run)
        w.stop_requested.connect(lambda: [self.controller.cancel(k, "The set run was stopped") for k in SET_RUNS])
        w.row_opened.connect(self.open_row)
        results.on(CHECK, self.guard(self._checked))
        results.on(REFERENCE, self.guard(self._reference_ready))
        for key in SET_RUNS:
            results.on(key, self.guard(lambda _: (w.set_busy(False), w.set_status(""))))
        results.failed.connect(lambda key, message: key in (CHECK, *SET_RUNS) and (w.set_busy(False),
                                                                                    w.set_status(message)))
        results.progress.connect(lambda key, done, total: key in SET_RUNS and w.set_status(
            f"running: {done:,} of {total:,}…" if done < total else ""))
        doc.on("prompt", lambda _: self._remember())
        w.set_analyses(SWEEP_LABELS, "head")
        w.set_template(*DEMO_TEMPLATE)
        w.set_fillers(DEMO_FILLERS)
        w.clear_preview("Make a set from the template, open a file, or use this session's prompts")

    # ------------------------------------------------------------------ making a set
    def make_from_template(self, params: dict[str, Any]) -> None:
        try:
            made = from_template(params["template"], params["fillers"], params.get("target", ""), params.get("foil", ""),
                                 params.get("corrupted", ""), params.get("label", ""), params.get("limit"),
                                 params.get("seed", 0))
        except EngineError as exc:
            self.widget.set_status(str(exc))
            return
        self.show_set(made, None)

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.widget, "Prompt set", "", "Prompt sets (*.csv *.tsv *.jsonl)")
        if path:
            self.load(path)

    def load(self, path: str) -> bool:
        try:
            made = from_file(path)
        except EngineError as exc:
            self.widget.set_status(str(exc))
            self.ctx.show_error(f"Prompt set: {exc}")
            return False
        self.show_set(made, path)
        return True

    def from_history(self) -> None:
        rows = tuple(SetRow(h["prompt"], h.get("corrupted", ""), h.get("target", ""), h.get("foil", ""))
                     for h in self.history if h["prompt"].strip())
        if not rows:
            self.widget.set_status("No prompts typed in this session yet")
            return
        self.show_set(PromptSet(rows, "history", f"this session's {len(rows)} prompts"), None)

    def _remember(self) -> None:
        s = self.controller.state
        entry = {"prompt": s.prompt, "corrupted": s.corrupted, "target": s.target, "foil": s.foil}
        if s.prompt.strip() and entry not in self.history:
            self.history = (self.history + [entry])[-MAX_HISTORY:]

    def show_set(self, prompt_set: PromptSet, file: str | None) -> None:
        """Show a set and ask the engine to check it against the model."""
        self.prompt_set, self.file, self.checked = prompt_set, file, None
        self.ctx.results.put("prompt_set", prompt_set)  # other panels (probes) read the set in use from here
        rows = [{"index": i, **r.to_dict()} for i, r in enumerate(prompt_set.rows[:PREVIEW_ROWS])]
        self.widget.set_preview(rows, {}, len(prompt_set))
        self.widget.set_summary(f"{len(prompt_set):,} prompts · checking…")
        self.controller.analyse(CHECK, prompt_set, {})
        self.controller.state_changed.emit()

    def _checked(self, checked) -> None:
        if self.prompt_set is None or checked.digest != self.prompt_set.digest:
            return
        self.checked = checked
        problems: dict[int, list[str]] = {}
        for p in checked.check.problems:
            problems.setdefault(p.row, []).append(p.message)
        shown = sorted(set(range(min(PREVIEW_ROWS, len(self.prompt_set)))) | set(problems))[:PREVIEW_ROWS]
        rows = [{"index": i, **self.prompt_set.rows[i].to_dict()} for i in shown]
        self.widget.set_preview(rows, problems, len(self.prompt_set))
        self.widget.set_summary(checked.summary(), warning=bool(problems))

    # ------------------------------------------------------------------ running
    def run(self, params: dict[str, Any]) -> int | None:
        if self.prompt_set is None:
            self.widget.set_status("Make or open a prompt set first")
            return None
        analysis = params.get("analysis", "head")
        if analysis == "dla":  # no corrupted prompts needed
            job = self.controller.analyse("set_dla", self.prompt_set, {})
        elif analysis == "effects":  # the interventions in force, as the single-prompt views have them
            job = self.controller.analyse("set_effects", EditedSet(self.prompt_set, tuple(self.controller.state.interventions)), {})
        elif analysis.startswith("score:"):
            job = self.controller.analyse("set_head_scores", self.prompt_set, {"score": analysis.split(":", 1)[1]})
        elif analysis == "reference":
            job = self.controller.analyse(REFERENCE, self.prompt_set, {})
            if job is not None:
                self.widget.set_busy(True)
            return job
        elif analysis == "attribution":
            job = self.controller.analyse("set_attribution", self.prompt_set, {"sweep": "head"})
        elif analysis == "head_prob":
            job = self.controller.analyse(RUN, self.prompt_set, {"sweep": "head", "metric": "prob",
                                                                 "mode": params.get("mode", "denoise")})
        else:
            job = self.controller.analyse(RUN, self.prompt_set, {"sweep": analysis, "mode": params.get("mode", "denoise")})
        if job is not None:
            self.widget.set_busy(True)
            self.ctx.raise_panel("set_results")
        return job

    def _reference_ready(self, reference) -> None:
        """Every mean ablation in force now averages over this set, every resample ablation draws
        from it (one undoable edit); later ones made in the graph use the generic reference."""
        if self._quiet_reference:  # registered again for a session's ablations: no rewrite
            self._quiet_reference = False
            self.controller.request_run()
            return
        rows = [r.prompt for r in self.prompt_set.rows] if self.prompt_set is not None else []
        current = self.controller.state.prompt
        others = [p for p in rows if p != current] or rows
        rng = np.random.default_rng(len(self.controller.state.interventions))
        kind = "per position" if reference.per_position else "over positions"

        def over_set(items):
            out = []
            for item in items:
                if isinstance(item, Ablation) and item.method == "mean":
                    item = replace(item, reference=reference.name)
                elif isinstance(item, Ablation) and item.method == "resample" and others:
                    item = replace(item, reference=reference.name, source_prompt=str(rng.choice(others)))
                out.append(item)
            return tuple(out)
        changed = [i.component for i in self.controller.state.interventions
                   if isinstance(i, Ablation) and i.method in ("mean", "resample")]
        if changed:
            self.controller.edit(over_set, f"mean / resample ablations over {reference.name}")
            self.ctx.show_status(f"{', '.join(changed)}: now over {reference.name} ({kind}); Edit → Undo takes it "
                                 "back", 8000)
        else:
            self.ctx.show_status(f"The set's means are ready ({kind}): mean- or resample-ablate a component "
                                 "(right-click it in the graph), then run this again to put it over the set", 10000)

    def open_row(self, index: int) -> None:
        """Open one prompt of the set in the single-prompt views."""
        if self.prompt_set is None or not 0 <= index < len(self.prompt_set):
            return
        row = self.prompt_set.rows[index]
        c = self.controller
        c.set_prompt(row.prompt)
        if row.target:
            c.set_target(row.target)
        if row.foil:
            c.set_foil(row.foil)
        if row.corrupted:
            c.set_corrupted(row.corrupted)

    # ------------------------------------------------------------------ files, sessions
    def _ask_save(self) -> None:
        if self.prompt_set is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.widget, "Save the prompt set", "prompt_set.jsonl", "JSONL (*.jsonl)")
        if path:
            try:
                write_jsonl(self.prompt_set, path)
            except OSError as exc:
                self.ctx.show_error(f"Could not save the prompt set: {exc}")

    def session_state(self) -> dict | None:
        state: dict[str, Any] = {"template": self.widget.template_params(), "history": list(self.history)}
        if self.prompt_set is not None:
            state["set"] = self.prompt_set.to_dict()
            state["digest"] = self.prompt_set.digest
            if self.file:
                state["file"] = self.file
        return state

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict):
            raise ValueError("prompt set: expected an object")
        if "set" in data:
            try:
                PromptSet.from_dict(data["set"])
            except EngineError as exc:
                raise ValueError(f"prompt set: {exc}") from None
        history = data.get("history", [])
        if not isinstance(history, list) or not all(isinstance(h, dict) and isinstance(h.get("prompt"), str)
                                                    for h in history):
            raise ValueError("prompt set: 'history' must be a list of prompts")
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is None:
            return
        self.history = [dict(h) for h in data.get("history", [])][-MAX_HISTORY:]
        template = data.get("template")
        if isinstance(template, dict):
            self.widget.set_template(template.get("template", ""), template.get("corrupted", ""),
                                     template.get("target", ""), template.get("foil", ""), template.get("label", ""))
            if isinstance(template.get("fillers"), dict):
                self.widget.set_fillers(template["fillers"])
        if "set" in data:
            restored = PromptSet.from_dict(data["set"])
            file = data.get("file")
            if file and Path(file).is_file():
                try:
                    on_disk = from_file(file)
                    if on_disk.digest != restored.digest:
                        self.widget.set_status(f"{Path(file).name} changed since the session was saved: "
                                               "the session's rows are shown")
                except EngineError as exc:  # the session's own rows are used; the file is only where they came from
                    self.widget.set_status(f"{Path(file).name} cannot be read now ({exc}): the session's rows are shown")
            self.show_set(restored, file)
            self._register_again_if_used()

    def _register_again_if_used(self) -> None:
        """Set means live in the engine, not in sessions: when an ablation in force names this
        set, compute them again (the run that fails meanwhile is re-run once they are back)."""
        if self.prompt_set is None:
            return
        name = reference_name(self.prompt_set)
        if any(getattr(i, "reference", "") == name for i in self.controller.state.interventions):
            self._quiet_reference = True
            self.controller.analyse(REFERENCE, self.prompt_set, {})

    def on_model_loaded(self, loaded) -> None:
        self._remember()  # the prompt the window opened with belongs to the history too
        if self.prompt_set is not None:  # a new tokenizer: check again (and the set's means, if in use)
            self.show_set(self.prompt_set, self.file)
            self._register_again_if_used()
