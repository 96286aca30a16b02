"""The steering panel: make a steering vector (contrast pairs, a file, a feature's decoder
row), put it in force as an intervention, drag its strength and watch every panel follow,
and sweep the strength to see where the behaviour flips.

The vector arrives as the result of analysis 'steering_vector', whoever asked for it (the
features panel asks for a feature's decoder row), so this panel shows any vector made. The
intervention is an engine.interventions.Steer in the document like any other: undoable, in
sessions, applied to generations. One vector steers at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from engine.analysis import Prompt
from engine.interventions import Steer
from widgets.steering_view import SteeringView

from .. import intervention_edits as edits
from .base import Panel, register_panel

VECTOR, SWEEP = "steering_vector", "steering_sweep"


def residual_sites(n_layers: int) -> list[str]:
    """Where a vector can act: before each block, and after the last."""
    return [f"L{layer}.resid_pre" for layer in range(n_layers)] + [f"L{n_layers - 1}.resid_post"]


@register_panel
class SteeringPanel(Panel):
    key, title, area, order = "steering", "Steering", "right", 47
    beside = ("tab", "detail")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.vector = None  # the SteeringVector (or the session's restored one) on display
        self.on = False  # the vector is in force
        self.shown_sweep = None

    def create(self) -> QWidget:
        return SteeringView()

    def connect(self) -> None:
        w, results = self.widget, self.ctx.results
        w.vector_requested.connect(self.make_vector)
        w.load_requested.connect(self._ask_file)
        w.save_requested.connect(self._ask_save)
        w.strength_changed.connect(lambda value: self.apply(strength=value, live=True))
        w.strength_committed.connect(lambda value: self.apply(strength=value, live=True))
        w.mode_changed.connect(lambda mode: self.apply(mode=mode))
        w.enabled_changed.connect(lambda on: self.apply(on=on))
        w.sweep_requested.connect(self.sweep)
        results.on(VECTOR, self.guard(self._vector_arrived))
        results.on(SWEEP, self.guard(self._swept))
        for key in (VECTOR, SWEEP):
            results.failed.connect(lambda k, message, key=key: k == key and w.set_status(message))
        results.progress.connect(lambda key, done, total: key == SWEEP and w.set_status(
            f"sweeping: strength {done + 1} of {total}…" if done < total else ""))
        self.ctx.document.on("interventions", lambda items: self.guard(self._follow)(items))
        w.set_vector(None)

    def on_model_loaded(self, loaded) -> None:
        sites = residual_sites(loaded.info.n_layers)
        self.widget.set_sites(sites, sites[len(sites) // 2])
        self.vector = None
        self.widget.set_vector(None)
        self.widget.clear_sweep()

    # ------------------------------------------------------------------ making a vector
    def _prompt(self) -> Prompt:
        s = self.controller.state
        return Prompt(s.prompt, s.target or None, s.foil or None, tuple(s.interventions))

    def make_vector(self, request: dict[str, Any]) -> int | None:
        self.widget.set_status("reading the pairs…")
        return self.controller.analyse(VECTOR, self._prompt(), dict(request))

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.widget, "Steering vector", "", "Vectors (*.safetensors *.npy)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> int | None:
        return self.controller.analyse(VECTOR, self._prompt(), {"component": self.widget.component(), "file": path})

    def _vector_arrived(self, vector) -> None:
        self.vector = vector
        self.widget.set_status("")
        self.widget.set_vector(vector.source, vector.norm, vector.typical_norm)
        bound = vector.strength_bound()
        self.widget.set_strength_range(-bound, bound)
        self.widget.set_strength(0.0)
        self.widget.set_enabled_state(True)
        self.widget.clear_sweep("Sweep the strength to see where the prediction changes")
        self.apply(strength=0.0, on=True, text="add a steering vector")
        self.ctx.raise_panel(self.key)

    # ------------------------------------------------------------------ applying it
    def steer(self, strength: float | None = None, mode: str | None = None) -> Steer | None:
        v = self.vector
        if v is None:
            return None
        return Steer(v.component, tuple(np.asarray(v.vector, dtype=float).tolist()),
                     self.widget.strength() if strength is None else strength,
                     mode or self.widget.mode(), source=v.source)

    def apply(self, strength: float | None = None, mode: str | None = None, on: bool | None = None,
              live: bool = False, text: str = "") -> None:
        """Put the vector in force with the widget's settings (or, with on=False, take it out)."""
        if self.vector is None:
            return
        self.on = self.on if on is None else on
        steer = self.steer(strength, mode) if self.on else None
        words = text or (f"steer {self.vector.component} ×{steer.strength:g} ({steer.mode})" if steer else "stop steering")
        if live and steer is not None:
            self.controller.live_edit(lambda items: edits.set_steer(items, steer), words, ("steer", self.vector.component))
        elif on is not None or steer is not None:
            self.controller.edit(lambda items: edits.set_steer(items, steer), words)

    def _follow(self, items: tuple) -> None:
        """Undo, redo and sessions change the interventions: the controls show the steer in force."""
        steer = next((i for i in items if getattr(i, "kind", "") == "steer"), None)
        self.on = steer is not None
        self.widget.set_enabled_state(self.on)
        if steer is not None:
            self.widget.set_strength(steer.strength)
            self.widget.set_mode(steer.mode)
            if self.vector is None or tuple(np.asarray(self.vector.vector, dtype=float).tolist()) != steer.vector:
                self.vector = _Restored(steer.component, np.asarray(steer.vector, dtype=np.float32), steer.source)
                self.widget.set_vector(steer.source, self.vector.norm, 0.0)

    # ------------------------------------------------------------------ sweeping
    def sweep(self, request: dict[str, Any]) -> int | None:
        steer = self.steer()
        if steer is None:
            self.widget.set_status("Make a vector first")
            return None
        n = max(2, min(int(request.get("n", 21)), 101))
        strengths = np.linspace(float(request["low"]), float(request["high"]), n).round(6).tolist()
        return self.controller.analyse(SWEEP, self._prompt(), {"steer": steer.to_dict(), "strengths": strengths,
                                                              "words": list(request.get("words", []))})

    def _swept(self, sweep) -> None:
        self.shown_sweep = sweep
        s = self.controller.state
        curves = {}
        if sweep.logit_diff is not None:
            curves[f"logit diff ({s.target.strip()} − {s.foil.strip()})"] = sweep.logit_diff
        if sweep.target_prob is not None:
            curves[f"P({s.target.strip()})"] = sweep.target_prob
        if sweep.words_logprob is not None:
            curves["log P(words)"] = sweep.words_logprob
        self.widget.set_status("" if curves else "Give a target (and foil) or words to track to plot something")
        self.widget.set_sweep(sweep.strengths, curves, sweep.flips_at(), list(sweep.top_tokens))

    # ------------------------------------------------------------------ files, sessions, export
    def _ask_save(self) -> None:
        if self.vector is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.widget, "Save the steering vector", "steering_vector.safetensors",
                                              "safetensors (*.safetensors)")
        if path:
            self.save(path)

    def save(self, path: str) -> None:
        from safetensors.numpy import save_file

        v = self.vector
        try:
            save_file({"vector": np.ascontiguousarray(v.vector, dtype=np.float32)}, path,
                      metadata={"component": v.component, "source": v.source, "written_by": "Microtome"})
        except OSError as exc:
            self.ctx.show_error(f"Could not save the vector: {exc}")
            return
        self.widget.set_status(f"saved to {path}")

    def session_state(self) -> dict | None:
        positives, negatives, position = self.widget.pairs()
        state: dict[str, Any] = {"positives": positives, "negatives": negatives, "position": position,
                                 "component": self.widget.component()}
        if self.vector is not None:
            state["vector"] = {"component": self.vector.component, "values": np.asarray(self.vector.vector).tolist(),
                               "source": self.vector.source}
        return state

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict):
            raise ValueError("steering: expected an object")
        for key in ("positives", "negatives"):
            if not isinstance(data.get(key, []), list) or not all(isinstance(t, str) for t in data.get(key, [])):
                raise ValueError(f"steering: '{key}' must be a list of prompts")
        vector = data.get("vector")
        if vector is not None:
            from engine.errors import InterventionError

            try:
                Steer(vector.get("component", ""), vector.get("values", ()))
            except (InterventionError, AttributeError, TypeError) as exc:
                raise ValueError(f"steering: the saved vector cannot be used: {exc}") from None
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is None:
            return
        self.widget.set_pairs(data.get("positives", []), data.get("negatives", []), data.get("position", "last"))
        vector = data.get("vector")
        if vector is not None:
            self.vector = _Restored(vector["component"], np.asarray(vector["values"], dtype=np.float32),
                                    vector.get("source", ""))
            self.widget.set_vector(self.vector.source, self.vector.norm, 0.0)

    def export_tables(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.vector is not None:
            v = np.asarray(self.vector.vector)
            out["steering_vector"] = ([(i, float(x)) for i, x in enumerate(v)], ("dimension", "value"),
                                      {"vector": v, "component": np.array(self.vector.component),
                                       "source": np.array(self.vector.source)})
        if self.shown_sweep is not None:
            sw = self.shown_sweep
            columns = {"logit_diff": sw.logit_diff, "target_prob": sw.target_prob, "words_logprob": sw.words_logprob}
            present = {k: c for k, c in columns.items() if c is not None}
            rows = [(float(x), *(float(c[i]) for c in present.values()), sw.top_tokens[i])
                    for i, x in enumerate(sw.strengths)]
            out["steering_sweep"] = (rows, ("strength", *present, "top_token"),
                                     {"strengths": sw.strengths, **present})
        return out


class _Restored:
    """A vector known from a session or an intervention (not made in this run of the app)."""

    def __init__(self, component: str, vector: np.ndarray, source: str) -> None:
        self.component, self.vector, self.source = component, vector, source
        self.norm, self.typical_norm = float(np.linalg.norm(vector)), 0.0

    def strength_bound(self) -> float:
        return 10.0
