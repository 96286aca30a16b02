"""The few choices made before a circuit is found: how edges are scored (EAP-IG with 5 steps,
the default of Hanna et al. 2024, or plain EAP, one gradient), on what (the clean/corrupted
pair in the prompt panel, or the prompt set in use) and how a circuit of n edges is picked
for the curve (greedy from the logits back, or the n largest |scores|). One line of combo
boxes; `options()` reads them; no setter emits anything."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

__all__ = ["CircuitOptions", "demo"]

METHODS = (("eap_ig", "EAP-IG (5 steps)"), ("eap", "EAP (one gradient)"))
DATA = (("pair", "this pair"), ("set", "the prompt set"))
SELECTIONS = (("greedy", "greedy from the logits"), ("top_n", "largest scores"))


class CircuitOptions(QWidget):
    """Method, data and selection; `changed` when the user picks another."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.boxes: dict[str, QComboBox] = {}
        for name, label, choices in (("method", "Score by", METHODS), ("data", "on", DATA),
                                     ("selection", "pick", SELECTIONS)):
            box = QComboBox()
            for key, text in choices:
                box.addItem(text, key)
            box.currentIndexChanged.connect(self.changed)
            layout.addWidget(QLabel(label))
            layout.addWidget(box)
            self.boxes[name] = box
        layout.addStretch(1)
        self.set_set_available(False)

    def options(self) -> dict[str, str]:
        return {name: str(box.currentData()) for name, box in self.boxes.items()}

    def set_options(self, options: dict[str, str]) -> None:
        for name, value in options.items():
            box = self.boxes.get(name)
            index = box.findData(value) if box is not None else -1
            if index >= 0:
                box.blockSignals(True)
                box.setCurrentIndex(index)
                box.blockSignals(False)

    def set_set_available(self, available: bool, description: str = "") -> None:
        """Offer 'the prompt set' only when there is one (its tooltip says which)."""
        box = self.boxes["data"]
        item = box.model().item(1)
        item.setEnabled(available)
        item.setToolTip(description or "Make a prompt set in the Prompt set panel first")
        if not available and box.currentIndex() == 1:
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)


def demo() -> CircuitOptions:
    widget = CircuitOptions()
    widget.set_set_available(True, "IOI set · 200 prompts")
    return widget
