"""Analysis 'set_patching': an activation-patching sweep over every pair of a prompt set,
with the mean effect, its spread and each prompt's own value (for the drill-down).

Each prompt is normalised as in single-prompt patching (its clean run 1, its corrupted
run 0), so the set's mean is the mean of the single-prompt results. Prompts of equal
length run together: a source and a base forward for the group, then for each variant
(a cell of the sweep) the base batch resumed at the patched layer with that slice copied
from the source, only the last position's logits computed; variants of one layer share a
forward up to a token budget. Position sweeps need every prompt the same length (their
columns are positions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import NO_JOB, Job, register
from ..errors import EngineError
from ..handle import as_handle
from ..prompt_sets import PromptSet
from ..set_stats import Spread, spread
from .patch_sweeps import SWEEPS, sweep_shape

POSITION_SWEEPS = ("resid", "attn_out", "mlp_out", "head_pos")


@dataclass(frozen=True)
class SetPatchingParams:
    sweep: str = "head"
    mode: str = "denoise"  # denoise: clean activations into the corrupted run; noise: the reverse
    n_boot: int = 1000
    seed: int = 0
    batch_tokens: int = 8192  # tokens per batched forward (memory)
    metric: str = "logit_diff"  # or "prob": P(target); either normalised clean 1, corrupted 0


@dataclass(frozen=True)
class SetPatching:
    sweep: str
    mode: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    per_prompt: np.ndarray  # [N, rows, cols] normalised (clean 1, corrupted 0)
    stats: Spread  # over prompts, per cell
    clean_metric: np.ndarray  # [N] the metric (logit difference, or P(target)) on the clean run
    corrupt_metric: np.ndarray  # [N]
    prompts: tuple[str, ...]
    set_digest: str
    prompt_set: PromptSet | None = None  # the rows (drill-down opens one in the single-prompt views)
    what: str = ""  # the title, when not a patching sweep ('direct logit attribution')

    @property
    def n(self) -> int:
        return len(self.prompts)


def _group_rows(handle, prompt_set: PromptSet):
    """Tokenise every pair; {length: [row indices]} plus ids, targets and foils per row."""
    clean, corrupt, target, foil, groups = [], [], [], [], {}
    for i, row in enumerate(prompt_set.rows):
        if not row.corrupted.strip() or not row.target.strip() or not row.foil.strip():
            raise EngineError(f"prompt {i + 1}: a patching set needs a corrupted prompt, a target and a foil")
        a, b = handle.tokenize(row.prompt), handle.tokenize(row.corrupted)
        if len(a) != len(b):
            raise EngineError(f"prompt {i + 1}: the corrupted prompt has {len(b)} tokens, the prompt {len(a)} "
                              "(patching copies position by position)")
        clean.append(a)
        corrupt.append(b)
        target.append(handle.token_id(row.target))
        foil.append(handle.token_id(row.foil))
        groups.setdefault(len(a), []).append(i)
    return clean, corrupt, np.array(target), np.array(foil), groups


METRICS = ("logit_diff", "prob")


def _metric(logits: torch.Tensor, target: torch.Tensor, foil: torch.Tensor, metric: str = "logit_diff") -> torch.Tensor:
    """Per row: logit(target) - logit(foil), or P(target), at the last position."""
    last = logits[:, -1].float()
    if metric == "prob":
        return torch.softmax(last, -1).gather(1, target[:, None])[:, 0]
    return last.gather(1, target[:, None])[:, 0] - last.gather(1, foil[:, None])[:, 0]


@dataclass(frozen=True)
class SetAttributionParams:
    sweep: str = "head"
    n_boot: int = 1000
    seed: int = 0


class SetAttributionAnalysis:
    """Attribution patching (a first-order estimate: two forwards and one backward per prompt)
    over every pair of a set, in the same result shape as activation patching. The fast
    estimate at real size; the drill-down shows where the estimate and real patching part."""

    key = "set_attribution"
    Params = SetAttributionParams
    version = 1

    def run(self, handle, inputs: PromptSet, params: SetAttributionParams, job: Job = NO_JOB) -> SetPatching:
        from .attribution import attribution_patching

        handle = as_handle(handle)
        if not isinstance(inputs, PromptSet):
            raise EngineError("set attribution runs on a prompt set")
        _, _, _, _, groups = _group_rows(handle, inputs)  # the same checks as activation patching
        if params.sweep in POSITION_SWEEPS and len(groups) > 1:
            raise EngineError(f"a {params.sweep} sweep has one column per position: the set's prompts have "
                              f"{len(groups)} different lengths")
        values, clean_m, corrupt_m, labels = [], [], [], None
        job.step(0, len(inputs))
        for i, row in enumerate(inputs.rows):
            r = attribution_patching(handle, row.prompt, row.corrupted, row.target, row.foil, params.sweep)
            values.append(r.values)
            clean_m.append(r.clean_metric)
            corrupt_m.append(r.corrupted_metric)
            labels = labels or (r.row_labels, r.column_labels)
            job.step(i + 1, len(inputs))
        per_prompt = np.stack(values)
        return SetPatching(params.sweep, "attribution", labels[0], labels[1], per_prompt,
                           spread(per_prompt, params.n_boot, params.seed), np.array(clean_m), np.array(corrupt_m),
                           tuple(r.prompt for r in inputs.rows), inputs.digest, inputs,
                           what=f"attribution patching (estimate), {params.sweep}")


class SetPatchingAnalysis:
    key = "set_patching"
    Params = SetPatchingParams
    version = 1

    def run(self, handle, inputs: PromptSet, params: SetPatchingParams, job: Job = NO_JOB) -> SetPatching:
        handle = as_handle(handle)
        if not isinstance(inputs, PromptSet):
            raise EngineError("set patching runs on a prompt set")
        if params.sweep not in SWEEPS or params.sweep == "head_pattern":
            raise EngineError(f"sweeps over a set: {', '.join(s for s in SWEEPS if s != 'head_pattern')}")
        if params.mode not in ("denoise", "noise"):
            raise EngineError("mode is 'denoise' or 'noise'")
        if params.metric not in METRICS:
            raise EngineError(f"metric is one of {', '.join(METRICS)}")
        info = handle.info
        clean, corrupt, target, foil, groups = _group_rows(handle, inputs)
        if params.sweep in POSITION_SWEEPS and len(groups) > 1:
            raise EngineError(f"a {params.sweep} sweep has one column per position: the set's prompts have "
                              f"{len(groups)} different lengths ({', '.join(map(str, sorted(groups)))} tokens)")
        first = next(iter(groups.values()))[0]
        tokens = handle.decode_tokens(clean[first]) if params.sweep in POSITION_SWEEPS else ["?"] * len(clean[first])
        shape = sweep_shape(params.sweep, info.n_layers, info.n_heads, handle.n_kv_heads, info.d_head, tokens)
        n_rows, n_cols = len(shape.row_labels), len(shape.column_labels)
        raw = np.zeros((len(inputs), n_rows, n_cols))
        clean_m, corrupt_m = np.zeros(len(inputs)), np.zeros(len(inputs))
        variants = [(r, c) for r in range(n_rows) for c in range(n_cols)]
        total = len(variants) * len(groups)
        job.step(0, total)
        done = 0
        with handle.sweep_mode():
            for length, rows in groups.items():
                group_shape = sweep_shape(params.sweep, info.n_layers, info.n_heads, handle.n_kv_heads, info.d_head,
                                          ["?"] * length)  # the same rows and columns, masks this long
                self._group(handle, group_shape, params, np.stack([clean[i] for i in rows]), np.stack([corrupt[i] for i in rows]),
                            torch.as_tensor(target[rows]), torch.as_tensor(foil[rows]), rows, raw, clean_m, corrupt_m,
                            variants, job, done, total)
                done += len(variants)
        gap = clean_m - corrupt_m
        if np.any(np.abs(gap) < 1e-6):
            bad = int(np.flatnonzero(np.abs(gap) < 1e-6)[0])
            raise EngineError(f"prompt {bad + 1}: the clean and corrupted prompts give the same "
                              f"{'probability' if params.metric == 'prob' else 'logit difference'}")
        values = (raw - corrupt_m[:, None, None]) / gap[:, None, None]
        return SetPatching(params.sweep, params.mode, shape.row_labels, shape.column_labels, values,
                           spread(values, params.n_boot, params.seed), clean_m, corrupt_m,
                           tuple(r.prompt for r in inputs.rows), inputs.digest, inputs,
                           what="" if params.metric == "logit_diff" else f"{params.sweep} patching ({params.mode}), P(target)")

    @staticmethod
    def _group(handle, shape, params, clean_ids, corrupt_ids, target, foil, rows, raw, clean_m, corrupt_m,
               variants, job, done, total) -> None:
        info = handle.info
        P, S = clean_ids.shape
        source_ids, base_ids = (clean_ids, corrupt_ids) if params.mode == "denoise" else (corrupt_ids, clean_ids)
        hooks = sorted({shape.hook(r) for r, _ in variants})
        resid_in = [f"blocks.{l}.hook_resid_pre" for l in range(info.n_layers)]
        source = handle.forward(source_ids, capture=hooks, logits_to_keep=1)
        base = handle.forward(base_ids, capture=resid_in, logits_to_keep=1)
        source_m = _metric(source.logits, target, foil, params.metric)
        base_m = _metric(base.logits, target, foil, params.metric)
        a, b = (source_m, base_m) if params.mode == "denoise" else (base_m, source_m)
        clean_m[rows], corrupt_m[rows] = a.numpy(), b.numpy()
        per_forward = max(1, params.batch_tokens // (P * S))  # variants per batched forward
        by_layer: dict[int, list[tuple[int, int]]] = {}
        for r, c in variants:
            by_layer.setdefault(shape.layer(r), []).append((r, c))
        for layer, items in sorted(by_layer.items()):
            for start in range(0, len(items), per_forward):
                chunk = items[start:start + per_forward]
                k = len(chunk)
                entering = base[f"blocks.{layer}.hook_resid_pre"].repeat(k, 1, 1)
                edits: dict[str, list] = {f"blocks.{layer}.hook_resid_pre": [lambda act, x=entering: x.to(act.dtype)]}
                for hook in sorted({shape.hook(r) for r, _ in chunk}):
                    src = source[hook]  # [P, S, F]
                    mask = torch.zeros(k * P, S, src.shape[-1], dtype=torch.bool)
                    for v, (r, c) in enumerate(chunk):
                        if shape.hook(r) == hook:
                            mask[v * P:(v + 1) * P] = shape.mask(r, c, src.shape[-1])
                    edits.setdefault(hook, []).append(
                        lambda act, m=mask, s=src.repeat(k, 1, 1): torch.where(m.to(act.device), s.to(act.dtype), act))
                logits = handle.forward(np.tile(base_ids, (k, 1)), edits, start_layer=layer, logits_to_keep=1).logits
                values = _metric(logits, target.repeat(k), foil.repeat(k), params.metric).view(k, P).numpy()
                for v, (r, c) in enumerate(chunk):
                    raw[rows, r, c] = values[v]
                done += k
                job.step(done, total)


register(SetPatchingAnalysis())
register(SetAttributionAnalysis())
