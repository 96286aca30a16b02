"""Per-head numbers several panels show (head scores, direct logit attribution), read from
the workspace's results, the one-line description of a head built from them, and the one
highlight (score key and threshold) every view of heads shares."""

from __future__ import annotations

import re

import numpy as np

SCORE_FIELDS = {"induction": "induction", "previous-token": "previous_token", "duplicate-token": "duplicate_token"}


def head_score_maps(controller) -> dict[str, np.ndarray]:
    """key -> [layers, heads]: the head scores (when computed) and the live run's DLA."""
    scores: dict[str, np.ndarray] = {}
    head_scores = controller.results.get("head_scores")
    if head_scores is not None:
        scores = {key: getattr(head_scores, field) for key, field in SCORE_FIELDS.items()}
    result = controller.last_result
    if result is not None and result.dla is not None:
        scores["DLA"] = result.dla.heads
    return scores


def head_patching(controller, n_layers: int, n_heads: int) -> tuple[np.ndarray, str] | None:
    """The newest patching sweep with a cell per head (head output, query, pattern, or path
    patching's senders) as [n_layers, n_heads] (NaN where it has no cell) and a column title
    naming the sweep; None when there is none (no sweep yet, or a layer x position sweep)."""
    run = controller.results.get("patching")
    result = getattr(run, "main", None)
    if result is None:
        return None
    rows = [re.fullmatch(r"L(\d+)", label) for label in result.row_labels]
    cols = [re.fullmatch(r"H(\d+)", label) for label in result.column_labels]
    if not all(rows) or not all(cols) or np.shape(result.values) != (len(rows), len(cols)):
        return None
    layers, heads = [int(m.group(1)) for m in rows], [int(m.group(1)) for m in cols]
    if max(layers, default=0) >= n_layers or max(heads, default=0) >= n_heads:
        return None
    grid = np.full((n_layers, n_heads), np.nan)
    grid[np.ix_(layers, heads)] = result.values
    return grid, f"patching ({result.sweep})"


def describe_scores(scores: dict[str, np.ndarray], layer: int, head: int) -> str:
    """'induction 0.61   previous-token 0.02   DLA +1.234' for one head."""
    parts = []
    for key, values in scores.items():
        if values is not None and layer < values.shape[0] and head < values.shape[1]:
            parts.append(f"{key} {values[layer, head]:+.3f}" if key == "DLA" else f"{key} {values[layer, head]:.2f}")
    return "   ".join(parts)


def default_head(controller) -> tuple[int, int]:
    """The head to show before the user picks one: the strongest induction head."""
    scores = controller.results.get("head_scores")
    if scores is None:
        return 0, 0
    layer, head = np.unravel_index(np.argmax(scores.induction), scores.induction.shape)
    return int(layer), int(head)


def share_highlight(controller, view) -> None:
    """Keep a view of heads (grid, finder) on the shared score key and threshold, both ways:
    every view outlines the same heads."""
    view.select_score_key(controller.state.score_key)
    if controller.highlight_threshold is not None:
        view.set_threshold(controller.highlight_threshold)
    view.score_key_changed.connect(controller.set_score_key)
    view.threshold_changed.connect(controller.set_highlight_threshold)
    controller.highlight_threshold_changed.connect(view.set_threshold)
    controller.document.on("score_key", view.select_score_key)
