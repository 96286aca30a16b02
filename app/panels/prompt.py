"""The prompt panel: prompt, corrupted prompt, target and foil; token chips; predictions."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from widgets.prompt_panel import PromptPanel

from .base import Panel, register_panel


@register_panel
class PromptPanelDock(Panel):
    key, title, area, order = "prompt", "Prompt", "top", 0
    presented = True  # shown in presentation mode

    def create(self) -> QWidget:
        w, s = PromptPanel(), self.controller.state
        w.set_prompt(s.prompt)
        w.corrupted_edit.setText(s.corrupted)
        w.set_answer(s.target, s.foil)
        return w

    def connect(self) -> None:
        c, w, doc = self.controller, self.widget, self.ctx.document
        w.prompt_changed.connect(c.set_prompt)
        w.run_requested.connect(lambda _: c.ensure_run())
        w.target_changed.connect(c.set_target)
        w.foil_changed.connect(c.set_foil)
        w.corrupted_changed.connect(c.set_corrupted)
        w.position_clicked.connect(c.focus_position)
        doc.on("focused_position", lambda p: w.focus_position(p) if p is not None else None)
        # a state set from elsewhere (a session, a script) shows in the edits
        doc.on("prompt", lambda text: w.prompt != text and w.set_prompt(text))
        doc.on("corrupted", lambda text: w.corrupted_edit.text() != text and w.corrupted_edit.setText(text))
        doc.on("target", lambda _: self._show_answer())
        doc.on("foil", lambda _: self._show_answer())
        c.result_ready.connect(self.guard(self._show))
        c.partial_ready.connect(self.guard(self._show))  # the numbers come before the rest of a run
        c.pending_changed.connect(lambda pending: w.set_updating("prediction" in pending))

    def _show_answer(self) -> None:
        s, w = self.controller.state, self.widget
        if (w.target_edit.text(), w.foil_edit.text()) != (s.target, s.foil):
            w.set_answer(s.target, s.foil)

    def on_model_loaded(self, loaded) -> None:
        self.widget.set_vocabulary(list(loaded.vocabulary))

    def _show(self, result) -> None:
        s = self.controller.state
        unknown = dict(zip(result.unknown_positions, result.unknown_words))
        self.widget.set_tokens(list(result.tokens), unknown)
        if unknown:
            words = ", ".join(repr(w) for w in dict.fromkeys(result.unknown_words))
            self.ctx.show_status(f"Not in this model's vocabulary (read as an unknown token): {words}", 15000)
        summary = ""
        if result.logit_diff is not None:
            summary = (f"logit diff {s.target!r} − {s.foil!r}: {result.logit_diff:+.3f}    "
                       f"P({s.target!r}) = {result.target_prob:.3f}")
        if result.answer_hint:
            summary += f"    ⚠ {result.answer_hint}"
        self.widget.set_predictions(list(result.top_tokens), result.top_probs.tolist(), summary)

    def set_presenting(self, presenting: bool) -> None:
        self.widget.set_compact(presenting)  # the numbers matter more than the tokens from the back row
