"""Direct logit attribution to a target-minus-foil logit difference.

The final norm is linear once its scale is frozen at the value it had on this input, so
the residual stream's parts (embeddings, each head through W_O, attention biases, MLPs)
contribute additively; with the norm's bias and the unembed bias as one 'final_bias'
term, the contributions sum exactly to the model's logit difference."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

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
