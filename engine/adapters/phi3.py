"""Phi-3 (model_type 'phi3'): Llama's layout with fused projections: `qkv_proj` and
`gate_up_proj`. o_proj's input is still one slice per query head, so heads work as for
Llama. No query/key/value hook points: with grouped-query attention the fused qkv output
is not three equal thirds."""

from __future__ import annotations

from dataclasses import replace

from .llama import LLAMA

_FUSED_QKV = ("blocks.{l}.attn.hook_q", "blocks.{l}.attn.hook_k", "blocks.{l}.attn.hook_v")

PHI3 = replace(LLAMA, family="Phi-3", model_types=("phi3",),
               sites={name: site for name, site in LLAMA.sites.items() if name not in _FUSED_QKV})
