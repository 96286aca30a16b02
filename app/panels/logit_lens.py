"""The logit lens: what each layer's residual stream would predict at each position."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from widgets.logit_lens_heatmap import LensData, LogitLensHeatmap

from .base import Panel, register_panel


@register_panel
class LogitLensPanel(Panel):
    key, title, area, order, front = "lens", "Logit lens", "bottom", 30, True

    def create(self) -> QWidget:
        return LogitLensHeatmap()

    def connect(self) -> None:
        self.widget.position_clicked.connect(self.controller.focus_position)
        self.ctx.document.on("focused_position", lambda p: p is not None and self.widget.set_focus(p))
        self.controller.result_ready.connect(self.guard(self._show))
        self.controller.pending_changed.connect(
            lambda pending: "logit_lens" in pending and self.widget.set_stale(True, updating=True))

    def _show(self, result) -> None:
        lens = result.logit_lens
        self.widget.set_stale(lens is None)
        if lens is None:
            return
        s = self.controller.state
        self.widget.set_lens(LensData(lens.layer_labels, tuple(result.tokens), tuple(int(p) for p in lens.positions),
                                      lens.top_tokens, lens.top_probs,
                                      s.target if lens.target_id is not None else None,
                                      lens.target_probs, lens.target_ranks),
                            s.focused_position if s.focused_position is not None else len(result.tokens) - 1)
