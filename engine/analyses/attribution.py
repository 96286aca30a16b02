"""Attribution patching: a first-order estimate of every denoising patch at once.

effect(cell) ≈ (clean - corrupted activation) · d metric / d activation on the corrupted
run, summed over the cell's slice. One clean forward, one corrupted forward and one
backward, whatever the number of cells (Nanda, "Attribution Patching", 2023)."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import EngineError
from ..handle import ModelHandle, as_handle
from .patch_sweeps import sweep_shape
from .patching import PatchingResult, metric_of, prepare_pair


def attribution_patching(handle: ModelHandle, clean: str, corrupted: str, target: str | int, foil: str | int,
                         sweep: str = "head") -> PatchingResult:
    """Estimate the denoising sweep `sweep` (not 'head_pattern': the pattern is not a hook input)."""
    if sweep == "head_pattern":
        raise EngineError("Attribution patching estimates activations that are added or projected; "
                          "use activation patching for attention patterns")
    handle = as_handle(handle)
    pair = prepare_pair(handle, clean, corrupted, target, foil)
    info = handle.info
    shape = sweep_shape(sweep, info.n_layers, info.n_heads, handle.n_kv_heads, info.d_head, pair.tokens)
    rows = range(len(shape.row_labels))
    hooks = sorted({shape.hook(r) for r in rows})
    clean_m, clean_acts = metric_of(handle, pair.clean_ids, pair, tuple(hooks))
    t, f = pair.target_id, pair.foil_id

    def grad_leaf(act: torch.Tensor) -> torch.Tensor:  # the one leaf: the whole graph hangs off the embeddings
        return act.detach().requires_grad_(True)

    def keep_grad(act: torch.Tensor) -> torch.Tensor:
        act.retain_grad()
        return act

    edits = {"hook_embed": [grad_leaf], **{name: [keep_grad] for name in hooks}}
    cache = handle.metric_forward(pair.corrupt_ids, (t, f), edits, hooks, grad=True)  # float32, as the sweeps
    acts = cache.acts
    with torch.enable_grad():
        metric = cache.logits[0, 0] - cache.logits[0, 1]
        metric.backward()
        corrupt_m = float(metric.detach())
        if abs(clean_m - corrupt_m) < 1e-6:
            raise EngineError("The clean and corrupted prompts give the same logit difference: nothing to patch")
        products = {name: ((clean_acts[name][0] - acts[name][0].detach()).float() * acts[name].grad[0].float())
                    for name in hooks}  # [S, F]
    estimate = np.zeros((len(shape.row_labels), len(shape.column_labels)))
    for r in rows:
        prod = products[shape.hook(r)]
        if sweep in ("resid", "attn_out", "mlp_out"):
            estimate[r] = prod.sum(-1).cpu().numpy()
        else:
            per_head = prod.view(prod.shape[0], -1, info.d_head).sum(-1)  # [S, heads]
            estimate[r] = (per_head[:, r % info.n_heads] if sweep == "head_pos" else per_head.sum(0)).cpu().numpy()
    raw = corrupt_m + estimate
    return PatchingResult(sweep, estimate / (clean_m - corrupt_m), shape.row_labels, shape.column_labels,
                          clean_m, corrupt_m, "denoise", raw, method="attribution")


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two sweeps' cells (NaN when one is constant)."""
    x, y = np.ravel(a), np.ravel(b)
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])
