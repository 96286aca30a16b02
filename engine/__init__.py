"""Microtome's engine: load a causal LM, hook it by canonical names, intervene, analyse.

Plain Python + torch + transformers + numpy; never imports Qt. Usable on its own:

    from engine import Engine, Ablation
    engine = Engine()                       # the bundled demo model
    result = engine.run("When Mary and John ...", interventions=[Ablation("L1.H2")])
"""

from .engine import Engine
from .errors import (EngineError, HubUnreachableError, InterventionError, ModelNotFoundError,
                     NoSafetensorsError, PromptError, UnknownTokenError, UnsupportedArchitectureError)
from .interventions import Ablation, Intervention, Scale, intervention_from_dict
from .results import DirectLogitAttribution, HeadScores, LogitLens, ModelInfo, RunResult

__all__ = [
    "Ablation", "DirectLogitAttribution", "Engine", "EngineError", "HeadScores", "HubUnreachableError",
    "Intervention", "InterventionError", "LogitLens", "ModelInfo", "ModelNotFoundError", "NoSafetensorsError",
    "PromptError", "RunResult", "Scale", "UnknownTokenError", "UnsupportedArchitectureError",
    "intervention_from_dict",
]
