"""Intervention data -> hook edits, through a registry keyed by the intervention's kind.

A new kind of intervention (steering, a feature clamp) is a frozen dataclass in
`interventions.py` plus one `@edit_compiler("kind")` function here or in its own module;
nothing dispatches on types. Positions are resolved when the edit runs, against the
activation it sees (plus `EditContext.offset`, the absolute position of its first column),
so the same intervention works on a longer sequence, during generation with a KV cache,
or on the tail a resumed run computes. Replacement values (means, resample sources) come
from the caller, so this module holds no model state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch

from .addresses import Address, parse_address
from .errors import InterventionError
from .hooks import EditFn
from .interventions import Intervention

Replacement = Callable[[Intervention, Address], torch.Tensor]
"""Gives the replacement activation: [d] (broadcast over positions) or [S, d] (per position)."""


@dataclass(frozen=True)
class EditContext:
    n_layers: int
    n_heads: int
    replacement: Replacement
    offset: int = 0  # absolute position of the first column the edits see


EditCompiler = Callable[[Intervention, Address, EditContext], "EditFn | dict[str, EditFn]"]
"""Gives the edit at the address's hook, or {hook: edit} when it must also read another place
first (a transcoder feature reads the MLP's input and edits its output), in forward order."""
_COMPILERS: dict[str, EditCompiler] = {}


def edit_compiler(kind: str) -> Callable[[EditCompiler], EditCompiler]:
    """Register the function that turns interventions of `kind` into a hook edit."""
    def register(fn: EditCompiler) -> EditCompiler:
        _COMPILERS[kind] = fn
        return fn
    return register


def hook_for(address: Address) -> str:
    """The canonical hook point an address is edited at."""
    return address.hook


def resolve_positions(positions: tuple[int, ...] | None, offset: int, width: int, total: int | None,
                      name: str) -> slice | torch.Tensor | None:
    """Columns of an activation [.., width, ..] that starts at absolute position `offset` and
    belongs to a sequence of `total` tokens (negative positions count from its end).
    None: no asked position falls in these columns."""
    if positions is None:
        return slice(None)
    total = offset + width if total is None else total
    columns = []
    for p in positions:
        if not -total <= p < total:
            raise InterventionError(f"{name}: position {p} is outside the prompt (0..{total - 1})")
        column = p % total - offset
        if 0 <= column < width:
            columns.append(column)
    return torch.tensor(columns) if columns else None


def _view(act: torch.Tensor, address: Address, n_heads: int) -> torch.Tensor:
    return act.view(*act.shape[:-1], n_heads, -1)[..., address.head, :] if address.kind == "head" else act


def _slice_edit(intervention: Intervention, address: Address, ctx: EditContext,
                new: Callable[[torch.Tensor, slice | torch.Tensor, int], torch.Tensor]) -> EditFn:
    """An edit that replaces the positions asked (resolved per call) with new(old, index, offset)."""
    def edit(act: torch.Tensor) -> torch.Tensor:
        index = resolve_positions(intervention.positions, ctx.offset, act.shape[1], None, intervention.component)
        if index is None:
            return act
        out = act.clone()
        view = _view(out, address, ctx.n_heads)
        view[:, index] = new(view[:, index], index, act.shape[1])
        return out
    return edit


@edit_compiler("scale")
def _scale(intervention, address: Address, ctx: EditContext) -> EditFn:
    return _slice_edit(intervention, address, ctx, lambda old, index, width: old * intervention.factor)


@edit_compiler("ablation")
def _ablation(intervention, address: Address, ctx: EditContext) -> EditFn:
    if intervention.method == "zero":
        return _slice_edit(intervention, address, ctx, lambda old, index, width: torch.zeros_like(old))
    value = ctx.replacement(intervention, address)
    if value.dim() == 1:
        return _slice_edit(intervention, address, ctx, lambda old, index, width: value.to(old.dtype).expand_as(old))

    def per_position(old: torch.Tensor, index, width: int) -> torch.Tensor:
        columns = torch.arange(ctx.offset, ctx.offset + width)[index]
        needed = int(columns.max()) + 1 if len(columns) else 0
        if value.shape[0] < needed:
            raise InterventionError(f"{intervention.component}: the replacement (a resample source, or a set's "
                                    f"per-position mean) has {value.shape[0]} positions, "
                                    f"the ablated positions need {needed}")
        return value[columns.to(value.device)].to(old.dtype).expand_as(old)
    return _slice_edit(intervention, address, ctx, per_position)


def compile_edits(interventions: Iterable[Intervention], ctx: EditContext) -> dict[str, list[EditFn]]:
    """hook name -> edits, in the order given (a later intervention on the same slice wins)."""
    edits: dict[str, list[EditFn]] = {}
    for intervention in interventions:
        compiler = _COMPILERS.get(intervention.kind)
        if compiler is None:
            raise InterventionError(f"no edit is registered for interventions of kind '{intervention.kind}'")
        address = parse_address(intervention.component, ctx.n_layers, ctx.n_heads)
        compiled = compiler(intervention, address, ctx)
        for hook, edit in (compiled.items() if isinstance(compiled, dict) else [(address.hook, compiled)]):
            edits.setdefault(hook, []).append(edit)
    return edits


def build_edits(interventions: Iterable[Intervention], n_layers: int, n_heads: int, seq_len: int,
                replacement: Replacement) -> dict[str, list[EditFn]]:
    """compile_edits for a whole prompt of seq_len tokens; positions are checked now, so a bad
    one is a message before any forward (seq_len is only used for that check)."""
    interventions = tuple(interventions)
    for intervention in interventions:
        resolve_positions(getattr(intervention, "positions", None), 0, seq_len, seq_len, intervention.component)
    return compile_edits(interventions, EditContext(n_layers, n_heads, replacement))


def first_edited_layer(interventions: Iterable[Intervention]) -> int:
    """The first block any of these interventions can change (0 when there are none)."""
    return min((parse_address(i.component).first_layer for i in interventions), default=0)

from . import feature_edits, steering  # noqa: E402,F401 - register their edit compilers (they import this module)
