"""Analysis 'set_head_scores': a head score on the set's own tokens, per prompt, as a
[layers, heads] grid with the same statistics as any set run. The shipped head scores read
synthetic repeated random tokens; this asks whether a head does the same on the text the
set is about (does the induction head copy the repeated name in IOI prompts?).

Scores, from each prompt's attention patterns (queries inside the tokenizer's special
prefix are left out; so are keys there for the duplicate and induction scores):
- previous_token: the mean over queries t of A[t, t-1];
- duplicate_token: over queries whose token occurred before, the attention on those earlier
  occurrences;
- induction: over queries whose token occurred before (not just before), the attention on
  the tokens right after those occurrences.
A prompt where a score is undefined (no repeated token) is left out of that run; the
result's prompts are the ones scored."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import NO_JOB, Job, register
from ..errors import EngineError
from ..handle import as_handle
from ..prompt_sets import PromptSet, subset
from ..set_stats import spread
from .set_patching import SetPatching

SCORES = ("previous_token", "duplicate_token", "induction")


@dataclass(frozen=True)
class SetHeadScoresParams:
    score: str = "induction"
    n_boot: int = 1000
    seed: int = 0
    batch_tokens: int = 4096
    pattern_floats: int = 1 << 26  # attention patterns held at once (GPT-2-XL at 300 tokens: 4 prompts)


def score_masks(tokens: np.ndarray, skip: int, score: str) -> np.ndarray | None:
    """[S, S] weights over (query, key) whose attention is the score at each query, rows of
    queries that count (None when no query counts)."""
    S = len(tokens)
    mask = np.zeros((S, S))
    for t in range(skip + 1, S):
        if score == "previous_token":
            mask[t, t - 1] = 1
            continue
        earlier = [j for j in range(skip, t) if tokens[j] == tokens[t]]
        if score == "duplicate_token":
            mask[t, earlier] = 1
        else:
            mask[t, [j + 1 for j in earlier if j + 1 < t]] = 1
    counted = mask.any(1)
    return None if not counted.any() else mask


class SetHeadScoresAnalysis:
    key = "set_head_scores"
    Params = SetHeadScoresParams
    version = 1

    def run(self, handle, inputs: PromptSet, params: SetHeadScoresParams, job: Job = NO_JOB) -> SetPatching:
        handle = as_handle(handle)
        if not isinstance(inputs, PromptSet):
            raise EngineError("set head scores run on a prompt set")
        if params.score not in SCORES:
            raise EngineError(f"score is one of {', '.join(SCORES)}")
        info, skip = handle.info, len(handle.special_prefix)
        hooks = [f"blocks.{l}.attn.hook_pattern" for l in range(info.n_layers)]
        groups: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        for i, row in enumerate(inputs.rows):
            ids = handle.tokenize(row.prompt)
            mask = score_masks(ids, skip, params.score)
            if mask is not None:
                groups.setdefault(len(ids), []).append((i, ids, mask))
        kept = sorted(i for rows in groups.values() for i, _, _ in rows)
        if not kept:
            raise EngineError(f"no prompt of the set has a query the {params.score.replace('_', ' ')} score reads "
                              "(a repeated token)")
        values = {}
        job.step(0, len(kept))
        for length, rows in groups.items():
            per = max(1, min(params.batch_tokens // length,  # and patterns [B, L, H, S, S] within the budget
                             params.pattern_floats // (info.n_layers * info.n_heads * length * length)))
            for start in range(0, len(rows), per):
                chunk = rows[start:start + per]
                acts = handle.forward(np.stack([ids for _, ids, _ in chunk]), capture=hooks, logits_to_keep=1).acts
                pattern = np.stack([acts[h].float().cpu().numpy() for h in hooks], 1)  # [B, L, H, S, S]
                masks = np.stack([m for _, _, m in chunk])  # [B, S, S]
                per_query = np.einsum("blhqk,bqk->blhq", pattern, masks)
                counted = masks.any(2)  # [B, S]
                scores = (per_query * counted[:, None, None]).sum(-1) / counted.sum(1)[:, None, None]
                for (i, _, _), s in zip(chunk, scores):
                    values[i] = s
                job.step(len(values), len(kept))
        per_prompt = np.stack([values[i] for i in kept])
        scored = subset(inputs, kept) if len(kept) < len(inputs) else inputs
        left = f" ({len(kept):,} of {len(inputs):,} prompts: the others repeat no token)" if len(kept) < len(inputs) else ""
        return SetPatching("head_scores", params.score, tuple(f"L{l}" for l in range(info.n_layers)),
                           tuple(f"H{h}" for h in range(info.n_heads)), per_prompt,
                           spread(per_prompt, params.n_boot, params.seed), np.zeros(len(kept)), np.zeros(len(kept)),
                           tuple(r.prompt for r in scored.rows), scored.digest, scored,
                           what=f"{params.score.replace('_', '-')} score on the set's tokens{left}")


register(SetHeadScoresAnalysis())
