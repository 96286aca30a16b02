"""Feature edits compiled into hook edits (kind 'feature', engine.interventions.FeatureEdit).

At the dictionary's site x: a = encode(x); the feature's new activation a' (0, a value, or
a scaled a); x' = x + (a' - a) W_dec[feature]. Only that feature's decoder contribution
moves: the rest of x, including the reconstruction error, is the model's own, so the model
is exact wherever the edit changes nothing."""

from __future__ import annotations

import torch

from .addresses import Address
from .dictionaries.open_cache import open_dictionary
from .errors import InterventionError
from .hooks import EditFn
from .intervening import EditContext, _slice_edit, edit_compiler


@edit_compiler("feature")
def _feature(intervention, address: Address, ctx: EditContext) -> EditFn:
    d = open_dictionary(intervention.folder)
    if d.site_in != d.site_out:
        raise InterventionError(f"{intervention.component}: feature edits need an SAE (it reads and writes one "
                                f"place); {d.name} is a transcoder")
    if d.site_in != address.hook:
        raise InterventionError(f"{intervention.component}: the dictionary reads {d.site_in}, the address is {address.hook}")
    feature = address.feature.index
    if not 0 <= feature < d.d_sae:
        raise InterventionError(f"{intervention.component}: the dictionary has {d.d_sae} features (0..{d.d_sae - 1})")
    mode, value = intervention.mode, intervention.value

    def new(old: torch.Tensor, index, width: int) -> torch.Tensor:
        x = old.float()
        moved = d.to(device=x.device)  # itself when already there
        a = moved.encode(x)[..., feature]
        target = torch.zeros_like(a) if mode == "ablate" else torch.full_like(a, value) if mode == "clamp" else a * value
        return (x + (target - a)[..., None] * moved.W_dec[feature]).to(old.dtype)

    return _slice_edit(intervention, address, ctx, new)
