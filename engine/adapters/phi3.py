"""Phi-3 (model_type 'phi3'): Llama's layout with fused projections: `qkv_proj` and
`gate_up_proj`. o_proj's input is still one slice per query head, so heads work as for
Llama. No query/key/value hook points: with grouped-query attention the fused qkv output
is not three equal thirds."""

from __future__ import annotations

from .base import ArchitectureAdapter, HookSite

PHI3 = ArchitectureAdapter(
    family="Phi-3",
    model_types=("phi3",),
    layers="model.layers",
    sites={
        "hook_embed": HookSite("model.embed_tokens", "output"),
        "blocks.{l}.hook_resid_pre": HookSite("model.layers.{l}", "input"),
        "blocks.{l}.hook_resid_mid": HookSite("model.layers.{l}.post_attention_layernorm", "input"),
        "blocks.{l}.hook_resid_post": HookSite("model.layers.{l}", "output"),
        "blocks.{l}.attn.hook_z": HookSite("model.layers.{l}.self_attn.o_proj", "input"),
        "blocks.{l}.attn.hook_pattern": HookSite("model.layers.{l}.self_attn", "output", 1),
        "blocks.{l}.hook_attn_out": HookSite("model.layers.{l}.self_attn", "output", 0),
        "blocks.{l}.hook_mlp_out": HookSite("model.layers.{l}.mlp", "output"),
        "ln_final.hook_normalized": HookSite("model.norm", "output"),
    },
    embed="model.embed_tokens",
    pos_embed=None,
    attn_out_proj="model.layers.{l}.self_attn.o_proj",
    final_norm="model.norm",
    final_norm_kind="rmsnorm",
    unembed="lm_head",
)
