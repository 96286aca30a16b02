"""Readout 'resid': the residual stream, [n_layers + 1, S, d_model] (input to layer 0, then
after each layer), for probes and scripts."""

from __future__ import annotations

from ..analysis import StackedCaptures, register


def resid_names(n_layers: int) -> list[str]:
    return ["blocks.0.hook_resid_pre", *(f"blocks.{l}.hook_resid_post" for l in range(n_layers))]


class ResidReadout(StackedCaptures):
    key, order = "resid", 3
    names = staticmethod(resid_names)


register(ResidReadout())
