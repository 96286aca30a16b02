"""Direct logit attribution to a target-minus-foil logit difference.

The final norm is linear once its scale is frozen at the value it had on this input, so
the residual stream's parts (embeddings, each head through W_O, attention biases, MLPs)
contribute additively; with the norm's bias and the unembed bias as one 'final_bias'
term, the contributions sum exactly to the model's logit difference."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from ..analysis import NoParams, Prompt, ReadContext, Readout, register
from ..errors import EngineError
from ..results import DirectLogitAttribution


def direct_logit_attribution(
    parts: dict[str, torch.Tensor],
    final_resid: torch.Tensor,
    norm_kind: Literal["layernorm", "rmsnorm"],
    norm_weight: torch.Tensor,
    norm_bias: torch.Tensor | None,
    eps: float,
    direction: torch.Tensor,
    bias_term: float,
    n_layers: int,
    n_heads: int,
    position: int,
) -> DirectLogitAttribution:
    """parts: label -> [d_model] vector at `position`; final_resid: [d_model], their sum.

    direction is W_U[:, target] - W_U[:, foil]; bias_term is b_U[target] - b_U[foil]."""
    x = final_resid.double()
    if norm_kind == "layernorm":
        scale = torch.sqrt(x.var(unbiased=False) + eps)
    else:
        scale = torch.sqrt((x * x).mean() + eps)
    readout = norm_weight.double() * direction.double() / scale  # d(logit diff)/d(normalised input)

    labels = list(parts)
    stacked = torch.stack([parts[label] for label in labels]).double()  # [n, d]: one matmul for all parts
    if norm_kind == "layernorm":
        stacked = stacked - stacked.mean(-1, keepdim=True)
    values = (stacked @ readout).cpu().tolist()
    final_bias = bias_term + (float(norm_bias.double() @ direction.double()) if norm_bias is not None else 0.0)
    labels.append("final_bias")
    values.append(final_bias)

    contributions = np.array(values)
    lookup = dict(zip(labels, values))
    heads = np.array([[lookup[f"L{l}.H{h}"] for h in range(n_heads)] for l in range(n_layers)])
    mlps = np.array([lookup[f"L{l}.mlp"] for l in range(n_layers)])
    return DirectLogitAttribution(position, tuple(labels), contributions, heads, mlps, float(contributions.sum()))


class DlaReadout(Readout):
    """Readout 'dla': each component's direct share of logit(target) − logit(foil) at the
    last position (the final norm's scale frozen at its value on this input)."""

    key = "dla"
    Params = NoParams
    order = 1  # the graph's numbers: right after the prediction

    def needs(self, params: NoParams, handle, prompt: Prompt) -> set[str]:
        if not (prompt.target and prompt.foil):
            raise EngineError("direct logit attribution needs a target and a foil token")
        n = handle.info.n_layers
        names = {"hook_embed", f"blocks.{n - 1}.hook_resid_post", *(f"blocks.{l}.attn.hook_z" for l in range(n)),
                 *(f"blocks.{l}.hook_mlp_out" for l in range(n))}
        return names | ({"hook_pos_embed"} if handle.has_hook("hook_pos_embed") else set())

    def read(self, ctx: ReadContext, params: NoParams) -> DirectLogitAttribution:
        handle, store, pos = ctx.handle, ctx.cache, len(ctx.ids) - 1
        n_layers, n_heads = handle.info.n_layers, handle.info.n_heads
        parts: dict[str, torch.Tensor] = {"embed": store["hook_embed"][0, pos]}
        if "hook_pos_embed" in store:
            parts["pos_embed"] = store["hook_pos_embed"][0, pos]
        # layers before the first edited one read the clean run's z: their heads' outputs are
        # the clean run's, kept from when it was read (only the final norm's scale changes)
        memo_key = ("dla_heads", pos)
        clean = handle.clean_run.derived_for(ctx.ids, memo_key) if ctx.start_layer > 0 else None
        outputs: dict[int, tuple] = {}
        with torch.inference_mode():
            for l in range(n_layers):
                if clean is not None and l < ctx.start_layer:
                    head_out, b_o = clean[l]
                else:
                    z = store[f"blocks.{l}.attn.hook_z"][0, pos].view(n_heads, -1)  # [H, dh]
                    head_out, b_o = handle.head_outputs(l, z)  # [H, d]: through W_O (and Gemma 2's post-norm)
                outputs[l] = (head_out, b_o)
                for h in range(n_heads):
                    parts[f"L{l}.H{h}"] = head_out[h]
                if b_o is not None:
                    parts[f"L{l}.attn_bias"] = b_o
                parts[f"L{l}.mlp"] = store[f"blocks.{l}.hook_mlp_out"][0, pos]
        if not ctx.prompt.interventions:
            handle.clean_run.remember_derived(ctx.ids, memo_key, outputs)
        with handle.readout():
            direction, bias_term = handle.logit_direction(ctx.target_id, ctx.foil_id)
            kind, weight, bias, eps = handle.final_norm_params()
            device = direction.device
            parts = {name: part.to(device) for name, part in parts.items()}  # device_map: gather them
            resid = store[f"blocks.{n_layers - 1}.hook_resid_post"][0, pos].to(device)
            return direct_logit_attribution(parts, resid, kind, weight, bias, eps, direction, bias_term,
                                            n_layers, n_heads, pos)


register(DlaReadout())
