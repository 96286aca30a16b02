"""GPT-2 (and the demo model): `transformer.h.{l}` blocks, Conv1D projections, LayerNorm."""

from __future__ import annotations

from .base import ArchitectureAdapter, HookSite

GPT2 = ArchitectureAdapter(
    family="GPT-2",
    model_types=("gpt2",),
    layers="transformer.h",
    sites={
        "hook_embed": HookSite("transformer.wte", "output"),
        "hook_pos_embed": HookSite("transformer.wpe", "output"),
        "blocks.{l}.hook_resid_pre": HookSite("transformer.h.{l}", "input"),
        "blocks.{l}.hook_resid_mid": HookSite("transformer.h.{l}.ln_2", "input"),
        "blocks.{l}.hook_resid_post": HookSite("transformer.h.{l}", "output"),
        "blocks.{l}.attn.hook_q": HookSite("transformer.h.{l}.attn.c_attn", "output", third=0),
        "blocks.{l}.attn.hook_k": HookSite("transformer.h.{l}.attn.c_attn", "output", third=1),
        "blocks.{l}.attn.hook_v": HookSite("transformer.h.{l}.attn.c_attn", "output", third=2),
        "blocks.{l}.attn.hook_z": HookSite("transformer.h.{l}.attn.c_proj", "input"),
        "blocks.{l}.attn.hook_pattern": HookSite("transformer.h.{l}.attn", "output", 1),
        "blocks.{l}.hook_attn_out": HookSite("transformer.h.{l}.attn", "output", 0),
        "blocks.{l}.ln2.hook_normalized": HookSite("transformer.h.{l}.mlp", "input"),  # what the MLP (a transcoder) reads
        "blocks.{l}.hook_mlp_out": HookSite("transformer.h.{l}.mlp", "output"),
        "ln_final.hook_normalized": HookSite("transformer.ln_f", "output"),
    },
    embed="transformer.wte",
    pos_embed="transformer.wpe",
    attn_out_proj="transformer.h.{l}.attn.c_proj",
    final_norm="transformer.ln_f",
    final_norm_kind="layernorm",
    unembed="lm_head",
    ln1="transformer.h.{l}.ln_1",
    ln2="transformer.h.{l}.ln_2",
)
