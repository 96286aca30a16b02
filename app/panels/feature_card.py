"""The feature card: what one dictionary feature means (analysis 'feature_card'): its top
activating contexts over a corpus, histogram, density and the tokens it promotes/suppresses.

Any panel asks for a card with `controller.analyse("feature_card", None, {...})` (the
features panel does, from a clicked feature); this panel shows whatever card arrives. The
user's label is kept with the dictionary (app.feature_labels, by the weights' digest), which
the features panel searches, and in sessions ("digest:feature" -> label)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from widgets.feature_card import FeatureCard

from ..feature_labels import FeatureLabels
from .base import Panel, register_panel

KEY = "feature_card"


@register_panel
class FeatureCardPanel(Panel):
    key, title, area, order = "feature_card", "Feature card", "right", 45
    beside = ("tab", "detail")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.shown = None
        self.labels: dict[str, str] = {}  # "digest:feature" -> the user's label, as used in this session
        self.store = FeatureLabels()

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
        return f"{self.shown.digest if self.shown else ''}:{feature}"

    def show(self, card) -> None:
        self.shown = card
        self.widget.set_busy(False)
        self.widget.set_card(card.feature, card.title, [(list(t), list(v)) for t, v in card.contexts], card.histogram,
                             card.density, list(card.promoted), list(card.suppressed), card.corpus_note)
        self.widget.set_label(self.labels.get(self._key(card.feature)) or self.store.get(card.digest, card.feature))
        self.widget.set_status("from the cache" if card.from_cache else "")
        self.ctx.raise_panel(self.key)

    def _labelled(self, feature: int, text: str) -> None:
        if text:
            self.labels[self._key(feature)] = text
        else:
            self.labels.pop(self._key(feature), None)
        if self.shown is not None and self.shown.digest:
            self.store.set(self.shown.digest, feature, text)
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
        """The session's labels; those this machine does not have yet join the store."""
        self.labels = dict(data["labels"]) if data else {}
        for key, text in self.labels.items():
            digest, _, feature = key.rpartition(":")
            if digest and feature.isdigit() and not self.store.get(digest, int(feature)):
                self.store.set(digest, int(feature), text)
