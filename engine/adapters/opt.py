"""OPT (model_type 'opt'): `model.decoder.layers.{l}`, learned positions (the module adds
OPT's offset of 2 itself, so `hook_pos_embed` is what is added), biases everywhere, LayerNorm.

The block flattens positions before its MLP: fc2 and the MLP's LayerNorm see
[batch*seq, d], so those sites are marked `flat` and the hooks show [batch, seq, d].
Post-LN OPT (opt-350m) and word-embedding projections (project_in/out) are refused: there
the residual stream is not a sum of component outputs read by one final norm."""

from __future__ import annotations

from typing import Any

from .base import ArchitectureAdapter, HookSite


def _check(config: Any) -> str | None:
    if not getattr(config, "do_layer_norm_before", True):
        return "post-LN OPT (do_layer_norm_before=False, e.g. opt-350m) normalises after each residual add; not supported"
    if getattr(config, "_remove_final_layer_norm", False):
        return "OPT without a final layer norm is not supported"
    if getattr(config, "word_embed_proj_dim", config.hidden_size) != config.hidden_size:
        return "OPT with project_in/project_out (word_embed_proj_dim != hidden_size) is not supported"
    if not getattr(config, "layer_norm_elementwise_affine", True):
        return "OPT without layer-norm weights (layer_norm_elementwise_affine=False) is not supported"
    return None


OPT = ArchitectureAdapter(
    family="OPT",
    model_types=("opt",),
    layers="model.decoder.layers",
    sites={
        "hook_embed": HookSite("model.decoder.embed_tokens", "output"),
        "hook_pos_embed": HookSite("model.decoder.embed_positions", "output"),
        "blocks.{l}.hook_resid_pre": HookSite("model.decoder.layers.{l}", "input"),
        "blocks.{l}.hook_resid_mid": HookSite("model.decoder.layers.{l}.final_layer_norm", "input", flat=True),
        "blocks.{l}.hook_resid_post": HookSite("model.decoder.layers.{l}", "output"),
        "blocks.{l}.attn.hook_q": HookSite("model.decoder.layers.{l}.self_attn.q_proj", "output"),
        "blocks.{l}.attn.hook_k": HookSite("model.decoder.layers.{l}.self_attn.k_proj", "output"),
        "blocks.{l}.attn.hook_v": HookSite("model.decoder.layers.{l}.self_attn.v_proj", "output"),
        "blocks.{l}.attn.hook_z": HookSite("model.decoder.layers.{l}.self_attn.out_proj", "input"),
        "blocks.{l}.attn.hook_pattern": HookSite("model.decoder.layers.{l}.self_attn", "output", 1),
        "blocks.{l}.hook_attn_out": HookSite("model.decoder.layers.{l}.self_attn", "output", 0),
        "blocks.{l}.hook_mlp_out": HookSite("model.decoder.layers.{l}.fc2", "output", flat=True),
        "ln_final.hook_normalized": HookSite("model.decoder.final_layer_norm", "output"),
    },
    embed="model.decoder.embed_tokens",
    pos_embed="model.decoder.embed_positions",
    attn_out_proj="model.decoder.layers.{l}.self_attn.out_proj",
    final_norm="model.decoder.final_layer_norm",
    final_norm_kind="layernorm",
    unembed="lm_head",
    notes=("hook_q is q_proj's output before OPT's 1/sqrt(d_head) scaling.",),
    check_config=_check,
)
