"""Readout 'patterns': every head's attention pattern, [n_layers, n_heads, S, S]."""

from __future__ import annotations

from ..analysis import StackedCaptures, register


def pattern_names(n_layers: int) -> list[str]:
    return [f"blocks.{l}.attn.hook_pattern" for l in range(n_layers)]


class PatternsReadout(StackedCaptures):
    key, order = "patterns", 2
    names = staticmethod(pattern_names)


register(PatternsReadout())
