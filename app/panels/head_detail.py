"""The head detail: one head's pattern with token labels, and one query's attention."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from widgets.head_detail import HeadDetail

from ..head_facts import default_head, describe_scores, head_score_maps
from .base import Panel, register_panel


@register_panel
class HeadDetailPanel(Panel):
    key, title, area, order = "detail", "Head detail", "right", 20
    beside = None  # the right dock area: it runs to the bottom edge beside the lens (MainWindow corner)

    def create(self) -> QWidget:
        return HeadDetail()

    def connect(self) -> None:
        c, doc = self.controller, self.ctx.document
        doc.on("focused_head", lambda _: self.show_head())
        doc.on("focused_position", lambda _: self.show_head())  # show_head sets the query (None: the last token)
        c.result_ready.connect(self.guard(lambda _: self.show_head()))

    def show_head(self) -> None:
        c = self.controller
        result = c.last_result
        if result is None or result.patterns is None:
            return
        layer, head = c.state.focused_head or default_head(c)
        if not (layer < result.patterns.shape[0] and head < result.patterns.shape[1]):
            return
        self.widget.set_head(f"L{layer}.H{head}", result.patterns[layer, head], list(result.tokens),
                             describe_scores(head_score_maps(c), layer, head))
        focus = c.state.focused_position
        self.widget.set_query(focus if focus is not None else len(result.tokens) - 1)
