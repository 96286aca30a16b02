"""Per-head numbers several panels show (head scores, direct logit attribution), read from
the workspace's results, and the one-line description of a head built from them."""

from __future__ import annotations

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
