"""Registry of architecture adapters, looked up by the config's `model_type`."""

from __future__ import annotations

from ..errors import UnsupportedArchitectureError
from .base import ArchitectureAdapter, HookSite, in_out_weight
from .gpt2 import GPT2
from .llama import LLAMA
from .neox import NEOX

ADAPTERS: tuple[ArchitectureAdapter, ...] = (GPT2, NEOX, LLAMA)


def supported_model_types() -> list[str]:
    return sorted(t for a in ADAPTERS for t in a.model_types)


def adapter_for(model_type: str) -> ArchitectureAdapter:
    """The adapter for a config's model_type, or a clear error naming what is supported."""
    for adapter in ADAPTERS:
        if model_type in adapter.model_types:
            return adapter
    raise UnsupportedArchitectureError(
        f"No adapter for architecture '{model_type}'. Supported: {', '.join(supported_model_types())}. "
        "An adapter maps the canonical hook places (resid, attn z/pattern, mlp out, final norm, unembed) "
        "to the model's modules."
    )


__all__ = ["ADAPTERS", "ArchitectureAdapter", "HookSite", "adapter_for", "in_out_weight", "supported_model_types"]
