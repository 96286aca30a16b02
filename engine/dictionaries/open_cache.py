"""Dictionaries opened by folder, once per weights version: the features readout and feature
edits of every run ask for the same folder, and loading checks every shape."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import EngineError
from .dictionary import Dictionary
from .loading import load_dictionary

_OPEN: dict[tuple[str, int], Dictionary] = {}
KEEP = 4  # a few dictionaries open at once (e.g. one per layer), the oldest dropped first


def open_dictionary(folder: str) -> Dictionary:
    if not folder:
        raise EngineError("no dictionary folder given")
    path = Path(folder).expanduser().resolve()
    stamp = max((os.stat(p).st_mtime_ns for p in path.glob("*.safetensors")), default=0) if path.is_dir() else 0
    key = (str(path), stamp)
    if key not in _OPEN:
        dictionary = load_dictionary(path)
        while len(_OPEN) >= KEEP:
            del _OPEN[next(iter(_OPEN))]
        _OPEN[key] = dictionary
    return _OPEN[key]
