"""Gemma (model_type 'gemma'): Llama's layout with two twists the analyses must know.

The embedding module itself multiplies by sqrt(d_model) (transformers 5's
GemmaTextScaledWordEmbedding), so `hook_embed` at its output is exactly what enters block 0.
The RMSNorms scale by (1 + weight), hence norm_offset=1 for DLA's final-norm readout."""

from __future__ import annotations

from dataclasses import replace

from .llama import LLAMA

GEMMA = replace(LLAMA, family="Gemma", model_types=("gemma",), norm_offset=1.0)
