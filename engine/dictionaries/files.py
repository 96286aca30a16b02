"""Reading dictionary files safely: safetensors only, shapes checked before any tensor is
read, and every complaint naming the file, the key and the shapes.

Pickle checkpoints (.pt, .bin, ...) can run code when opened, so they are never opened:
a folder that has only those is refused with what to do instead."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import torch

from ..errors import EngineError, NoSafetensorsError

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")


def refuse_pickle_only(folder: Path) -> None:
    """Raise NoSafetensorsError when the folder has pickle checkpoints and no safetensors."""
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    pickles = [n for n in names if n.lower().endswith(PICKLE_SUFFIXES)]
    if pickles and not any(n.endswith(".safetensors") for n in names):
        raise NoSafetensorsError(
            f"{folder} has weights only as pickle files ({', '.join(pickles[:5])}"
            f"{', ...' if len(pickles) > 5 else ''}): pickle files are not opened; convert to safetensors "
            "(e.g. safetensors.torch.save_file(torch.load(f, weights_only=True), 'sae_weights.safetensors') "
            "in a session you trust)")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (read in chunks: weight files can be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EngineError(f"{path.name} in {path.parent} is not readable JSON ({e})") from None
    if not isinstance(data, dict):
        raise EngineError(f"{path.name} in {path.parent} should hold a JSON object, not {type(data).__name__}")
    return data


def _fmt(shape: Iterable[int]) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


class WeightFile:
    """A safetensors file whose header (keys and shapes) is read first, tensors on demand."""

    def __init__(self, path: Path) -> None:
        from safetensors import safe_open

        self.path = Path(path)
        if not self.path.is_file():
            raise EngineError(f"{self.path.name} is missing from {self.path.parent}")
        try:
            with safe_open(str(self.path), framework="pt") as f:
                self.shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
        except Exception as e:  # noqa: BLE001 - safetensors raises several types for a damaged header
            raise EngineError(f"{self.path.name} is not a readable safetensors file ({e})") from None

    def has(self, key: str) -> bool:
        return key in self.shapes

    def shape(self, key: str, what: str = "") -> tuple[int, ...]:
        if key not in self.shapes:
            raise EngineError(f"{self.path.name}: key '{key}'{f' ({what})' if what else ''} is missing; "
                              f"the file has {', '.join(sorted(self.shapes)) or 'no tensors'}")
        return self.shapes[key]

    def require(self, key: str, shape: tuple[int, ...], names: str) -> None:
        """The key is present with exactly this shape; `names` spells the dims ('[d_in, d_sae]')."""
        got = self.shape(key, names)
        if got != tuple(shape):
            raise EngineError(f"{self.path.name}: '{key}' has shape {_fmt(got)}, expected {names} = {_fmt(shape)}")

    def load(self, keys: Iterable[str]) -> dict[str, torch.Tensor]:
        from safetensors import safe_open

        try:
            with safe_open(str(self.path), framework="pt") as f:
                return {k: f.get_tensor(k) for k in keys}
        except Exception as e:  # noqa: BLE001
            raise EngineError(f"{self.path.name}: the tensors could not be read ({e})") from None
