"""Typed errors the engine raises, so callers (the app, scripts) can show a clear
message instead of a traceback. Every error a user can cause derives from EngineError."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: something the user can fix (bad input, missing model, ...)."""


class ModelNotFoundError(EngineError):
    """The local folder does not exist, or the hub id is unknown."""


class NoSafetensorsError(EngineError):
    """The folder has weights only as pickle checkpoints (.bin/.pt), which we refuse by default."""


class UnsupportedArchitectureError(EngineError):
    """No adapter maps this model family's modules to the canonical hook names."""


class HubUnreachableError(EngineError):
    """The model is not cached locally and the Hugging Face hub cannot be reached."""


class PromptError(EngineError):
    """The prompt is empty, too long for the model's context, or otherwise unusable."""


class InterventionError(EngineError):
    """An intervention names a component the model lacks, or cannot be applied as asked."""


class UnknownTokenError(EngineError):
    """A target/foil token is not a single token of the model's vocabulary."""
