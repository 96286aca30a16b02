"""Open a local folder of dictionaries, deciding the format by what the folder holds.

    cfg.json + sae_weights.safetensors                  SAELens: one Dictionary
    config.yaml (or .json) + layer_{i}.safetensors      circuit-tracer: one per layer file
    pickle files (.pt, .bin, ...) and no safetensors    refused, never opened

Nothing is fetched from the network: the folder is all there is."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import EngineError
from .circuit_tracer import config_file, layer_files, load_circuit_tracer
from .dictionary import Dictionary
from .files import refuse_pickle_only
from .saelens import CFG_FILE, WEIGHTS_FILE, load_saelens


def load_dictionaries(path: str | os.PathLike) -> list[Dictionary]:
    """Every dictionary in a folder (a file inside it also names the folder)."""
    folder = Path(path).expanduser()
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise EngineError(f"{folder} is not a folder")
    refuse_pickle_only(folder)
    if (folder / CFG_FILE).is_file():
        return [load_saelens(folder)]
    if config_file(folder) is not None and layer_files(folder):
        return load_circuit_tracer(folder)
    if (folder / WEIGHTS_FILE).is_file():
        raise EngineError(f"{folder} has {WEIGHTS_FILE} but no {CFG_FILE} saying how to read it")
    if any(p.suffix == ".npz" for p in folder.iterdir()):
        raise EngineError(f"{folder} has .npz weights (e.g. Gemma Scope originals), which are not read; "
                          "convert them to safetensors with a cfg.json or config.yaml")
    inner = sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / CFG_FILE).is_file())
    if inner:
        raise EngineError(f"{folder} holds several SAELens dictionaries: open one of its folders "
                          f"({', '.join(inner[:8])}{', ...' if len(inner) > 8 else ''})")
    raise EngineError(f"{folder} is not a dictionary folder: expected {CFG_FILE} + {WEIGHTS_FILE} (SAELens) or "
                      "config.yaml + layer_<i>.safetensors (circuit-tracer)")


def load_dictionary(path: str | os.PathLike) -> Dictionary:
    """The one dictionary in a folder (refused when it holds several, like a transcoder set)."""
    found = load_dictionaries(path)
    if len(found) != 1:
        raise EngineError(f"{path} holds {len(found)} dictionaries ({', '.join(d.name for d in found[:4])}"
                          f"{', ...' if len(found) > 4 else ''}); use load_dictionaries")
    return found[0]
