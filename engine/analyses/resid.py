"""Readout 'resid': the residual stream, [n_layers + 1, S, d_model] (input to layer 0, then
after each layer), for probes and scripts."""

from __future__ import annotations

import numpy as np

from ..analysis import Readout, NoParams, Prompt, ReadContext, register


def resid_names(n_layers: int) -> list[str]:
    return ["blocks.0.hook_resid_pre", *(f"blocks.{l}.hook_resid_post" for l in range(n_layers))]


class ResidReadout(Readout):
    key = "resid"
    Params = NoParams
    order = 3

    def needs(self, params: NoParams, handle, prompt: Prompt) -> set[str]:
        return set(resid_names(handle.info.n_layers))

    def read(self, ctx: ReadContext, params: NoParams) -> np.ndarray:
        return ctx.cache.stack(resid_names(ctx.handle.info.n_layers)).numpy()


register(ResidReadout())
