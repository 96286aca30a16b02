"""Logit lens: what each layer's residual stream would predict if it were the last."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from ..results import LogitLens


def logit_lens(
    resid: torch.Tensor,
    final_norm: Callable[[torch.Tensor], torch.Tensor],
    unembed: Callable[[torch.Tensor], torch.Tensor],
    decode: Callable[[Sequence[int]], list[str]],
    layer_labels: Sequence[str],
    positions: np.ndarray,
    k: int = 5,
    target_id: int | None = None,
) -> LogitLens:
    """resid: [R, P, d] residual stream rows (embed, after L0, ...) at the given positions.

    Computed row by row in float32 so a large vocabulary never holds R x P x V at once."""
    top_ids, top_probs, t_probs, t_ranks = [], [], [], []
    for row in resid:
        logits = unembed(final_norm(row)).float()  # [P, V]
        probs = torch.softmax(logits, dim=-1)
        p, i = probs.topk(k, dim=-1)
        top_ids.append(i)
        top_probs.append(p)
        if target_id is not None:
            target_logit = logits[:, target_id : target_id + 1]
            t_probs.append(probs[:, target_id])
            t_ranks.append((logits > target_logit).sum(-1))
    ids = torch.stack(top_ids).cpu().numpy()
    tokens = np.array(decode(ids.reshape(-1).tolist()), dtype=str).reshape(ids.shape)
    return LogitLens(
        layer_labels=tuple(layer_labels),
        positions=np.asarray(positions),
        top_ids=ids,
        top_tokens=tokens,
        top_probs=torch.stack(top_probs).cpu().numpy(),
        target_id=target_id,
        target_probs=torch.stack(t_probs).cpu().numpy() if target_id is not None else None,
        target_ranks=torch.stack(t_ranks).cpu().numpy() if target_id is not None else None,
    )
