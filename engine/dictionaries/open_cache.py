"""Dictionaries opened by folder, once per weights version: the features readout and feature
edits of every run ask for the same folder, and loading checks every shape."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import EngineError
from .dictionary import Dictionary
from .loading import load_dictionary

_OPEN: dict[str, tuple[int, Dictionary]] = {}  # folder as asked -> (weights file mtime, dictionary)
KEEP = 4  # a few dictionaries open at once (e.g. one per layer), the oldest dropped first


def _stamp(dictionary: Dictionary) -> int:
    try:
        return os.stat(dictionary.source).st_mtime_ns if dictionary.source else 0
    except OSError:
        return -1


def open_dictionary(folder: str) -> Dictionary:
    """Every live run asks this: a hit costs one stat of the weights file (a changed file is
    loaded again)."""
    if not folder:
        raise EngineError("no dictionary folder given")
    kept = _OPEN.get(folder)
    if kept is not None and kept[0] == _stamp(kept[1]):
        return kept[1]
    dictionary = load_dictionary(Path(folder).expanduser().resolve())
    _OPEN.pop(folder, None)
    while len(_OPEN) >= KEEP:
        del _OPEN[next(iter(_OPEN))]
    _OPEN[folder] = (_stamp(dictionary), dictionary)
    return dictionary
