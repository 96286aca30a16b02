"""Activation patching sweeps, batched and resumed from the patched layer.

Denoising (the default): run the corrupted prompt with one slice of one activation taken
from the clean run, for every cell of a sweep (see patch_sweeps.SWEEPS). The metric is
logit(target) - logit(foil) at the last position; `values` are normalised so the clean
run scores 1 and the corrupted run 0 (`raw` keeps the logit differences). Noising swaps
the roles of the two prompts.

Speed: many variants share one forward (the batch dimension), and a variant patched at
layer l starts from the unpatched run's residual stream entering layer l (engine.resume),
so early layers are never recomputed; only two logits are computed at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..analysis import Cancelled
from ..errors import EngineError, PromptError
from ..handle import ModelHandle, as_handle
from ..results import PatchingResult
from .patch_sweeps import SWEEPS, SweepShape, sweep_shape

__all__ = ["SWEEPS", "Cancelled", "PatchingResult", "activation_patching", "prepare_pair"]

Progress = Callable[[int, int], None]
IsCancelled = Callable[[], bool]


@dataclass(frozen=True)
class PromptPair:
    clean_ids: np.ndarray
    corrupt_ids: np.ndarray
    target_id: int
    foil_id: int
    tokens: list[str]

    def source_and_base(self, mode: str) -> tuple[np.ndarray, np.ndarray]:
        if mode not in ("denoise", "noise"):
            raise EngineError("mode is 'denoise' or 'noise'")
        return (self.clean_ids, self.corrupt_ids) if mode == "denoise" else (self.corrupt_ids, self.clean_ids)


def prepare_pair(handle: ModelHandle, clean: str, corrupted: str, target: str | int, foil: str | int) -> PromptPair:
    """Tokenise a clean/corrupted pair; they must have the same number of tokens."""
    handle = as_handle(handle)
    clean_ids, corrupt_ids = handle.tokenize(clean), handle.tokenize(corrupted)
    if len(clean_ids) != len(corrupt_ids):
        raise PromptError(f"The clean and corrupted prompts must have the same number of tokens "
                          f"({len(clean_ids)} vs {len(corrupt_ids)})")
    return PromptPair(clean_ids, corrupt_ids, handle.token_id(target), handle.token_id(foil),
                      handle.decode_tokens(clean_ids))


MIN_CHUNKS = 4  # a sweep reports progress and can be cancelled at least this often (8 cost SmolLM2 +15%)
MEMORY_SHARE = 0.25  # of the free memory, what one chunk's activations may take


def rows_per_chunk(computed: int, seq_len: int, batch_tokens: int = 4096, cached_tokens: int = 16384,
                   n_variants: int | None = None, d_model: int | None = None, n_layers: int | None = None,
                   free_bytes: int | None = None) -> int:
    """Variants per forward: enough rows that the matrix products stay large (computed
    positions per row: S minus the reused prefix), few enough that the keys/values every
    row attends over (all S positions) stay bounded, that one chunk's activations fit in a
    share of the free memory (a row holds ~16 d_model-vectors per computed position in a
    layer, and keys/values of every position for every layer), and that a sweep of
    `n_variants` comes in at least MIN_CHUNKS steps (progress that moves, a cancel that
    takes effect within a chunk: a 270-head SmolLM2 sweep was one chunk)."""
    rows = min(batch_tokens // max(computed, 1), cached_tokens // max(seq_len, 1))
    if free_bytes and d_model and n_layers:
        row_bytes = 4 * d_model * (16 * max(computed, 1) + 2 * n_layers * seq_len)
        rows = min(rows, int(free_bytes * MEMORY_SHARE) // row_bytes)
    if n_variants:
        rows = min(rows, -(-n_variants // MIN_CHUNKS))
    return max(1, rows)


def chunk_rows_for(handle: ModelHandle, computed: int, seq_len: int, n_variants: int) -> int:
    """rows_per_chunk for this model on the device it runs on, from its free memory now."""
    info = handle.info
    return rows_per_chunk(computed, seq_len, n_variants=n_variants, d_model=info.d_model, n_layers=info.n_layers,
                          free_bytes=handle.free_memory())


def metric_of(handle: ModelHandle, ids: np.ndarray, pair: PromptPair, capture: tuple[str, ...] = ()
              ) -> tuple[float, dict[str, torch.Tensor]]:
    cache = handle.staircase(ids, [(0, 1)], {}, {}, (pair.target_id, pair.foil_id), capture)
    return float(cache.logits[0, 0] - cache.logits[0, 1]), cache.acts


def require_hooks(handle: ModelHandle, names: list[str], what: str) -> None:
    """A clear message when the model's adapter lacks a hook point an analysis needs."""
    for name in names:
        if not handle.has_hook(name):
            raise EngineError(f"'{what}' needs the hook point {name}, which {handle.info.family} models do not "
                              "provide (their query/key/value projection is fused in a way not split yet)")


def activation_patching(handle: ModelHandle, clean: str, corrupted: str, target: str | int, foil: str | int,
                        sweep: str = "head", mode: str = "denoise", chunk_size: int | None = None,
                        progress: Progress | None = None, cancelled: IsCancelled | None = None,
                        resume: bool = True) -> PatchingResult:
    """Patch every cell of `sweep` (batched; resumed from the patched layer unless resume=False).
    `handle`: a model handle, or an Engine (its handle is used)."""
    handle = as_handle(handle)
    with handle.sweep_mode():
        return _activation_patching(handle, clean, corrupted, target, foil, sweep, mode, chunk_size, progress,
                                    cancelled, resume)


def _activation_patching(handle: ModelHandle, clean: str, corrupted: str, target: str | int, foil: str | int,
                         sweep: str, mode: str, chunk_size: int | None, progress: Progress | None,
                         cancelled: IsCancelled | None, resume: bool) -> PatchingResult:
    pair = prepare_pair(handle, clean, corrupted, target, foil)
    info = handle.info
    shape = sweep_shape(sweep, info.n_layers, info.n_heads, handle.n_kv_heads, info.d_head, pair.tokens)
    source_ids, base_ids = pair.source_and_base(mode)
    hooks = sorted({shape.hook(r) for r in range(len(shape.row_labels))})
    if sweep == "head_pattern":
        hooks += [f"blocks.{l}.attn.hook_pattern" for l in range(info.n_layers)]
    require_hooks(handle, hooks + (["blocks.0.attn.hook_v"] if sweep == "head_pattern" else []), SWEEPS[sweep])
    resid_in = tuple(f"blocks.{l}.hook_resid_pre" for l in range(info.n_layers))
    source_m, source = metric_of(handle, source_ids, pair, tuple(hooks))
    base_m, base = metric_of(handle, base_ids, pair, resid_in)
    clean_m, corrupt_m = (source_m, base_m) if mode == "denoise" else (base_m, source_m)
    if abs(clean_m - corrupt_m) < 1e-6:
        raise EngineError("The clean and corrupted prompts give the same logit difference: nothing to patch")

    variants = sorted(((r, c) for r in range(len(shape.row_labels)) for c in range(len(shape.column_labels))),
                      key=lambda v: shape.layer(v[0]) if resume else 0)
    join_layer = (lambda row: shape.layer(row)) if resume else (lambda row: 0)
    # Tokens before the first difference give identical activations in both runs: patching
    # there changes nothing, and every variant can reuse the base run's keys/values for them.
    prefix = handle.shared_prefix(pair.clean_ids, pair.corrupt_ids) if resume and sweep != "head_pattern" else 0
    raw = np.full((len(shape.row_labels), len(shape.column_labels)), base_m)
    if prefix and shape.column_labels[0].startswith("0:"):  # position sweeps: cells before it are the base run
        variants = [(r, c) for r, c in variants if c >= prefix]
    _run_chunks(handle, shape, pair, variants, source, base, base_ids, join_layer, prefix,
                chunk_size or chunk_rows_for(handle, len(base_ids) - prefix, len(base_ids), len(variants)), raw,
                progress, cancelled)
    values = (raw - corrupt_m) / (clean_m - corrupt_m)  # clean 1, corrupted 0, in both modes
    return PatchingResult(sweep, values, shape.row_labels, shape.column_labels, clean_m, corrupt_m, mode, raw)


def _run_chunks(handle: ModelHandle, shape: SweepShape, pair: PromptPair, variants: list[tuple[int, int]],
                source: dict[str, torch.Tensor], base: dict[str, torch.Tensor], base_ids: np.ndarray,
                join_layer: Callable[[int], int], prefix: int, per_chunk: int, raw: np.ndarray,
                progress: Progress | None, cancelled: IsCancelled | None) -> None:
    """The batched forwards of a sweep; each variant's logit difference lands in raw[row, col]."""
    info = handle.info
    prefix_kv = handle.prefix_cache(base_ids, prefix) if prefix else None
    base_resid = {l: base[f"blocks.{l}.hook_resid_pre"][:, prefix:] for l in range(info.n_layers)}
    if progress is not None:
        progress(0, len(variants))  # the bar counts from the start, not after the first chunk
    for done in range(0, len(variants), per_chunk):
        if cancelled is not None and cancelled():
            raise Cancelled("Patching was cancelled")
        chunk = variants[done:done + per_chunk]
        joins = sorted(Counter(join_layer(r) for r, _ in chunk).items())
        edits = chunk_edits(shape, chunk, source, join_layer, prefix)
        logits = handle.staircase(base_ids, joins, base_resid, edits, (pair.target_id, pair.foil_id),
                                  prefix_kv=prefix_kv).logits
        diffs = (logits[:, 0] - logits[:, 1]).cpu().numpy()
        for (r, c), value in zip(chunk, diffs):
            raw[r, c] = value
        if progress is not None:
            progress(done + len(chunk), len(variants))


def chunk_edits(shape: SweepShape, chunk: list[tuple[int, int]], source: dict[str, torch.Tensor],
                join_layer: Callable[[int], int], prefix: int = 0) -> dict[str, list]:
    """One edit per hook point: batch row b takes variant b's slice from the source run.
    Rows join the batch in chunk order at join_layer(row), so at a hook of layer l the
    batch holds the chunk's variants that joined at or before l."""
    by_hook: dict[str, list[tuple[int, int, int]]] = {}
    for b, (r, c) in enumerate(chunk):
        by_hook.setdefault(shape.hook(r), []).append((b, r, c))
    edits: dict[str, list] = {}
    for name, items in by_hook.items():
        src = source[name][0, prefix:]  # [S - prefix, F]
        layer = shape.layer(items[0][1])
        batch = sum(1 for r, _ in chunk if join_layer(r) <= layer)
        mask = torch.zeros(batch, *src.shape, dtype=torch.bool)
        for b, r, c in items:
            mask[b] = shape.mask(r, c, src.shape[-1])[prefix:]
        if shape.name == "head_pattern":
            _add_pattern_edits(edits, shape, name, mask, source)
        else:
            edits[name] = [_where_edit(mask, src)]
    return edits


def _where_edit(mask: torch.Tensor, src: torch.Tensor):
    def edit(act: torch.Tensor) -> torch.Tensor:
        return torch.where(mask.to(act.device), src.to(act.device, act.dtype), act)
    return edit


def _add_pattern_edits(edits: dict[str, list], shape: SweepShape, z_name: str, mask: torch.Tensor,
                       source: dict[str, torch.Tensor]) -> None:
    """A head's output with the source run's attention pattern and this run's values:
    z = pattern_source @ v, exact because z is exactly that product in the model."""
    layer = int(z_name.split(".")[1])
    pattern = source[f"blocks.{layer}.attn.hook_pattern"][0]  # [H, S, S]
    seen: dict[str, torch.Tensor] = {}

    def keep_v(act: torch.Tensor) -> torch.Tensor:
        seen["v"] = act
        return act

    def edit(act: torch.Tensor) -> torch.Tensor:
        v = seen["v"].view(act.shape[0], act.shape[1], shape.n_kv_heads, shape.d_head)
        v = v.repeat_interleave(shape.n_heads // shape.n_kv_heads, dim=2)  # grouped-query: shared values
        alt = torch.einsum("hqk,bkhd->bqhd", pattern.to(v.dtype), v).reshape(act.shape)
        return torch.where(mask.to(act.device), alt, act)

    edits.setdefault(f"blocks.{layer}.attn.hook_v", []).append(keep_v)
    edits[z_name] = [edit]
