"""Logit lens: what each layer's residual stream would predict if it were the last."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from ..analysis import NO_JOB, Cancelled, Job, Prompt, ReadContext, Readout, register
from ..results import LogitLens
from .resid import resid_names

CHUNK_ELEMENTS = 8_000_000  # logits held at once (32 MB in float32); a superseded lens stops between chunks


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
    job: Job = NO_JOB,
) -> LogitLens:
    """resid: [R, P, d] residual stream rows (embed, after L0, ...) at the given positions.

    Computed in float32, in chunks of rows so a large vocabulary never holds R x P x V at
    once, and in one go when it is small (the demo model: one matmul instead of R). Between
    chunks the job may stop it (a newer edit supersedes the rest of an older lens)."""
    top_ids, top_probs, t_probs, t_ranks = [], [], [], []
    rows, positions_, d = resid.shape
    chunk = max(1, min(rows, CHUNK_ELEMENTS // max(1, positions_ * vocab_size)))
    for start in range(0, rows, chunk):
        if start and job.cancelled is not None and job.cancelled():
            raise Cancelled("Cancelled")
        block = resid[start : start + chunk].reshape(-1, d)
        logits = unembed(final_norm(block)).float()  # [chunk * P, V]
        probs = torch.softmax(logits, dim=-1)  # measured faster on CPU than logsumexp + exp of the top k
        p, i = probs.topk(min(k, probs.shape[-1]), dim=-1)  # a toy vocabulary may be smaller than k
        top_ids.append(i)
        top_probs.append(p)
        if target_id is not None:
            target_logit = logits[:, target_id : target_id + 1]
            t_probs.append(probs[:, target_id])
            # int32 sum: the int64 default doubled the cost of the rank (a third of the lens)
            t_ranks.append((logits > target_logit).sum(-1, dtype=torch.int32).long())

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


def splice_rows(early: LogitLens, late: LogitLens, start: int) -> LogitLens:
    """Rows [0, start) of `early` (the clean run's lens) above `late`'s rows (from `start`)."""
    def cat(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        return None if a is None or b is None else np.concatenate([a[:start], b])

    return LogitLens(layer_labels=early.layer_labels, positions=late.positions,
                     top_ids=cat(early.top_ids, late.top_ids), top_tokens=cat(early.top_tokens, late.top_tokens),
                     top_probs=cat(early.top_probs, late.top_probs), target_id=late.target_id,
                     target_probs=cat(early.target_probs, late.target_probs),
                     target_ranks=cat(early.target_ranks, late.target_ranks))


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
        """Rows an edit cannot reach (the residual entering every layer before the first
        edited one) are the clean run's lens, kept from when it was computed; only the rest
        is unembedded again."""
        handle, n_layers = ctx.handle, ctx.handle.info.n_layers
        seq_len = len(ctx.ids)
        cols = np.arange(seq_len) if params.positions is None else np.unique(
            [p % seq_len for p in params.positions if -seq_len <= p < seq_len])
        memo_key = ("logit_lens", cols.tobytes(), params.k, ctx.target_id)
        clean = handle.clean_run.derived_for(ctx.ids, memo_key) if ctx.start_layer > 0 else None
        first_row = ctx.start_layer if clean is not None else 0
        labels = ["embed", *(f"L{l}" for l in range(n_layers))]
        with handle.readout():
            device = handle.unembed_device()
            names = resid_names(n_layers)[first_row:]
            resid = torch.stack([ctx.cache[name][0].to(device) for name in names])
            resid = resid[:, torch.from_numpy(cols).to(device)]
            lens = logit_lens(resid, lambda x: x, handle.lens_logits(), handle.decode_tokens, labels[first_row:],
                              cols, handle.info.vocab_size, params.k, ctx.target_id, ctx.job)
        if clean is not None:
            return splice_rows(clean, lens, first_row)
        if not ctx.prompt.interventions:
            handle.clean_run.remember_derived(ctx.ids, memo_key, lens)
        return lens


register(LogitLensReadout())
