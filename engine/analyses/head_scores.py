"""Head scores on repeated random sequences (BOS? + segment + same segment).

previous-token: attention from each position to the one before it;
induction: from a token in the second copy to the token *after* its earlier occurrence;
duplicate-token: from a token in the second copy to its earlier occurrence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import NO_JOB, Job, register
from ..errors import PromptError
from ..handle import as_handle
from ..results import HeadScores
from .patterns import pattern_names


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


@dataclass(frozen=True)
class HeadScoresParams:
    seg_len: int = 20
    n_sequences: int = 16
    seed: int = 0
    token_pool: tuple[int, ...] | None = None  # None: every ordinary token


class HeadScoresAnalysis:
    """Analysis 'head_scores': its own batch of repeated random sequences (any inputs ignored)."""

    key = "head_scores"
    Params = HeadScoresParams
    version = 1

    def run(self, handle, inputs, params: HeadScoresParams, job: Job = NO_JOB) -> HeadScores:
        handle = as_handle(handle)
        rng = np.random.default_rng(params.seed)
        pool = handle.ordinary_ids() if params.token_pool is None else np.asarray(params.token_pool, dtype=np.int64)
        seg_len, n = params.seg_len, params.n_sequences
        if len(pool) < seg_len:
            raise PromptError(f"seg_len {seg_len} needs at least that many distinct tokens; the pool has {len(pool)}")
        segment = np.stack([rng.choice(pool, size=seg_len, replace=False) for _ in range(n)])
        prefix = np.tile(np.asarray(handle.special_prefix, dtype=np.int64), (n, 1))
        ids = np.concatenate([prefix, segment, segment], axis=1)
        if ids.shape[1] > handle.info.n_ctx:
            raise PromptError(f"seg_len {seg_len} is too long for a context of {handle.info.n_ctx}")
        names = pattern_names(handle.info.n_layers)
        job.step(0, 1)
        store = handle.forward(ids, capture=names, logits_to_keep=1).acts
        job.step(1, 1)
        patterns = np.stack([store[name].float().cpu().numpy() for name in names], axis=1)  # [B, L, H, S, S]
        scores = head_scores_from_patterns(patterns, start=len(handle.special_prefix), seg_len=seg_len)
        return HeadScores(seg_len=seg_len, n_sequences=n, **scores)


register(HeadScoresAnalysis())
