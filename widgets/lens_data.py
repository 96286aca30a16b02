"""What a logit-lens view draws: plain arrays (the engine's LogitLens minus ids, plus the
prompt), so widgets stay free of the engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LensData:
    """Rows are lens layers (embed, after L0, ...), columns the positions computed."""

    layer_labels: tuple[str, ...]
    prompt_tokens: tuple[str, ...]  # the whole prompt
    positions: tuple[int, ...]  # the prompt positions the lens was computed at (the columns)
    top_tokens: np.ndarray  # [R, P, k] str
    top_probs: np.ndarray  # [R, P, k]
    target: str | None = None
    target_probs: np.ndarray | None = None  # [R, P]
    target_ranks: np.ndarray | None = None  # [R, P], 0 = the top prediction


def synthetic_lens(n_rows: int, n_positions: int, k: int = 5, seed: int = 0) -> LensData:
    """A made-up lens of any size (demos, tests, screenshots): confidence grows with depth,
    tokens include the awkward ones (leading space, nbsp, newline, byte-level markers)."""
    rng = np.random.default_rng(seed)
    vocab = np.array([" the", "\xa0", "\n", "Ġword", " Mary", " John", "store", "<0x0A>", "\t", ",", " to",
                      "extraordinarily", " a", ""])
    prompt = tuple(["<bos>"] + [str(vocab[i]) for i in rng.integers(0, len(vocab), n_positions - 1)])
    depth = np.linspace(0.2, 3.0, n_rows)[:, None, None]
    logits = rng.normal(size=(n_rows, n_positions, len(vocab))) * depth
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    order = np.argsort(-probs, axis=-1)
    top = order[..., :k]
    target = 4  # " Mary"
    ranks = np.argmax(order == target, axis=-1) * 97  # spread over a large vocabulary
    return LensData(("embed", *(f"L{l}" for l in range(n_rows - 1))), prompt, tuple(range(n_positions)),
                    vocab[top], np.take_along_axis(probs, top, -1), str(vocab[target]), probs[..., target], ranks)
