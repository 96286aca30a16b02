"""GPT-J (model_type 'gptj'): `transformer.h.{l}` blocks that add attention and MLP in
parallel from one LayerNorm (so no 'resid_mid'), partial rotary positions, biasless
attention projections, and an lm_head with a bias (DLA's final_bias includes it)."""

from __future__ import annotations

from .base import ArchitectureAdapter, HookSite

GPTJ = ArchitectureAdapter(
    family="GPT-J",
    model_types=("gptj",),
    layers="transformer.h",
    sites={
        "hook_embed": HookSite("transformer.wte", "output"),
        "blocks.{l}.hook_resid_pre": HookSite("transformer.h.{l}", "input"),
        "blocks.{l}.hook_resid_post": HookSite("transformer.h.{l}", "output"),
        "blocks.{l}.attn.hook_q": HookSite("transformer.h.{l}.attn.q_proj", "output"),
        "blocks.{l}.attn.hook_k": HookSite("transformer.h.{l}.attn.k_proj", "output"),
        "blocks.{l}.attn.hook_v": HookSite("transformer.h.{l}.attn.v_proj", "output"),
        "blocks.{l}.attn.hook_z": HookSite("transformer.h.{l}.attn.out_proj", "input"),
        "blocks.{l}.attn.hook_pattern": HookSite("transformer.h.{l}.attn", "output", 1),
        "blocks.{l}.hook_attn_out": HookSite("transformer.h.{l}.attn", "output", 0),
        "blocks.{l}.hook_mlp_out": HookSite("transformer.h.{l}.mlp", "output"),
        "ln_final.hook_normalized": HookSite("transformer.ln_f", "output"),
    },
    embed="transformer.wte",
    pos_embed=None,
    attn_out_proj="transformer.h.{l}.attn.out_proj",
    final_norm="transformer.ln_f",
    final_norm_kind="layernorm",
    unembed="lm_head",
)
