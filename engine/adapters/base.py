"""What an architecture adapter is: a map from canonical hook names to Hugging Face
module paths, plus where the few weights the analyses need live.

Each model family is one small instance of `ArchitectureAdapter` (see gpt2.py). The
canonical names follow TransformerLens (`blocks.{l}.attn.hook_z`, ...) so results can be
compared with it; the sites are plain module paths so no model code is patched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

import torch
from torch import nn


@dataclass(frozen=True)
class HookSite:
    """Where a canonical activation lives: a module's input (arg 0) or output (`index` into a tuple)."""

    module: str  # path template, '{l}' is the layer index
    io: Literal["input", "output"]
    index: int | None = None  # for tuple outputs: which element; None = the tensor itself or element 0
    third: int | None = None  # fused q/k/v projections (GPT-2's c_attn): which equal third of the last dim


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


def in_out_weight(module: nn.Module) -> torch.Tensor:
    """A projection's weight as [in, out]: GPT-2's Conv1D stores it so, nn.Linear transposed."""
    if isinstance(module, nn.Linear):
        return module.weight.T
    if type(module).__name__ == "Conv1D":
        return module.weight
    raise TypeError(f"don't know the weight layout of {type(module).__name__}")
