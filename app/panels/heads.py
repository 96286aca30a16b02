"""The attention-head grid: every layer x head pattern at once, highlighted by a score."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.addresses import parse_address
from widgets.head_grid import HeadGrid

from ..head_facts import head_score_maps, share_highlight
from ..intervention_edits import as_node_state
from .base import Panel, register_panel


@register_panel
class HeadsPanel(Panel):
    key, title, area, order, front = "heads", "Attention heads", "left", 10, True

    def create(self) -> QWidget:
        return HeadGrid()

    def connect(self) -> None:
        c, grid = self.controller, self.widget
        grid.head_clicked.connect(self._open_head)
        share_highlight(c, grid)  # the head finder marks the same heads
        self.ctx.document.on("interventions", self._show_marks)
        self.ctx.results.on("head_scores", lambda _: self._refresh_scores())
        c.result_ready.connect(self.guard(self._show))
        c.partial_ready.connect(self.guard(lambda result: result.patterns is not None and self._show(result)))
        c.pending_changed.connect(lambda pending: grid.set_stale("patterns" in pending))

    def _open_head(self, layer: int, head: int) -> None:
        self.controller.focus_head(layer, head)
        self.ctx.raise_panel("detail")

    def on_model_loaded(self, loaded) -> None:
        self._show_marks(self.controller.state.interventions)
        self.controller.analyse("head_scores")  # once per model: the highlight and the default head use them

    def _show(self, result) -> None:
        self.widget.set_patterns(result.patterns, list(result.tokens))
        self._refresh_scores()

    def _refresh_scores(self) -> None:
        self.widget.set_scores(head_score_maps(self.controller))

    def _show_marks(self, interventions: tuple) -> None:
        marks = {}
        for name, (method, factor, *_) in as_node_state(interventions).items():
            address = parse_address(name)
            if address.kind == "head":
                marks[(address.layer, address.head)] = f"×{factor:.2f}" if method == "scale" else f"✕ {method}"
        self.widget.set_marked(marks)
