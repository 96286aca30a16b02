"""Dictionaries (SAEs, transcoders) opened from local folders, safely: safetensors only,
every shape checked against the config, every site turned into a canonical hook name.

    from engine.dictionaries import load_dictionaries, fits
    [sae] = load_dictionaries("saes/blocks.7.hook_resid_post")
    fits(sae, engine)                  # EngineError unless it matches this model
    acts = sae.encode(resid)           # [..., d_sae]
    recon = sae.decode(acts)           # [..., d_out]"""

from __future__ import annotations

from .circuit_tracer import load_circuit_tracer
from .dictionary import ARCHITECTURES, Dictionary
from .fit import fits
from .hook_names import ACCEPTED_FORMS, MLP_INPUT, canonical_hook
from .loading import load_dictionaries, load_dictionary
from .saelens import load_saelens

__all__ = ["ACCEPTED_FORMS", "ARCHITECTURES", "Dictionary", "MLP_INPUT", "canonical_hook", "fits",
           "load_circuit_tracer", "load_dictionaries", "load_dictionary", "load_saelens"]
