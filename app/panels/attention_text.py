"""Attention over text (CircuitsVis-style): the prompt's tokens coloured by the focused head's
attention from the focused query, or to the focused key. The worked example of a technique
in the panel shape (docs/architecture.md): it needs no new engine analysis (it reads the
'patterns' readout the live run already has), one widget and this file."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from widgets.attention_text import AttentionText

from ..head_facts import default_head
from .base import Panel, register_panel


@register_panel
class AttentionTextPanel(Panel):
    key, title, area, order = "attention_text", "Attention over text", "bottom", 35
    beside = ("tab", "lens")

    def create(self) -> QWidget:
        return AttentionText()

    def connect(self) -> None:
        doc = self.ctx.document
        self.widget.position_clicked.connect(self.controller.focus_position)
        doc.on("focused_head", lambda _: self.refresh())
        doc.on("focused_position", lambda p: p is not None and self.widget.set_focus(p))
        self.controller.result_ready.connect(self.guard(lambda _: self.refresh()))

    def refresh(self) -> None:
        c = self.controller
        result = c.last_result
        if result is None or result.patterns is None:
            self.widget.clear("Run a prompt to see attention over its tokens")
            return
        layer, head = c.state.focused_head or default_head(c)
        if not (layer < result.patterns.shape[0] and head < result.patterns.shape[1]):
            return
        self.widget.set_data(f"L{layer}.H{head}", result.patterns[layer, head], list(result.tokens),
                             c.state.focused_position)

    def session_state(self) -> dict | None:
        return {"mode": self.widget.mode()}

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict) or data.get("mode") not in ("query", "key"):
            raise ValueError("attention_text.mode must be 'query' or 'key'")
        return data

    def restore_session(self, data: Any | None) -> None:
        self.widget.set_mode(data["mode"] if data else "query")
