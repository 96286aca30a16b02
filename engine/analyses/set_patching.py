"""Analysis 'set_patching': an activation-patching sweep over every pair of a prompt set,
with the mean effect, its spread and each prompt's own value (for the drill-down).

Each prompt is normalised as in single-prompt patching (its clean run 1, its corrupted
run 0), so the set's mean is the mean of the single-prompt results. Prompts of equal
length whose pair first differs at the same position d run together: a source and a base
forward for the group, then the staircase of single-prompt patching over all the group's
prompts at once (handle.set_staircase): each variant (a cell of the sweep) joins at its
layer from the base run's residual, only positions >= d computed (before d the clean and
corrupted prompts agree, so a patch there changes nothing, and causal attention keeps
later patches from reaching back: those positions' keys/values are the base run's, cached
once per group), only the last position's logits read. Position sweeps need every prompt
the same length (their columns are positions)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import NO_JOB, Job, register
from ..errors import EngineError
from ..handle import as_handle
from ..prompt_sets import PromptSet
from ..set_stats import Spread, spread
from .patch_sweeps import SWEEPS, SweepShape, sweep_shape
from .patching import rows_per_chunk

POSITION_SWEEPS = ("resid", "attn_out", "mlp_out", "head_pos")


@dataclass(frozen=True)
class SetPatchingParams:
    sweep: str = "head"
    mode: str = "denoise"  # denoise: clean activations into the corrupted run; noise: the reverse
    n_boot: int = 1000
    seed: int = 0
    batch_tokens: int = 8192  # computed tokens per batched forward (memory)
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
    per_row_scale: bool = False  # rows in different units (set_effects' metrics): each coloured on its own scale

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
        groups = _by_prefix(handle, clean, corrupt, [i for rows in groups.values() for i in rows])
        progress = _Progress(job, len(variants) * len(groups))
        with handle.sweep_mode():
            for (length, prefix), rows in groups.items():
                group_shape = sweep_shape(params.sweep, info.n_layers, info.n_heads, handle.n_kv_heads, info.d_head,
                                          ["?"] * length)  # the same rows and columns, masks this long
                self._group(handle, group_shape, params, np.stack([clean[i] for i in rows]),
                            np.stack([corrupt[i] for i in rows]), target[rows], foil[rows], rows, prefix, raw,
                            clean_m, corrupt_m, variants, progress)
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
    def _group(handle, shape: SweepShape, params: SetPatchingParams, clean_ids: np.ndarray, corrupt_ids: np.ndarray,
               target: np.ndarray, foil: np.ndarray, rows: list[int], prefix: int, raw: np.ndarray,
               clean_m: np.ndarray, corrupt_m: np.ndarray, variants: list[tuple[int, int]], progress: "_Progress") -> None:
        """Every variant over one group's prompts (of one length, sharing `prefix` leading tokens)."""
        info = handle.info
        n_prompts, seq = clean_ids.shape
        source_ids, base_ids = (clean_ids, corrupt_ids) if params.mode == "denoise" else (corrupt_ids, clean_ids)
        hooks = sorted({shape.hook(r) for r, _ in variants})
        resid_in = [f"blocks.{l}.hook_resid_pre" for l in range(info.n_layers)]
        # positions before the first difference: computed once, for the source, the base and every variant
        prefix_kv = handle.prefix_cache(base_ids, prefix) if prefix else None
        tokens = np.stack([target, foil], 1) if params.metric == "logit_diff" else None
        target_t = torch.as_tensor(target)
        source = handle.after_prefix(source_ids, prefix_kv, hooks, tokens)
        base = handle.after_prefix(base_ids, prefix_kv, resid_in, tokens)
        source_m = _row_metric(source.logits, target_t, params.metric)
        base_m = _row_metric(base.logits, target_t, params.metric)
        a, b = (source_m, base_m) if params.mode == "denoise" else (base_m, source_m)
        clean_m[rows], corrupt_m[rows] = a.numpy(), b.numpy()
        todo = variants
        if prefix and params.sweep in POSITION_SWEEPS:  # cells before the first difference are the base run
            todo = [(r, c) for r, c in variants if c >= prefix]
            for r, c in variants:
                if c < prefix:
                    raw[rows, r, c] = base_m.numpy()
            progress.add(len(variants) - len(todo))
        todo = sorted(todo, key=lambda v: shape.layer(v[0]))
        src = {h: source[h] for h in hooks}  # [R, S - prefix, F]
        base_resid = {l: base[f"blocks.{l}.hook_resid_pre"] for l in range(info.n_layers)}
        per_chunk = rows_per_chunk(n_prompts * (seq - prefix), n_prompts * seq, batch_tokens=params.batch_tokens,
                                   n_variants=progress.total, d_model=info.d_model, n_layers=info.n_layers,
                                   free_bytes=handle.free_memory())
        for start in range(0, len(todo), per_chunk):
            chunk = todo[start:start + per_chunk]
            joins = sorted(Counter(shape.layer(r) for r, _ in chunk).items())
            logits = handle.set_staircase(base_ids, joins, base_resid, _chunk_edits(shape, chunk, src, prefix),
                                          tokens, prefix_kv).logits
            values = _row_metric(logits, target_t.repeat(len(chunk)), params.metric).view(len(chunk), n_prompts).numpy()
            for v, (r, c) in enumerate(chunk):
                raw[rows, r, c] = values[v]
            progress.add(len(chunk))


class _Progress:
    """Variants done over the whole set (job.step counts, and raises Cancelled when asked)."""

    def __init__(self, job: Job, total: int) -> None:
        self.job, self.total, self.done = job, total, 0
        job.step(0, total)

    def add(self, n: int) -> None:
        self.done += n
        self.job.step(self.done, self.total)


def _by_prefix(handle, clean: list[np.ndarray], corrupt: list[np.ndarray], rows: list[int]
               ) -> dict[tuple[int, int], list[int]]:
    """Rows grouped by length and by how many leading tokens the pair shares (what each
    group's variants skip): {(length, prefix): rows}. Each group keeps its own prefix rather
    than the smallest of the length: fewer positions computed, and the batches stay wide
    (a group of fewer prompts takes more variants per forward)."""
    out: dict[tuple[int, int], list[int]] = {}
    for i in rows:
        out.setdefault((len(clean[i]), handle.shared_prefix(clean[i], corrupt[i])), []).append(i)
    return dict(sorted(out.items()))


def _chunk_edits(shape: SweepShape, chunk: list[tuple[int, int]], source: dict[str, torch.Tensor],
                 prefix: int) -> dict[str, list]:
    """One edit per hook point: variant b (R rows, in chunk order, joining at its layer)
    takes its slice from the source run ([R, S - prefix, F]) on every prompt."""
    by_hook: dict[str, list[tuple[int, int, int]]] = {}
    for b, (r, c) in enumerate(chunk):
        by_hook.setdefault(shape.hook(r), []).append((b, r, c))
    edits: dict[str, list] = {}
    for name, items in by_hook.items():
        src = source[name]
        layer = shape.layer(items[0][1])
        present = sum(1 for r, _ in chunk if shape.layer(r) <= layer)  # variants in the batch at this layer
        mask = torch.zeros(present, 1, *src.shape[1:], dtype=torch.bool)
        for b, r, c in items:
            mask[b, 0] = shape.mask(r, c, src.shape[-1])[prefix:]
        edits[name] = [_where_edit(mask, src)]
    return edits


def _where_edit(mask: torch.Tensor, src: torch.Tensor):
    """act [V R, S', F] -> where mask [V, 1, S', F]: src [R, S', F], else act."""
    def edit(act: torch.Tensor) -> torch.Tensor:
        rows = act.reshape(mask.shape[0], src.shape[0], *act.shape[1:])
        return torch.where(mask.to(act.device), src.to(act.device, act.dtype), rows).reshape(act.shape)
    return edit


def _row_metric(logits: torch.Tensor, target: torch.Tensor, metric: str) -> torch.Tensor:
    """Per row from last-position logits: [rows, 2] (target, foil) -> their difference;
    [rows, V] -> P(target)."""
    if metric == "prob":
        return torch.softmax(logits.float(), -1).gather(1, target[:, None].to(logits.device))[:, 0].cpu()
    return (logits[:, 0] - logits[:, 1]).float().cpu()


register(SetPatchingAnalysis())
register(SetAttributionAnalysis())
