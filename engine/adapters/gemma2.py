"""Gemma 2 (model_type 'gemma2'): Gemma plus a norm after attention and after the MLP,
attention-logit and final-logit soft-capping, and sliding-window attention on alternate layers.

What a block adds to the residual stream is the *post*-norm output, so hook_attn_out and
hook_mlp_out are taken after `post_attention_layernorm` / `post_feedforward_layernorm`.
Head z (o_proj's input) then reaches the stream through a norm whose scale depends on all
heads together: per-head DLA is exact only with that scale frozen (`attn_post_norm`,
`head_outputs`). Patterns need eager attention (sdpa cannot soft-cap; the loader asks for eager)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .base import HookSite
from .gemma import GEMMA


def _check(config: Any) -> str | None:
    if getattr(config, "attention_bias", False):
        return "attention biases (attention_bias=True) would pass through the post-attention norm; not supported"
    return None


GEMMA2 = replace(
    GEMMA,
    family="Gemma 2",
    model_types=("gemma2",),
    sites={
        **GEMMA.sites,
        "blocks.{l}.hook_resid_mid": HookSite("model.layers.{l}.pre_feedforward_layernorm", "input"),
        "blocks.{l}.hook_attn_out": HookSite("model.layers.{l}.post_attention_layernorm", "output"),
        "blocks.{l}.hook_mlp_out": HookSite("model.layers.{l}.post_feedforward_layernorm", "output"),
    },
    notes=(("Per-head DLA freezes the post-attention norm's scale at this input: heads sum to the "
            "attention output exactly, but a head's share is a linearisation."),
           "DLA attributes the logit difference before final soft-capping (tanh is not additive)."),
    attn_post_norm="model.layers.{l}.post_attention_layernorm",
    check_config=_check,
)
