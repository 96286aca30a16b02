"""Llama and its close relatives (Mistral, Qwen2): `model.layers.{l}`, rotary positions,
RMSNorm, biasless output projection `self_attn.o_proj`. Grouped-query attention needs
nothing special here: o_proj's input is still one slice per query head."""

from __future__ import annotations

from .base import ArchitectureAdapter, HookSite

LLAMA = ArchitectureAdapter(
    family="Llama",
    model_types=("llama", "mistral", "qwen2"),
    layers="model.layers",
    sites={
        "hook_embed": HookSite("model.embed_tokens", "output"),
        "blocks.{l}.hook_resid_pre": HookSite("model.layers.{l}", "input"),
        "blocks.{l}.hook_resid_mid": HookSite("model.layers.{l}.post_attention_layernorm", "input"),
        "blocks.{l}.hook_resid_post": HookSite("model.layers.{l}", "output"),
        "blocks.{l}.attn.hook_q": HookSite("model.layers.{l}.self_attn.q_proj", "output"),
        "blocks.{l}.attn.hook_k": HookSite("model.layers.{l}.self_attn.k_proj", "output"),
        "blocks.{l}.attn.hook_v": HookSite("model.layers.{l}.self_attn.v_proj", "output"),
        "blocks.{l}.attn.hook_z": HookSite("model.layers.{l}.self_attn.o_proj", "input"),
        "blocks.{l}.attn.hook_pattern": HookSite("model.layers.{l}.self_attn", "output", 1),
        "blocks.{l}.hook_attn_out": HookSite("model.layers.{l}.self_attn", "output", 0),
        "blocks.{l}.ln2.hook_normalized": HookSite("model.layers.{l}.mlp", "input"),  # what the MLP (a transcoder) reads
        "blocks.{l}.hook_mlp_out": HookSite("model.layers.{l}.mlp", "output"),
        "ln_final.hook_normalized": HookSite("model.norm", "output"),
    },
    embed="model.embed_tokens",
    pos_embed=None,
    attn_out_proj="model.layers.{l}.self_attn.o_proj",
    final_norm="model.norm",
    final_norm_kind="rmsnorm",
    unembed="lm_head",
    ln1="model.layers.{l}.input_layernorm",
    ln2="model.layers.{l}.post_attention_layernorm",
)
