"""GPT-NeoX / Pythia: `gpt_neox.layers.{l}`, rotary positions (no position embedding),
LayerNorm, attention output `attention.dense`. Blocks may add attention and MLP in
parallel, so there is no single 'resid_mid' and it is not offered."""

from __future__ import annotations

from .base import ArchitectureAdapter, HookSite

NEOX = ArchitectureAdapter(
    family="GPT-NeoX",
    model_types=("gpt_neox",),
    layers="gpt_neox.layers",
    sites={
        "hook_embed": HookSite("gpt_neox.embed_in", "output"),
        "blocks.{l}.hook_resid_pre": HookSite("gpt_neox.layers.{l}", "input"),
        "blocks.{l}.hook_resid_post": HookSite("gpt_neox.layers.{l}", "output"),
        "blocks.{l}.attn.hook_z": HookSite("gpt_neox.layers.{l}.attention.dense", "input"),
        "blocks.{l}.attn.hook_pattern": HookSite("gpt_neox.layers.{l}.attention", "output", 1),
        "blocks.{l}.hook_attn_out": HookSite("gpt_neox.layers.{l}.attention", "output", 0),
        "blocks.{l}.hook_mlp_out": HookSite("gpt_neox.layers.{l}.mlp", "output"),
        "ln_final.hook_normalized": HookSite("gpt_neox.final_layer_norm", "output"),
    },
    embed="gpt_neox.embed_in",
    pos_embed=None,
    attn_out_proj="gpt_neox.layers.{l}.attention.dense",
    final_norm="gpt_neox.final_layer_norm",
    final_norm_kind="layernorm",
    unembed="lm_head",
)
