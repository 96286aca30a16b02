"""Head scores on repeated random sequences (BOS? + segment + same segment).

previous-token: attention from each position to the one before it;
induction: from a token in the second copy to the token *after* its earlier occurrence;
duplicate-token: from a token in the second copy to its earlier occurrence."""

from __future__ import annotations

import numpy as np


def head_scores_from_patterns(patterns: np.ndarray, start: int, seg_len: int) -> dict[str, np.ndarray]:
    """patterns: [batch, n_layers, n_heads, S, S]; the first copy starts at `start`,
    the second at `start + seg_len`. Returns [n_layers, n_heads] arrays."""
    seq = patterns.shape[-1]
    q_all = np.arange(max(start, 1), seq)
    prev = patterns[..., q_all, q_all - 1].mean(axis=(0, -1))
    q2 = np.arange(start + seg_len, start + 2 * seg_len)
    induction = patterns[..., q2, q2 - seg_len + 1].mean(axis=(0, -1))
    duplicate = patterns[..., q2, q2 - seg_len].mean(axis=(0, -1))
    return {"previous_token": prev, "induction": induction, "duplicate_token": duplicate}
