"""Run a widget's demo on its own: `python -m widgets.head_grid` and friends.

Each widget module has `demo() -> QWidget`, a populated instance built from numpy data
only (no engine); tests build every demo, and `run(demo)` shows one in a window."""

from __future__ import annotations

import sys
from typing import Callable

import numpy as np
from PySide6.QtWidgets import QApplication, QWidget


def causal_patterns(n_layers: int, n_heads: int, seq: int, seed: int = 0) -> np.ndarray:
    """Random attention patterns (rows sum to 1 over keys up to the query) for demos."""
    rng = np.random.default_rng(seed)
    logits = np.where(np.tril(np.ones((seq, seq))) > 0, rng.normal(size=(n_layers, n_heads, seq, seq)) * 2, -np.inf)
    return (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)


def run(factory: Callable[[], QWidget]) -> None:  # pragma: no cover - interactive
    app = QApplication.instance() or QApplication(sys.argv)
    widget = factory()
    widget.show()
    sys.exit(app.exec())
