"""The generation panel: what the model writes after the prompt, without and with the
interventions in force, streamed side by side (analysis 'generation').

A generation follows the user's edits: once one is on display, a change of interventions
(an ablation, a steering strength) regenerates it after the edits rest for a moment, so
dragging a slider does not start a generation per pixel. A new prompt clears it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from engine.analysis import Prompt
from widgets.generation_view import Column, GenerationView

from ..atomic import atomic_write_text
from .base import Panel, register_panel

KEY = "generation"
REST_MS = 400  # edits this long at rest regenerate a generation on display
PARAM_KEYS = {"n_new": int, "temperature": float, "top_p": float, "seed": int, "apply_to": str}


def column(c) -> Column | None:
    if c is None:
        return None
    return Column(list(c.tokens), c.probs.tolist(), [list(t) for t in c.top_tokens], c.top_probs.tolist())


@register_panel
class GenerationPanel(Panel):
    key, title, area, order = "generation", "Generation", "bottom", 38
    beside = ("tab", "lens")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.shown = None  # the Generation on display (partial while streaming)
        self.params: dict[str, Any] | None = None  # what the last generation was asked with
        self._rest = QTimer()
        self._rest.setSingleShot(True)
        self._rest.setInterval(REST_MS)
        self._rest.timeout.connect(self.regenerate)

    def create(self) -> QWidget:
        return GenerationView()

    def connect(self) -> None:
        w, results, doc = self.widget, self.ctx.results, self.ctx.document
        w.generate_requested.connect(self.generate)
        w.stop_requested.connect(self.stop)
        results.on(KEY, self.guard(self.show))
        results.failed.connect(lambda key, message: key == KEY and self._stopped(message))
        doc.on("interventions", lambda _: self.shown is not None and self._rest.start())
        doc.on("prompt", lambda _: self._cleared("The prompt changed: press Generate"))
        w.clear("Press Generate to see what the model writes next, with and without your interventions")

    def generate(self, params: dict[str, Any] | None = None) -> int | None:
        """Generate from the current prompt with `params` (the view's controls by default)."""
        params = dict(params if params is not None else self.widget.params())
        s = self.controller.state
        if not s.prompt.strip():
            self.widget.set_status("Type a prompt first")
            return None
        self.params = params
        job = self.controller.analyse(KEY, Prompt(s.prompt, interventions=tuple(s.interventions)), params)
        if job is not None:
            self.widget.set_busy(True)
            self.widget.set_status("generating…")
        return job

    def regenerate(self) -> None:
        if self.shown is not None and self.params is not None:
            self.generate(self.params)

    def stop(self) -> None:
        self.controller.cancel(KEY, "Generation stopped")

    def show(self, generation) -> None:
        self.shown = generation
        self.widget.set_generation(generation.prompt, column(generation.plain), column(generation.edited),
                                   generation.diverges_at, generation.complete)
        if generation.complete:
            self.widget.set_busy(False)
            self.widget.set_status("")

    def _stopped(self, message: str) -> None:
        self.widget.set_busy(False)
        written = len(self.shown.plain.tokens) if self.shown is not None else 0
        self.widget.set_status(f"{message} ({written} tokens written)" if "stopped" in message else message)

    def _cleared(self, message: str) -> None:
        self._rest.stop()
        if self.shown is not None:
            self.controller.cancel(KEY, "Generation stopped")
        self.shown = None
        self.widget.clear(message)

    def on_model_loaded(self, loaded) -> None:
        self._cleared("A new model is loaded: press Generate")

    # ------------------------------------------------------------------ sessions and export
    def session_state(self) -> dict | None:
        return {"params": dict(self.params or self.widget.params())}

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        params = data.get("params") if isinstance(data, dict) else None
        if not isinstance(params, dict) or not all(
                k in PARAM_KEYS and isinstance(v, PARAM_KEYS[k] if PARAM_KEYS[k] is not float else (int, float))
                and not isinstance(v, bool) for k, v in params.items()):
            raise ValueError("generation: 'params' must hold n_new, temperature, top_p, seed, apply_to")
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is not None:
            self.widget.set_params(data["params"])
            self.params = dict(data["params"])

    def export_tables(self) -> dict[str, Any]:
        g = self.shown
        if g is None:
            return {}
        rows = [(name, i, token, float(p)) for name, c in (("without", g.plain), ("with", g.edited)) if c is not None
                for i, (token, p) in enumerate(zip(c.tokens, c.probs))]
        arrays = {"without_ids": g.plain.token_ids, "without_probs": g.plain.probs}
        if g.edited is not None:
            arrays.update(with_ids=g.edited.token_ids, with_probs=g.edited.probs)
        return {"generation": (rows, ("column", "index", "token", "probability"), arrays)}

    def export_files(self, folder: Path) -> list[Path]:
        """The generation as JSON (with the interventions that made it) and as plain text."""
        g = self.shown
        if g is None:
            return []
        data = g.to_json()
        atomic_write_text(folder / "generation.json", json.dumps(data, indent=1, ensure_ascii=False))
        text = f"{g.prompt}{g.plain.text}\n"
        if g.edited is not None:
            text = f"# without interventions\n{text}\n# with interventions\n{g.prompt}{g.edited.text}\n"
        atomic_write_text(folder / "generation.txt", text)
        return [folder / "generation.json", folder / "generation.txt"]


