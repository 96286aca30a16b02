"""An independent GPT-2 forward written from the state dict, for checking the engine.

It shares no code with engine/: plain tensor maths, with optional overrides of each
head's z and each MLP's output so ablations can be recomputed by hand."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch

ZOverride = Callable[[int, torch.Tensor], torch.Tensor]  # (layer, z [S, H, dh]) -> z
MlpOverride = Callable[[int, torch.Tensor], torch.Tensor]  # (layer, mlp_out [S, d]) -> mlp_out


@dataclass
class Trace:
    logits: torch.Tensor  # [S, V]
    patterns: list[torch.Tensor] = field(default_factory=list)  # per layer [H, S, S]
    z: list[torch.Tensor] = field(default_factory=list)  # per layer [S, H, dh]
    mlp_out: list[torch.Tensor] = field(default_factory=list)  # per layer [S, d]
    resid_post: list[torch.Tensor] = field(default_factory=list)  # per layer [S, d]
    embed: torch.Tensor | None = None
    pos_embed: torch.Tensor | None = None


def _ln(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def _gelu_new(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


@torch.no_grad()
def reference_forward(model: torch.nn.Module, ids: list[int] | torch.Tensor,
                      z_override: ZOverride | None = None, mlp_override: MlpOverride | None = None) -> Trace:
    sd = {k: v.double() for k, v in model.state_dict().items()}
    cfg = model.config
    n_heads, eps = cfg.n_head, cfg.layer_norm_epsilon
    ids = torch.as_tensor(ids)
    seq = ids.shape[0]
    tr = Trace(logits=torch.empty(0))
    tr.embed = sd["transformer.wte.weight"][ids]
    tr.pos_embed = sd["transformer.wpe.weight"][:seq]
    x = tr.embed + tr.pos_embed
    mask = torch.tril(torch.ones(seq, seq, dtype=torch.bool))
    for l in range(cfg.n_layer):
        p = f"transformer.h.{l}."
        h = _ln(x, sd[p + "ln_1.weight"], sd[p + "ln_1.bias"], eps)
        qkv = h @ sd[p + "attn.c_attn.weight"] + sd[p + "attn.c_attn.bias"]
        q, k, v = (t.view(seq, n_heads, -1).transpose(0, 1) for t in qkv.split(cfg.n_embd, dim=-1))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        scores = scores.masked_fill(~mask, float("-inf"))
        pattern = torch.softmax(scores, -1)
        z = (pattern @ v).transpose(0, 1)  # [S, H, dh]
        if z_override is not None:
            z = z_override(l, z.clone())
        tr.patterns.append(pattern)
        tr.z.append(z)
        attn_out = z.reshape(seq, -1) @ sd[p + "attn.c_proj.weight"] + sd[p + "attn.c_proj.bias"]
        x = x + attn_out
        h2 = _ln(x, sd[p + "ln_2.weight"], sd[p + "ln_2.bias"], eps)
        mlp = _gelu_new(h2 @ sd[p + "mlp.c_fc.weight"] + sd[p + "mlp.c_fc.bias"]) @ sd[p + "mlp.c_proj.weight"] \
            + sd[p + "mlp.c_proj.bias"]
        if mlp_override is not None:
            mlp = mlp_override(l, mlp.clone())
        tr.mlp_out.append(mlp)
        x = x + mlp
        tr.resid_post.append(x)
    final = _ln(x, sd["transformer.ln_f.weight"], sd["transformer.ln_f.bias"], eps)
    tr.logits = final @ sd.get("lm_head.weight", sd["transformer.wte.weight"]).T
    return tr
