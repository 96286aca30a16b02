"""Microtome's engine: load a causal LM, hook it by canonical names, intervene, analyse.

Plain Python + torch + transformers + numpy; never imports Qt. Usable on its own:

    from engine import Engine, Ablation
    engine = Engine()                       # the bundled demo model
    result = engine.run("When Mary and John ...", interventions=[Ablation("L1.H2")])

Names are imported lazily (PEP 562), so `engine.results` or `engine.interventions` can be
used without importing torch: the app's UI thread relies on that to start fast."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Engine": "engine",
    "activation_patching": "analyses.patching", "attribution_patching": "analyses.attribution",
    "path_patching": "analyses.path_patching", "parse_address": "addresses", "Address": "addresses",
    "Prompt": "analysis", "PromptPair": "analysis", "Batch": "analysis", "Job": "analysis",
    "PatchingResult": "results", "fidelity_check": "fidelity", "estimate_memory": "memory",
    "Ablation": "interventions", "Scale": "interventions", "Intervention": "interventions",
    "intervention_from_dict": "interventions",
    "EngineError": "errors", "HubUnreachableError": "errors", "InterventionError": "errors",
    "ModelNotFoundError": "errors", "NoSafetensorsError": "errors", "PromptError": "errors",
    "UnknownTokenError": "errors", "UnsupportedArchitectureError": "errors",
    "DirectLogitAttribution": "results", "HeadScores": "results", "LogitLens": "results",
    "ModelInfo": "results", "RunResult": "results",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .engine import Engine
    from .addresses import Address, parse_address
    from .analyses.attribution import attribution_patching
    from .analyses.path_patching import path_patching
    from .analyses.patching import activation_patching
    from .analysis import Batch, Job, Prompt, PromptPair
    from .fidelity import fidelity_check
    from .memory import estimate_memory
    from .errors import (EngineError, HubUnreachableError, InterventionError, ModelNotFoundError,
                         NoSafetensorsError, PromptError, UnknownTokenError, UnsupportedArchitectureError)
    from .interventions import Ablation, Intervention, Scale, intervention_from_dict
    from .results import DirectLogitAttribution, HeadScores, LogitLens, ModelInfo, PatchingResult, RunResult


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'engine' has no attribute '{name}'")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
