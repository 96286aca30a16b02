"""Logit lens: what each layer's residual stream would predict if it were the last."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from ..results import LogitLens

CHUNK_ELEMENTS = 16_000_000  # logits held at once (64 MB in float32)


def logit_lens(
    resid: torch.Tensor,
    final_norm: Callable[[torch.Tensor], torch.Tensor],
    unembed: Callable[[torch.Tensor], torch.Tensor],
    decode: Callable[[Sequence[int]], list[str]],
    layer_labels: Sequence[str],
    positions: np.ndarray,
    vocab_size: int,
    k: int = 5,
    target_id: int | None = None,
) -> LogitLens:
    """resid: [R, P, d] residual stream rows (embed, after L0, ...) at the given positions.

    Computed in float32, in chunks of rows so a large vocabulary never holds R x P x V at
    once, and in one go when it is small (the demo model: one matmul instead of R)."""
    top_ids, top_probs, t_probs, t_ranks = [], [], [], []
    rows, positions_, d = resid.shape
    chunk = max(1, min(rows, CHUNK_ELEMENTS // max(1, positions_ * vocab_size)))
    for start in range(0, rows, chunk):
        block = resid[start : start + chunk].reshape(-1, d)
        logits = unembed(final_norm(block)).float()  # [chunk * P, V]
        probs = torch.softmax(logits, dim=-1)
        p, i = probs.topk(min(k, probs.shape[-1]), dim=-1)  # a toy vocabulary may be smaller than k
        top_ids.append(i)
        top_probs.append(p)
        if target_id is not None:
            target_logit = logits[:, target_id : target_id + 1]
            t_probs.append(probs[:, target_id])
            t_ranks.append((logits > target_logit).sum(-1))

    def join(parts: list[torch.Tensor]) -> np.ndarray:
        return torch.cat(parts).reshape(rows, positions_, *parts[0].shape[1:]).cpu().numpy()

    ids = join(top_ids)
    tokens = np.array(decode(ids.reshape(-1).tolist()), dtype=str).reshape(ids.shape)
    return LogitLens(
        layer_labels=tuple(layer_labels),
        positions=np.asarray(positions),
        top_ids=ids,
        top_tokens=tokens,
        top_probs=join(top_probs),
        target_id=target_id,
        target_probs=join(t_probs) if target_id is not None else None,
        target_ranks=join(t_ranks) if target_id is not None else None,
    )
