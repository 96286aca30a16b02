"""Which heads a score highlights, in one place, so every view of heads (the grid's frames,
the finder's rows) outlines exactly the same heads for the same key and threshold."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

SCORE_KEYS = ("none", "induction", "previous-token", "duplicate-token", "DLA")
RELATIVE_KEYS = ("DLA", "patching")  # scales are the logit difference's, not 0..1: compared to the largest
DEFAULT_THRESHOLD = 0.3  # an induction or previous-token score this high is far above chance


def highlight_strength(values: np.ndarray, key: str) -> np.ndarray:
    """What the threshold is compared with: |score|, relative to the largest for DLA-like keys."""
    magnitude = np.abs(np.nan_to_num(np.asarray(values, dtype=float)))
    if key in RELATIVE_KEYS:
        magnitude = magnitude / max(float(magnitude.max(initial=0.0)), 1e-12)
    return magnitude


def heads_above(values: np.ndarray | None, key: str, threshold: float) -> list[tuple[int, int]]:
    """(layer, head) of every head at or above the threshold, in layer-then-head order."""
    if values is None or key == "none" or np.ndim(values) != 2:
        return []
    strong = highlight_strength(values, key) >= max(threshold, 1e-9)
    return [(int(l), int(h)) for l, h in zip(*np.nonzero(strong))]


def highlight_controls(verb: str) -> tuple[QComboBox, QDoubleSpinBox]:
    """The score key box and the threshold box every view of heads offers (the same choices,
    the same default), worded with what that view does: 'Outline', 'Mark'."""
    key_box = QComboBox()
    key_box.addItems(SCORE_KEYS)
    key_box.setToolTip(f"{verb} every head scoring at least the threshold on this measure")
    threshold = QDoubleSpinBox()
    threshold.setRange(0.0, 1.0)
    threshold.setSingleStep(0.05)
    threshold.setValue(DEFAULT_THRESHOLD)
    threshold.setPrefix("≥ ")
    threshold.setToolTip(f"{verb} every head scoring at least this (DLA: this fraction of the largest |DLA|)")
    return key_box, threshold
