"""Is the hooked model still the model? One check for a UI badge.

Two comparisons against a plain `model(input_ids)` forward with no hooks:
1. the engine's own forward with every canonical hook point captured and passed through an
   identity edit (the capture and intervention code paths the app uses), which must not move
   the logits;
2. the last block's residual stream read back through the final norm (the module, and the
   formula DLA uses with the adapter's effective weight) and the adapter's unembedding, which
   must give the logits: this catches an adapter that hooks the wrong place or misdescribes
   the final norm (Gemma's 1 + w) or the soft-cap (Gemma 2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .hooks import hook_names

if TYPE_CHECKING:
    from .engine import Engine

RELATIVE_TOLERANCE = {torch.float32: 1e-4, torch.float16: 5e-3, torch.bfloat16: 2e-2}
"""Allowed |Δ logit| as a fraction of the logit scale (max |logit|, at least 1), by dtype."""
PROBE_TOKENS = 16


@dataclass(frozen=True)
class FidelityReport:
    max_abs_diff: float  # hooked engine forward vs plain forward, max |Δ logit|
    lens_abs_diff: float  # last residual -> final norm -> unembedding vs plain forward
    logit_scale: float
    tolerance: float
    dtype: str
    n_hook_points: int
    ok: bool
    message: str  # one line for a badge / tooltip


def fidelity_check(engine: Engine, probe: str | None = None,
                   edits: Mapping[str, list[Callable[[torch.Tensor], torch.Tensor]]] | None = None) -> FidelityReport:
    """Compare hooked and plain forwards on `probe` (default: random ordinary tokens).

    `edits` are added to the identity edits, e.g. to show what an intervention changes
    (tests use it to check that a perturbation is caught)."""
    ids = _probe_ids(engine, probe)
    dtype = engine.loaded.dtype
    names = hook_names(engine.adapter, engine.info.n_layers)
    with torch.inference_mode():
        plain = engine.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False).logits[0].float()
    scale = max(1.0, float(plain.abs().max()))
    tolerance = RELATIVE_TOLERANCE.get(dtype, 2e-2) * scale
    all_edits = {name: [_identity] for name in names}
    for name, fns in (edits or {}).items():
        all_edits.setdefault(name, []).extend(fns)
    try:
        hooked, store = engine._forward_edits(ids, all_edits, names)
        diff = float((hooked[0].float() - plain).abs().max())
        lens = _lens_diff(engine, store[f"blocks.{engine.info.n_layers - 1}.hook_resid_post"][0], plain)
    except Exception as exc:  # noqa: BLE001 - a broken adapter: the badge says so instead of the app crashing
        return FidelityReport(float("inf"), float("inf"), scale, tolerance, str(dtype), len(names), False,
                              f"Hooked forward failed: {type(exc).__name__}: {exc}")
    ok = diff <= tolerance and lens <= tolerance
    if diff > tolerance:
        message = f"Hooks change the model: logits differ by {diff:.2g} (tolerance {tolerance:.1g})"
    elif lens > tolerance:
        message = (f"Adapter misreads the model: final residual -> norm -> unembedding misses the logits "
                   f"by {lens:.2g} (tolerance {tolerance:.1g})")
    else:
        message = f"Faithful: {len(names)} hook points, logits within {max(diff, lens):.1g} of the plain model"
    return FidelityReport(diff, lens, scale, tolerance, str(dtype).removeprefix("torch."), len(names), ok, message)


def _identity(act: torch.Tensor) -> torch.Tensor:
    """An edit that changes nothing but still goes through the replace path of the hooks."""
    return act.clone()


def _probe_ids(engine: Engine, probe: str | None) -> torch.Tensor:
    if probe is not None:
        ids = engine.tokenize(probe)
    else:
        prefix = np.asarray(engine._special_prefix, dtype=np.int64)
        n = max(1, min(PROBE_TOKENS, engine.info.n_ctx - len(prefix)))
        ids = np.concatenate([prefix, engine.random_token_ids((n,), np.random.default_rng(0))])
    return torch.from_numpy(ids)[None].to(engine.loaded.device)


def _lens_diff(engine: Engine, resid: torch.Tensor, plain: torch.Tensor) -> float:
    """Max |Δ logit| of the last residual read out by the norm module and by DLA's formula."""
    adapter, model = engine.adapter, engine.model
    norm = model.get_submodule(adapter.final_norm)
    unembed = adapter.unembed_fn(model)
    with torch.inference_mode():
        by_module = unembed(norm(resid)).float()
        by_formula = unembed(_norm_formula(engine, resid).to(resid.dtype)).float()
    return max(float((by_module - plain).abs().max()), float((by_formula - plain).abs().max()))


def _norm_formula(engine: Engine, x: torch.Tensor) -> torch.Tensor:
    """The final norm as DLA writes it: kind, effective weight (1 + w for Gemma), bias, eps."""
    adapter, model = engine.adapter, engine.model
    norm = model.get_submodule(adapter.final_norm)
    eps = float(getattr(norm, "eps", getattr(norm, "variance_epsilon", 1e-5)))
    x = x.double()
    if adapter.final_norm_kind == "layernorm":
        x = x - x.mean(-1, keepdim=True)
    out = x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * adapter.final_norm_weight(model).double()
    bias = getattr(norm, "bias", None)
    return out + bias.double() if bias is not None else out
