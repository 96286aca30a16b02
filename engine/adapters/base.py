"""What an architecture adapter is: a map from canonical hook names to Hugging Face
module paths, plus where the few weights the analyses need live.

Each model family is one small instance of `ArchitectureAdapter` (see gpt2.py). The
canonical names follow TransformerLens (`blocks.{l}.attn.hook_z`, ...) so results can be
compared with it; the sites are plain module paths so no model code is patched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

import torch
from torch import nn


@dataclass(frozen=True)
class HookSite:
    """Where a canonical activation lives: a module's input (arg 0) or output (`index` into a tuple)."""

    module: str  # path template, '{l}' is the layer index
    io: Literal["input", "output"]
    index: int | None = None  # for tuple outputs: which element; None = the tensor itself or element 0
    third: int | None = None  # fused q/k/v projections (GPT-2's c_attn): which equal third of the last dim
    flat: bool = False  # the module sees positions flattened to [batch*seq, d] (OPT's MLP); hooks show [batch, seq, d]


@dataclass(frozen=True)
class ArchitectureAdapter:
    """Per-family facts. Module paths are templates with '{l}' for the layer."""

    family: str
    model_types: tuple[str, ...]
    layers: str  # path of the ModuleList of blocks
    sites: Mapping[str, HookSite]  # canonical template ('blocks.{l}.attn.hook_z') -> site
    embed: str  # token embedding module
    pos_embed: str | None  # learned absolute positions, None for rotary models
    attn_out_proj: str  # output projection; its input is the per-head z
    final_norm: str
    final_norm_kind: Literal["layernorm", "rmsnorm"]
    unembed: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    norm_offset: float = 0.0  # Gemma's RMSNorm scales by (1 + weight): the effective weight is weight + offset
    attn_post_norm: str | None = None  # Gemma2: a norm between o_proj and the residual stream (path template)
    check_config: Callable[[Any], str | None] | None = None  # why a config variant is unsupported, or None
    ln1: str | None = None  # the norm before attention (edge attribution re-applies it per head)
    ln2: str | None = None  # the norm before the MLP

    # ---- weights the analyses need, in (in_features, out_features) orientation ----
    def module(self, model: nn.Module, template: str, layer: int | None = None) -> nn.Module:
        path = template.format(l=layer) if layer is not None else template
        return model.get_submodule(path)

    def o_proj_per_head(self, model: nn.Module, layer: int, n_heads: int) -> torch.Tensor:
        """W_O split by head: [n_heads, d_head, d_model]."""
        weight = in_out_weight(self.module(model, self.attn_out_proj, layer))
        return weight.reshape(n_heads, weight.shape[0] // n_heads, weight.shape[1])

    def o_proj_bias(self, model: nn.Module, layer: int) -> torch.Tensor | None:
        return getattr(self.module(model, self.attn_out_proj, layer), "bias", None)

    def unembed_weight(self, model: nn.Module) -> torch.Tensor:
        """W_U as [d_model, vocab]."""
        return self.module(model, self.unembed).weight.T

    def unembed_bias(self, model: nn.Module) -> torch.Tensor | None:
        return getattr(self.module(model, self.unembed), "bias", None)

    # ---- what the analyses need beyond plain weights (Gemma, Gemma2) ----
    def final_norm_weight(self, model: nn.Module) -> torch.Tensor:
        """The final norm's effective scale: its weight, or 1 + weight for Gemma's RMSNorm."""
        weight = self.module(model, self.final_norm).weight
        return weight + self.norm_offset if self.norm_offset else weight

    def final_softcap(self, model: nn.Module) -> float | None:
        """Gemma2's final logit soft-cap c (logits = c * tanh(x / c)), None when there is none."""
        return getattr(model.config, "final_logit_softcapping", None) or None

    def unembed_fn(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """Normalised residual -> logits as the model computes them, soft-capping included,
        so a logit lens at the last layer reproduces the model's own output."""
        unembed = self.module(model, self.unembed)
        cap = self.final_softcap(model)
        if cap is None:
            return unembed
        return lambda x: torch.tanh(unembed(x) / cap) * cap

    @property
    def per_head_dla_additive(self) -> bool:
        """False when a norm sits between the heads and the residual stream (Gemma2): per-head
        DLA then holds only with that norm's scale frozen at this input (see head_outputs)."""
        return self.attn_post_norm is None

    def head_outputs(self, model: nn.Module, layer: int, z: torch.Tensor, n_heads: int) -> torch.Tensor:
        """What each head adds to the residual stream at one position: z [H, d_head] -> [H, d_model].

        With a post-attention norm (Gemma2) its RMS is frozen at the value it has on this input,
        so the heads still sum exactly to hook_attn_out, but one head's share is a linearisation
        (like the final norm in DLA), not what the head alone would add. Biasless o_proj only
        (check_config refuses the rest)."""
        w_o = self.o_proj_per_head(model, layer, n_heads)
        out = torch.einsum("hd,hdm->hm", z.to(w_o.dtype), w_o)
        if self.attn_post_norm is None:
            return out
        norm = self.module(model, self.attn_post_norm, layer)
        total = out.double().sum(0)
        scale = torch.rsqrt(total.pow(2).mean() + norm.eps) * (norm.weight.double() + self.norm_offset)
        return (out.double() * scale).to(out.dtype)


def in_out_weight(module: nn.Module) -> torch.Tensor:
    """A projection's weight as [in, out]: GPT-2's Conv1D stores it so, nn.Linear transposed."""
    if isinstance(module, nn.Linear):
        return module.weight.T
    if type(module).__name__ == "Conv1D":
        return module.weight
    raise TypeError(f"don't know the weight layout of {type(module).__name__}")
