"""The information-flow panel (Ferrando & Voita 2024, as the LLM Transparency Tool): from one
forward of the prompt, which tokens and layers the prediction's information came through.
The analysis 'info_flow' gives every edge's share; the threshold, the renormalisation and
the route tree back from an output position are numpy on this thread
(engine/flow_routes.py), so the slider answers at once. A click on a node reads it with the
logit lens of the live run (rows entering a layer and the output; the lens does not stop
between attention and the MLP) and focuses its position in every view.

The graph is computed when the prompt or the interventions change while the panel is on
screen, or when it comes on screen with an older one (a 30-layer model takes about a
second)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QWidget

from engine.analysis import Prompt
from engine.flow_routes import DEFAULT_THRESHOLD, flow_edges, routes_from, row_labels
from widgets.info_flow_view import InfoFlowView
from widgets.resize_watcher import ResizeWatcher

from .base import Panel, register_panel

KEY = "info_flow"
SETTLE_MS = 300  # typing in the prompt: ask once it rests


@register_panel
class InfoFlowPanel(Panel):
    key, title, area, order = "info_flow", "Information flow", "left", 63
    beside = ("tab", "patching")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.flow = None
        self.asked_for: tuple | None = None  # (prompt, interventions) of the newest request
        self.shown_for: tuple | None = None
        self.threshold = DEFAULT_THRESHOLD
        self.position = -1
        self.edges = None
        self.timer = QTimer(self.widget)  # dies with the widget (a closed window stops asking)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SETTLE_MS)

    def create(self) -> QWidget:
        return InfoFlowView()

    def connect(self) -> None:
        w, doc, results = self.widget, self.ctx.document, self.ctx.results
        self.timer.timeout.connect(self.request)
        self.watcher = ResizeWatcher(self.guard(self._maybe_request), QEvent.Type.Show)  # it comes on screen
        w.installEventFilter(self.watcher)
        doc.on("prompt", self.guard(lambda _: self.timer.start()))
        doc.on("interventions", self.guard(lambda _: self.timer.start()))
        w.threshold_changed.connect(self.guard(self.set_threshold))
        w.position_changed.connect(self.guard(self.set_position))
        w.node_clicked.connect(self.guard(self.read_node))
        results.on(KEY, self.guard(self.show))
        results.failed.connect(lambda key, message: key == KEY and w.set_details(html.escape(message)))
        w.set_threshold(self.threshold)

    def on_model_loaded(self, loaded) -> None:
        self.flow = self.shown_for = self.asked_for = None
        self.timer.start()

    def _current(self) -> tuple:
        s = self.controller.state
        return (s.prompt, tuple(s.interventions))

    def _maybe_request(self) -> None:
        if self.shown_for != self._current() and self.asked_for != self._current():
            self.timer.start()

    def request(self) -> int | None:
        if not self.widget.isVisible() or self._current() == self.asked_for:
            return None
        prompt, interventions = self._current()
        job = self.controller.analyse(KEY, Prompt(prompt, interventions=interventions), {})
        if job is not None:
            self.asked_for = self._current()
            self.widget.set_details("computing the information flow…")
        return job

    def show(self, flow) -> None:
        if self.asked_for is None or flow.prompt != self.asked_for[0]:
            return  # an older prompt's flow (the newer one is on its way)
        self.flow, self.shown_for = flow, self.asked_for
        self.position = len(flow.tokens) - 1
        self.widget.set_position(self.position)
        self._redraw()
        self.widget.set_details(html.escape(
            f"{flow.n_layers} layers × {len(flow.tokens)} tokens: the route back from the prediction after "
            f"'{flow.tokens[-1]}'. Click a node to read it with the logit lens."))

    def set_threshold(self, value: float) -> None:
        self.threshold = float(value)
        if self.flow is not None:
            self._redraw()

    def set_position(self, pos: int) -> None:
        self.position = int(pos)
        if self.flow is not None:
            self._redraw()

    def _redraw(self) -> None:
        f = self.flow
        self.edges = flow_edges(f, self.threshold)
        route = routes_from(self.edges, f.n_layers, self.position)
        e = self.edges
        self.widget.set_graph(list(f.tokens), row_labels(f.n_layers), e.src_row, e.src_pos, e.dst_row, e.dst_pos,
                              e.weight, e.kind, route)

    def read_node(self, row: int, pos: int) -> None:
        """The node's residual stream through the logit lens of the live run, when it has it."""
        f = self.flow
        if f is None:
            return
        self.widget.set_selected(row, pos)
        self.controller.focus_position(pos)
        layer, after_attention = divmod(row, 2)
        where = (f"after layer {layer}'s attention" if after_attention else
                 "the output" if layer == f.n_layers else f"entering layer {layer}")
        token = f.tokens[pos]
        text = f"<b>{html.escape(repr(token))}</b> (position {pos}), {where}: "
        run = self.ctx.results.get("run")
        lens = getattr(run, "logit_lens", None)
        if after_attention:
            text += "the logit lens reads whole layers: click the row below or above."
        elif lens is None or getattr(run, "tokens", None) != f.tokens or pos not in set(np.asarray(lens.positions).tolist()):
            text += "no logit lens reading of this position in the live run."
        else:
            column = int(np.flatnonzero(np.asarray(lens.positions) == pos)[0])
            tops = ", ".join(f"{html.escape(repr(str(t)))} {float(p):.2f}" for t, p in
                             zip(lens.top_tokens[layer, column][:5], lens.top_probs[layer, column][:5]))
            text += f"reads as {tops}"
        self.widget.set_details(text)

    # ------------------------------------------------------------------ sessions and exports
    def session_state(self) -> dict | None:
        return {"threshold": self.threshold}

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("threshold", DEFAULT_THRESHOLD), (int, float)):
            raise ValueError("information flow: 'threshold' must be a number")
        if not 0 <= float(data.get("threshold", DEFAULT_THRESHOLD)) <= 1:
            raise ValueError("information flow: 'threshold' must lie between 0 and 1")
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is not None:
            self.threshold = float(data.get("threshold", DEFAULT_THRESHOLD))
            self.widget.set_threshold(self.threshold)
            if self.flow is not None:
                self._redraw()

    def export_tables(self) -> dict[str, Any]:
        f, e = self.flow, self.edges
        if f is None or e is None:
            return {}
        route = routes_from(e, f.n_layers, self.position)
        rows = [(int(a), int(b), int(c), int(d), float(w), int(k), bool(r)) for a, b, c, d, w, k, r in
                zip(e.src_row, e.src_pos, e.dst_row, e.dst_pos, e.weight, e.kind, route)]
        return {"info_flow_edges": (rows, ("src_row", "src_pos", "dst_row", "dst_pos", "weight", "kind", "on_route"),
                                    {"attn": f.attn, "attn_resid": f.attn_resid, "mlp": f.mlp, "mlp_resid": f.mlp_resid})}
