"""Readout 'patterns': every head's attention pattern, [n_layers, n_heads, S, S]."""

from __future__ import annotations

import numpy as np

from ..analysis import Readout, NoParams, Prompt, ReadContext, register


def pattern_names(n_layers: int) -> list[str]:
    return [f"blocks.{l}.attn.hook_pattern" for l in range(n_layers)]


class PatternsReadout(Readout):
    key = "patterns"
    Params = NoParams
    order = 1

    def needs(self, params: NoParams, handle, prompt: Prompt) -> set[str]:
        return set(pattern_names(handle.info.n_layers))

    def read(self, ctx: ReadContext, params: NoParams) -> np.ndarray:
        return ctx.cache.stack(pattern_names(ctx.handle.info.n_layers)).numpy()


register(PatternsReadout())
