"""The probes panel: linear probes at every layer on the prompt set in use (its labels, or
any column), held-out accuracy by layer beside a shuffled-label control, and the causal
check: steer along a layer's probe direction, or project it out, as an intervention like
any other, and watch whether the model's answer moves.

The set is the one the prompt set panel shows (it publishes it in `results` under
'prompt_set'); the probe result arrives under 'probes'."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QWidget

from engine.interventions import Steer
from widgets.probe_view import ProbeView

from .. import intervention_edits as edits
from .base import Panel, register_panel

KEY = "probes"


@register_panel
class ProbesPanel(Panel):
    key, title, area, order = "probes", "Probes", "right", 48
    beside = ("tab", "detail")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.prompt_set = None
        self.shown = None  # the Probes result on display

    def create(self) -> QWidget:
        return ProbeView()

    def connect(self) -> None:
        w, results = self.widget, self.ctx.results
        results.on("prompt_set", self.guard(self._set_arrived))
        results.on(KEY, self.guard(self.show))
        results.failed.connect(lambda key, message: key == KEY and (w.set_busy(False), w.set_status(message)))
        results.progress.connect(lambda key, done, total: key == KEY and w.set_status(
            f"reading the residual stream: {done:,} of {total:,} prompts…" if done < total else "fitting the probes…"))
        w.train_requested.connect(self.train)
        w.steer_requested.connect(lambda layer, which: self.use(layer, which, "add"))
        w.ablate_requested.connect(lambda layer, which: self.use(layer, which, "remove"))
        w.set_source(None)

    def _set_arrived(self, prompt_set) -> None:
        self.prompt_set = prompt_set
        labels = sorted({r.label for r in prompt_set.rows if r.label})
        shown = ", ".join(labels[:4]) + ("…" if len(labels) > 4 else "")
        self.widget.set_source(f"{prompt_set.name} · {len(prompt_set):,} prompts · "
                               + (f"labels {shown}" if labels else "no labels (name a column)"))

    def train(self, params: dict[str, Any]) -> int | None:
        if self.prompt_set is None:
            self.widget.set_status("Make a prompt set with labels first (Prompt set panel)")
            return None
        job = self.controller.analyse(KEY, self.prompt_set, {"column": params.get("column", "label") or "label",
                                                             "position": params.get("position", "last")})
        if job is not None:
            self.widget.set_busy(True)
        return job

    def show(self, result) -> None:
        self.shown = result
        self.widget.set_busy(False)
        self.widget.set_status(f"trained on {result.n_train:,} prompts, scored on {result.n_test:,} others; "
                               f"classes {', '.join(result.classes)}")
        self.widget.set_result(list(result.components), {"logistic": result.logistic,
                                                         "difference_of_means": result.difference_of_means,
                                                         "shuffled": result.shuffled}, result.chance,
                               result.logistic_train)

    def use(self, layer: int, which: str, mode: str) -> None:
        """Steer along a layer's probe direction, or project it out: an undoable intervention."""
        r = self.shown
        if r is None or not 0 <= layer < len(r.components):
            return
        direction = (r.logistic_directions if which == "logistic" else r.directions)[layer]
        # one class mean's distance from the other along the direction: steering by it moves a prompt across
        steer = Steer(r.components[layer], tuple(np.asarray(direction, dtype=float).tolist()),
                      strength=float(r.separations[layer]) if mode == "add" else 0.0, mode=mode,
                      source=f"{which.replace('_', ' ')} probe for '{r.column}' at {r.components[layer]}")
        words = f"{'steer along' if mode == 'add' else 'project out'} the probe direction at {r.components[layer]}"
        self.controller.edit(lambda items: edits.set_steer(items, steer), words)
        self.ctx.show_status(f"{words}: watch the prediction; Edit → Undo takes it back", 8000)

    def export_tables(self) -> dict[str, Any]:
        r = self.shown
        if r is None:
            return {}
        rows = [(c, float(a), float(b), float(s), float(r.chance)) for c, a, b, s in
                zip(r.components, r.logistic, r.difference_of_means, r.shuffled)]
        return {"probes": (rows, ("component", "logistic", "difference_of_means", "shuffled", "chance"),
                           {"logistic": r.logistic, "difference_of_means": r.difference_of_means,
                            "shuffled": r.shuffled, "directions": r.directions,
                            "logistic_directions": r.logistic_directions, "classes": np.array(r.classes)})}
