"""Turn intervention data into hook edits.

A head's output is edited at the input of the attention output projection (its `z`
slice), which works for every family; an MLP's at its output. The replacement values
(means, resample sources) come from the caller, so this module holds no model state."""

from __future__ import annotations

from typing import Callable, Iterable

import torch

from .components import Component, parse_component
from .errors import InterventionError
from .hooks import EditFn
from .interventions import Ablation, Intervention, Scale

Replacement = Callable[[Ablation, Component], torch.Tensor]
"""Gives the replacement activation: [d] (broadcast over positions) or [S, d] (per position)."""


def hook_for(comp: Component) -> str:
    """The canonical hook point a component is edited at."""
    return f"blocks.{comp.layer}.attn.hook_z" if comp.kind == "head" else f"blocks.{comp.layer}.hook_mlp_out"


def _position_index(positions: tuple[int, ...] | None, seq_len: int, name: str) -> slice | torch.Tensor:
    if positions is None:
        return slice(None)
    for p in positions:
        if not -seq_len <= p < seq_len:
            raise InterventionError(f"{name}: position {p} is outside the prompt (0..{seq_len - 1})")
    return torch.tensor([p % seq_len for p in positions])


def _edit(intervention: Intervention, comp: Component, n_heads: int, seq_len: int,
          replacement: Replacement) -> EditFn:
    index = _position_index(intervention.positions, seq_len, intervention.component)
    value = None if isinstance(intervention, Scale) or intervention.method == "zero" \
        else replacement(intervention, comp)
    if value is not None and value.dim() == 2:
        needed = seq_len if isinstance(index, slice) else int(index.max()) + 1
        if value.shape[0] < needed:
            raise InterventionError(
                f"{intervention.component}: the resample source has {value.shape[0]} tokens, "
                f"the ablated positions need {needed}")
        value = value[:seq_len]

    def edit(act: torch.Tensor) -> torch.Tensor:
        out = act.clone()
        view = out.view(*out.shape[:-1], n_heads, -1)[..., comp.head, :] if comp.kind == "head" else out
        target = view[:, index]
        if isinstance(intervention, Scale):
            new = target * intervention.factor
        elif value is None:
            new = torch.zeros_like(target)
        elif value.dim() == 1:
            new = value.to(target.dtype).expand_as(target)
        else:
            new = value[index].to(target.dtype).expand_as(target)
        view[:, index] = new
        return out

    return edit


def build_edits(interventions: Iterable[Intervention], n_layers: int, n_heads: int, seq_len: int,
                replacement: Replacement) -> dict[str, list[EditFn]]:
    """hook name -> edits, in the order given (a later intervention on the same slice wins)."""
    edits: dict[str, list[EditFn]] = {}
    for intervention in interventions:
        comp = parse_component(intervention.component, n_layers, n_heads)
        edits.setdefault(hook_for(comp), []).append(_edit(intervention, comp, n_heads, seq_len, replacement))
    return edits
