"""Analysis 'set_effects': what the current interventions do over a prompt set, in every
metric at once: the logit difference (target − foil), P(target), accuracy (the target beats
the foil; all three on the answers' first tokens) and the log-probability of the whole answer (a multi-token target, teacher-forced),
each without and with the edits and their difference, per prompt.

The result has the shape of a patching sweep over the set (rows: metrics; columns: plain,
edited, effect), so the set results panel shows its mean, spread, interval and sign share
and drills into any cell. Interventions act on the prompt's positions: one counted from the
end is made absolute first, and one on all positions covers the prompt, not the appended
answer (teacher forcing reads the answer, it does not edit it). A resample ablation naming a
reference set draws, for each prompt, its source from another prompt of the set of the same
length (seeded): resampling over the set's distribution, not from one fixed prompt."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..analysis import NO_JOB, Job, register
from ..errors import EngineError
from ..handle import as_handle
from ..live import edits_for
from ..prompt_sets import EditedSet
from ..set_stats import spread
from .set_patching import SetPatching

METRIC_ROWS = ("logit diff", "P(target)", "accuracy", "answer logP")  # target - foil; target > foil; Σ log P
COLUMNS = ("plain", "edited", "effect")


@dataclass(frozen=True)
class SetEffectsParams:
    n_boot: int = 1000
    seed: int = 0
    batch_tokens: int = 8192


def absolute_positions(interventions, prompt_len: int) -> tuple:
    """Interventions on the prompt's positions: negative ones resolved from the prompt's end,
    'all positions' made the prompt's (the answer's tokens are read, not edited: a set's
    per-position mean has no value past the prompt)."""
    out = []
    for item in interventions:
        positions = getattr(item, "positions", None)
        if hasattr(item, "positions") and positions is None:
            item = replace(item, positions=tuple(range(prompt_len)))
        elif positions:
            if any(not -prompt_len <= p < prompt_len for p in positions):
                raise EngineError(f"{item.component}: a position is outside a prompt of {prompt_len} tokens")
            item = replace(item, positions=tuple(p % prompt_len for p in positions))
        out.append(item)
    return tuple(out)


def _answer_ids(handle, prompt: str, prompt_ids: np.ndarray, answer: str, i: int) -> np.ndarray:
    full = handle.tokenize(prompt + answer)
    if len(full) <= len(prompt_ids) or not np.array_equal(full[:len(prompt_ids)], prompt_ids):
        raise EngineError(f"prompt {i + 1}: the answer {answer!r} does not add tokens after the prompt's own "
                          "(the tokenizer merges them across the join)")
    return full[len(prompt_ids):]


class SetEffectsAnalysis:
    key = "set_effects"
    Params = SetEffectsParams
    version = 1

    def run(self, handle, inputs: EditedSet, params: SetEffectsParams, job: Job = NO_JOB) -> SetPatching:
        handle = as_handle(handle)
        if not isinstance(inputs, EditedSet):
            raise EngineError("intervention effects run on a prompt set with the interventions to measure")
        rows = inputs.prompt_set.rows
        prepared, groups, by_prompt_length = [], {}, {}
        for i, row in enumerate(rows):
            if not row.target.strip() or not row.foil.strip():
                raise EngineError(f"prompt {i + 1}: the effects need a target and a foil")
            p = handle.tokenize(row.prompt)
            answer = _answer_ids(handle, row.prompt, p, row.target, i)
            full = np.concatenate([p, answer])
            foil = _answer_ids(handle, row.prompt, p, row.foil, i)  # a multi-token answer: its first token
            prepared.append((full, len(p), int(answer[0]), int(foil[0])))
            groups.setdefault((len(full), len(p)), []).append(i)
            by_prompt_length.setdefault(len(p), []).append(i)
        values = np.zeros((len(rows), len(METRIC_ROWS), len(COLUMNS)))
        job.step(0, len(rows))
        done = 0
        resampled = _resampled_from_set(inputs)
        rng = np.random.default_rng(params.seed)
        for (length, prompt_len), members in groups.items():
            edits = edits_for(handle, absolute_positions(inputs.interventions, prompt_len), length)
            per = 1 if resampled else max(1, params.batch_tokens // length)
            for start in range(0, len(members), per):
                chunk = members[start:start + per]
                if resampled:  # each prompt resampled from another prompt of the set, of its length
                    edits = edits_for(handle, absolute_positions(_draw_sources(
                        inputs, rows, by_prompt_length[prompt_len], chunk[0], rng), prompt_len), length)
                ids = np.stack([prepared[i][0] for i in chunk])
                target = torch.tensor([prepared[i][2] for i in chunk])
                foil = torch.tensor([prepared[i][3] for i in chunk])
                for column, chosen in ((0, {}), (1, edits)):
                    logits = handle.forward(ids, chosen, logits_to_keep=length - prompt_len + 1).logits.float()
                    answer = torch.as_tensor(ids[:, prompt_len:]).to(logits.device)
                    values[chunk, :, column] = _metrics(logits, answer, target.to(logits.device), foil.to(logits.device))
                done += len(chunk)
                job.step(done, len(rows))
        values[:, :, 2] = values[:, :, 1] - values[:, :, 0]
        names = ", ".join(i.component for i in inputs.interventions) or "no interventions"
        alone = sum(len(m) == 1 for m in by_prompt_length.values()) if resampled else 0
        if alone:  # no other prompt of their length to draw from: resampled from themselves, no effect
            names += f"; {alone} prompt{'s' if alone > 1 else ''} had no other prompt of its length to resample from"
        return SetPatching("effects", "edited", METRIC_ROWS, COLUMNS, values, spread(values, params.n_boot, params.seed),
                           values[:, 0, 0], values[:, 0, 1], tuple(r.prompt for r in rows), inputs.prompt_set.digest,
                           inputs.prompt_set, what=f"effect of the interventions ({names})", per_row_scale=True)


def _resampled_from_set(inputs: EditedSet) -> bool:
    return any(getattr(i, "method", "") == "resample" and getattr(i, "reference", "") for i in inputs.interventions)


def _draw_sources(inputs: EditedSet, rows, same_length: list[int], i: int, rng: np.random.Generator) -> tuple:
    """The interventions with every set-resample ablation drawing its source from another prompt
    of the set with as many prompt tokens (the answer is not resampled; the prompt itself when it
    is alone, which the result's title counts)."""
    others = [j for j in same_length if j != i] or [i]
    out = []
    for item in inputs.interventions:
        if getattr(item, "method", "") == "resample" and getattr(item, "reference", ""):
            item = replace(item, source_prompt=rows[int(rng.choice(others))].prompt)
        out.append(item)
    return tuple(out)


def _metrics(logits: torch.Tensor, answer: torch.Tensor, target: torch.Tensor, foil: torch.Tensor) -> np.ndarray:
    """[B, 4]: logit difference, P(target), target > foil, Σ log P(answer tokens); `logits` are
    the last A + 1 positions (the prompt's last, then the answer's), `answer` [B, A]."""
    first = logits[:, 0]
    diff = first.gather(1, target[:, None])[:, 0] - first.gather(1, foil[:, None])[:, 0]
    prob = torch.softmax(first, -1).gather(1, target[:, None])[:, 0]
    logp = torch.log_softmax(logits[:, :-1], -1).gather(2, answer[:, :, None])[:, :, 0].sum(1)
    return torch.stack([diff, prob, (diff > 0).float(), logp], 1).cpu().numpy()


register(SetEffectsAnalysis())
