"""Component names shared by the engine, the app and session files.

`embed`, `pos_embed`, `L{l}.H{h}` (an attention head), `L{l}.mlp`, `L{l}.attn_bias`
(the attention output bias, not attributable to any head) and `unembed`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InterventionError

_HEAD = re.compile(r"^L(\d+)\.H(\d+)$")
_MLP = re.compile(r"^L(\d+)\.mlp$")


@dataclass(frozen=True)
class Component:
    """A parsed component: kind is 'head' or 'mlp'; head is None for an MLP."""

    kind: str
    layer: int
    head: int | None = None

    @property
    def name(self) -> str:
        return head_name(self.layer, self.head) if self.kind == "head" else mlp_name(self.layer)


def head_name(layer: int, head: int | None) -> str:
    return f"L{layer}.H{head}"


def mlp_name(layer: int) -> str:
    return f"L{layer}.mlp"


def parse_component(name: str, n_layers: int | None = None, n_heads: int | None = None) -> Component:
    """Parse an ablatable component name; with the model's shape, also check it exists."""
    if m := _HEAD.match(name):
        comp = Component("head", int(m.group(1)), int(m.group(2)))
    elif m := _MLP.match(name):
        comp = Component("mlp", int(m.group(1)))
    else:
        raise InterventionError(f"'{name}' is not a component name (expected L<layer>.H<head> or L<layer>.mlp)")
    if n_layers is not None and not 0 <= comp.layer < n_layers:
        raise InterventionError(f"{name}: the model has layers 0..{n_layers - 1}")
    if comp.head is not None and n_heads is not None and not 0 <= comp.head < n_heads:
        raise InterventionError(f"{name}: the model has heads 0..{n_heads - 1} per layer")
    return comp
