"""Gemma 2 (model_type 'gemma2'): Gemma plus a norm after attention and after the MLP,
attention-logit and final-logit soft-capping, and sliding-window attention on alternate layers.

What a block adds to the residual stream is the *post*-norm output, so hook_attn_out and
hook_mlp_out are taken after `post_attention_layernorm` / `post_feedforward_layernorm`.
Head z (o_proj's input) then reaches the stream through a norm whose scale depends on all
heads together: per-head DLA is exact only with that scale frozen (`attn_post_norm`,
`head_outputs`). Patterns need eager attention (sdpa cannot soft-cap; the loader asks for eager)."""

from __future__ import annotations

from typing import Any

from .base import ArchitectureAdapter, HookSite


def _check(config: Any) -> str | None:
    if getattr(config, "attention_bias", False):
        return "attention biases (attention_bias=True) would pass through the post-attention norm; not supported"
    return None


GEMMA2 = ArchitectureAdapter(
    family="Gemma 2",
    model_types=("gemma2",),
    layers="model.layers",
    sites={
        "hook_embed": HookSite("model.embed_tokens", "output"),
        "blocks.{l}.hook_resid_pre": HookSite("model.layers.{l}", "input"),
        "blocks.{l}.hook_resid_mid": HookSite("model.layers.{l}.pre_feedforward_layernorm", "input"),
        "blocks.{l}.hook_resid_post": HookSite("model.layers.{l}", "output"),
        "blocks.{l}.attn.hook_q": HookSite("model.layers.{l}.self_attn.q_proj", "output"),
        "blocks.{l}.attn.hook_k": HookSite("model.layers.{l}.self_attn.k_proj", "output"),
        "blocks.{l}.attn.hook_v": HookSite("model.layers.{l}.self_attn.v_proj", "output"),
        "blocks.{l}.attn.hook_z": HookSite("model.layers.{l}.self_attn.o_proj", "input"),
        "blocks.{l}.attn.hook_pattern": HookSite("model.layers.{l}.self_attn", "output", 1),
        "blocks.{l}.hook_attn_out": HookSite("model.layers.{l}.post_attention_layernorm", "output"),
        "blocks.{l}.hook_mlp_out": HookSite("model.layers.{l}.post_feedforward_layernorm", "output"),
        "ln_final.hook_normalized": HookSite("model.norm", "output"),
    },
    embed="model.embed_tokens",
    pos_embed=None,
    attn_out_proj="model.layers.{l}.self_attn.o_proj",
    final_norm="model.norm",
    final_norm_kind="rmsnorm",
    unembed="lm_head",
    notes=(("Per-head DLA freezes the post-attention norm's scale at this input: heads sum to the "
            "attention output exactly, but a head's share is a linearisation."),
           "DLA attributes the logit difference before final soft-capping (tanh is not additive)."),
    norm_offset=1.0,
    attn_post_norm="model.layers.{l}.post_attention_layernorm",
    check_config=_check,
)
