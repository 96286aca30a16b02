"""Feature edits compiled into hook edits (kind 'feature', engine.interventions.FeatureEdit).

SAE, at its site x: a = encode(x); the feature's new activation a' (0, a value, or a scaled
a); x' = x + (a' - a) W_dec[feature]. Transcoder: a = encode(the MLP's input, read earlier in
the same forward), and the MLP's output y' = y + (a' - a) W_dec[feature]. Only that feature's
decoder contribution moves: the rest, including the dictionary's error, is the model's own,
so the model is exact wherever the edit changes nothing."""

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
    if d.site_out != address.hook:
        where = "reads and writes" if d.site_in == d.site_out else "writes"
        raise InterventionError(f"{intervention.component}: the dictionary {where} {d.site_out}, the address is {address.hook}")
    feature = address.feature.index
    if not 0 <= feature < d.d_sae:
        raise InterventionError(f"{intervention.component}: the dictionary has {d.d_sae} features (0..{d.d_sae - 1})")
    mode, value = intervention.mode, intervention.value
    read: dict[str, torch.Tensor] = {}  # a transcoder's input, seen earlier in the same forward

    def remember(act: torch.Tensor) -> torch.Tensor:
        read["x"] = act
        return act

    def new(old: torch.Tensor, index, width: int) -> torch.Tensor:
        out = old.float()
        moved = d.to(device=out.device)  # itself when already there
        x = out if d.site_in == d.site_out else read["x"][:, index].float()
        a = moved.encode(x)[..., feature]
        target = torch.zeros_like(a) if mode == "ablate" else torch.full_like(a, value) if mode == "clamp" else a * value
        return (out + (target - a)[..., None] * moved.W_dec[feature]).to(old.dtype)

    edit = _slice_edit(intervention, address, ctx, new)
    return edit if d.site_in == d.site_out else {d.site_in: remember, d.site_out: edit}
