"""The feature card: what one dictionary feature means (analysis 'feature_card'): its top
activating contexts over a corpus, histogram, density and the tokens it promotes/suppresses.

Any panel asks for a card with `controller.analyse("feature_card", None, {...})` (the
features panel does, from a clicked feature); this panel shows whatever card arrives, and
keeps the user's labels, per dictionary, in sessions."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from widgets.feature_card import FeatureCard

from .base import Panel, register_panel

KEY = "feature_card"


@register_panel
class FeatureCardPanel(Panel):
    key, title, area, order = "feature_card", "Feature card", "right", 45
    beside = ("tab", "detail")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.shown = None
        self.labels: dict[str, str] = {}  # "digest-or-title:feature" -> the user's label

    def create(self) -> QWidget:
        return FeatureCard()

    def connect(self) -> None:
        w, results = self.widget, self.ctx.results
        results.on(KEY, self.guard(self.show))
        results.progress.connect(lambda key, done, total: key == KEY and w.set_status(
            f"reading the corpus: window {done} of {total}…"))
        results.failed.connect(lambda key, message: key == KEY and (w.set_busy(False), w.set_status(message)))
        w.label_changed.connect(self._labelled)
        w.clear("Click a feature in the Features panel and choose “Show card”")

    def _key(self, feature: int) -> str:
        return f"{self.shown.title if self.shown else ''}:{feature}"

    def show(self, card) -> None:
        self.shown = card
        self.widget.set_busy(False)
        self.widget.set_card(card.feature, card.title, [(list(t), list(v)) for t, v in card.contexts], card.histogram,
                             card.density, list(card.promoted), list(card.suppressed), card.corpus_note)
        self.widget.set_label(self.labels.get(self._key(card.feature), ""))
        self.widget.set_status("from the cache" if card.from_cache else "")
        self.ctx.raise_panel(self.key)

    def _labelled(self, feature: int, text: str) -> None:
        if text:
            self.labels[self._key(feature)] = text
        else:
            self.labels.pop(self._key(feature), None)
        self.controller.state_changed.emit()

    def session_state(self) -> dict | None:
        return {"labels": dict(self.labels)} if self.labels else None

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        labels = data.get("labels") if isinstance(data, dict) else None
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise ValueError("feature card: 'labels' must map strings to strings")
        return data

    def restore_session(self, data: Any | None) -> None:
        self.labels = dict(data["labels"]) if data else {}
