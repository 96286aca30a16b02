"""Logit lens: what each layer's residual stream would predict if it were the last."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from ..analysis import Prompt, ReadContext, Readout, register
from ..results import LogitLens
from .resid import resid_names

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


@dataclass(frozen=True)
class LensParams:
    k: int = 5
    positions: tuple[int, ...] | None = None  # None = every position; negative counts from the end


class LogitLensReadout(Readout):
    """Readout 'logit_lens': final norm + unembed of the residual stream after every layer."""

    key = "logit_lens"
    Params = LensParams
    order = 4  # the costliest readout (layers x positions x vocabulary): last

    def needs(self, params: LensParams, handle, prompt: Prompt) -> set[str]:
        return set(resid_names(handle.info.n_layers))

    def read(self, ctx: ReadContext, params: LensParams) -> LogitLens:
        handle, n_layers = ctx.handle, ctx.handle.info.n_layers
        seq_len = len(ctx.ids)
        cols = np.arange(seq_len) if params.positions is None else np.unique(
            [p % seq_len for p in params.positions if -seq_len <= p < seq_len])
        with handle.readout():
            device = handle.unembed_device()
            resid = torch.stack([ctx.cache[name][0].to(device) for name in resid_names(n_layers)])
            resid = resid[:, torch.from_numpy(cols).to(device)]
            return logit_lens(resid, lambda x: x, handle.lens_logits(), handle.decode_tokens,
                              ["embed", *(f"L{l}" for l in range(n_layers))], cols, handle.info.vocab_size,
                              params.k, ctx.target_id)


register(LogitLensReadout())
