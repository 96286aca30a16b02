"""Analysis 'training_timeline': how a model's circuits formed, one row per checkpoint.

For every checkpoint of a timeline (engine.checkpoints), with its weights swapped in
(handle.weights_from): previous-token, induction and duplicate-token scores of every head
and the copy loss, on one batch of repeated random token sequences (the same tokens for
every checkpoint, so rows differ only by the weights), and, when the prompt has a target
and a foil, their logit difference and P(target) on the user's prompt. The induction phase
change shows as the induction score jumping while the copy loss falls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import NO_JOB, Job, Prompt, register
from ..checkpoints import find_checkpoints
from ..errors import PromptError
from ..handle import as_handle
from .head_scores import head_scores_from_patterns
from .patterns import pattern_names


@dataclass(frozen=True)
class TimelineParams:
    folder: str = ""
    seg_len: int = 12
    n_sequences: int = 16
    seed: int = 0


@dataclass(frozen=True)
class TrainingTimeline:
    folder: str
    steps: tuple[int, ...]
    paths: tuple[str, ...]
    previous_token: np.ndarray  # [checkpoints, n_layers, n_heads]
    induction: np.ndarray  # [checkpoints, n_layers, n_heads]
    duplicate_token: np.ndarray  # [checkpoints, n_layers, n_heads]
    copy_loss: np.ndarray  # [checkpoints] mean cross-entropy on the second copy (nats)
    logit_diff: np.ndarray | None  # [checkpoints] on the prompt (None without target and foil)
    target_prob: np.ndarray | None  # [checkpoints]
    prompt: str = ""
    seg_len: int = 12

    def curves(self) -> dict[str, np.ndarray]:
        """What the timeline plots: one number per checkpoint each."""
        out = {"best induction score": self.induction.max(axis=(1, 2)),
               "copy loss (nats)": self.copy_loss}
        if self.logit_diff is not None:
            out["logit diff (target − foil)"] = self.logit_diff
        return out


def repeated_tokens(handle, seg_len: int, n: int, seed: int) -> np.ndarray:
    """[n, prefix + 2 seg_len]: the special prefix, a random segment of distinct ordinary
    tokens, the same segment again."""
    pool = handle.ordinary_ids()
    if len(pool) < seg_len:
        raise PromptError(f"seg_len {seg_len} needs at least that many distinct tokens; the vocabulary has {len(pool)}")
    rng = np.random.default_rng(seed)
    segment = np.stack([rng.choice(pool, size=seg_len, replace=False) for _ in range(n)])
    prefix = np.tile(np.asarray(handle.special_prefix, dtype=np.int64), (n, 1))
    return np.concatenate([prefix, segment, segment], axis=1)


def copy_loss(logits: torch.Tensor, ids: np.ndarray, start: int, seg_len: int) -> float:
    """Mean cross-entropy of the second copy's tokens after its first (those an induction
    head can predict): logits [B, T, V] predict ids [B, T] shifted by one."""
    first = start + seg_len + 1  # the first predictable token of the second copy
    pred = logits[:, first - 1:-1].double().log_softmax(-1)
    target = torch.as_tensor(ids[:, first:], device=pred.device)
    return float(-pred.gather(-1, target[..., None]).mean())


class TrainingTimelineAnalysis:
    key = "training_timeline"
    Params = TimelineParams
    version = 1

    def run(self, handle, inputs: Prompt | None, params: TimelineParams, job: Job = NO_JOB) -> TrainingTimeline:
        handle = as_handle(handle)
        checkpoints = find_checkpoints(params.folder)
        ids = repeated_tokens(handle, params.seg_len, params.n_sequences, params.seed)
        if ids.shape[1] > handle.info.n_ctx:
            raise PromptError(f"seg_len {params.seg_len} is too long for a context of {handle.info.n_ctx}")
        prompt = inputs if isinstance(inputs, Prompt) and inputs.target and inputs.foil else None
        answer = None
        if prompt is not None:
            answer = (handle.tokenize(prompt.text), handle.token_id(prompt.target), handle.token_id(prompt.foil))
        names, start = pattern_names(handle.info.n_layers), len(handle.special_prefix)
        rows: list[dict[str, np.ndarray]] = []
        losses, diffs, probs = [], [], []
        job.step(0, len(checkpoints))
        for i, checkpoint in enumerate(checkpoints):
            with handle.weights_from(checkpoint.path):
                cache = handle.forward(ids, capture=names)
                patterns = np.stack([cache[name].float().cpu().numpy() for name in names], axis=1)
                rows.append(head_scores_from_patterns(patterns, start, params.seg_len))
                losses.append(copy_loss(cache.logits, ids, start, params.seg_len))
                if answer is not None:
                    last = handle.forward(answer[0], logits_to_keep=1).logits[0, -1].double()
                    diffs.append(float(last[answer[1]] - last[answer[2]]))
                    probs.append(float(last.softmax(-1)[answer[1]]))
            job.step(i + 1, len(checkpoints))
        stack = {key: np.stack([row[key] for row in rows]) for key in rows[0]}
        return TrainingTimeline(
            folder=str(params.folder), steps=tuple(c.step for c in checkpoints), paths=tuple(str(c.path) for c in checkpoints),
            previous_token=stack["previous_token"], induction=stack["induction"], duplicate_token=stack["duplicate_token"],
            copy_loss=np.array(losses), logit_diff=np.array(diffs) if answer else None,
            target_prob=np.array(probs) if answer else None, prompt=prompt.text if prompt else "", seg_len=params.seg_len)


register(TrainingTimelineAnalysis())
