"""Activation patching sweeps, batched: many patched variants in one forward pass.

Denoising (the default): run the corrupted prompt with one component's activation taken
from the clean run, for every component at once in chunks of the batch dimension; the
metric is logit(target) - logit(foil) at the last position, normalised so the clean run
scores 1 and the corrupted run 0. Noising swaps the roles of the two prompts.

Sweeps: 'resid' (residual stream into each layer, plus after the last, x position),
'attn_out' and 'mlp_out' (layer x position), 'head' (layer x head, all positions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .engine import Engine
from .errors import EngineError, PromptError
from .hooks import hooks_attached

SWEEPS = ("resid", "attn_out", "mlp_out", "head")


@dataclass(frozen=True)
class PatchingResult:
    sweep: str
    values: np.ndarray  # normalised metric: [rows, columns]
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    clean_metric: float
    corrupted_metric: float
    mode: str  # 'denoise' (clean into corrupted) or 'noise' (corrupted into clean)


class Cancelled(EngineError):
    """The sweep was cancelled between chunks."""


def _hook(sweep: str, layer: int, n_layers: int) -> str:
    if sweep == "resid":
        return f"blocks.{layer}.hook_resid_pre" if layer < n_layers else f"blocks.{n_layers - 1}.hook_resid_post"
    if sweep == "head":
        return f"blocks.{layer}.attn.hook_z"
    return f"blocks.{layer}.hook_{sweep}"


def activation_patching(engine: Engine, clean: str, corrupted: str, target: str, foil: str, sweep: str = "head",
                        mode: str = "denoise", chunk_size: int = 64,
                        progress: Callable[[int, int], None] | None = None,
                        cancelled: Callable[[], bool] | None = None) -> PatchingResult:
    """Patch every component of `sweep` one at a time (batched) and measure the metric."""
    if sweep not in SWEEPS:
        raise EngineError(f"unknown sweep '{sweep}' (choose from {', '.join(SWEEPS)})")
    if mode not in ("denoise", "noise"):
        raise EngineError("mode is 'denoise' or 'noise'")
    clean_ids, corrupt_ids = engine.tokenize(clean), engine.tokenize(corrupted)
    if len(clean_ids) != len(corrupt_ids):
        raise PromptError(f"The clean and corrupted prompts must have the same number of tokens "
                          f"({len(clean_ids)} vs {len(corrupt_ids)})")
    t, f = engine.token_id(target), engine.token_id(foil)
    n_layers, n_heads, seq = engine.info.n_layers, engine.info.n_heads, len(clean_ids)
    rows = n_layers + 1 if sweep == "resid" else n_layers
    hooks = sorted({_hook(sweep, l, n_layers) for l in range(rows)})

    def metric(logits: torch.Tensor) -> torch.Tensor:
        last = logits[:, -1].float()
        return last[:, t] - last[:, f]

    source_ids, base_ids = (clean_ids, corrupt_ids) if mode == "denoise" else (corrupt_ids, clean_ids)
    clean_logits, _ = engine._forward(torch.from_numpy(clean_ids)[None], (), (), logits_to_keep=1)
    corrupt_logits, _ = engine._forward(torch.from_numpy(corrupt_ids)[None], (), (), logits_to_keep=1)
    _, source = engine._forward(torch.from_numpy(source_ids)[None], (), hooks, logits_to_keep=1)
    clean_m, corrupt_m = float(metric(clean_logits)[0]), float(metric(corrupt_logits)[0])
    if abs(clean_m - corrupt_m) < 1e-6:
        raise EngineError("The clean and corrupted prompts give the same logit difference: nothing to patch")

    columns = n_heads if sweep == "head" else seq
    variants = [(r, c) for r in range(rows) for c in range(columns)]
    out = np.empty(len(variants))
    base = torch.from_numpy(base_ids)
    for start in range(0, len(variants), chunk_size):
        if cancelled is not None and cancelled():
            raise Cancelled("Patching was cancelled")
        chunk = variants[start : start + chunk_size]
        edits = _batched_edits(chunk, sweep, source, n_layers, n_heads)
        logits, _ = engine._forward_edits(base.repeat(len(chunk), 1), edits, logits_to_keep=1)
        out[start : start + len(chunk)] = metric(logits).cpu().numpy()
        if progress is not None:
            progress(min(start + chunk_size, len(variants)), len(variants))
    values = ((out - corrupt_m) / (clean_m - corrupt_m)).reshape(rows, columns)  # clean 1, corrupted 0, both modes
    row_labels = tuple(f"L{l}" for l in range(n_layers)) + (("final",) if sweep == "resid" else ())
    column_labels = tuple(f"H{h}" for h in range(n_heads)) if sweep == "head" else tuple(engine.decode_tokens(clean_ids))
    return PatchingResult(sweep, values, row_labels, column_labels, clean_m, corrupt_m, mode)


def _batched_edits(chunk: list[tuple[int, int]], sweep: str, source: dict[str, torch.Tensor], n_layers: int,
                   n_heads: int) -> dict[str, list]:
    """One edit per hook point, patching row b of the batch at variant b's slice only."""
    by_hook: dict[str, list[tuple[int, int]]] = {}
    for batch_row, (layer, column) in enumerate(chunk):
        by_hook.setdefault(_hook(sweep, layer, n_layers), []).append((batch_row, column))

    def make(name: str, targets: list[tuple[int, int]]):
        rows = torch.tensor([b for b, _ in targets])
        cols = torch.tensor([c for _, c in targets])
        src = source[name][0]  # [S, d] (z: [S, H*dh])

        def edit(act: torch.Tensor) -> torch.Tensor:
            out = act.clone()
            if sweep == "head":
                view = out.view(*out.shape[:-1], n_heads, -1)  # [B, S, H, dh]
                view[rows, :, cols] = src.view(src.shape[0], n_heads, -1)[:, cols].transpose(0, 1).to(out.dtype)
            else:
                out[rows, cols] = src[cols].to(out.dtype)
            return out
        return edit

    return {name: [make(name, targets)] for name, targets in by_hook.items()}


def attribution_patching(engine: Engine, clean: str, corrupted: str, target: str, foil: str,
                         sweep: str = "head") -> PatchingResult:
    """First-order estimate of every denoising patch at once: (clean - corrupted activation)
    times the metric's gradient on the corrupted run. One clean forward, one corrupted
    forward and one backward, whatever the number of components."""
    if sweep not in SWEEPS:
        raise EngineError(f"unknown sweep '{sweep}' (choose from {', '.join(SWEEPS)})")
    clean_ids, corrupt_ids = engine.tokenize(clean), engine.tokenize(corrupted)
    if len(clean_ids) != len(corrupt_ids):
        raise PromptError(f"The clean and corrupted prompts must have the same number of tokens "
                          f"({len(clean_ids)} vs {len(corrupt_ids)})")
    t, f = engine.token_id(target), engine.token_id(foil)
    n_layers, n_heads = engine.info.n_layers, engine.info.n_heads
    rows = n_layers + 1 if sweep == "resid" else n_layers
    hooks = [_hook(sweep, l, n_layers) for l in range(rows)]
    clean_logits, clean_acts = engine._forward(torch.from_numpy(clean_ids)[None], (), hooks, logits_to_keep=1)
    clean_m = float(clean_logits[0, -1, t] - clean_logits[0, -1, f])

    def grad_leaf(act: torch.Tensor) -> torch.Tensor:  # the one leaf: the whole graph hangs off the embeddings
        return act.detach().requires_grad_(True)

    def keep_grad(act: torch.Tensor) -> torch.Tensor:
        act.retain_grad()
        return act

    edits = {"hook_embed": [grad_leaf], **{name: [keep_grad] for name in hooks}}
    ids = torch.from_numpy(corrupt_ids)[None].to(engine.loaded.device)
    with torch.enable_grad(), hooks_attached(engine.model, engine.adapter, n_layers, hooks, edits) as acts:
        logits = engine.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False, logits_to_keep=1).logits
        metric = logits[0, -1, t].float() - logits[0, -1, f].float()
        metric.backward()
        corrupt_m = float(metric.detach())
        if abs(clean_m - corrupt_m) < 1e-6:
            raise EngineError("The clean and corrupted prompts give the same logit difference: nothing to patch")
        values = []
        for name in hooks:
            delta = (clean_acts[name][0] - acts[name][0].detach()).float()  # [S, d] or [S, H*dh]
            grad = acts[name].grad[0].float()
            if sweep == "head":
                per = (delta * grad).view(delta.shape[0], n_heads, -1).sum(dim=(0, 2))  # [H]
            else:
                per = (delta * grad).sum(-1)  # [S]
            values.append(per.cpu().numpy())
    estimate = np.stack(values) / (clean_m - corrupt_m)
    row_labels = tuple(f"L{l}" for l in range(n_layers)) + (("final",) if sweep == "resid" else ())
    column_labels = tuple(f"H{h}" for h in range(n_heads)) if sweep == "head" else tuple(engine.decode_tokens(clean_ids))
    return PatchingResult(f"{sweep} (attribution)", estimate, row_labels, column_labels, clean_m, corrupt_m, "denoise")
