"""Where the shipped resources live, from a source checkout or a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """`resources/` beside the packages; inside a frozen bundle, under sys._MEIPASS;
    MICROTOME_RESOURCES overrides both (tests, relocated installs)."""
    override = os.environ.get("MICROTOME_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def demo_model_dir() -> Path:
    return resources_dir() / "demo_model"


REAL_MODEL_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
REAL_MODEL_FOLDER = "smollm2-135m-instruct"  # the GGUF converted once to float32 safetensors


def real_model_cache() -> Path:
    """Where `make real-model` keeps the pretrained test model (git ignores it);
    MICROTOME_REAL_MODEL_CACHE overrides (a shared cache on CI machines)."""
    override = os.environ.get("MICROTOME_REAL_MODEL_CACHE")
    return Path(override) if override else Path(__file__).resolve().parent.parent / ".cache" / "real-model"


def feature_cache_dir() -> Path:
    """Where feature statistics over a corpus are kept between sessions (they take seconds to
    minutes to compute); MICROTOME_CACHE_DIR overrides."""
    override = os.environ.get("MICROTOME_CACHE_DIR")
    if override:
        return Path(override) / "features"
    import platformdirs

    return Path(platformdirs.user_cache_dir("microtome", appauthor=False)) / "features"
