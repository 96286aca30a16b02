"""The head finder: every head of the model in a sortable table of its scores (head scores,
DLA, the last head-level patching sweep), marked by the same key and threshold as the
head grid's outline; a row click opens the head in the detail view."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from widgets.head_finder import HeadFinder

from ..head_facts import head_patching, head_score_maps, share_highlight
from .base import Panel, register_panel


@register_panel
class HeadFinderPanel(Panel):
    key, title, area, order = "finder", "Head finder", "left", 25
    beside = ("tab", "heads")  # after the detail view's split from the heads dock (a split off a tab group is a tab)

    def create(self) -> QWidget:
        return HeadFinder()

    def connect(self) -> None:
        c, finder, results = self.controller, self.widget, self.ctx.results
        finder.head_chosen.connect(self._open_head)
        share_highlight(c, finder)
        results.on("head_scores", lambda _: self.refresh())
        results.on("patching", lambda _: self.refresh())
        results.cleared.connect(lambda key: key in ("head_scores", "patching") and self.refresh())
        c.result_ready.connect(self.guard(lambda _: self.refresh()))

    def on_model_loaded(self, loaded) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Refill the table from the workspace (cheap: 1200 rows are a model reset)."""
        loaded = self.controller.loaded
        if loaded is None:
            return
        n_layers, n_heads = loaded.info.n_layers, loaded.info.n_heads
        patching = head_patching(self.controller, n_layers, n_heads)
        values, title = patching if patching is not None else (None, "patching")
        self.widget.set_scores(head_score_maps(self.controller), n_layers, n_heads, values, title)

    def _open_head(self, layer: int, head: int) -> None:
        self.controller.focus_head(layer, head)
        self.ctx.raise_panel("detail")
