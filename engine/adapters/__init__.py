"""Registry of architecture adapters, looked up by the config's `model_type`."""

from __future__ import annotations

from typing import Any

from ..errors import UnsupportedArchitectureError
from .base import ArchitectureAdapter, HookSite, in_out_weight
from .gemma import GEMMA
from .gemma2 import GEMMA2
from .gpt2 import GPT2
from .gptj import GPTJ
from .llama import LLAMA
from .neox import NEOX
from .opt import OPT
from .phi3 import PHI3

ADAPTERS: tuple[ArchitectureAdapter, ...] = (GPT2, NEOX, LLAMA, GEMMA, GEMMA2, OPT, PHI3, GPTJ)


def supported_model_types() -> list[str]:
    """In registry order (GPT-2 first, the demo model's family), not alphabetical."""
    return [t for a in ADAPTERS for t in a.model_types]


def adapter_for(model_type: str, config: Any = None) -> ArchitectureAdapter:
    """The adapter for a config's model_type, or a clear error naming what is supported.
    Given the config too, variants the adapter cannot read faithfully (post-LN OPT, ...) are refused."""
    for adapter in ADAPTERS:
        if model_type in adapter.model_types:
            reason = adapter.check_config(config) if config is not None and adapter.check_config else None
            if reason:
                raise UnsupportedArchitectureError(f"{adapter.family}: {reason}")
            return adapter
    raise UnsupportedArchitectureError(
        f"No adapter for architecture '{model_type}'. Supported: {', '.join(supported_model_types())}. "
        "An adapter maps the canonical hook places (resid, attn z/pattern, mlp out, final norm, unembed) "
        "to the model's modules."
    )


__all__ = ["ADAPTERS", "ArchitectureAdapter", "HookSite", "adapter_for", "in_out_weight", "supported_model_types"]
